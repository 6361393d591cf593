// Issue 18 item 8: an upstream that breaks the connection before its response head is complete
// (closed before a byte, closed or reset mid-head, a head that does not parse) is an upstream
// error like a 5xx: a stored response inside a stale-if-error window, the response's or the
// request's own (RFC 5861 §4), is served instead of a 502.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { withEdgeAndOrigin } from '../test/helpers/edge-and-origin.js';
import { reply, type TestOrigin } from '../test/helpers/test-origin.js';
import type { TestEdge } from '../test/helpers/test-edge.js';
import { sleep } from '../test/helpers/wait-for.js';

let origin: TestOrigin;
let edge: TestEdge;

withEdgeAndOrigin((o, e) => ((origin = o), (edge = e)), {
  edge: '  timeouts: { connect: 300ms, headers: 1s, body: 1s }',
});

const BROKEN: Record<string, (res: ServerResponse) => void> = {
  'closed before a byte': (res) => res.socket!.destroy(),
  'closed mid-head': (res) => res.socket!.end('HTTP/1.1 200 OK\r\nContent-Le'),
  'reset mid-head': (res) => {
    res.socket!.write('HTTP/1.1 200 OK\r\nContent-Le');
    setTimeout(() => res.socket!.resetAndDestroy(), 20);
  },
  'a head that does not parse': (res) => res.socket!.end('HTP/1.1 200 OK\r\n\r\n'),
};

let n = 0;
/** Stores `cacheControl`'s answer at a new path, lets it go 5 s stale, then breaks the origin. */
async function storedThenBroken(cacheControl: string, broken: (res: ServerResponse) => void): Promise<string> {
  const path = `/broken-${n++}`;
  origin.route(path, reply(200, { 'cache-control': cacheControl }, 'good copy'));
  await edge.get(path);
  await sleep(15);
  edge.advance(5_000);
  origin.route(path, (_req, res) => broken(res));
  return path;
}

describe.each(Object.entries(BROKEN))('an upstream that breaks the connection: %s', (_name, broken) => {
  it("is an error for the response's stale-if-error", async () => {
    const path = await storedThenBroken('max-age=1, stale-if-error=60', broken);
    const r = await edge.get(path);
    expect(r.status).toBe(200);
    expect(r.text).toBe('good copy');
    expect(r.header('cache-status')).toBe('meridian-fra; fwd=stale; ttl=-4; detail=stale-if-error');
  });

  it("is an error for the request's stale-if-error (RFC 5861 §4)", async () => {
    const path = await storedThenBroken('max-age=1', broken);
    const r = await edge.get(path, { 'cache-control': 'stale-if-error=60' });
    expect(r.status).toBe(200);
    expect(r.text).toBe('good copy');
    expect(r.header('cache-status')).toBe('meridian-fra; fwd=stale; ttl=-4; detail=stale-if-error');
    // Another client that did not ask for it gets the error.
    expect((await edge.get(path)).status).toBe(502);
  });
});

describe("the request's stale-if-error", () => {
  it('covers a 5xx too, only within its window, never over must-revalidate', async () => {
    const path = await storedThenBroken('max-age=1', (res) => void res.writeHead(503).end('down'));
    const ok = await edge.get(path, { 'cache-control': 'stale-if-error=10' });
    expect(ok.text).toBe('good copy');
    expect(ok.header('cache-status')).toBe('meridian-fra; fwd=stale; fwd-status=503; ttl=-4; detail=stale-if-error');
    expect((await edge.get(path, { 'cache-control': 'stale-if-error=3' })).status).toBe(503);

    const strict = await storedThenBroken('max-age=1, must-revalidate', BROKEN['closed mid-head']!);
    expect((await edge.get(strict, { 'cache-control': 'stale-if-error=60' })).status).toBe(502);
  });
});

describe('a small body that breaks off (read whole before anything is sent: whole-body.ts)', () => {
  const midBody = (res: ServerResponse): void =>
    void res.socket!.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nCache-Control: max-age=60\r\n\r\nonly this');

  it('is an error for stale-if-error: the stored copy is served, not a truncated body', async () => {
    const path = await storedThenBroken('max-age=1, stale-if-error=60', midBody);
    const r = await edge.get(path);
    expect(r.status).toBe(200);
    expect(r.text).toBe('good copy');
    expect(r.header('cache-status')).toBe('meridian-fra; fwd=stale; fwd-status=200; ttl=-4; detail=stale-if-error');
  });

  it('without a stored copy is a 502, and nothing is stored', async () => {
    origin.route('/mid-body', (_req, res) => midBody(res));
    for (let i = 0; i < 2; i++) {
      const r = await edge.get('/mid-body');
      expect(r.status).toBe(502);
      expect(r.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; detail=origin-error');
    }
    expect(origin.count('/mid-body')).toBe(2);
  });
});
