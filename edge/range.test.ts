// Issue 18 item 6, end to end: Range requests answered 206 from the stored full response
// (single, multiple as multipart/byteranges, suffix and open ranges, If-Range, 416), a Range
// on a miss fetching the whole object so the cache fills, and a 206 from upstream passed on,
// never stored as the whole.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { settle, withEdgeAndOrigin } from '../test/helpers/edge-and-origin.js';
import { reply, type TestOrigin } from '../test/helpers/test-origin.js';
import type { TestEdge } from '../test/helpers/test-edge.js';

let origin: TestOrigin;
let edge: TestEdge;

withEdgeAndOrigin((o, e) => ((origin = o), (edge = e)), { edge: '  maxObjectBytes: 4KiB' });

const BODY = Array.from({ length: 100 }, (_, i) => String(i).padStart(9, '.') + '\n').join(''); // 1000 bytes
const LAST_MODIFIED = 'Mon, 01 Dec 2025 00:00:00 GMT';

function object(path: string, body = BODY): void {
  origin.route(
    path,
    reply(
      200,
      {
        'cache-control': 'max-age=600',
        'content-type': 'text/plain',
        'content-length': String(Buffer.byteLength(body)),
        etag: '"v1"',
        'last-modified': LAST_MODIFIED,
        date: new Date().toUTCString(),
      },
      body,
    ),
  );
}

/** Stores `path` with a plain GET; the origin has then been asked once. */
async function stored(path: string): Promise<void> {
  object(path);
  await edge.get(path);
  await settle();
}

/** The parts of a multipart/byteranges body. */
function parts(text: string, contentType: string): { range: string; type: string; body: string }[] {
  const boundary = /boundary=(\S+)/.exec(contentType)![1]!;
  expect(text.startsWith(`--${boundary}\r\n`)).toBe(true);
  expect(text.endsWith(`\r\n--${boundary}--\r\n`)).toBe(true);
  return text
    .slice(0, -`\r\n--${boundary}--\r\n`.length)
    .split(new RegExp(`(?:^|\\r\\n)--${boundary}\\r\\n`))
    .slice(1)
    .map((part) => {
      const [head, ...rest] = part.split('\r\n\r\n');
      return {
        type: /content-type: (.*)/i.exec(head!)![1]!,
        range: /content-range: (.*)/i.exec(head!)![1]!,
        body: rest.join('\r\n\r\n'),
      };
    });
}

describe('Range on a stored full response', () => {
  beforeAll(() => stored('/r'));

  it.each([
    ['bytes=0-9', 0, 9],
    ['bytes=990-', 990, 999],
    ['bytes=-10', 990, 999],
    ['bytes=500-509', 500, 509],
    ['bytes=995-2000', 995, 999],
  ])('%s → 206 from storage', async (range, start, end) => {
    const r = await edge.get('/r', { range });
    expect(r.status).toBe(206);
    expect(r.text).toBe(BODY.slice(start, end + 1));
    expect(r.header('content-range')).toBe(`bytes ${start}-${end}/1000`);
    expect(r.header('content-length')).toBe(String(end - start + 1));
    expect(r.header('content-type')).toBe('text/plain');
    expect(r.header('etag')).toBe('"v1"');
    expect(r.header('cache-status')).toMatch(/^meridian-fra; hit; ttl=\d+$/);
    expect(r.header('age')).toBeDefined();
    expect(origin.count('/r')).toBe(1);
  });

  it('several ranges → 206 multipart/byteranges, in the order asked', async () => {
    const r = await edge.get('/r', { range: 'bytes=900-909, 0-4,-3' });
    expect(r.status).toBe(206);
    const type = r.header('content-type')!;
    expect(type).toMatch(/^multipart\/byteranges; boundary=[0-9a-f]{24}$/);
    expect(Number(r.header('content-length'))).toBe(Buffer.byteLength(r.text));
    expect(r.header('content-range')).toBeUndefined();
    expect(parts(r.text, type)).toEqual([
      { type: 'text/plain', range: 'bytes 900-909/1000', body: BODY.slice(900, 910) },
      { type: 'text/plain', range: 'bytes 0-4/1000', body: BODY.slice(0, 5) },
      { type: 'text/plain', range: 'bytes 997-999/1000', body: BODY.slice(997) },
    ]);
    expect(origin.count('/r')).toBe(1);
  });

  it('no satisfiable range → 416 with Content-Range: bytes */length', async () => {
    for (const range of ['bytes=1000-', 'bytes=2000-3000, 1500-', 'bytes=-0']) {
      const r = await edge.get('/r', { range });
      expect(r.status).toBe(416);
      expect(r.header('content-range')).toBe('bytes */1000');
      expect(r.text).toBe('');
    }
    expect(origin.count('/r')).toBe(1);
  });

  it.each([
    ['not bytes', { range: 'items=0-9' }],
    ['malformed', { range: 'bytes=9-0' }],
    ['overlapping', { range: 'bytes=0-99,50-149' }],
    ['too many', { range: `bytes=${Array.from({ length: 17 }, (_, i) => `${i * 20}-${i * 20 + 1}`).join(',')}` }],
    ['If-Range with another ETag', { range: 'bytes=0-9', 'if-range': '"v0"' }],
    ['If-Range with a weak ETag', { range: 'bytes=0-9', 'if-range': 'W/"v1"' }],
    ['If-Range with another date', { range: 'bytes=0-9', 'if-range': 'Tue, 02 Dec 2025 00:00:00 GMT' }],
    ['If-Range that is neither', { range: 'bytes=0-9', 'if-range': 'yesterday' }],
  ])('%s → the whole 200 from storage', async (_name, headers) => {
    const r = await edge.get('/r', headers);
    expect(r.status).toBe(200);
    expect(r.text).toBe(BODY);
    expect(r.header('content-range')).toBeUndefined();
    expect(r.header('cache-status')).toMatch(/; hit;/);
    expect(origin.count('/r')).toBe(1);
  });

  it('If-Range with the ETag or the (strong) Last-Modified → 206', async () => {
    for (const ifRange of ['"v1"', LAST_MODIFIED]) {
      const r = await edge.get('/r', { range: 'bytes=0-9', 'if-range': ifRange });
      expect(r.status).toBe(206);
      expect(r.text).toBe(BODY.slice(0, 10));
    }
  });

  it('validators come first (304); HEAD ignores Range', async () => {
    expect((await edge.get('/r', { range: 'bytes=0-9', 'if-none-match': '"v1"' })).status).toBe(304);
    const head = await edge.get('/r', { range: 'bytes=0-9' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.header('content-length')).toBe('1000');
  });

  it('a plain GET after all that is still the whole object, a fresh hit', async () => {
    const r = await edge.get('/r');
    expect(r.status).toBe(200);
    expect(r.text).toBe(BODY);
    expect(r.header('cache-status')).toMatch(/^meridian-fra; hit; ttl=\d+$/);
  });
});

describe('Range on a miss', () => {
  it('fetches the whole object without the Range, answers the range and fills the cache', async () => {
    object('/miss');
    const r = await edge.get('/miss', { range: 'bytes=10-19' });
    expect(r.status).toBe(206);
    expect(r.text).toBe(BODY.slice(10, 20));
    expect(r.header('content-range')).toBe('bytes 10-19/1000');
    expect(r.header('cache-status')).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
    expect(origin.seen.find((s) => s.url === '/miss')!.headers.range).toBeUndefined();
    await settle();
    const whole = await edge.get('/miss');
    expect(whole.text).toBe(BODY);
    expect(whole.header('cache-status')).toMatch(/; hit;/);
    expect((await edge.get('/miss', { range: 'bytes=-5' })).text).toBe(BODY.slice(-5));
    expect(origin.count('/miss')).toBe(1);
  });

  it('several ranges of a small object (read whole) → 206 multipart/byteranges on the miss itself', async () => {
    object('/miss-multi');
    const multi = await edge.get('/miss-multi', { range: 'bytes=0-1,5-6' });
    expect(multi.status).toBe(206);
    expect(multi.header('cache-status')).toMatch(/fwd=uri-miss; fwd-status=200; stored/);
    expect(parts(multi.text, multi.header('content-type')!)).toEqual([
      { type: 'text/plain', range: 'bytes 0-1/1000', body: BODY.slice(0, 2) },
      { type: 'text/plain', range: 'bytes 5-6/1000', body: BODY.slice(5, 7) },
    ]);
    expect(Number(multi.header('content-length'))).toBe(Buffer.byteLength(multi.text));
    await settle();
    expect((await edge.get('/miss-multi')).header('cache-status')).toMatch(/; hit;/);
    expect(origin.count('/miss-multi')).toBe(1);
  });

  it('a streamed body (here of unknown length) gets the whole 200 for one range or several, and still fills the cache', async () => {
    for (const path of ['/miss-chunked', '/miss-chunked-multi'])
      origin.route(path, (_req, res) => {
        res.writeHead(200, { 'cache-control': 'max-age=600' });
        res.write(BODY.slice(0, 500));
        res.end(BODY.slice(500));
      });
    const chunked = await edge.get('/miss-chunked', { range: 'bytes=0-9' });
    expect([chunked.status, chunked.text]).toEqual([200, BODY]);
    const multi = await edge.get('/miss-chunked-multi', { range: 'bytes=0-1,5-6' });
    expect([multi.status, multi.text]).toEqual([200, BODY]);
    await settle();
    expect((await edge.get('/miss-chunked', { range: 'bytes=0-9' })).status).toBe(206);
    expect((await edge.get('/miss-chunked-multi', { range: 'bytes=0-1,5-6' })).status).toBe(206);
    expect([origin.count('/miss-chunked'), origin.count('/miss-chunked-multi')]).toEqual([1, 1]);
  });

  it('an unsatisfiable range on a miss is 416 and the cache still fills', async () => {
    object('/miss-416');
    const r = await edge.get('/miss-416', { range: 'bytes=5000-' });
    expect(r.status).toBe(416);
    expect(r.header('content-range')).toBe('bytes */1000');
    await settle();
    expect((await edge.get('/miss-416')).header('cache-status')).toMatch(/; hit;/);
    expect(origin.count('/miss-416')).toBe(1);
  });
});

/** An origin that honours Range itself (one range), as a file server would. */
function rangeServer(body: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (!m) {
      const headers = { 'cache-control': 'max-age=600', 'content-type': 'video/mp4', 'content-length': body.length };
      return void res.writeHead(200, headers).end(body);
    }
    const [start, end] = [Number(m[1]), Number(m[2])];
    res
      .writeHead(206, {
        'cache-control': 'max-age=600',
        'content-type': 'video/mp4',
        'content-range': `bytes ${start}-${end}/${body.length}`,
      })
      .end(body.slice(start, end + 1));
  };
}

describe('206 from upstream', () => {
  it('is passed on and never stored as the whole object', async () => {
    // An origin that answers 206 even to a request without Range.
    origin.route(
      '/always-206',
      reply(206, { 'cache-control': 'max-age=600', 'content-range': 'bytes 0-3/1000' }, BODY.slice(0, 4)),
    );
    for (let i = 0; i < 2; i++) {
      const r = await edge.get('/always-206');
      expect(r.status).toBe(206);
      expect(r.header('content-range')).toBe('bytes 0-3/1000');
      expect(r.header('cache-status')).toMatch(/detail=partial$/);
      await settle();
    }
    expect(origin.count('/always-206')).toBe(2);
  });

  it('an object too large to store: the first Range is sliced from the whole, later ones go upstream', async () => {
    const big = BODY.repeat(8); // 8000 bytes, over maxObjectBytes (4 KiB)
    origin.route('/big', rangeServer(big));
    const first = await edge.get('/big', { range: 'bytes=100-199' });
    expect([first.status, first.text]).toEqual([206, big.slice(100, 200)]);
    expect(first.header('cache-status')).toMatch(/detail=too-large$/);
    await settle();
    const second = await edge.get('/big', { range: 'bytes=7000-7099' });
    expect([second.status, second.text]).toEqual([206, big.slice(7000, 7100)]);
    expect(second.header('content-range')).toBe('bytes 7000-7099/8000');
    expect(origin.seen.filter((s) => s.url === '/big').map((s) => s.headers.range)).toEqual([
      undefined,
      'bytes=7000-7099',
    ]);
  });
});
