// The demo origin over real HTTP on 127.0.0.1: what each kind of content says about caching,
// conditional requests, HEAD and the X-Origin-Time that tells a fresh copy from a cached one.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLog } from '../test/helpers/captured-log.js';
import { startOrigin, type Origin } from './server.js';
import { ASSETS, assetPath } from './site.js';

let origin: Origin;
let clock = Date.parse('2026-11-22T10:00:00.250Z');
const DEPLOYED = 'Sun, 22 Nov 2026 10:00:00 GMT';

beforeAll(async () => {
  origin = await startOrigin({ listen: { host: '127.0.0.1', port: 0 }, log: capturedLog().log, now: () => clock });
});
afterAll(async () => {
  await origin?.close();
});

async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' | 'POST' = 'GET') {
  const res = await request(origin.url + path, { method, headers });
  const text = await res.body.text();
  const header = (name: string): string | undefined => {
    const v = res.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  return { status: res.statusCode, text, header };
}

describe('fingerprinted assets', () => {
  it('are immutable for a year, with an ETag and Last-Modified', async () => {
    const js = await get(assetPath('app.js'));
    expect(js.status).toBe(200);
    expect(js.header('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.header('etag')).toMatch(/^"[\w-]{16}"$/);
    expect(js.header('last-modified')).toBe(DEPLOYED);
    expect(js.header('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.text).toContain("fetch('/api/products')");
    expect(Number(js.header('content-length'))).toBe(Buffer.byteLength(js.text));
  });

  it('carry a hash of their content in the name, so a changed file gets a new URL', () => {
    expect(ASSETS.map((a) => a.path)).toEqual([
      expect.stringMatching(/^\/assets\/app\.[0-9a-f]{8}\.js$/),
      expect.stringMatching(/^\/assets\/app\.[0-9a-f]{8}\.css$/),
      expect.stringMatching(/^\/assets\/logo\.[0-9a-f]{8}\.svg$/),
    ]);
    expect(() => assetPath('missing.js')).toThrow(/no asset named missing.js/);
  });

  it('answer If-None-Match with 304 and the validators, without a body', async () => {
    const path = assetPath('logo.svg');
    const { header } = await get(path);
    const etag = header('etag')!;
    const hit = await get(path, { 'if-none-match': etag });
    expect(hit.status).toBe(304);
    expect(hit.text).toBe('');
    expect(hit.header('etag')).toBe(etag);
    expect(hit.header('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(hit.header('content-type')).toBeUndefined();
    expect((await get(path, { 'if-none-match': `W/${etag}` })).status).toBe(304);
    expect((await get(path, { 'if-none-match': '"something-else"' })).status).toBe(200);
  });

  it('answer HEAD with the GET headers and no body', async () => {
    const path = assetPath('app.css');
    const full = await get(path);
    const head = await get(path, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.header('content-length')).toBe(String(Buffer.byteLength(full.text)));
    expect(head.header('etag')).toBe(full.header('etag'));
  });
});

describe('pages', () => {
  it('are fresh for 10 s, then stale-while-revalidate, validated by Last-Modified', async () => {
    for (const path of ['/', '/about']) {
      const page = await get(path);
      expect(page.status).toBe(200);
      expect(page.header('content-type')).toBe('text/html; charset=utf-8');
      expect(page.header('cache-control')).toBe('public, max-age=10, stale-while-revalidate=30');
      expect(page.header('last-modified')).toBe(DEPLOYED);
      expect(page.header('etag')).toBeUndefined();
    }
    expect((await get('/', { 'if-modified-since': DEPLOYED })).status).toBe(304);
    expect((await get('/', { 'if-modified-since': 'Sun, 22 Nov 2026 09:00:00 GMT' })).status).toBe(200);
    expect((await get('/', { 'if-modified-since': 'not a date' })).status).toBe(200);
  });

  it('link only to assets the origin serves', async () => {
    const html = (await get('/')).text;
    const links = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(links.sort()).toEqual(ASSETS.map((a) => a.path).sort());
    for (const link of links) expect((await get(link)).status).toBe(200);
  });
});

describe('the API', () => {
  it('is cached 60 s at the edge, 5 s in browsers, tagged for purges', async () => {
    const list = await get('/api/products');
    expect(list.status).toBe(200);
    expect(list.header('cache-control')).toBe('public, max-age=5, s-maxage=60');
    expect(list.header('cdn-cache-control')).toBe('max-age=60, stale-while-revalidate=30, stale-if-error=600');
    expect(list.header('surrogate-key')).toBe('products product-1 product-2 product-3 product-42');
    expect(list.header('cache-tag')).toBe('products,product-1,product-2,product-3,product-42');
    expect((JSON.parse(list.text) as { products: { id: number }[] }).products.map((p) => p.id)).toEqual([1, 2, 3, 42]);

    const one = await get('/api/products/42');
    expect(JSON.parse(one.text)).toMatchObject({ id: 42, name: 'Cache Key Lanyard' });
    expect(one.header('surrogate-key')).toBe('products product-42');
    expect((await get('/api/products/42', { 'if-none-match': one.header('etag')! })).status).toBe(304);
  });

  it('answers unknown or non-canonical product ids 404, cached briefly', async () => {
    for (const id of ['7', '042', 'abc', '4e1']) {
      const res = await get(`/api/products/${id}`);
      expect(res.status, id).toBe(404);
      expect(res.header('cache-control')).toBe('public, max-age=10');
    }
  });

  it('keeps the cart private: no-store, and a cookie only for a new cart', async () => {
    const first = await get('/api/cart');
    expect(first.header('cache-control')).toBe('private, no-store');
    const cookie = first.header('set-cookie')!;
    expect(cookie).toMatch(/^cart=[0-9a-f]{16}; Path=\/; HttpOnly; SameSite=Lax$/);
    const id = /cart=([0-9a-f]+)/.exec(cookie)![1];
    const again = await get('/api/cart', { cookie: `theme=dark; cart=${id}` });
    expect(again.header('set-cookie')).toBeUndefined();
    expect(JSON.parse(again.text)).toEqual({ cart: id, items: [] });
    expect((await get('/api/cart')).header('set-cookie')).not.toBe(cookie);
  });
});

describe('every response', () => {
  it('says which origin made it and when', async () => {
    clock = Date.parse('2026-11-22T10:05:00.123Z');
    const a = await get('/api/products/1');
    expect(a.header('x-origin-time')).toBe('2026-11-22T10:05:00.123Z');
    expect(a.header('x-origin')).toMatch(new RegExp(`:${origin.port}$`));
    clock += 1500;
    expect((await get('/api/products/1')).header('x-origin-time')).toBe('2026-11-22T10:05:01.623Z');
  });

  it('healthz, 404 and 405', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(health.header('cache-control')).toBe('no-store');
    expect(JSON.parse(health.text)).toEqual({ ok: true });
    const missing = await get('/nope');
    expect(missing.status).toBe(404);
    expect(missing.header('cache-control')).toBe('public, max-age=10');
    const post = await get('/api/cart', {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.header('allow')).toBe('GET, HEAD');
    expect(post.header('cache-control')).toBe('no-store');
  });
});
