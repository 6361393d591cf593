// Catchment end to end on loopback, with real processes: a DNS server in PoP a (`dns.pop`) that
// names its PoP in NSID, an edge of PoP b (in this process) that names its PoP in Cache-Status,
// and a real `meridian health --vantage c1` outside the PoPs that asks both anycast addresses
// who answers and reports it; the DNS server's status, `meridian status` and `meridian explain`
// show where c1 lands. Then what a hostile or confused reporter cannot do.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control } from '../helpers/control-client.js';
import { dig } from '../helpers/dig.js';
import { collectLines, runMeridian, spawnMeridian, terminate } from '../helpers/meridian-process.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { startOrigin, type TestOrigin } from '../helpers/test-origin.js';
import { startTestEdge, type TestEdge } from '../helpers/test-edge.js';
import { needs } from '../helpers/system-tools.js';
import { waitForValue } from '../helpers/wait-for.js';

const DNS_ADDRESS = '127.0.0.53';
const EDGE_ADDRESS = '127.0.0.1';

function config(dnsPort: number, edgePort: number, reportTo: string): string {
  return `
dns: { serverId: ns1, pop: a }
pops:
  - { id: a, location: { lat: 50, lon: 8 }, ipv4: [192.0.2.10] }
  - { id: b, location: { lat: 40, lon: -74 }, ipv4: [192.0.2.20] }
pools:
  - { id: small, policy: anycast, members: [a, b], anycast: [${DNS_ADDRESS}, ${EDGE_ADDRESS}] }
health:
  reportTo: ["${reportTo}"]
  interval: 200ms
  catchment: { interval: 300ms, timeout: 500ms, vantages: [c1, c2] }
anycast:
  prefixes:
    - prefix: 127.0.0.0/26
      addresses: [{ address: ${EDGE_ADDRESS}, serves: edge, port: ${edgePort} }]
    - prefix: 127.0.0.0/25
      addresses: [{ address: ${DNS_ADDRESS}, serves: dns, port: ${dnsPort} }]
zones:
  - name: lab.test
    soa: { mname: ns1.lab.test., rname: hostmaster.lab.test. }
    ns: [ns1.lab.test.]
    records: [{ name: ns1, type: A, value: ${DNS_ADDRESS} }]
    routes: [{ name: cdn, pool: small, ttl: 30 }]
`;
}

type Landing = { vantage: string; address: string; pop: string | null; ageMs: number; stale: boolean };
const catchmentOf = async (server: RunningServer): Promise<Landing[]> =>
  ((await control(server, 'GET', '/v1/status')).json as { catchment: Landing[] }).catchment;

let server: RunningServer;
let origin: TestOrigin;
let edge: TestEdge;
let prober: { stop(): Promise<void>; lines: string[] } | undefined;

beforeAll(async () => {
  origin = await startOrigin();
  edge = await startTestEdge({
    origin: origin.url,
    pop: 'b',
    pops: `  - { id: a, location: { lat: 50, lon: 8 }, ipv4: [192.0.2.10] }\n  - { id: b, location: { lat: 40, lon: -74 }, ipv4: [192.0.2.20] }`,
  });
  const edgePort = Number(new URL(edge.url).port);
  // The DNS server's own port is known once it listens: its file names a placeholder, the
  // prober's file (written after) the real one. Only the prober reads the port.
  server = await startServer(config(1, edgePort, 'http://127.0.0.1:1'), { listen: [`${DNS_ADDRESS}:0`] });
  const proberConfig = join(server.dir!, 'prober.yaml');
  writeFileSync(proberConfig, config(server.port, edgePort, server.controlUrl));
  const child = spawnMeridian(['health', '--config', proberConfig, '--vantage', 'c1']);
  const exited = new Promise((r) => child.once('exit', r));
  const lines: string[] = [];
  collectLines(child.stdout, lines);
  collectLines(child.stderr, lines);
  prober = { lines, stop: () => terminate(child, exited, 3000) };
}, 30_000);

afterAll(async () => {
  await prober?.stop();
  await server?.stop();
  await edge?.close();
  await origin?.stop();
});

describe('catchment you can see', () => {
  it('the DNS server names its PoP in NSID and CH TXT id.server', needs('dig'), async () => {
    const text = await dig(server, ['+nsid', 'lab.test', 'SOA']);
    expect(text).toMatch(/; NSID: [^(]*\("ns1@a"\)/);
    expect(await dig(server, ['+short', 'CH', 'TXT', 'id.server'])).toBe('"ns1@a"\n');
  });

  it('a prober outside the PoPs reports where it lands; /v1/status, status and explain show it', async () => {
    const landed = await waitForValue(
      () => catchmentOf(server),
      (c) => c.length === 2,
      10_000,
      `c1's catchment on the DNS server (prober said: ${prober!.lines.slice(-5).join(' | ')})`,
    );
    expect(landed.map(({ vantage, address, pop, stale }) => ({ vantage, address, pop, stale }))).toEqual([
      { vantage: 'c1', address: EDGE_ADDRESS, pop: 'b', stale: false },
      { vantage: 'c1', address: DNS_ADDRESS, pop: 'a', stale: false },
    ]);
    const status = await runMeridian(['status', '--control', server.controlUrl]);
    expect(status.stdout).toMatch(/catchment \(which PoP answers each anycast address/);
    // Columns in the config's order of addresses: the edge's first here.
    expect(status.stdout).toMatch(/VANTAGE +127\.0\.0\.1 +127\.0\.0\.53/);
    expect(status.stdout).toMatch(/\nc1 +b \(\d+\.\d s\) +a \(\d+\.\d s\)/);

    const explain = await runMeridian(['explain', 'cdn.lab.test', '192.0.2.99', '--control', server.controlUrl]);
    expect(explain.stdout).toMatch(
      new RegExp(`anycast ${DNS_ADDRESS.replace(/\./g, '\\.')}: from c1 → pop a \\(\\d+\\.\\d s ago\\)`),
    );
    expect(explain.stdout).toMatch(/from c1 → pop b \(\d+\.\d s ago\)/);
    const json = JSON.parse(
      (await runMeridian(['explain', 'cdn.lab.test', '192.0.2.99', '--json', '--control', server.controlUrl])).stdout,
    ) as { decisions: { anycast: { addresses: { address: string; catchment: Landing[] }[] }[] }[] };
    const a = json.decisions[0]!.anycast[0]!.addresses.find((x) => x.address === DNS_ADDRESS)!;
    expect(a.catchment).toEqual([expect.objectContaining({ vantage: 'c1', pop: 'a', stale: false })]);
  });

  describe('reports the DNS server refuses, with a reason, leaving every view as it was', () => {
    let seq = 0;
    const post = async (body: unknown) => {
      const res = await fetch(`${server.controlUrl}/v1/health/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    };
    const report = (vantage: string, observations: unknown, extra: Record<string, unknown> = {}) => ({
      vantage,
      epoch: 1,
      seq: ++seq,
      interval: 60_000,
      targets: [],
      catchment: { interval: 60_000, observations },
      ...extra,
    });
    const obs = (address: string, pop: unknown) => ({ address, pop, ageMs: 0 });

    it('unknown vantage, unknown address or PoP, bad types, too many, too large', async () => {
      const cases: [unknown, number, RegExp][] = [
        [
          report('c9', [obs(DNS_ADDRESS, 'a')]),
          400,
          /unknown vantage 'c9': not a PoP of this config nor listed in health\.catchment\.vantages/,
        ],
        [report('c2', [obs('192.0.2.1', 'a')]), 400, /'192\.0\.2\.1' is not an anycast address of this config/],
        [
          report('c2', [obs(DNS_ADDRESS, 'zz')]),
          400,
          /catchment\.observations\[0\]\.pop: 'zz' is not a PoP of this config/,
        ],
        [report('c2', [obs(DNS_ADDRESS, 5)]), 400, /invalid health report: catchment\.observations\[0\]\.pop/],
        [
          report('c2', [{ ...obs(DNS_ADDRESS, 'a'), vantage: 'c1' }]),
          400,
          /invalid health report: catchment\.observations\[0\]/,
        ],
        [report('c2', [obs(DNS_ADDRESS, 'a'), obs(DNS_ADDRESS, 'b')]), 400, /is given twice/],
        [
          report(
            'c2',
            Array.from({ length: 1001 }, () => obs(DNS_ADDRESS, 'a')),
          ),
          400,
          /catchment\.observations/,
        ],
        [
          report('c2', [obs(DNS_ADDRESS, 'a')], { targets: [{ pop: 'a', up: false, rttMs: null }] }),
          400,
          /outside the PoPs .* health votes would not count/,
        ],
        [JSON.stringify(report('c2', [{ ...obs(DNS_ADDRESS, 'a'), detail: 'x'.repeat(1_100_000) }])), 413, /exceeds/],
      ];
      for (const [body, status, reason] of cases) {
        const r = await post(body);
        expect({ status: r.status, text: r.text }).toEqual({ status, text: expect.stringMatching(reason) });
      }
      expect((await catchmentOf(server)).filter((l) => l.vantage !== 'c1')).toEqual([]);
    });

    it("one prober cannot overwrite another's vantage, nor replay an old report", async () => {
      const before = (await catchmentOf(server)).filter((l) => l.vantage === 'c1');
      expect((await post(report('c2', [obs(DNS_ADDRESS, 'b')]))).status).toBe(200);
      const after = await catchmentOf(server);
      expect(after.filter((l) => l.vantage === 'c1').map((l) => l.pop)).toEqual(before.map((l) => l.pop));
      expect(after.find((l) => l.vantage === 'c2')).toMatchObject({ address: DNS_ADDRESS, pop: 'b' });
      const replay = await post({ ...report('c2', [obs(DNS_ADDRESS, 'a')]), seq: 1 });
      expect(replay.status).toBe(409);
      expect(replay.text).toMatch(/is not newer than/);
      expect((await catchmentOf(server)).find((l) => l.vantage === 'c2')!.pop).toBe('b');
    });

    it('a report from before catchment (no catchment field) is still taken', async () => {
      const old = { vantage: 'a', epoch: 1, seq: 1, interval: 60_000, targets: [{ pop: 'a', up: true, rttMs: 1 }] };
      expect((await post(old)).status).toBe(200);
    });
  });

  it('meridian dns --pop names a PoP the config has, or says which it has', async () => {
    const r = await runMeridian(['dns', '--config', server.configPath, '--pop', 'zz', '--listen', '127.0.0.1:0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pops \(--pop\): no PoP with id 'zz' \(known: a, b\)/);
  });
});
