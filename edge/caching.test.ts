// RFC 9111 behaviour of the edge against a real origin: what is stored, for whom, and how it is
// revalidated. Time is the edge's test clock, moved by the test.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { settle, withEdgeAndOrigin } from '../test/helpers/edge-and-origin.js';
import { reply, type TestOrigin } from '../test/helpers/test-origin.js';
import { startTestEdge, type TestEdge } from '../test/helpers/test-edge.js';

let origin: TestOrigin;
let edge: TestEdge;

withEdgeAndOrigin((o, e) => ((origin = o), (edge = e)));

describe('CDN-Cache-Control and Surrogate-Control', () => {
  it('CDN-Cache-Control overrides Cache-Control for this cache and is not sent downstream', async () => {
    origin.route(
      '/cdn',
      reply(
        200,
        { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' },
        'cdn',
      ),
    );
    const first = await edge.get('/cdn');
    expect(first.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; stored; ttl=60');
    expect(first.header('cdn-cache-control')).toBeUndefined();
    expect(first.header('cache-control')).toBe('no-store');
    await settle();
    const hit = await edge.get('/cdn');
    expect(hit.header('cache-status')).toBe('meridian-fra; hit; ttl=60');
    expect(hit.header('cdn-cache-control')).toBeUndefined();
    expect(hit.header('cache-control')).toBe('no-store');
    expect(origin.count('/cdn')).toBe(1);
  });

  it('CDN-Cache-Control: no-store keeps a browser-cacheable response out of the CDN', async () => {
    origin.route(
      '/cdn-nostore',
      reply(200, { 'cache-control': 'public, max-age=600', 'cdn-cache-control': 'no-store' }, 'x'),
    );
    await edge.get('/cdn-nostore');
    const second = await edge.get('/cdn-nostore');
    expect(origin.count('/cdn-nostore')).toBe(2);
    expect(second.header('cache-control')).toBe('public, max-age=600');
  });

  it('Surrogate-Control is obeyed when there is no CDN-Cache-Control, and stripped', async () => {
    origin.route('/surrogate', reply(200, { 'cache-control': 'max-age=0', 'surrogate-control': 'max-age=30' }, 's'));
    await edge.get('/surrogate');
    await settle();
    const hit = await edge.get('/surrogate');
    expect(hit.header('cache-status')).toBe('meridian-fra; hit; ttl=30');
    expect(hit.header('surrogate-control')).toBeUndefined();
  });
});

describe('must-revalidate', () => {
  it('does not force revalidation of a fresh response, and forbids serving it stale', async () => {
    let n = 0;
    origin.route(
      '/mr',
      (_req, res) =>
        void res
          .writeHead(200, { 'cache-control': 'max-age=10, must-revalidate, stale-while-revalidate=100', etag: '"v"' })
          .end(`mr${++n}`),
    );
    await edge.get('/mr');
    await settle();
    expect((await edge.get('/mr')).header('cache-status')).toBe('meridian-fra; hit; ttl=10');
    edge.advance(11_000);
    const stale = await edge.get('/mr');
    expect(stale.header('cache-status')).toBe('meridian-fra; fwd=stale; fwd-status=200; stored; ttl=10');
    expect(stale.text).toBe('mr2');
  });
});

describe('Authorization', () => {
  it('a response to an authorised request is not stored, so never served to an anonymous client', async () => {
    origin.route('/private-data', (req, res) => {
      const who = req.headers.authorization ? 'secret for alice' : 'public view';
      res.writeHead(200, { 'cache-control': 'max-age=600' }).end(who);
    });
    const alice = await edge.get('/private-data', { authorization: 'Bearer alice' });
    expect(alice.text).toBe('secret for alice');
    await settle();
    const anon = await edge.get('/private-data');
    expect(anon.text).toBe('public view');
    expect(origin.count('/private-data')).toBe(2);
  });

  it('a stored response is not used for an authorised request unless it allows it', async () => {
    origin.route(
      '/anon-first',
      (req, res) =>
        void res.writeHead(200, { 'cache-control': 'max-age=600' }).end(req.headers.authorization ? 'authed' : 'anon'),
    );
    await edge.get('/anon-first');
    await settle();
    const authed = await edge.get('/anon-first', { authorization: 'Bearer bob' });
    expect(authed.text).toBe('authed');
    expect(authed.header('cache-status')).toMatch(/fwd=request; fwd-status=200; detail=authorization$/);
  });

  it('public / s-maxage responses to authorised requests are shared', async () => {
    origin.route('/public-auth', reply(200, { 'cache-control': 'public, max-age=600' }, 'shared'));
    await edge.get('/public-auth', { authorization: 'Bearer carol' });
    await settle();
    const anon = await edge.get('/public-auth');
    expect(anon.header('cache-status')).toMatch(/; hit;/);
    expect(origin.count('/public-auth')).toBe(1);
  });
});

describe('Set-Cookie', () => {
  it('responses with Set-Cookie are not stored unless public, and a stored one never carries it', async () => {
    let n = 0;
    origin.route(
      '/cookie',
      (_req, res) =>
        void res.writeHead(200, { 'cache-control': 'max-age=600', 'set-cookie': `session=${++n}` }).end('c'),
    );
    const a = await edge.get('/cookie');
    const b = await edge.get('/cookie');
    expect([a.header('set-cookie'), b.header('set-cookie')]).toEqual(['session=1', 'session=2']);
    expect(origin.count('/cookie')).toBe(2);

    origin.route(
      '/cookie-public',
      (_req, res) =>
        void res
          .writeHead(200, { 'cache-control': 'public, max-age=600', 'set-cookie': [`id=${++n}`, 'x=1'] })
          .end('p'),
    );
    const first = await edge.get('/cookie-public');
    expect(first.headers['set-cookie']).toEqual([`id=${n}`, 'x=1']);
    await settle();
    const hit = await edge.get('/cookie-public');
    expect(hit.header('cache-status')).toMatch(/; hit;/);
    expect(hit.header('set-cookie')).toBeUndefined();
  });
});

describe('error responses', () => {
  it('a 500 with no-store is never served from cache', async () => {
    let n = 0;
    origin.route('/boom', (_req, res) => void res.writeHead(500, { 'cache-control': 'no-store' }).end(`boom${++n}`));
    expect((await edge.get('/boom')).text).toBe('boom1');
    await settle();
    const again = await edge.get('/boom');
    expect(again.text).toBe('boom2');
    expect(again.status).toBe(500);
    expect(again.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=500; detail=error-no-lifetime');
  });

  it('error statuses are stored only with explicit freshness (negative caching)', async () => {
    origin.route('/gone', reply(404, { 'cache-control': 'max-age=60' }, 'nope'));
    origin.route('/bad-gateway', reply(502, { 'cache-control': 'max-age=60' }, 'bad'));
    origin.route('/bare-404', reply(404, {}, 'bare'));
    for (const path of ['/gone', '/bad-gateway', '/bare-404']) {
      await edge.get(path);
      await settle();
      await edge.get(path);
    }
    expect([origin.count('/gone'), origin.count('/bad-gateway'), origin.count('/bare-404')]).toEqual([1, 1, 2]);
  });
});

describe('Vary', () => {
  it('stores one response per variant, Accept-Encoding folded to br / gzip / identity', async () => {
    origin.route('/v', (req: IncomingMessage, res: ServerResponse) => {
      res
        .writeHead(200, {
          'cache-control': 'max-age=600',
          vary: 'Accept-Encoding',
          'x-got': String(req.headers['accept-encoding']),
        })
        .end(`enc:${req.headers['accept-encoding']}`);
    });
    const br = await edge.get('/v', { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.text).toBe('enc:br');
    expect(br.header('cache-status')).toMatch(/fwd=uri-miss/);
    await settle();
    const br2 = await edge.get('/v', { 'accept-encoding': 'br;q=1.0, zstd' });
    expect(br2.header('cache-status')).toMatch(/; hit;/);
    const gzip = await edge.get('/v', { 'accept-encoding': 'gzip, deflate' });
    expect(gzip.text).toBe('enc:gzip');
    expect(gzip.header('cache-status')).toMatch(/fwd=vary-miss/);
    await settle();
    const none = await edge.get('/v');
    expect(none.text).toBe('enc:identity');
    await settle();
    expect((await edge.get('/v', { 'accept-encoding': 'gzip' })).header('cache-status')).toMatch(/; hit;/);
    expect((await edge.get('/v', { 'accept-encoding': 'br;q=0, gzip' })).text).toBe('enc:gzip');
    expect(origin.count('/v')).toBe(3);
  });

  it('varies on other request headers by value, and never stores Vary: *', async () => {
    origin.route(
      '/lang',
      (req, res) =>
        void res
          .writeHead(200, { 'cache-control': 'max-age=600', vary: 'Accept-Language' })
          .end(`l:${req.headers['accept-language'] ?? '-'}`),
    );
    expect((await edge.get('/lang', { 'accept-language': 'de' })).text).toBe('l:de');
    await settle();
    expect((await edge.get('/lang', { 'accept-language': 'fr' })).text).toBe('l:fr');
    await settle();
    expect((await edge.get('/lang', { 'accept-language': 'de' })).text).toBe('l:de');
    expect((await edge.get('/lang')).text).toBe('l:-');
    expect(origin.count('/lang')).toBe(3);

    // A header the edge does not forward by default never reaches the origin, so its value
    // cannot choose the stored variant: every client gets the one answer (edge.forwardHeaders
    // forwards and keys it; test/security/edge-poisoning.test.ts).
    origin.route(
      '/device',
      (req, res) =>
        void res
          .writeHead(200, { 'cache-control': 'max-age=600', vary: 'X-Device' })
          .end(`d:${req.headers['x-device'] ?? '-'}`),
    );
    expect((await edge.get('/device', { 'x-device': 'phone' })).text).toBe('d:-');
    await settle();
    const desk = await edge.get('/device', { 'x-device': 'desk' });
    expect(desk.text).toBe('d:-');
    expect(desk.header('cache-status')).toMatch(/; hit;/);
    expect(origin.count('/device')).toBe(1);

    origin.route('/star', reply(200, { 'cache-control': 'max-age=600', vary: '*' }, 'star'));
    await edge.get('/star');
    await settle();
    const again = await edge.get('/star');
    expect(again.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; detail=vary-star');
    expect(origin.count('/star')).toBe(2);
  });
});

describe('revalidation', () => {
  it('revalidates with If-None-Match; a 304 refreshes the stored headers', async () => {
    let version = 1;
    origin.route('/etag', (req, res) => {
      if (req.headers['if-none-match'] === '"e1"')
        return void res
          .writeHead(304, { etag: '"e1"', 'cache-control': 'max-age=100', 'x-version': String(++version) })
          .end();
      res.writeHead(200, { etag: '"e1"', 'cache-control': 'max-age=1', 'x-version': String(version) }).end('etag body');
    });
    await edge.get('/etag');
    await settle();
    edge.advance(2_000);
    const revalidated = await edge.get('/etag');
    expect(revalidated.status).toBe(200);
    expect(revalidated.text).toBe('etag body');
    expect(revalidated.header('x-version')).toBe('2');
    expect(revalidated.header('cache-status')).toBe('meridian-fra; fwd=stale; fwd-status=304; stored; ttl=100');
    expect(revalidated.header('content-length')).toBe('9');
    const hit = await edge.get('/etag');
    expect(hit.header('cache-status')).toBe('meridian-fra; hit; ttl=100');
    expect(hit.header('x-version')).toBe('2');
    expect(origin.seen.filter((r) => r.url === '/etag').map((r) => r.headers['if-none-match'])).toEqual([
      undefined,
      '"e1"',
    ]);
  });

  it('revalidates with If-Modified-Since when there is only Last-Modified', async () => {
    const lastModified = 'Mon, 01 Jan 2024 00:00:00 GMT';
    origin.route('/lm', (req, res) => {
      if (req.headers['if-modified-since'] === lastModified)
        return void res.writeHead(304, { 'cache-control': 'max-age=50' }).end();
      res.writeHead(200, { 'last-modified': lastModified, 'cache-control': 'max-age=1' }).end('lm body');
    });
    await edge.get('/lm');
    await settle();
    edge.advance(2_000);
    const r = await edge.get('/lm');
    expect(r.text).toBe('lm body');
    expect(r.header('cache-status')).toBe('meridian-fra; fwd=stale; fwd-status=304; stored; ttl=50');
  });

  it('answers client validators itself, and forwards only its own', async () => {
    origin.route('/cond', reply(200, { etag: 'W/"c1"', 'cache-control': 'max-age=600' }, 'conditional'));
    const miss = await edge.get('/cond', { 'if-none-match': '"c1"' });
    expect(miss.status).toBe(304);
    expect(origin.seen.find((r) => r.url === '/cond')!.headers['if-none-match']).toBeUndefined();
    await settle();
    const hit = await edge.get('/cond', { 'if-none-match': '"other", W/"c1"' });
    expect(hit.status).toBe(304);
    expect(hit.header('cache-status')).toMatch(/; hit;/);
    expect((await edge.get('/cond', { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it("a client's no-cache, max-age=0 or Pragma is served the fresh shared object (requestCacheControl: ignore)", async () => {
    origin.route('/nocache-req', reply(200, { etag: '"n"', 'cache-control': 'max-age=600' }, 'n'));
    await edge.get('/nocache-req');
    await settle();
    const directives: Record<string, string>[] = [
      { 'cache-control': 'no-cache' },
      { 'cache-control': 'max-age=0' },
      { 'cache-control': 'min-fresh=9999' },
      { pragma: 'no-cache' },
    ];
    for (const headers of directives) {
      const r = await edge.get('/nocache-req', headers);
      expect(r.text).toBe('n');
      expect(r.header('cache-status')).toBe('meridian-fra; hit; ttl=600');
    }
    expect(origin.count('/nocache-req')).toBe(1);
  });

  it('with requestCacheControl: obey a request with Cache-Control: no-cache revalidates', async () => {
    const obeying = await startTestEdge({ origin: origin.url, edge: '  requestCacheControl: obey' });
    try {
      origin.route('/nocache-obey', reply(200, { etag: '"n"', 'cache-control': 'max-age=600' }, 'n'));
      await obeying.get('/nocache-obey');
      await settle();
      origin.route(
        '/nocache-obey',
        (req, res) =>
          void res
            .writeHead(req.headers['if-none-match'] === '"n"' ? 304 : 200, {
              etag: '"n"',
              'cache-control': 'max-age=600',
            })
            .end(),
      );
      const r = await obeying.get('/nocache-obey', { 'cache-control': 'no-cache' });
      expect(r.text).toBe('n');
      expect(r.header('cache-status')).toBe('meridian-fra; fwd=request; fwd-status=304; stored; ttl=600');
    } finally {
      await obeying.close();
    }
  });
});

describe('cache key', () => {
  it('drops tracking parameters and sorts the rest; the origin sees the normalised query', async () => {
    origin.route('/q', (req, res) => void res.writeHead(200, { 'cache-control': 'max-age=600' }).end(`q:${req.url}`));
    const first = await edge.get('/q?b=2&utm_source=news&a=1&fbclid=xyz');
    expect(first.text).toBe('q:/q?a=1&b=2');
    await settle();
    const second = await edge.get('/q?a=1&gclid=1&b=2&utm_medium=mail');
    expect(second.header('cache-status')).toMatch(/; hit;/);
    expect((await edge.get('/q?a=1&b=3')).text).toBe('q:/q?a=1&b=3');
    expect(origin.seen.filter((r) => r.url.startsWith('/q')).map((r) => r.url)).toEqual(['/q?a=1&b=2', '/q?a=1&b=3']);
  });

  it('folds host case and the default port, never request headers', async () => {
    origin.route('/host', reply(200, { 'cache-control': 'max-age=600' }, 'h'));
    await edge.get('/host', { host: 'WWW.Test:80', 'user-agent': 'a', cookie: 'x=1' });
    await settle();
    expect((await edge.get('/host', { host: 'www.test', 'user-agent': 'b' })).header('cache-status')).toMatch(/; hit;/);
    expect((await edge.get('/host', { host: 'other.test' })).header('cache-status')).toMatch(/fwd=uri-miss/);
  });
});

describe('invalidation by unsafe methods', () => {
  it('a successful POST invalidates the URI and same-origin Location / Content-Location, an error does not', async () => {
    for (const p of ['/item', '/item/2', '/item/3']) origin.route(p, reply(200, { 'cache-control': 'max-age=600' }, p));
    for (const p of ['/item', '/item/2', '/item/3']) await edge.get(p);
    await settle();
    origin.route('/item', (req, res) => {
      if (req.method === 'POST')
        return void res
          .writeHead(201, { location: '/item/2', 'content-location': 'http://elsewhere.test/item/3' })
          .end();
      res.writeHead(200, { 'cache-control': 'max-age=600' }).end('/item');
    });
    expect((await edge.get('/item', {}, 'POST', 'new')).status).toBe(201);
    expect((await edge.get('/item')).header('cache-status')).toMatch(/fwd=uri-miss/);
    expect((await edge.get('/item/2')).header('cache-status')).toMatch(/fwd=uri-miss/);
    expect((await edge.get('/item/3')).header('cache-status')).toMatch(/; hit;/);

    await settle();
    origin.route(
      '/item',
      (req, res) => void res.writeHead(req.method === 'DELETE' ? 500 : 200, { 'cache-control': 'max-age=600' }).end(),
    );
    await edge.get('/item', {}, 'DELETE');
    expect((await edge.get('/item')).header('cache-status')).toMatch(/; hit;/);
  });
});
