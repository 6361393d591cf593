// Hybrid answers and drain across processes (issue 16 items 3 and 5), without BIRD: a real
// `meridian dns` takes announcer reports over its control port (posted here, as an announcer
// does), answers a `policy: anycast` pool with the anycast address while a fresh report
// announces it and falls back to unicast otherwise, hands `meridian pop drain` to the
// announcer in the reply, and shows it all in explain and `meridian status`.
import { afterEach, describe, expect, it } from 'vitest';
import type { AnycastReport } from '../../common/anycast-contract.js';
import { createLogger } from '../../common/log.js';
import { startAnycastReporter, type AnycastReporter, type Override } from '../../anycast/reporter.js';
import { control } from '../helpers/control-client.js';
import { query } from '../helpers/dig.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { needs } from '../helpers/system-tools.js';
import { waitFor } from '../helpers/wait-for.js';

const CONFIG = `
dns:
  serverId: ns1.anycast.test
  control: { token: secret }
pops:
  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.1] }
  - { id: nyc, location: { lat: 40.71, lon: -74.01 }, ipv4: [192.0.2.2] }
pools:
  - { id: unicast, members: [fra, nyc] }
  - { id: small, policy: anycast, members: [fra, nyc] }
geo:
  nets: [{ network: 127.0.0.0/8, location: { lat: 50.0, lon: 8.0 } }]
zones:
  - name: anycast.test
    soa: { mname: ns1.anycast.test., rname: admin.anycast.test. }
    ns: [ns1.anycast.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.53 }]
    routes:
      - { name: www, pool: unicast, ttl: 10 }
      - { name: "*.cdn", pool: small, ttl: 10 }
anycast:
  prefixes:
    - prefix: 198.51.100.0/24
      addresses: [{ address: 198.51.100.80, serves: edge }]
  pops:
    - { pop: fra, bgp: { socket: /run/bird/fra.ctl, asn: 65001, neighbors: [{ address: 10.0.0.1, asn: 65000 }] } }
    - { pop: nyc, bgp: { socket: /run/bird/nyc.ctl, asn: 65002, neighbors: [{ address: 10.0.0.1, asn: 65000 }] } }
`;

const AUTH = { authorization: 'Bearer secret', 'content-type': 'application/json' };
let seq = 0;

function prefixes(
  announced: boolean,
  reason = announced ? 'healthy' : 'service down: edge 198.51.100.80 (refused)',
): AnycastReport['prefixes'] {
  return [
    {
      prefix: '198.51.100.0/24',
      announced,
      reason,
      penalty: 0,
      suppressed: false,
      holdDownMs: 0,
      flaps: 0,
      addresses: [{ address: '198.51.100.80', serves: 'edge', up: announced }],
    },
  ];
}

async function report(server: RunningServer, pop: string, announced: boolean, interval = 500) {
  const body: AnycastReport = { pop, epoch: 1, seq: ++seq, interval, prefixes: prefixes(announced) };
  const res = await fetch(`${server.controlUrl}/v1/anycast/reports`, {
    method: 'POST',
    headers: AUTH,
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as unknown };
}

const answer = async (server: RunningServer, name = 'img.cdn.anycast.test') =>
  (await query(server, [name])).answer.map((a) => a.data);

describe('anycast reports and hybrid answers on the DNS server', () => {
  let server: RunningServer | undefined;
  let reporter: AnycastReporter | undefined;
  afterEach(async () => {
    await reporter?.stop();
    reporter = undefined;
    await server?.stop();
    server = undefined;
  });

  for (const workers of [1, 2]) {
    it(
      `answers the anycast address while a fresh report announces it, else unicast (${workers} serving process${workers > 1 ? 'es' : ''})`,
      needs('dig'),
      async () => {
        server = await startServer(CONFIG, { workers });
        const s = server;
        expect(await answer(s)).toEqual(['192.0.2.1']);
        expect(await report(s, 'fra', true)).toEqual({ status: 200, json: { accepted: true, override: null } });
        // The decision cache is dropped at once (single process) or with the next snapshot (workers).
        await waitFor(async () => (await answer(s)).join() === '198.51.100.80', 3000, 'anycast answered');
        expect(await answer(s, 'www.anycast.test')).toEqual(['192.0.2.1']);
        await report(s, 'fra', false);
        await report(s, 'nyc', false);
        await waitFor(async () => (await answer(s)).join() === '192.0.2.1', 3000, 'fallback to unicast');
        // Reports go stale after 3 × 500 ms: an announcer that fell silent counts for nothing.
        await report(s, 'nyc', true);
        await waitFor(async () => (await answer(s)).join() === '198.51.100.80', 3000, 'anycast answered again');
        await waitFor(
          async () => (await answer(s)).join() === '192.0.2.1',
          4000,
          'fallback after the report went stale',
        );
      },
    );
  }

  it('explains which applied, and shows the anycast table in status', needs('dig'), async () => {
    server = await startServer(CONFIG);
    await report(server, 'fra', true, 10_000);
    await report(server, 'nyc', false, 10_000);
    const e = await control(server, 'GET', '/v1/explain?name=img.cdn.anycast.test&client=127.0.0.1');
    expect((e.json as { decisions: { anycast: unknown[] }[] }).decisions[0]!.anycast[0]).toMatchObject({
      type: 'A',
      applied: 'anycast',
      reason: 'anycast 198.51.100.80 answered: announced by 1 PoP (fra)',
    });
    const view = await control(server, 'GET', '/v1/anycast');
    expect(view.json).toMatchObject({
      pops: [
        { pop: 'fra', fresh: true },
        { pop: 'nyc', fresh: true },
      ],
      addresses: [{ address: '198.51.100.80', announcedBy: ['fra'] }],
    });
    const explainCli = await runMeridian(
      ['explain', 'img.cdn.anycast.test', '127.0.0.1', '--control', server.controlUrl],
      15_000,
    );
    expect(explainCli.stdout).toContain('A: anycast — anycast 198.51.100.80 answered: announced by 1 PoP (fra)');
    const status = await runMeridian(['status', '--control', server.controlUrl], 15_000);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^fra\s+198\.51\.100\.0\/24\s+yes\s+0\s+no\s+0\s+\d+\.\d s\s+healthy$/m);
    expect(status.stdout).toMatch(
      /^nyc\s+198\.51\.100\.0\/24\s+no\s+.*service down: edge 198\.51\.100\.80 \(refused\)$/m,
    );
    expect(status.stdout).toContain('198.51.100.80: answered: announced by 1 PoP (fra)');
  });

  it('refuses reports without the token, malformed ones with a reason, unknown PoPs and replays', async () => {
    server = await startServer(CONFIG);
    const url = `${server.controlUrl}/v1/anycast/reports`;
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(401);
    const bad = await fetch(url, { method: 'POST', headers: AUTH, body: JSON.stringify({ pop: 'fra' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^invalid anycast report: epoch/);
    expect((await report(server, 'mars', true)).status).toBe(400);
    const body = JSON.stringify({ pop: 'fra', epoch: 9, seq: 1, interval: 500, prefixes: prefixes(true) });
    expect((await fetch(url, { method: 'POST', headers: AUTH, body })).status).toBe(200);
    expect((await fetch(url, { method: 'POST', headers: AUTH, body })).status).toBe(409);
  });

  it('hands `meridian pop drain` to the announcer in the reply to its report, and undrain', async () => {
    server = await startServer(CONFIG);
    const said: Override[] = [];
    reporter = startAnycastReporter({
      pop: 'fra',
      epoch: Date.now(),
      interval: 200,
      reportTo: [server.controlUrl],
      token: 'secret',
      prefixes: () => prefixes(said.at(-1) === null || said.length === 0),
      onOverride: (o) => said.push(o),
      log: createLogger({ service: 'anycast', level: 'silent' }),
    });
    const r = reporter;
    await waitFor(() => r.status()[0]!.lastDeliveredAt !== null, 3000, 'first report delivered');
    expect(r.override).toBeNull();
    const env = { MERIDIAN_CONTROL_TOKEN: 'secret' };
    expect((await runMeridian(['pop', 'drain', 'fra', '--control', server.controlUrl], 15_000, env)).code).toBe(0);
    await waitFor(() => r.override === 'drain', 3000, 'announcer told of the drain');
    expect((await runMeridian(['pop', 'undrain', 'fra', '--control', server.controlUrl], 15_000, env)).code).toBe(0);
    await waitFor(() => r.override === null, 3000, 'announcer told of the undrain');
    expect(said).toEqual(['drain', null]);
  });
});
