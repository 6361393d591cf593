// Issue 18 item 7, end to end: errors with explicit freshness are stored and served (negative
// caching protects the origin); errors without it never are, and errors about the request's own
// bytes never are at all, so one client cannot poison a URL for everyone (CPDoS: an oversized
// header, a meta character, a method override header).
import { connect } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { settle, withEdgeAndOrigin } from '../test/helpers/edge-and-origin.js';
import { reply, type TestOrigin } from '../test/helpers/test-origin.js';
import { startTestEdge, type TestEdge } from '../test/helpers/test-edge.js';

let origin: TestOrigin;
let edge: TestEdge;

withEdgeAndOrigin((o, e) => ((origin = o), (edge = e)));

describe('errors with explicit freshness are stored (negative caching)', () => {
  it.each([
    [404, { 'cache-control': 'max-age=60' }],
    [410, { 'cache-control': 's-maxage=60' }],
    [500, { 'cdn-cache-control': 'max-age=60' }],
    [503, { 'cache-control': 'max-age=60', 'retry-after': '60' }],
  ])('a %i with %o is served from storage until it expires', async (status, headers) => {
    const path = `/negative-${status}`;
    origin.route(path, reply(status, headers, `error ${status}`));
    const first = await edge.get(path);
    expect(first.status).toBe(status);
    expect(first.header('cache-status')).toBe(`meridian-fra; fwd=uri-miss; fwd-status=${status}; stored; ttl=60`);
    await settle();
    const hit = await edge.get(path);
    expect(hit.status).toBe(status);
    expect(hit.text).toBe(`error ${status}`);
    expect(hit.header('cache-status')).toBe('meridian-fra; hit; ttl=60');
    expect(origin.count(path)).toBe(1);
    edge.advance(61_000);
    await edge.get(path);
    expect(origin.count(path)).toBe(2);
  });

  it.each([
    ['no lifetime', {}],
    ['only an ETag', { etag: '"e"' }],
    ['only a Last-Modified (no heuristic lifetime for errors)', { 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT' }],
    ['public without a lifetime', { 'cache-control': 'public' }],
  ])('a 404 with %s is never stored', async (name, headers) => {
    const path = `/bare-404-${name.replace(/\W+/g, '-')}`;
    origin.route(path, reply(404, headers, 'nope'));
    for (let i = 0; i < 3; i++) {
      const r = await edge.get(path);
      expect(r.status).toBe(404);
      await settle();
    }
    expect(origin.count(path)).toBe(3);
  });

  it('a 5xx with a lifetime does not replace a stale copy that stale-if-error serves', async () => {
    origin.route('/sie-503', reply(200, { 'cache-control': 'max-age=1, stale-if-error=600' }, 'good copy'));
    await edge.get('/sie-503');
    await settle();
    edge.advance(5_000);
    origin.route('/sie-503', reply(503, { 'cache-control': 'max-age=600' }, 'down'));
    for (let i = 0; i < 2; i++) {
      const r = await edge.get('/sie-503');
      expect(r.text).toBe('good copy');
      expect(r.header('cache-status')).toMatch(/fwd-status=503; ttl=-\d+; detail=stale-if-error$/);
      await settle();
    }
  });
});

/** An origin that fails a request the way a CPDoS-vulnerable one does, with a long lifetime. */
function poisonable(fails: (req: IncomingMessage) => number | undefined) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const status = fails(req);
    if (status !== undefined) {
      res.writeHead(status, { 'cache-control': 'public, max-age=3600' }).end(`poisoned ${status}`);
    } else res.writeHead(200, { 'cache-control': 'max-age=60' }).end('the page');
  };
}

const edgePort = (): number => Number(new URL(edge.url).port);

/** One raw request (bytes undici would refuse to send); the status line's code. */
function rawRequest(port: number, head: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(0));
    socket.write(head);
  });
}

describe('CPDoS: a poisoned error is not served to the next client', () => {
  it.each([400, 431])('oversized header: the origin answers %i with max-age=3600', async (status) => {
    const path = `/cpdos-hho-${status}`;
    origin.route(
      path,
      poisonable((req) => ((req.headers['user-agent']?.length ?? 0) > 4096 ? status : undefined)),
    );
    const attack = await edge.get(path, { 'user-agent': 'x'.repeat(8000) });
    expect(attack.status).toBe(status); // the attacker gets what the origin said, nobody else does
    expect(attack.header('cache-status')).toMatch(/detail=request-error$/);
    await settle();
    const victim = await edge.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe('the page');
    expect((await edge.get(path)).header('cache-status')).toBe('meridian-fra; hit; ttl=60');
  });

  it('meta character: a byte the origin refuses (400, max-age=3600), or one the edge refuses itself', async () => {
    const path = '/cpdos-hmc';
    // eslint-disable-next-line no-control-regex
    const bad = /[^\t\x20-\x7e]/;
    origin.route(
      path,
      poisonable((req) => (Object.values(req.headers).some((v) => bad.test(String(v))) ? 400 : undefined)),
    );
    const host = `GET ${path} HTTP/1.1\r\nHost: www.test\r\n`;
    // obs-text reaches the origin (node:http and undici pass it on); a control byte does not.
    const obsText = Buffer.concat([
      Buffer.from(`${host}User-Agent: caf`),
      Buffer.from([0xe9]),
      Buffer.from('\r\n\r\n'),
    ]);
    expect(await rawRequest(edgePort(), obsText)).toBe(400);
    expect(await rawRequest(edgePort(), Buffer.from(`${host}User-Agent: a\x07b\r\n\r\n`))).toBe(400);
    expect(await rawRequest(edgePort(), Buffer.from(`${host}X-Metachar-Header: \x00\r\n\r\n`))).toBe(400);
    await settle();
    const victim = await edge.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe('the page');
  });

  it('method override: X-HTTP-Method-Override and its kin never reach the origin', async () => {
    const path = '/cpdos-hmo';
    const override = (req: IncomingMessage): string | undefined =>
      [req.headers['x-http-method-override'], req.headers['x-http-method'], req.headers['x-method-override']].find(
        (v) => v !== undefined,
      ) as string | undefined;
    origin.route(
      path,
      poisonable((req) => (override(req) !== undefined ? 405 : undefined)),
    );
    for (const name of ['x-http-method-override', 'x-http-method', 'x-method-override']) {
      const attack = await edge.get(path, { [name]: 'DELETE' });
      expect(attack.status).toBe(200);
    }
    expect(
      origin.seen
        .filter((r) => r.url === path)
        .every((r) => override({ headers: r.headers } as IncomingMessage) === undefined),
    ).toBe(true);
    expect((await edge.get(path)).text).toBe('the page');
  });

  it('method override forwarded by the operator: the 405 it causes is still not stored', async () => {
    const forwarding = await startTestEdge({ origin: origin.url, edge: '  forwardHeaders: [x-http-method-override]' });
    try {
      const path = '/cpdos-hmo-forwarded';
      origin.route(
        path,
        poisonable((req) => (req.headers['x-http-method-override'] ? 405 : undefined)),
      );
      const attack = await forwarding.get(path, { 'x-http-method-override': 'DELETE' });
      expect(attack.status).toBe(405);
      expect(attack.header('cache-status')).toMatch(/detail=request-error$/);
      await settle();
      // Even a client sending the same header (the same key) is not answered from storage.
      expect((await forwarding.get(path, { 'x-http-method-override': 'DELETE' })).header('cache-status')).not.toMatch(
        /hit/,
      );
      expect((await forwarding.get(path)).status).toBe(200);
    } finally {
      await forwarding.close();
    }
  });
});
