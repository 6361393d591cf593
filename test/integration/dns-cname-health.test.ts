// Another CDN in a pool, health-checked like a PoP: a local stand-in "other CDN" (an HTTP server
// on 127.0.0.1) is probed by two real probers (in-process), whose reports go to a real DNS
// server over its control API. The pool answers the CNAME while the stand-in serves, stops when
// it is stopped, and answers it again when it is back; the failover time is measured and
// printed (a figure, not a pass condition beyond a generous bound).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_TOKEN_ENV } from '../../common/control-token.js';
import { createLogger } from '../../common/log.js';
import { startProber, type Prober } from '../../prober/service.js';
import { localHttp, type LocalHttp } from '../helpers/local-http.js';
import { control } from '../helpers/control-client.js';
import { query } from '../helpers/dig.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { needs } from '../helpers/system-tools.js';
import { waitForValue } from '../helpers/wait-for.js';

const INTERVAL = 200;
const CNAME = 'edge.other-cdn.example.';

const topology = (healthUrl: string, reportTo: string[]) => `
dns:
  control: { token: secret }
health: { interval: ${INTERVAL}, timeout: 150, fall: 2, rise: 2, grace: 5s, vantagePoints: [fra, iad], reportTo: ${JSON.stringify(reportTo)}, tokenFile: report.token }
pops:
  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.30] }
  - { id: iad, location: { lat: 39.04, lon: -77.49 }, ipv4: [192.0.2.20] }
pools:
  - id: p
    policy: ordered
    members:
      - { cname: ${CNAME}, id: other, weight: 50, health: { check: { type: http, url: "${healthUrl}" } } }
      - fra
geo:
  nets: [{ network: 127.0.0.0/8, location: { lat: 50.11, lon: 8.68 } }]
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.1 }]
    routes: [{ name: www, pool: p, ttl: 5 }]
`;

const AUTH = { authorization: 'Bearer secret', 'content-type': 'application/json' };
const silent = createLogger({ service: 'test', level: 'silent' });

let otherCdn: LocalHttp;
let server: RunningServer;
const probers: Prober[] = [];
const savedToken = process.env[CONTROL_TOKEN_ENV];

const answer = async () => (await query(server, ['www.example.test'])).answer.map((a) => a.data);
const answersCname = async () => (await answer()).includes(CNAME);

/** Polls the answer until `want` holds; returns the ms it took. */
async function until(want: (cname: boolean) => boolean, timeoutMs = 15_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (want(await answersCname())) return Math.round(performance.now() - started);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the answer did not change within ${timeoutMs} ms (answer: ${(await answer()).join(', ')})`);
}

beforeAll(async () => {
  otherCdn = await localHttp((req, res) =>
    req.url === '/health' ? res.writeHead(200).end('ok\n') : res.writeHead(404).end(),
  );
  const healthUrl = `${otherCdn.url}/health`;
  // Two serving workers: member eligibility reaches them in the health snapshots too.
  server = await startServer(topology(healthUrl, []), { workers: 2 });
  // The probers read the same topology, with the server's control URL to report to.
  const dir = mkdtempSync(join(tmpdir(), 'meridian-cname-'));
  writeFileSync(join(dir, 'report.token'), 'secret\n');
  const file = join(dir, 'meridian.yaml');
  writeFileSync(file, topology(healthUrl, [server.controlUrl]));
  delete process.env[CONTROL_TOKEN_ENV];
  for (const pop of ['fra', 'iad']) probers.push(await startProber({ configFile: file, pop, log: silent }));
}, 30_000);

afterAll(async () => {
  if (savedToken === undefined) delete process.env[CONTROL_TOKEN_ENV];
  else process.env[CONTROL_TOKEN_ENV] = savedToken;
  await Promise.all(probers.map((p) => p.close()));
  await server?.stop();
  await otherCdn?.stop();
});

describe('a health-checked CNAME member (another CDN)', () => {
  it(
    'is answered while it serves, dropped when it stops, answered again when it is back (timed)',
    { ...needs('dig'), timeout: 60_000 },
    async () => {
      // Both probers report it up: a quorum of 2 of 2. It is answered during the start-up grace
      // already, before either prober has reported: wait for their votes themselves.
      await until((cname) => cname);
      const other = await waitForValue(
        async () => {
          const health = (await control(server, 'GET', '/v1/health')).json as {
            pops: { pop: string; kind: string; verdict: string; votes: { vantage: string; up: boolean | null }[] }[];
          };
          return health.pops.find((p) => p.pop === 'other')!;
        },
        (o) => o.votes.filter((v) => v.up !== null).length === 2,
        10_000,
        "the member's health with both probers' votes",
      );
      expect(other).toMatchObject({ kind: 'member', verdict: 'up' });
      expect(other.votes.map((v) => `${v.vantage}:${v.up}`).sort()).toEqual(['fra:true', 'iad:true']);
      expect(probers[0]!.status().targets.map((t) => `${t.kind}:${t.pop} ${t.edge}`)).toEqual([
        `member:other ${otherCdn.url}/health`,
      ]);

      await otherCdn.stop();
      const failover = await until((cname) => !cname);
      expect(await answer()).toEqual(['192.0.2.30']);
      const explained = JSON.stringify(
        (await control(server, 'GET', '/v1/explain?name=www.example.test&client=127.0.0.1')).json,
      );
      expect(explained).toContain(
        'member other: down: 2 of 2 expected vantage points see it down (2 report, quorum 2)',
      );
      expect(server.stdout.join('\n')).toMatch(
        /"pop":"other","from":"up","to":"down".*CNAME member health verdict changed/,
      );
      const cli = await runMeridian(['explain', 'www.example.test', '127.0.0.1', '--control', server.controlUrl]);
      expect(cli.stdout).toMatch(/edge\.other-cdn\.example\. \(cname other\)\s+no\s.*member other: down: 2 of 2/);

      await otherCdn.start();
      const recovery = await until((cname) => cname);
      console.log(
        `other CDN (CNAME member) health failover, interval ${INTERVAL} ms, fall 2, rise 2, 2 probers: ` +
          `answer moved off it ${failover} ms after it stopped; back ${recovery} ms after it served again`,
      );
      // fall × interval + a report + the next decision, with room for a busy machine.
      expect(failover).toBeLessThan(5000);
      expect(recovery).toBeLessThan(5000);
    },
  );

  it(
    'drains and undrains by member id, and `meridian status` shows it as a row',
    { ...needs('dig'), timeout: 60_000 },
    async () => {
      await until((cname) => cname);
      const drain = await fetch(`${server.controlUrl}/v1/pops/override`, {
        method: 'POST',
        headers: AUTH,
        body: JSON.stringify({ pop: 'other', action: 'drain' }),
      });
      expect(drain.status).toBe(200);
      expect(await answer()).toEqual(['192.0.2.30']);
      const status = await runMeridian(['status', '--control', server.controlUrl]);
      expect(status.code).toBe(0);
      const row = status.stdout.split('\n').find((l) => l.startsWith('other (member)'));
      expect(row).toMatch(/edge\.other-cdn\.example\.\s+up\s+no\s+drain\s+\S+ \S+\s+.*drained by an operator/);
      expect(status.stdout).toContain('1 checked CNAME member');

      const cli = await runMeridian(['pop', 'auto', 'other', '--control', server.controlUrl], 10_000, {
        [CONTROL_TOKEN_ENV]: 'secret',
      });
      expect(cli.stdout).toMatch(/^other: answered/);
      expect(await answer()).toEqual([CNAME]);
    },
  );

  it(
    'treats the member like every other member when the whole pool is down: fails open to the fallback PoP',
    { ...needs('dig'), timeout: 60_000 },
    async () => {
      await until((cname) => cname);
      for (const id of ['other', 'fra']) {
        await fetch(`${server.controlUrl}/v1/pops/override`, {
          method: 'POST',
          headers: AUTH,
          body: JSON.stringify({ pop: id, action: 'down' }),
        });
      }
      expect(await answer()).toEqual(['192.0.2.30']);
      for (const id of ['other', 'fra']) {
        await fetch(`${server.controlUrl}/v1/pops/override`, {
          method: 'POST',
          headers: AUTH,
          body: JSON.stringify({ pop: id, action: 'auto' }),
        });
      }
      expect(await answer()).toEqual([CNAME]);
    },
  );
});
