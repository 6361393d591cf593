// The proxy against a real origin: headers both ways, streamed bodies, errors turned into
// responses, Cache-Status on everything.
import { createServer, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../test/helpers/closed-port.js';
import { reply, startOrigin, type TestOrigin } from '../test/helpers/test-origin.js';
import { sleep } from '../test/helpers/wait-for.js';
import { startTestEdge, type TestEdge } from '../test/helpers/test-edge.js';
import { STREAM_AFTER_MS } from './pipeline/whole-body.js';

let origin: TestOrigin;
let edge: TestEdge;

beforeAll(async () => {
  origin = await startOrigin();
  edge = await startTestEdge({
    origin: origin.url,
    edge: '  maxObjectBytes: 64KiB\n  timeouts: { connect: 300ms, headers: 400ms, body: 400ms }',
  });
});
afterAll(async () => {
  await edge?.close();
  await origin?.stop();
});

describe('proxying', () => {
  it('removes hop-by-hop headers both ways and adds Via, X-Forwarded-For and Age', async () => {
    origin.route('/hop', (_req, res) => {
      res.writeHead(200, {
        connection: 'x-secret, keep-alive',
        'x-secret': 'no',
        'keep-alive': 'timeout=5',
        'proxy-authenticate': 'Basic',
        'x-fine': 'yes',
        'cache-control': 'max-age=60',
      });
      res.end('hop');
    });
    const raw = await rawRequest(
      edge.url,
      'GET /hop HTTP/1.1\r\nHost: www.test\r\nX-Client-Secret: drop-me\r\nConnection: close, X-Client-Secret\r\nProxy-Authorization: Basic x\r\n' +
        'TE: trailers\r\nX-Forwarded-For: 192.0.2.9\r\nVia: 1.0 corp-proxy\r\n\r\n',
    );
    expect(raw).toMatch(/^HTTP\/1.1 200/);
    // The stored copy is fresh; a hit shows the response headers node:http would send.
    const res = await edge.get('/hop');
    const seen = origin.seen.find((r) => r.url === '/hop')!;
    expect(seen.headers['x-client-secret']).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers.te).toBeUndefined();
    expect(seen.headers.via).toBe('1.0 corp-proxy, 1.1 meridian-fra');
    // A client's X-Forwarded-For is its own say-so: the edge sends the address it sees.
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers.host).toBe('www.test');
    expect(res.header('x-secret')).toBeUndefined();
    expect(res.header('proxy-authenticate')).toBeUndefined();
    expect(raw).not.toMatch(/x-secret|proxy-authenticate|keep-alive/i);
    expect(res.header('x-fine')).toBe('yes');
    expect(res.header('via')).toBe('1.1 meridian-fra');
    expect(res.header('age')).toBe('0');
    expect(res.header('cache-status')).toBe('meridian-fra; hit; ttl=60');
    edge.advance(5_000);
    const hit = await edge.get('/hop');
    expect(hit.header('age')).toBe('5');
    expect(hit.header('via')).toBe('1.1 meridian-fra');
    expect(hit.header('cache-status')).toBe('meridian-fra; hit; ttl=55');
  });

  it('streams request bodies to the origin and passes unsafe methods through', async () => {
    origin.route(
      '/upload',
      (_req, res, body) => void res.writeHead(201, { 'content-type': 'text/plain' }).end(`got ${body.length}`),
    );
    const big = 'x'.repeat(300_000);
    const res = await edge.get('/upload', { 'content-type': 'text/plain' }, 'POST', big);
    expect(res.status).toBe(201);
    expect(res.text).toBe('got 300000');
    expect(res.header('cache-status')).toBe('meridian-fra; fwd=bypass; fwd-status=201');
  });

  it('streams large bodies through without storing them', async () => {
    const body = 'L'.repeat(200_000);
    origin.route('/large', reply(200, { 'cache-control': 'max-age=600', 'content-length': String(body.length) }, body));
    const first = await edge.get('/large');
    expect(first.text.length).toBe(body.length);
    expect(first.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; detail=too-large');
    const second = await edge.get('/large');
    expect(second.text).toBe(body);
    expect(origin.count('/large')).toBe(2);
    // Remembered as uncacheable: not queued behind another fetch.
    expect(second.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; detail=too-large');
  });

  it('stores a chunked body that fits, not one that outgrows maxObjectBytes', async () => {
    origin.route('/chunked-small', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600' });
      res.write('a'.repeat(1000));
      res.end('b'.repeat(1000));
    });
    origin.route('/chunked-big', (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600' });
      for (let i = 0; i < 20; i++) res.write('c'.repeat(10_000));
      res.end();
    });
    expect((await edge.get('/chunked-small')).text.length).toBe(2000);
    const hit = await edge.get('/chunked-small');
    expect(hit.header('cache-status')).toMatch(/; hit;/);
    expect(hit.header('content-length')).toBe('2000');
    expect((await edge.get('/chunked-big')).text.length).toBe(200_000);
    expect((await edge.get('/chunked-big')).text.length).toBe(200_000);
    expect(origin.count('/chunked-big')).toBe(2);
  });

  it('answers HEAD from the stored GET response', async () => {
    origin.route('/head', reply(200, { 'cache-control': 'max-age=600', 'content-type': 'text/plain' }, 'head body'));
    const head = await edge.get('/head', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    await sleep(20);
    const get = await edge.get('/head');
    expect(get.text).toBe('head body');
    expect(get.header('cache-status')).toMatch(/; hit;/);
    expect(origin.seen.filter((r) => r.url === '/head').map((r) => r.method)).toEqual(['GET']);
  });

  it('answers 502 when the origin is unreachable and 504 when it does not answer in time', async () => {
    const dead = await startTestEdge({ origin: `http://127.0.0.1:${await closedPort()}` });
    try {
      const res = await dead.get('/x');
      expect(res.status).toBe(502);
      // What failed, never where: the origin's address stays in the logs.
      expect(res.text).toBe('502 Bad Gateway: the upstream could not be reached\n');
      expect(res.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; detail=origin-unreachable');
    } finally {
      await dead.close();
    }
    origin.route('/slow', () => {});
    const slow = await edge.get('/slow');
    expect(slow.status).toBe(504);
    expect(slow.text).not.toContain(String(origin.port));
    expect(slow.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; detail=origin-timeout');
  });

  it('cuts the client off when the origin stalls mid-body on a streamed object, and keeps serving', async () => {
    origin.route('/stall', (_req, res) => {
      res.writeHead(200, { 'content-length': '100000', 'cache-control': 'max-age=60' });
      res.write('partial');
    });
    await expect(edge.get('/stall')).rejects.toThrow();
    expect((await edge.get('/hop')).status).toBe(200);
  });

  it('answers 504 when the origin stalls mid-body on a small object (read whole before answering)', async () => {
    origin.route('/stall-small', (_req, res) => {
      res.writeHead(200, { 'content-length': '100', 'cache-control': 'max-age=60' });
      res.write('partial');
    });
    const res = await edge.get('/stall-small');
    expect(res.status).toBe(504);
    expect(res.header('cache-status')).toBe('meridian-fra; fwd=uri-miss; fwd-status=200; detail=origin-timeout');
    expect((await edge.get('/hop')).status).toBe(200);
  });

  it('answers 400 to requests it cannot key, and survives garbage', async () => {
    const noHost = await rawRequest(edge.url, 'GET / HTTP/1.0\r\nConnection: close\r\n\r\n');
    expect(noHost).toMatch(/^HTTP\/1.1 400/);
    const badHost = await rawRequest(edge.url, 'GET / HTTP/1.1\r\nHost: bad host!\r\nConnection: close\r\n\r\n');
    expect(badHost).toMatch(/^HTTP\/1.1 400/);
    const garbage = await rawRequest(edge.url, '\x00\x01\x02 nonsense\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1.1 400/);
    const star = await rawRequest(edge.url, 'OPTIONS * HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n');
    expect(star).toMatch(/^HTTP\/1.1 400/);
    expect((await edge.get('/hop')).status).toBe(200);
  });

  it('refuses CONNECT and TRACE, and detects a request looping back through itself', async () => {
    expect((await edge.get('/x', {}, 'TRACE')).status).toBe(405);
    const loop = await edge.get('/x', { via: '1.1 meridian-fra' });
    expect(loop.status).toBe(508);
  });

  it('accepts absolute-form targets and keys them like origin-form ones', async () => {
    origin.route('/abs', reply(200, { 'cache-control': 'max-age=60' }, 'abs'));
    await edge.get('/abs');
    const raw = await rawRequest(
      edge.url,
      'GET http://WWW.TEST:80/abs HTTP/1.1\r\nHost: ignored\r\nConnection: close\r\n\r\n',
    );
    expect(raw).toMatch(/cache-status: meridian-fra; hit/i);
    expect(origin.count('/abs')).toBe(1);
  });
});

describe('robustness', () => {
  it('answers 502 to an origin speaking nonsense, and keeps serving', async () => {
    const answers: Record<string, string> = {
      '/garbage': 'HELLO THERE\r\n\r\n',
      '/bad-chunks': 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncache-control: max-age=60\r\n\r\nzz\r\nnope\r\n',
      '/bad-header': 'HTTP/1.1 200 OK\r\nx-bad: a\x01b\r\ncontent-length: 2\r\n\r\nok',
      '/short': 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\ncache-control: max-age=60\r\n\r\nonly this',
      // Over WHOLE_BODY_BYTES, breaking off at once: within STREAM_AFTER_MS, so read whole too.
      '/short-large': 'HTTP/1.1 200 OK\r\ncontent-length: 100000\r\ncache-control: max-age=60\r\n\r\nonly this',
      // The same, breaking off only after the wait: streamed, so the client has the head first.
      '/late-short-large': 'HTTP/1.1 200 OK\r\ncontent-length: 100000\r\ncache-control: max-age=60\r\n\r\nonly this',
      '/close': '',
    };
    const raw = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (d) => {
        const path = d.toString('latin1').split(' ')[1] ?? '';
        const answer = answers[path] ?? '';
        if (answer === '') return void socket.destroy();
        if (!path.startsWith('/late-')) return void socket.end(answer, 'latin1');
        socket.write(answer, 'latin1');
        setTimeout(() => socket.end(), STREAM_AFTER_MS * 10);
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const bad = await startTestEdge({
      origin: `http://127.0.0.1:${(raw.address() as AddressInfo).port}`,
      edge: '  timeouts: { connect: 300ms, headers: 500ms, body: 500ms }',
    });
    try {
      for (const path of ['/garbage', '/bad-header', '/close']) {
        const res = await bad.get(path);
        expect(res.status, path).toBe(502);
        expect(res.header('cache-status'), path).toMatch(/^meridian-fra; fwd=uri-miss; detail=origin-/);
      }
      // A body read whole before anything is sent: one that breaks off is a 502.
      for (const path of ['/short', '/short', '/short-large']) {
        const res = await bad.get(path);
        expect(res.status, path).toBe(502);
        expect(res.header('cache-status'), path).toBe(
          'meridian-fra; fwd=uri-miss; fwd-status=200; detail=origin-error',
        );
      }
      // Streamed bodies: the client's connection is cut, nothing is stored.
      for (const path of ['/bad-chunks', '/late-short-large']) {
        await expect(bad.get(path), path).rejects.toThrow();
        await sleep(20);
        await expect(bad.get(path), path).rejects.toThrow();
      }
      expect((await bad.edge.stats()).objects).toBe(0);
      expect((await bad.get('/healthz')).status).toBe(200);
    } finally {
      await bad.close();
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it('survives random bytes from clients', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
        await rawRequest(edge.url, Buffer.from(bytes).toString('latin1'), 100);
      }),
      { numRuns: 40, seed: 7 },
    );
    const prefixes = [
      'GET / HTTP/1.1\r\nHost: www.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /%zz%%/..//? HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n',
    ];
    for (const p of prefixes) await rawRequest(edge.url, p, 300);
    expect((await edge.get('/hop')).status).toBe(200);
  });
});

/** Sends raw bytes and returns whatever comes back before the server closes or 1 s passes. */
async function rawRequest(url: string, text: string, waitMs = 1000): Promise<string> {
  const { connect } = await import('node:net');
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let out = '';
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(text));
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
    setTimeout(() => {
      socket.destroy();
      resolve(out);
    }, waitMs);
  });
}
