// Issue 18, items 1-4 and 9, end to end: a real origin stand-in and the edge, the freshness
// fields read exactly as the RFCs say (edge/freshness/). Each case is one the loose reading got
// wrong: served fresh for decades, stored against the origin's no-store, or refetched whole.
import { describe, expect, it } from 'vitest';
import { settle, withEdgeAndOrigin } from '../test/helpers/edge-and-origin.js';
import { reply, type TestOrigin } from '../test/helpers/test-origin.js';
import type { TestEdge } from '../test/helpers/test-edge.js';

let origin: TestOrigin;
let edge: TestEdge;

withEdgeAndOrigin((o, e) => ((origin = o), (edge = e)));

/** Two requests for `path`; how many reached the origin. */
async function twice(path: string): Promise<number> {
  await edge.get(path);
  await settle();
  await edge.get(path);
  return origin.count(path);
}

describe('HTTP dates (RFC 9110 §5.6.7, RFC 9111 §5.3)', () => {
  it.each([
    ['utc', 'Thu, 18 Aug 2050 02:01:18 UTC'],
    ['no-comma', 'Thu 18 Aug 2050 02:01:18 GMT'],
    ['double-space', 'Thu, 18 Aug 2050  02:01:18 GMT'],
    ['dashes', 'Thu, 18-Aug-2050 02:01:18 GMT'],
    ['one-digit-hour', 'Thu, 18 Aug 2050 2:01:18 GMT'],
  ])('an Expires that is not an HTTP-date (%s) is already expired, never a fresh hit', async (name, expires) => {
    const path = `/expires-${name}`;
    origin.route(path, reply(200, { expires }, 'x'));
    const first = await edge.get(path);
    expect(first.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; detail=no-lifetime');
    expect(first.header('expires')).toBe(expires); // passed on as the origin sent it
    expect(await twice(path)).toBe(3);
  });

  it('a valid IMF-fixdate Expires still makes a fresh hit', async () => {
    const expires = new Date(Date.now() + 600_000).toUTCString();
    origin.route('/expires-ok', reply(200, { expires }, 'x'));
    expect(await twice('/expires-ok')).toBe(1);
  });
});

describe('client If-Modified-Since (RFC 9110 §13.1.3)', () => {
  it('is answered 304 only when it is an HTTP-date', async () => {
    const lastModified = 'Mon, 01 Jan 2024 00:00:00 GMT';
    origin.route('/ims', reply(200, { 'cache-control': 'max-age=600', 'last-modified': lastModified }, 'ims'));
    await edge.get('/ims');
    await settle();
    expect((await edge.get('/ims', { 'if-modified-since': 'Thu, 18 Aug 2050 02:01:18 GMT' })).status).toBe(304);
    expect((await edge.get('/ims', { 'if-modified-since': 'Thu, 18 Aug 2050 02:01:18 UTC' })).status).toBe(200);
    expect((await edge.get('/ims', { 'if-modified-since': 'Thu 18 Aug 2050 02:01:18 GMT' })).status).toBe(200);
  });
});

describe('Cache-Control directive names are case-insensitive (RFC 9111 §5.2)', () => {
  it('max-age=10000, No-CaChE is revalidated every time', async () => {
    origin.route('/no-cache-mixed', reply(200, { 'cache-control': 'max-age=10000, No-CaChE', etag: '"m"' }, 'm'));
    await edge.get('/no-cache-mixed');
    await settle();
    const second = await edge.get('/no-cache-mixed');
    expect(second.header('cache-status')).toMatch(/fwd=stale/);
    expect(origin.seen.filter((r) => r.url === '/no-cache-mixed').map((r) => r.headers['if-none-match'])).toEqual([
      undefined,
      '"m"',
    ]);
  });

  it('Max-Age=60 and S-MAXAGE=60 give a lifetime', async () => {
    origin.route('/max-age-mixed', reply(200, { 'cache-control': 'Max-Age=60' }, 'a'));
    origin.route('/s-maxage-upper', reply(200, { 'cache-control': 'S-MAXAGE=60, max-age=0' }, 'b'));
    expect(await twice('/max-age-mixed')).toBe(1);
    expect(await twice('/s-maxage-upper')).toBe(1);
    expect((await edge.get('/s-maxage-upper')).header('cache-status')).toBe('meridian-fra; hit; ttl=60');
  });
});

describe('CDN-Cache-Control is a Structured Field Dictionary (RFC 9213 §2.1)', () => {
  it.each([
    ['string', 'max-age="10000"'],
    ['garbage', 'max-age=10000, &&&&&'],
  ])('one that does not parse (%s) is ignored: Cache-Control: no-store stands', async (name, cdn) => {
    const path = `/cdn-${name}`;
    origin.route(path, reply(200, { 'cache-control': 'no-store', 'cdn-cache-control': cdn }, 'x'));
    const first = await edge.get(path);
    expect(first.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; detail=not-storable');
    expect(first.header('cdn-cache-control')).toBeUndefined();
    expect(await twice(path)).toBe(3);
  });
});

describe('Age (RFC 9111 §5.1)', () => {
  it('an Age that is not delta-seconds is ignored', async () => {
    origin.route('/age-decimal', reply(200, { 'cache-control': 'max-age=3600', age: '7200.0' }, 'x'));
    expect(await twice('/age-decimal')).toBe(1);
    const hit = await edge.get('/age-decimal');
    expect(hit.header('cache-status')).toBe('meridian-fra; hit; ttl=3600');
    expect(hit.header('age')).toBe('0');
  });

  it('a huge Age is capped at 2^31 (RFC 9111 §1.2.2), not read as a larger number', async () => {
    origin.route('/age-huge', reply(200, { 'cache-control': 'max-age=3600', age: '99999999999999999999' }, 'x'));
    const first = await edge.get('/age-huge');
    expect(first.header('cache-status')).toBe(
      `meridian-fra; fwd=uri-miss; fwd-status=200; stored; ttl=${3600 - 2 ** 31}`,
    );
    expect(await twice('/age-huge')).toBe(3);
  });
});

describe('a 304 with a new ETag (RFC 9111 §4.3.4)', () => {
  it('updates the stored headers; the next revalidation asks with the new ETag, and a fresh one is a hit', async () => {
    origin.route('/etag-moves', (req, res) => {
      const inm = req.headers['if-none-match'];
      if (inm === '"v1"') return void res.writeHead(304, { etag: '"v2"', 'cache-control': 'max-age=1' }).end();
      if (inm === '"v2"') return void res.writeHead(304, { etag: '"v2"', 'cache-control': 'max-age=100' }).end();
      res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=1' }).end('body');
    });
    await edge.get('/etag-moves');
    await settle();
    edge.advance(2_000);
    const revalidated = await edge.get('/etag-moves');
    expect(revalidated.text).toBe('body');
    expect(revalidated.header('etag')).toBe('"v2"');
    expect(revalidated.header('cache-status')).toBe('meridian-fra; fwd=stale; fwd-status=304; stored; ttl=1');
    edge.advance(2_000);
    expect((await edge.get('/etag-moves')).header('cache-status')).toMatch(/fwd-status=304; stored; ttl=100$/);
    const hit = await edge.get('/etag-moves');
    expect(hit.header('cache-status')).toBe('meridian-fra; hit; ttl=100');
    expect(hit.text).toBe('body');
    expect(origin.seen.filter((r) => r.url === '/etag-moves').map((r) => r.headers['if-none-match'])).toEqual([
      undefined,
      '"v1"',
      '"v2"',
    ]);
  });
});
