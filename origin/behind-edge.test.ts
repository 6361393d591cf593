// The demo origin behind a real edge cache: its headers must make the behaviours the demo
// shows actually happen (immutable assets hit, pages revalidate by date, the API purges by tag,
// the cart never stored). The edge's clock is moved by the test; the origin's is real.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLog } from '../test/helpers/captured-log.js';
import { request } from '../test/helpers/http-client.js';
import { sleep } from '../test/helpers/wait-for.js';
import { startTestEdge, type TestEdge } from '../test/helpers/test-edge.js';
import { startOrigin, type Origin } from './server.js';
import { assetPath } from './site.js';

let origin: Origin;
let edge: TestEdge;
/** Lets the cache side of a streamed response finish before the next request looks. */
const settle = () => sleep(20);

beforeAll(async () => {
  origin = await startOrigin({ listen: { host: '127.0.0.1', port: 0 }, log: capturedLog().log });
  edge = await startTestEdge({ origin: origin.url });
});
afterAll(async () => {
  await edge?.close();
  await origin?.close();
});

describe('the demo origin behind the edge', () => {
  it('an asset: MISS, then HIT with the first response’s X-Origin-Time, still a hit a day later', async () => {
    const path = assetPath('app.js');
    const miss = await edge.get(path);
    expect(miss.status).toBe(200);
    expect(miss.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; stored; ttl=31536000');
    await settle();
    const hit = await edge.get(path);
    expect(hit.header('cache-status')).toMatch(/^meridian-fra; hit; ttl=\d+$/);
    expect(hit.header('x-origin-time')).toBe(miss.header('x-origin-time'));
    edge.advance(86_400_000);
    expect((await edge.get(path)).header('cache-status')).toMatch(/^meridian-fra; hit;/);
  });

  it('a page: stale-while-revalidate after 10 s, revalidated by Last-Modified (304) after 40 s', async () => {
    const first = await edge.get('/about');
    expect(first.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; stored; ttl=10');
    await settle();
    edge.advance(12_000);
    const stale = await edge.get('/about');
    expect(stale.header('cache-status')).toMatch(/^meridian-fra; hit; ttl=-2; detail=stale-while-revalidate$/);
    expect(stale.header('x-origin-time')).toBe(first.header('x-origin-time'));
    await settle();
    // The background refresh stored a new copy; let it go stale past the SWR window.
    edge.advance(45_000);
    const revalidated = await edge.get('/about');
    expect(revalidated.header('cache-status')).toBe('meridian-fra; fwd=stale; fwd-status=304; stored; ttl=10');
    expect(revalidated.text).toBe(first.text);
  });

  it('the API: cached 60 s at the edge whatever browsers are told; a purge by tag empties it', async () => {
    const miss = await edge.get('/api/products/42');
    expect(miss.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; stored; ttl=60');
    expect(miss.header('cache-control')).toBe('public, max-age=5, s-maxage=60');
    // CDN-only fields stay between origin and CDN.
    expect(miss.header('surrogate-key')).toBeUndefined();
    expect(miss.header('cdn-cache-control')).toBeUndefined();
    await settle();
    expect((await edge.get('/api/products/42')).header('cache-status')).toMatch(/^meridian-fra; hit;/);
    const purge = await request(
      `${edge.controlUrl}/v1/purge`,
      { 'content-type': 'application/json' },
      'POST',
      JSON.stringify({ tag: 'product-42' }),
    );
    expect(JSON.parse(purge.text)).toMatchObject({ purged: 1 });
    expect((await edge.get('/api/products/42')).header('cache-status')).toMatch(/^meridian-fra; fwd=uri-miss;/);
  });

  it('the cart: never stored, every request reaches the origin and gets its own cookie', async () => {
    const a = await edge.get('/api/cart');
    await settle();
    const b = await edge.get('/api/cart');
    expect(a.header('cache-status')).not.toMatch(/stored|hit/);
    expect(b.header('cache-status')).not.toMatch(/stored|hit/);
    expect(a.header('set-cookie')).toMatch(/^cart=/);
    expect(b.header('set-cookie')).toMatch(/^cart=/);
    expect(b.header('set-cookie')).not.toBe(a.header('set-cookie'));
  });
});
