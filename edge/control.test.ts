// The control listener and the operator's view: purges (URL, prefix, surrogate key, all, soft),
// PURGE on the proxy port, /healthz on both listeners, drain, Prometheus metrics, and a shield.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_TOKEN_ENV } from '../common/control-token.js';
import { request } from '../test/helpers/http-client.js';
import { sleep, waitFor } from '../test/helpers/wait-for.js';
import { startOrigin, type TestOrigin } from '../test/helpers/test-origin.js';
import { startTestEdge, type TestEdge } from '../test/helpers/test-edge.js';

const TOKEN = 'edge-test-token';
let origin: TestOrigin;
let edge: TestEdge;
const savedToken = process.env[CONTROL_TOKEN_ENV];
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  process.env[CONTROL_TOKEN_ENV] = TOKEN;
  origin = await startOrigin((req, res) => {
    const url = req.url ?? '/';
    const tags: Record<string, string> = {};
    if (url.startsWith('/product/1')) tags['surrogate-key'] = 'product-1 catalogue';
    if (url.startsWith('/product/2')) tags['cache-tag'] = 'product-2,catalogue';
    res.writeHead(200, { 'cache-control': 'max-age=600', etag: `"${url}"`, ...tags }).end(`body of ${url}`);
  });
  edge = await startTestEdge({
    origin: origin.url,
    edge: '  originDownAfter: 1s\n  timeouts: { connect: 300ms, headers: 1s, body: 1s }',
  });
});
afterAll(async () => {
  if (savedToken === undefined) delete process.env[CONTROL_TOKEN_ENV];
  else process.env[CONTROL_TOKEN_ENV] = savedToken;
  await edge?.close();
  await origin?.stop();
});

const purge = (body: unknown, headers: Record<string, string> = auth) =>
  request(
    `${edge.controlUrl}/v1/purge`,
    { 'content-type': 'application/json', ...headers },
    'POST',
    JSON.stringify(body),
  );
const cached = async (path: string): Promise<boolean> => /; hit;/.test((await edge.get(path)).header('cache-status')!);
async function warm(...paths: string[]): Promise<void> {
  for (const p of paths) await edge.get(p);
  await sleep(15);
}

describe('purge', () => {
  it('by surrogate key removes exactly the tagged objects', async () => {
    await warm('/product/1', '/product/1/img', '/product/2', '/product/3');
    const res = await purge({ tag: 'product-1' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ purged: 2, soft: false });
    expect(await cached('/product/2')).toBe(true);
    expect(await cached('/product/3')).toBe(true);
    expect(await cached('/product/1')).toBe(false);
    expect(await cached('/product/1/img')).toBe(false);

    await warm('/product/1', '/product/1/img');
    expect(JSON.parse((await purge({ tag: 'catalogue' })).text)).toEqual({ purged: 3, soft: false });
    expect(await cached('/product/3')).toBe(true);
  });

  it('by URL (every variant, query normalised), by prefix, and everything', async () => {
    await warm('/a?x=1&utm_source=y', '/dir/one', '/dir/two', '/dirt');
    expect(JSON.parse((await purge({ url: 'http://WWW.test/a?utm_campaign=z&x=1' })).text).purged).toBe(1);
    expect(await cached('/a?x=1')).toBe(false);

    expect(JSON.parse((await purge({ prefix: 'http://www.test/dir/' })).text).purged).toBe(2);
    expect(await cached('/dirt')).toBe(true);
    expect(await cached('/dir/one')).toBe(false);

    await warm('/dir/one');
    const all = JSON.parse((await purge({ all: true })).text);
    expect(all.purged).toBeGreaterThanOrEqual(3);
    expect((await edge.edge.stats()).objects).toBe(0);
  });

  it('soft purge marks stale: the next request revalidates instead of refetching', async () => {
    await warm('/soft');
    expect(JSON.parse((await purge({ url: 'http://www.test/soft', soft: true })).text)).toEqual({
      purged: 1,
      soft: true,
    });
    origin.route(
      '/soft',
      (req, res) =>
        void res
          .writeHead(req.headers['if-none-match'] === '"/soft"' ? 304 : 200, {
            etag: '"/soft"',
            'cache-control': 'max-age=600',
          })
          .end(),
    );
    const r = await edge.get('/soft');
    expect(r.text).toBe('body of /soft');
    expect(r.header('cache-status')).toBe('meridian-fra; fwd=stale; fwd-status=304; stored; ttl=600');
    expect(await cached('/soft')).toBe(true);
  });

  it('refuses bad purge requests and missing tokens', async () => {
    expect((await purge({})).status).toBe(400);
    expect((await purge({ url: '/relative' })).status).toBe(400);
    expect((await purge({ tag: 'x', all: true })).status).toBe(400);
    expect((await purge({ all: true }, {})).status).toBe(401);
  });

  it('accepts PURGE on the proxy port with the token', async () => {
    await warm('/by-method');
    expect((await edge.get('/by-method', {}, 'PURGE')).status).toBe(401);
    expect(await cached('/by-method')).toBe(true);
    const res = await edge.get('/by-method', auth, 'PURGE');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ purged: 1, soft: false, key: 'http://www.test/by-method' });
    expect(await cached('/by-method')).toBe(false);
  });
});

describe('health and drain', () => {
  it('/healthz on both listeners: 200 with cache stats, 503 while draining', async () => {
    for (const base of [edge.url, edge.controlUrl]) {
      const h = await request(`${base}/healthz`);
      expect(h.status).toBe(200);
      expect(JSON.parse(h.text)).toMatchObject({
        ok: true,
        state: 'serving',
        pop: 'fra',
        objects: expect.any(Number),
        bytes: expect.any(Number),
        hitRatio: expect.any(Number),
      });
    }
    expect((await request(`${edge.controlUrl}/v1/drain`, {}, 'POST')).status).toBe(401);
    expect((await request(`${edge.controlUrl}/v1/drain`, auth, 'POST')).status).toBe(200);
    for (const base of [edge.url, edge.controlUrl]) {
      const h = await request(`${base}/healthz`);
      expect(h.status).toBe(503);
      expect(JSON.parse(h.text)).toMatchObject({ ok: false, state: 'draining' });
    }
    // Draining changes what probers see, not what clients get.
    expect((await edge.get('/product/3')).status).toBe(200);
    await request(`${edge.controlUrl}/v1/undrain`, auth, 'POST');
    expect((await request(`${edge.url}/healthz`)).status).toBe(200);
  });

  it('503 once the origin has been unreachable longer than originDownAfter, 200 when it is back', async () => {
    await origin.stop();
    expect((await edge.get('/never-stored')).status).toBe(502);
    expect((await request(`${edge.url}/healthz`)).status).toBe(200);
    edge.advance(1_500);
    const h = await request(`${edge.url}/healthz`);
    expect(h.status).toBe(503);
    // The proxy port says the state to anyone; where the origin is and why it fails, only the control port.
    const publicBody = JSON.parse(h.text) as Record<string, unknown>;
    expect(publicBody).toMatchObject({ state: 'origin-down', ok: false });
    expect(publicBody).not.toHaveProperty('upstream');
    expect(h.text).not.toContain(String(origin.port));
    const control = await request(`${edge.controlUrl}/healthz`);
    expect(control.status).toBe(503);
    expect(JSON.parse(control.text)).toMatchObject({ state: 'origin-down', upstream: { reachable: false } });
    await origin.start();
    await waitFor(async () => (await request(`${edge.url}/healthz`)).status === 200, 3_000, 'the origin noticed back');
  });
});

describe('metrics and status', () => {
  it('exports requests and bytes by cache status, hit ratio, origin fetches, latency and storage', async () => {
    await warm('/metered');
    await edge.get('/metered');
    const text = (await request(`${edge.controlUrl}/metrics`)).text;
    const value = (series: string): number =>
      Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('meridian_edge_requests_total{cache="hit",service="edge"}')).toBeGreaterThan(0);
    expect(value('meridian_edge_requests_total{cache="miss",service="edge"}')).toBeGreaterThan(0);
    expect(value('meridian_edge_response_bytes_total{cache="hit",service="edge"}')).toBeGreaterThan(0);
    expect(value('meridian_edge_hit_ratio{service="edge"}')).toBeGreaterThan(0);
    expect(value('meridian_edge_origin_fetches_total{status="2xx",service="edge"}')).toBeGreaterThan(0);
    expect(value('meridian_edge_origin_errors_total{kind="unreachable",service="edge"}')).toBeGreaterThan(0);
    expect(value('meridian_edge_stored_objects{service="edge"}')).toBe((await edge.edge.stats()).objects);
    expect(value('meridian_edge_stored_bytes{service="edge"}')).toBeGreaterThan(0);
    expect(value('meridian_edge_response_seconds_count{upstream="no",service="edge"}')).toBeGreaterThan(0);
    expect(value('meridian_edge_origin_seconds_count{upstream="origin",service="edge"}')).toBeGreaterThan(0);
    expect(value('meridian_edge_purges_total{kind="tag",service="edge"}')).toBeGreaterThan(0);
    const status = JSON.parse((await request(`${edge.controlUrl}/v1/status`)).text);
    expect(status).toMatchObject({ pop: 'fra', shield: null, draining: false, upstream: { url: `${origin.url}/` } });
  });
});

describe('shield', () => {
  it('a PoP with a shield sends its misses to the shield, which keeps the CDN-only headers for it', async () => {
    const shieldOrigin = await startOrigin((_req, res) => {
      res
        .writeHead(200, {
          'cache-control': 'no-store',
          'cdn-cache-control': 'max-age=300',
          'surrogate-key': 'shielded',
        })
        .end('from origin');
    });
    // Every service reads the same file; the shield's copy only lacks its own (port 0) URL.
    const popsWith = (fraEdge: string) =>
      [
        `  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [127.0.0.1], edge: "${fraEdge}" }`,
        `  - { id: iad, location: { lat: 39.04, lon: -77.49 }, ipv4: [127.0.0.2], edge: "http://127.0.0.2:8080", shield: fra }`,
      ].join('\n');
    const shield = await startTestEdge({
      origin: shieldOrigin.url,
      pop: 'fra',
      pops: popsWith('http://127.0.0.1:8080'),
    });
    const child = await startTestEdge({ origin: shieldOrigin.url, pop: 'iad', pops: popsWith(shield.url) });
    try {
      const first = await child.get('/s');
      expect(first.text).toBe('from origin');
      expect(first.header('cache-status')).toBe(
        'meridian-fra; fwd=uri-miss; fwd-status=200; stored; ttl=300, meridian-iad; fwd=uri-miss; fwd-status=200; stored; ttl=300',
      );
      expect(first.header('cdn-cache-control')).toBeUndefined();
      expect(first.header('surrogate-key')).toBeUndefined();
      expect(first.header('via')).toBe('1.1 meridian-fra, 1.1 meridian-iad');
      await sleep(15);
      expect((await child.get('/s')).header('cache-status')).toBe('meridian-iad; hit; ttl=300');
      // A second child miss (another URL variant) is answered by the shield's storage.
      await shield.get('/t');
      await sleep(15);
      expect((await child.get('/t')).header('cache-status')).toMatch(
        /^meridian-fra; hit; ttl=300, meridian-iad; fwd=uri-miss/,
      );
      expect(shieldOrigin.seen.map((r) => r.url)).toEqual(['/s', '/t']);
      // Purging the child by tag works from the shield's Surrogate-Key.
      expect(
        JSON.parse(
          (
            await request(
              `${child.controlUrl}/v1/purge`,
              { ...auth, 'content-type': 'application/json' },
              'POST',
              '{"tag":"shielded"}',
            )
          ).text,
        ).purged,
      ).toBe(2);
    } finally {
      await child.close();
      await shield.close();
      await shieldOrigin.stop();
    }
  });
});
