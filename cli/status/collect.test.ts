// collectStatus against stand-in control ports and edges on loopback: how it joins the DNS
// server's view with each edge's, and how it copes with servers that fail in each way.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort } from '../../test/helpers/closed-port.js';
import { localHttp, type LocalHttp } from '../../test/helpers/local-http.js';
import { collectStatus, ControlError, median } from './collect.js';

const FAST = { controlTimeoutMs: 1000, edgeTimeoutMs: 300 };
const json = (res: ServerResponse, status: number, body: unknown) =>
  void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const vote = (vantage: string, up: boolean | null, rttMs: number | null, fresh = true) => ({
  vantage,
  up,
  rttMs,
  fresh,
  ageMs: 100,
});
const healthOf = (pop: string, over: Record<string, unknown> = {}) => ({
  pop,
  eligible: true,
  reason: 'up: no reports yet',
  verdict: 'up',
  override: null,
  votes: [],
  ...over,
});

const servers: LocalHttp[] = [];
async function serve(routes: Record<string, (res: ServerResponse) => void>): Promise<LocalHttp> {
  const s = await localHttp((req, res) =>
    (routes[req.url ?? ''] ?? ((r: ServerResponse) => json(r, 404, { error: 'not found' })))(res),
  );
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

function control(pops: unknown[] | undefined, health: unknown[]): Promise<LocalHttp> {
  return serve({
    '/v1/status': (res) => json(res, 200, { serverId: 'ns1.test', listeners: [], ...(pops && { pops }) }),
    '/v1/health': (res) => json(res, 200, { pops: health }),
  });
}

describe('collecting the status of the CDN', () => {
  it("joins each PoP's health with its edge's cache figures", async () => {
    const fra = await serve({
      '/healthz': (res) =>
        json(res, 200, { ok: true, state: 'serving', pop: 'fra', objects: 3, bytes: 4096, hitRatio: 0.75 }),
    });
    const iad = await serve({
      '/healthz': (res) =>
        json(res, 503, { ok: false, state: 'draining', pop: 'iad', objects: 0, bytes: 0, hitRatio: 0 }),
    });
    const dns = await control(
      [
        { id: 'fra', name: 'Frankfurt', edge: fra.url, enabled: true },
        { id: 'iad', edge: iad.url },
        { id: 'jnb', name: 'Johannesburg', enabled: false },
      ],
      [
        healthOf('fra', {
          votes: [
            vote('fra', true, 1),
            vote('iad', true, 90),
            vote('gru', true, 200),
            vote('sin', false, 4000, false),
            vote('syd', null, null),
          ],
        }),
        healthOf('iad', { eligible: false, override: 'drain', reason: 'drained by an operator (still monitored)' }),
        healthOf('jnb'),
      ],
    );
    const r = await collectStatus(new URL(dns.url), FAST);
    expect(r.serverId).toBe('ns1.test');
    expect(r.control).toBe(dns.url);
    const [f, i, j] = r.pops;
    expect(f).toMatchObject({ id: 'fra', name: 'Frankfurt', verdict: 'up', answered: true, rttMs: 90 });
    expect(f!.edge).toEqual({ url: fra.url, state: 'serving', hitRatio: 0.75, objects: 3, bytes: 4096, error: null });
    // A draining edge answers 503 with the same body: its figures are still worth showing.
    expect(i).toMatchObject({
      answered: false,
      override: 'drain',
      name: null,
      edge: { state: 'draining', objects: 0 },
    });
    expect(j).toMatchObject({
      enabled: false,
      answered: false,
      reason: 'disabled in the config (enabled: false)',
      edge: null,
    });
  });

  it('reports edges that refuse, hang, answer garbage or belong to another PoP, without failing', async () => {
    const asked: number[] = [];
    const hanging = await serve({ '/healthz': () => void asked.push(performance.now()) });
    const hanging2 = await serve({ '/healthz': () => void asked.push(performance.now()) });
    const garbage = await serve({ '/healthz': (res) => void res.writeHead(200).end('<html>') });
    const other = await serve({
      '/healthz': (res) => json(res, 200, { state: 'serving', pop: 'sin', objects: 1, bytes: 1, hitRatio: 1 }),
    });
    // Taken after the servers above: a port closed first may be handed to one of them.
    const refused = `http://127.0.0.1:${await closedPort()}`;
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const dns = await control(
      [refused, hanging.url, hanging2.url, garbage.url, other.url].map((edge, n) => ({ id: ids[n], edge })),
      ids.map((id) => healthOf(id)),
    );
    const r = await collectStatus(new URL(dns.url), FAST);
    expect(r.pops.map((p) => [p.id, p.edge?.state, p.edge?.error])).toEqual([
      ['a', 'unreachable', 'connection refused'],
      ['b', 'unreachable', 'no answer within 0.3 s'],
      ['c', 'unreachable', 'no answer within 0.3 s'],
      ['d', 'invalid', "HTTP 200 from /healthz is not a Meridian edge's answer"],
      ['e', 'invalid', "this is the edge of PoP 'sin', not 'e'"],
    ]);
    // Edges are asked at once: the second hanging edge was asked before the first one timed out.
    expect(asked).toHaveLength(2);
    expect(Math.abs(asked[1]! - asked[0]!)).toBeLessThan(FAST.edgeTimeoutMs);
  });

  it('shows PoPs without edges when the server does not list its topology', async () => {
    const dns = await control(undefined, [healthOf('fra')]);
    const r = await collectStatus(new URL(dns.url), FAST);
    expect(r.pops).toEqual([expect.objectContaining({ id: 'fra', name: null, enabled: true, edge: null })]);
  });

  it('fails with the URL when the control port is unreachable, silent, or not a Meridian DNS server', async () => {
    const closed = new URL(`http://127.0.0.1:${await closedPort()}`);
    await expect(collectStatus(closed, FAST)).rejects.toThrow(
      new ControlError(`cannot reach the DNS server's control port at ${closed.href}: connection refused`),
    );
    const silent = await serve({});
    await expect(collectStatus(new URL(silent.url), FAST)).rejects.toThrow(
      `GET /v1/status on ${silent.url}/: HTTP 404: not found`,
    );
    const edge = await serve({
      '/v1/status': (res) => json(res, 200, { pop: 'fra' }),
      '/v1/health': (res) => json(res, 200, {}),
    });
    await expect(collectStatus(new URL(edge.url), FAST)).rejects.toThrow(
      /answered GET \/v1\/(status|health), but not as a Meridian DNS control port does/,
    );
    const hung = await serve({ '/v1/status': () => {}, '/v1/health': () => {} });
    await expect(collectStatus(new URL(hung.url), { ...FAST, controlTimeoutMs: 200 })).rejects.toThrow(
      /no answer within 0.2 s/,
    );
  });

  it('takes the median RTT (the mean of the middle two for an even count)', () => {
    expect(median([])).toBeNull();
    expect(median([7])).toBe(7);
    expect(median([200, 1, 90])).toBe(90);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
