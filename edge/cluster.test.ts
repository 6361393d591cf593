// The edge with two serving workers (the built CLI, `npm run build` first): one PoP to its
// clients and its origin — one fetch per key across workers, one hit-for-miss and one
// background refresh per key, purges that reach every worker before the API answers, and
// /healthz and /metrics that speak for all workers. Requests on fresh connections alternate
// between the workers (the primary hands out connections round-robin).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshRequest, request } from '../test/helpers/http-client.js';
import { spawnEdge, type SpawnedEdge } from '../test/helpers/spawned-edge.js';
import { sleep, waitFor } from '../test/helpers/wait-for.js';
import { startOrigin, type TestOrigin } from '../test/helpers/test-origin.js';

let origin: TestOrigin;
let edge: SpawnedEdge | undefined;

beforeAll(async () => {
  origin = await startOrigin();
});
afterAll(async () => {
  await origin.stop();
});
afterEach(async () => {
  await edge?.stop();
  edge = undefined;
});

/** Each of `n` requests on its own connection, one after the other (so they alternate workers). */
async function inTurn(n: number, path: string, headers: Record<string, string> = {}) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await freshRequest(edge!.url + path, headers));
  return out;
}

async function controlJson(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(
    edge!.controlUrl + path,
    { 'content-type': 'application/json' },
    method,
    body === undefined ? undefined : JSON.stringify(body),
  );
  return { status: res.status, json: JSON.parse(res.text) as Record<string, unknown> };
}

function metricSum(text: string, name: string, label?: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (label !== undefined && !line.includes(label)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('edge with 2 workers', () => {
  it('1000 concurrent cold requests for one key make exactly one origin request', async () => {
    let served = 0;
    origin.route('/cold', async (_req, res) => {
      served++;
      // Long enough for every request to arrive while the one fetch is under way.
      await sleep(500);
      res.writeHead(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' }).end('cold body');
    });
    edge = await spawnEdge(origin.url, 2);
    const all = await Promise.all(Array.from({ length: 1000 }, () => freshRequest(`${edge!.url}/cold`)));
    expect(served).toBe(1);
    expect(all.every((r) => r.status === 200 && r.text === 'cold body')).toBe(true);
    expect(all.filter((r) => r.cacheStatus.includes('fwd=uri-miss; fwd-status=200; stored'))).toHaveLength(1);

    // Both workers now hold it: later requests, alternating workers, are plain hits.
    const later = await inTurn(6, '/cold');
    expect(later.map((r) => r.cacheStatus.includes('; hit;'))).toEqual([true, true, true, true, true, true]);
    expect(served).toBe(1);

    // /metrics is the sum over workers: every client request counted once.
    const text = (await request(`${edge.controlUrl}/metrics`)).text;
    expect(
      metricSum(text, 'meridian_edge_requests_total') -
        metricSum(text, 'meridian_edge_requests_total', 'cache="local"'),
    ).toBe(1006);
    expect(metricSum(text, 'meridian_edge_requests_total', 'cache="miss"')).toBe(1);
    expect(metricSum(text, 'meridian_edge_origin_fetches_total', 'status="2xx"')).toBe(1);
    expect(metricSum(text, 'meridian_edge_stored_objects')).toBe(1);
  });

  it('purges (API by URL, tag, soft all, and PURGE on the proxy port) reach every worker before they answer', async () => {
    let version = 1;
    origin.route(
      '/p',
      (_req, res) =>
        void res
          .writeHead(200, { 'cache-control': 'max-age=600', 'surrogate-key': 'product-7', etag: `"v${version}"` })
          .end(`v${version}`),
    );
    // PURGE on the proxy port from loopback without a token: only when the operator says so.
    edge = await spawnEdge(origin.url, 2, '  control: { trustLoopback: true }');
    expect((await inTurn(4, '/p')).map((r) => r.text)).toEqual(['v1', 'v1', 'v1', 'v1']);

    const steps: [string, () => Promise<unknown>][] = [
      [
        'url',
        async () =>
          expect((await controlJson('POST', '/v1/purge', { url: 'http://www.test/p' })).json).toEqual({
            purged: 1,
            soft: false,
          }),
      ],
      [
        'tag',
        async () =>
          expect((await controlJson('POST', '/v1/purge', { tag: 'product-7' })).json).toEqual({
            purged: 1,
            soft: false,
          }),
      ],
      [
        'soft all',
        async () =>
          expect((await controlJson('POST', '/v1/purge', { all: true, soft: true })).json).toEqual({
            purged: 1,
            soft: true,
          }),
      ],
      ['PURGE', async () => expect((await freshRequest(`${edge!.url}/p`, {}, 'PURGE')).status).toBe(200)],
    ];
    for (const [, purge] of steps) {
      version++;
      await purge();
      // Whichever worker answers, the old version is gone.
      const after = await inTurn(4, '/p');
      expect(after.map((r) => r.text)).toEqual(Array(4).fill(`v${version}`));
    }
    expect(origin.count('/p')).toBe(1 + steps.length);
  });

  it('hit-for-miss learnt by one worker is known to all: nobody queues behind a fetch it cannot share', async () => {
    origin.route('/private', async (_req, res) => {
      await sleep(300);
      res.writeHead(200, { 'cache-control': 'private' }).end('mine');
    });
    edge = await spawnEdge(origin.url, 2);
    const first = await freshRequest(`${edge.url}/private`);
    expect(first.cacheStatus).toContain('detail=not-storable');
    // Side by side, on both workers: without the mark, the second worker's requests would
    // collapse behind one of them.
    const later = await Promise.all(Array.from({ length: 8 }, () => freshRequest(`${edge!.url}/private`)));
    expect(later.every((r) => r.text === 'mine' && !r.cacheStatus.includes('collapsed'))).toBe(true);
    expect(origin.count('/private')).toBe(9);
  });

  it('stale-while-revalidate refreshes once per key, whichever workers serve the stale copies', async () => {
    let version = 1;
    origin.route('/swr', async (_req, res) => {
      const v = version++;
      if (v > 1) await sleep(300);
      res.writeHead(200, { 'cache-control': 'max-age=1, stale-while-revalidate=60' }).end(`s${v}`);
    });
    edge = await spawnEdge(origin.url, 2);
    await inTurn(2, '/swr');
    expect(origin.count('/swr')).toBe(1);
    // Let it go stale (max-age=1), then ask both workers at once.
    await sleep(2100);
    const stale = await Promise.all(Array.from({ length: 20 }, () => freshRequest(`${edge!.url}/swr`)));
    expect(stale.every((r) => r.text === 's1' && r.cacheStatus.includes('detail=stale-while-revalidate'))).toBe(true);
    await waitFor(
      async () => (await inTurn(2, '/swr')).every((r) => r.text === 's2'),
      10_000,
      'the refreshed copy in both workers',
    );
    expect(origin.count('/swr')).toBe(2);
  });

  it('/healthz on the proxy port and the control port is one view: draining shows in every worker', async () => {
    origin.route('/h', (_req, res) => void res.writeHead(200, { 'cache-control': 'max-age=600' }).end('h'));
    edge = await spawnEdge(origin.url, 2);
    await inTurn(2, '/h');
    const ok = await inTurn(4, '/healthz');
    expect(ok.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(JSON.parse(ok[0]!.text)).toMatchObject({ ok: true, state: 'serving', objects: 1, hitRatio: 0.5 });
    expect((await controlJson('POST', '/v1/drain')).status).toBe(200);
    const draining = await inTurn(4, '/healthz');
    expect(draining.map((r) => r.status)).toEqual([503, 503, 503, 503]);
    const status = await controlJson('GET', '/v1/status');
    expect(status.json).toMatchObject({ workers: 2, draining: true, objects: 1, inflight: 0 });
  });
});
