// `meridian status` (the built CLI) against a real DNS server that has health reports and an
// override, with one real edge cache (in this process, in front of a test origin), one edge
// that is down and PoPs without edges.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../cli/status/collect.js';
import { reply, startOrigin, type TestOrigin } from '../helpers/test-origin.js';
import { startTestEdge, type TestEdge } from '../helpers/test-edge.js';
import { closedPort } from '../helpers/closed-port.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';

function config(fraEdge: string, iadEdge: string): string {
  return `
dns: { serverId: ns1.status.test }
pops:
  - { id: fra, name: Frankfurt, location: { lat: 50.11, lon: 8.68 }, ipv4: [127.0.1.1], edge: "${fraEdge}" }
  - { id: iad, name: Ashburn, location: { lat: 39.04, lon: -77.49 }, ipv4: [127.0.2.1], edge: "${iadEdge}" }
  - { id: gru, name: São Paulo, location: { lat: -23.55, lon: -46.63 }, ipv4: [127.0.3.1] }
  - { id: sin, name: Singapore, location: { lat: 1.35, lon: 103.82 }, ipv4: [127.0.4.1] }
pools:
  - { id: global, members: [fra, iad, gru, sin] }
zones:
  - name: status.test
    soa: { mname: ns1.status.test., rname: admin.status.test. }
    ns: [ns1.status.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.1 }]
    routes: [{ name: www, pool: global, ttl: 30 }]
`;
}

let seq = 0;
/** One prober's report: every PoP's state and RTT as seen from `vantage`. */
async function report(
  server: RunningServer,
  vantage: string,
  targets: Record<string, [boolean, number | null]>,
  interval = 60_000,
): Promise<void> {
  const body = {
    vantage,
    epoch: 1,
    seq: ++seq,
    interval,
    targets: Object.entries(targets).map(([pop, [up, rttMs]]) => ({ pop, up, rttMs })),
    resolvers: [],
  };
  const res = await fetch(`${server.controlUrl}/v1/health/reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.text()).toBe(200);
}

const status = (args: string[]) => runMeridian(['status', ...args], 15_000);
/** Table cells are separated by two or more spaces (single spaces occur inside cells). */
const rowOf = (stdout: string, pop: string) =>
  stdout
    .split('\n')
    .find((l) => l.startsWith(`${pop} `))
    ?.split(/ {2,}/);

describe('meridian status', () => {
  let origin: TestOrigin;
  let edge: TestEdge;
  let dns: RunningServer;
  let iadEdge: string;

  beforeAll(async () => {
    origin = await startOrigin(
      reply(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' }, 'hello from the origin\n'),
    );
    edge = await startTestEdge({ origin: origin.url });
    // One miss, one hit: the edge's hit ratio is 50%.
    expect((await edge.get('/index.html')).status).toBe(200);
    expect((await edge.get('/index.html')).header('cache-status')).toMatch(/hit/);
    iadEdge = `http://127.0.0.1:${await closedPort()}`;
    dns = await startServer(config(edge.url, iadEdge));
    // sin's prober reports first (votes are shown in PoP order all the same) and with a 1 ms
    // interval, so its vote is stale by the time status runs.
    await report(dns, 'sin', { fra: [false, null], iad: [true, 200], gru: [true, 300], sin: [true, 1] }, 1);
    await report(dns, 'fra', { fra: [true, 2], iad: [true, 90], gru: [false, null], sin: [true, 150] });
    await report(dns, 'iad', { fra: [true, 80], iad: [true, 1], gru: [false, null], sin: [true, 200] });
    await report(dns, 'gru', { fra: [true, 200], iad: [true, 120], gru: [false, null], sin: [true, 250] });
    const drained = await runMeridian(['pop', 'drain', 'iad', '--control', dns.controlUrl]);
    expect(drained.code, drained.stderr).toBe(0);
  });

  afterAll(async () => {
    await dns?.stop();
    await edge?.close();
    await origin?.stop();
  });

  it('prints a row per PoP: verdict, answering and why, votes, RTT, override and edge cache figures', async () => {
    const r = await status(['--control', dns.controlUrl]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      `DNS server ns1.status.test at ${dns.controlUrl}: 4 PoPs, 2 answered, 1 edge unreachable`,
    );
    expect(rowOf(r.stdout, 'POP')).toEqual([
      'POP',
      'NAME',
      'VERDICT',
      'ANSWERED',
      'OVERRIDE',
      'VANTAGE POINTS',
      'RTT',
      'EDGE',
      'HIT',
      'OBJECTS',
      'STORED',
      'WHY',
    ]);
    expect(rowOf(r.stdout, 'fra')).toEqual([
      'fra',
      'Frankfurt',
      'up',
      'yes',
      '-',
      'fra✓ iad✓ gru✓ (sin✗)',
      '80 ms',
      'serving',
      '50.0%',
      '1',
      expect.stringMatching(/^\d+(\.\d)? (B|KiB)$/),
      'up: 0 of 4 expected vantage points see it down (3 report, quorum 3)',
    ]);
    expect(rowOf(r.stdout, 'iad')).toEqual([
      'iad',
      'Ashburn',
      'up',
      'no',
      'drain',
      'fra✓ iad✓ gru✓ (sin✓)',
      '90 ms',
      'unreachable',
      '-',
      '-',
      '-',
      'drained by an operator (still monitored)',
    ]);
    expect(rowOf(r.stdout, 'gru')).toEqual([
      'gru',
      'São Paulo',
      'down',
      'no',
      '-',
      'fra✗ iad✗ gru✗ (sin✓)',
      '-',
      'no edge URL',
      '-',
      '-',
      '-',
      'down: 3 of 4 expected vantage points see it down (3 report, quorum 3)',
    ]);
    expect(rowOf(r.stdout, 'sin')?.slice(0, 8)).toEqual([
      'sin',
      'Singapore',
      'up',
      'yes',
      '-',
      'fra✓ iad✓ gru✓ (sin✓)',
      '200 ms',
      'no edge URL',
    ]);
    expect(r.stdout).toContain(`edges not read:\n  iad: ${iadEdge}: connection refused\n`);
    // What RRL (on by default) and the TCP caps have done, from the server's own counters.
    expect(r.stdout).toMatch(/\nprotection \(since the DNS server started\):\n {2}RRL {2}0 networks limited now, /);
    expect(r.stdout).toMatch(/\n {2}TCP {2}\d+ open, \d+ accepted, 0 refused at the connection cap, /);
  });

  it('prints the same as one JSON document with --json', async () => {
    const r = await status(['--control', dns.controlUrl, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as StatusReport;
    expect(doc.serverId).toBe('ns1.status.test');
    expect(doc.control).toBe(dns.controlUrl);
    const pop = (id: string) => doc.pops.find((p) => p.id === id)!;
    expect(doc.pops.map((p) => p.id)).toEqual(['fra', 'iad', 'gru', 'sin']);
    expect(pop('fra')).toMatchObject({
      verdict: 'up',
      answered: true,
      override: null,
      rttMs: 80,
      edge: { url: edge.url, state: 'serving', hitRatio: 0.5, objects: 1, error: null },
    });
    expect(pop('fra').edge!.bytes).toBeGreaterThan('hello from the origin\n'.length - 1);
    expect(pop('fra').votes).toEqual([
      expect.objectContaining({ vantage: 'fra', up: true, rttMs: 2, fresh: true }),
      expect.objectContaining({ vantage: 'iad', up: true, rttMs: 80, fresh: true }),
      expect.objectContaining({ vantage: 'gru', up: true, rttMs: 200, fresh: true }),
      expect.objectContaining({ vantage: 'sin', up: false, fresh: false }),
    ]);
    expect(pop('iad')).toMatchObject({
      verdict: 'up',
      answered: false,
      override: 'drain',
      edge: { url: iadEdge, state: 'unreachable', error: 'connection refused', hitRatio: null },
    });
    expect(pop('gru')).toMatchObject({ verdict: 'down', answered: false, rttMs: null, edge: null });
    expect(doc.protection).toMatchObject({ rrl: { enabled: true, limitedNetworks: 0 }, tcp: { refused: 0 } });
  });

  it('follows the override back: after `pop undrain` the PoP is answered again', async () => {
    expect((await runMeridian(['pop', 'undrain', 'iad', '--control', dns.controlUrl])).code).toBe(0);
    const doc = JSON.parse((await status(['--control', dns.controlUrl, '--json'])).stdout) as StatusReport;
    expect(doc.pops.find((p) => p.id === 'iad')).toMatchObject({
      override: null,
      answered: true,
      reason: 'up: 0 of 4 expected vantage points see it down (3 report, quorum 3)',
    });
  });

  it('exits 1 naming the URL when the DNS server cannot be reached, and 2 on a bad URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await status(['--control', url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `meridian status: cannot reach the DNS server's control port at ${url}/: connection refused\n`,
    );
    const bad = await status(['--control', 'localhost:8053']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--control 'localhost:8053' is not an http\(s\) URL/);
  });
});
