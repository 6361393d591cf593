// The raw hit front on real sockets: an edge core behind node:http with the front attached, a
// request handler that counts the requests it is given (by node:http, or by the front for plain
// requests it cannot answer from storage), and clients that write raw bytes. What the front
// answers must be what node:http would have answered, in order, and everything it does not
// answer must reach the handler or node:http intact.
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { batchedAcceptUnavailable } from '../batched-accept.js';
import { loadEdgeConfig } from '../config.js';
import { EdgeCore } from '../core.js';
import { requestHandler } from '../server.js';
import { capturedLog } from '../../test/helpers/captured-log.js';
import { reply, startOrigin, type TestOrigin } from '../../test/helpers/test-origin.js';
import { directReadListener, type DirectReadListener } from '../../test/helpers/direct-read-listener.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { readsDirectly } from './direct-read.js';
import { attachHitFront, type HitFront } from './front.js';
import { requestThroughHandler } from './handler-request.js';

const noBatchedAccept = batchedAcceptUnavailable();
// CI requires the addon (.ci/run sets MERIDIAN_REQUIRE_NATIVE): there the direct reads must run.
if (noBatchedAccept && process.env.MERIDIAN_REQUIRE_NATIVE === '1')
  throw new Error(`the batched accept addon is required here but ${noBatchedAccept}`);

const KEEP_ALIVE_MS = 1000;
/** More than loopback's socket buffers hold, so the server still has bytes to send while a client does not read. */
const LARGE_BYTES = 24 * 1024 * 1024;
/** Over 64 KiB with its head (the issue's 65 KB object). */
const MID_BYTES = 65_000;

let origin: TestOrigin;
let core: EdgeCore;
let server: Server;
let front: HitFront;
/** The port the suite's clients connect to: node:http's own listener, or the batched one. */
let port: number;
let httpPort: number;
/**
 * A second way in to the same server, every connection accepted by batched accept and reading
 * into the front's shared buffer (direct-read.ts). Node's own handle on this listener is closed
 * once batched accept has its duplicate, so no connection here is node's.
 */
let direct: DirectReadListener | undefined;
let offset = 0;
/** Requests that reached node:http's request handler. */
let viaNode = 0;
const clients: Socket[] = [];
/** The server's side of each connection, by the client's port. */
const serverSockets = new Map<number, Socket>();

beforeAll(async () => {
  origin = await startOrigin();
  for (const path of ['/obj', '/a', '/b', '/other', '/split', '/auth', '/big']) {
    origin.route(
      path,
      reply(200, { 'cache-control': 'public, max-age=60', 'content-type': 'text/plain' }, `body of ${path}\n`),
    );
  }
  origin.route('/large', reply(200, { 'cache-control': 'public, max-age=60' }, 'x'.repeat(LARGE_BYTES)));
  origin.route('/mid', reply(200, { 'cache-control': 'public, max-age=60' }, 'm'.repeat(MID_BYTES)));
  origin.route('/20k', reply(200, { 'cache-control': 'public, max-age=60' }, 't'.repeat(20 * 1024)));
  origin.route('/nostore', reply(200, { 'cache-control': 'no-store' }, 'fresh every time\n'));
  const dir = mkdtempSync(join(tmpdir(), 'meridian-front-'));
  const file = join(dir, 'meridian.yaml');
  writeFileSync(
    file,
    `edge:\n  origin: "${origin.url}"\n  maxObjectBytes: 32MiB\npops:\n  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [127.0.0.1], edge: "http://127.0.0.1:8080" }\n`,
  );
  const config = await loadEdgeConfig(file, 'fra');
  core = new EdgeCore({ config, log: capturedLog().log, now: () => Date.now() + offset, registry: new Registry() });
  const handle = requestHandler(core.state, {
    healthz: () => ({ status: 200, body: { ok: true } }),
    purge: ({ key, soft }) => core.purger.apply({ kind: 'url', key, soft }),
    token: undefined,
  });
  server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (req, res) => {
    viaNode++;
    handle(req, res);
  });
  // What the front does not answer goes to the handler as node:http's request event (counted above).
  front = attachHitFront(server, core.state, (socket, head, finished) =>
    requestThroughHandler(server, socket, head, finished),
  )!;
  server.on('connection', (s: Socket) => serverSockets.set(s.remotePort!, s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  httpPort = (server.address() as AddressInfo).port;
  if (noBatchedAccept === undefined) {
    direct = await directReadListener((s: Socket) => server.emit('connection', s));
  }
});

afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

afterAll(async () => {
  direct?.close();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
    front.closeAll();
  });
  await core.upstream.close();
  await origin.stop();
});

interface RawClient {
  readonly socket: Socket;
  /** Everything received so far, as latin1. */
  received(): string;
  /** Waits until `n` complete responses have arrived; returns them split. */
  responses(n: number): Promise<RawResponse[]>;
  readonly closed: Promise<void>;
}

interface RawResponse {
  readonly head: string;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function rawClient(): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    clients.push(socket);
    let buf = '';
    socket.on('data', (d: Buffer) => (buf += d.toString('latin1')));
    const closed = new Promise<void>((res) => socket.once('close', () => res()));
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => buf,
        closed,
        responses: async (n) => {
          await waitFor(
            () => splitResponses(buf).length >= n,
            5000,
            `${n} responses (have ${splitResponses(buf).length}: ${JSON.stringify(buf.slice(0, 300))})`,
          );
          return splitResponses(buf);
        },
      }),
    );
  });
}

/** Complete responses in `buf` (Content-Length or chunked framing; the answers at `headAt` are to HEAD). */
function splitResponses(buf: string, headAt: ReadonlySet<number> = new Set()): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', pos);
    if (end < 0) return out;
    const head = buf.slice(pos, end + 4);
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let body = '';
    pos = end + 4;
    if (headAt.has(out.length)) {
      // no body
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const eol = buf.indexOf('\r\n', pos);
        if (eol < 0) return out;
        const size = parseInt(buf.slice(pos, eol), 16);
        if (buf.length < eol + 2 + size + 2) return out;
        body += buf.slice(eol + 2, eol + 2 + size);
        pos = eol + 2 + size + 2;
        if (size === 0) break;
      }
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (buf.length < pos + length) return out;
      body = buf.slice(pos, pos + length);
      pos += length;
    }
    out.push({ head, status: Number(head.slice(9, 12)), headers, body });
  }
}

/** Waits until `value()` has stopped changing (the same over three polls 100 ms apart); returns it. */
async function settled(value: () => number): Promise<number> {
  let last = value();
  let same = 0;
  for (let i = 0; i < 50 && same < 3; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const v = value();
    same = v === last ? same + 1 : 0;
    last = v;
  }
  return last;
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: www.test\r\n${extra}\r\n`;

/** Fills the cache for `path` (a miss through node:http on its own connection). */
async function fill(path: string): Promise<void> {
  const c = await rawClient();
  c.socket.write(get(path));
  const [r] = await c.responses(1);
  expect(r!.status).toBe(200);
  c.socket.destroy();
}

describe('raw hit front, sockets node accepted', () => {
  beforeAll(() => useListener(httpPort));
  frontTests();
});

describe.skipIf(noBatchedAccept !== undefined)(
  `raw hit front, sockets reading into one shared buffer${noBatchedAccept ? ` (skipped: ${noBatchedAccept})` : ''}`,
  () => {
    beforeAll(() => useListener(direct!.port));

    it('reads every connection of this listener into the shared buffer', async () => {
      const c = await rawClient();
      await waitFor(() => serverSockets.has(c.socket.localPort!), 2000, 'the server side of the connection');
      expect(readsDirectly(serverSockets.get(c.socket.localPort!)!)).toBe(true);
    });

    frontTests();
  },
);

/** Each suite's tests start with an empty cache: their misses must miss. */
function useListener(listenerPort: number): void {
  port = listenerPort;
  core.state.cache.purgeAll(false, Date.now());
}

function frontTests(): void {
  it('answers fresh hits on plain requests itself, pipelined, in order, counted as hits', async () => {
    await fill('/a');
    await fill('/b');
    const before = viaNode;
    const hitsBefore = core.metrics.count('hit');
    const c = await rawClient();
    c.socket.write(get('/a') + get('/b') + get('/a'));
    const rs = await c.responses(3);
    expect(rs.map((r) => r.body)).toEqual(['body of /a\n', 'body of /b\n', 'body of /a\n']);
    for (const r of rs) expect(r.headers['cache-status']).toMatch(/^meridian-fra; hit; ttl=\d+$/);
    expect(viaNode - before).toBe(0);
    expect(core.metrics.count('hit') - hitsBefore).toBe(3);
    expect(front.connections).toBeGreaterThanOrEqual(1);
  });

  it('writes the same bytes as node:http does for the same hit (Age aside)', async () => {
    await fill('/obj');
    const fast = await rawClient();
    fast.socket.write(get('/obj'));
    const before = viaNode;
    // A repeated field is not plain to the front, and changes nothing for the cache: node:http answers.
    const slow = await rawClient();
    slow.socket.write(get('/obj', 'X-Dup: 1\r\nX-Dup: 2\r\n'));
    const [f] = await fast.responses(1);
    const [s] = await slow.responses(1);
    expect(viaNode - before).toBe(1);
    const ageless = (r: RawResponse) => r.head.replace(/\r\nage: \d+\r\n/, '\r\nage: N\r\n') + r.body;
    expect(ageless(f!)).toBe(ageless(s!));
    expect(f!.head).toMatch(/\r\nConnection: keep-alive\r\nKeep-Alive: timeout=1\r\n\r\n$/);
  });

  it('keeps the connection through a request the handler answers (a miss): the hits after it are still its own', async () => {
    await fill('/a');
    const before = viaNode;
    const c = await rawClient();
    // hit (front), miss (handler), hit and HEAD (front again), uncacheable (handler).
    c.socket.write(
      get('/a') + get('/other') + get('/a') + 'HEAD /a HTTP/1.1\r\nHost: www.test\r\n\r\n' + get('/nostore'),
    );
    await waitFor(() => splitResponses(c.received(), new Set([3])).length >= 5, 5000, 'five responses');
    const rs = splitResponses(c.received(), new Set([3]));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(rs.map((r) => r.body)).toEqual([
      'body of /a\n',
      'body of /other\n',
      'body of /a\n',
      '',
      'fresh every time\n',
    ]);
    expect(rs[0]!.headers['cache-status']).toMatch(/; hit;/);
    expect(rs[1]!.headers['cache-status']).toMatch(/fwd=uri-miss/);
    expect(rs[3]!.headers['content-length']).toBe('11');
    expect(viaNode - before).toBe(2);
    // The handler's answers are node:http's own, keep-alive and all.
    expect(rs[1]!.head).toMatch(/\r\nConnection: keep-alive\r\nKeep-Alive: timeout=1\r\n/);
    expect(rs[4]!.head).toMatch(/\r\nConnection: keep-alive\r\nKeep-Alive: timeout=1\r\n/);
  });

  it('hands the connection to node:http for good at the first request that is not plain, with the bytes after it', async () => {
    await fill('/a');
    const before = viaNode;
    const c = await rawClient();
    // hit (front), a repeated field (node:http), then a hit that node:http answers on this connection.
    c.socket.write(get('/a') + get('/a', 'X-Dup: 1\r\nX-Dup: 2\r\n') + get('/a'));
    const rs = await c.responses(3);
    expect(rs.map((r) => r.body)).toEqual(['body of /a\n', 'body of /a\n', 'body of /a\n']);
    expect(viaNode - before).toBe(2);
  });

  it('streams a miss larger than the socket buffers to a slow reader, then answers hits on the same connection', async () => {
    origin.route('/large-miss', reply(200, { 'cache-control': 'public, max-age=60' }, 'y'.repeat(LARGE_BYTES)));
    await fill('/a');
    const before = viaNode;
    const c = await rawClient();
    c.socket.pause();
    c.socket.write(get('/large-miss') + get('/a'));
    await new Promise((r) => setTimeout(r, 300));
    c.socket.resume();
    const rs = await c.responses(2);
    expect(rs[0]!.body.length).toBe(LARGE_BYTES);
    expect(rs[0]!.headers['cache-status']).toMatch(/fwd=uri-miss/);
    expect(rs[1]!.body).toBe('body of /a\n');
    expect(rs[1]!.headers['cache-status']).toMatch(/; hit;/);
    expect(viaNode - before).toBe(1);
  });

  it('does not close a connection as idle while its request waits on a slow upstream', async () => {
    origin.route('/slow', async (_req, res) => {
      await new Promise((r) => setTimeout(r, KEEP_ALIVE_MS * 2.5));
      res.writeHead(200, { 'cache-control': 'public, max-age=60' }).end('slow\n');
    });
    await fill('/a');
    const c = await rawClient();
    c.socket.write(get('/slow') + get('/a'));
    const rs = await c.responses(2);
    expect(rs.map((r) => r.body)).toEqual(['slow\n', 'body of /a\n']);
    // Idle again once answered: closed after the keep-alive timeout.
    await c.closed;
  });

  it("keeps a waiting connection's requests intact while other connections are read meanwhile", async () => {
    const before = viaNode;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    origin.route('/wait-here', async (_req, res) => {
      await held;
      res.writeHead(200, { 'cache-control': 'no-store' }).end('waited\n');
    });
    await fill('/a');
    await fill('/b');
    const c = await rawClient();
    // The third is not plain (a repeated field): node:http gets it from the kept bytes.
    c.socket.write(get('/wait-here') + get('/a') + get('/b', 'X-Dup: 1\r\nX-Dup: 2\r\n'));
    await waitFor(() => origin.count('/wait-here') > 0, 2000, 'the upstream request');
    // Reads of other connections meanwhile: where reads share one buffer, they overwrite it.
    for (let i = 0; i < 3; i++) {
      const other = await rawClient();
      other.socket.write(get('/b', `X-Other: ${'o'.repeat(200)}\r\n`).repeat(4));
      await other.responses(4);
      other.socket.destroy();
    }
    release();
    const rs = await c.responses(3);
    expect(rs.map((r) => r.body)).toEqual(['waited\n', 'body of /a\n', 'body of /b\n']);
    expect(viaNode - before).toBe(2);
  });

  it('answers every request of a client that half-closes while a miss is pending, then closes', async () => {
    origin.route('/late', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 100));
      res.writeHead(200, { 'cache-control': 'public, max-age=60' }).end('late\n');
    });
    await fill('/a');
    const c = await rawClient();
    c.socket.end(get('/late') + get('/a'));
    await c.closed;
    expect(splitResponses(c.received()).map((r) => r.body)).toEqual(['late\n', 'body of /a\n']);
  });

  it('lets a client leave while its miss is pending; the miss still fills the cache', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    origin.route('/held', async (_req, res) => {
      await held;
      res.writeHead(200, { 'cache-control': 'public, max-age=60' }).end('held\n');
    });
    const missesBefore = core.metrics.count('miss');
    const fetchesBefore = origin.count('/held');
    const c = await rawClient();
    c.socket.write(get('/held'));
    await waitFor(() => origin.count('/held') > fetchesBefore, 2000, 'the upstream request');
    c.socket.destroy();
    release();
    await waitFor(() => core.metrics.count('miss') > missesBefore, 2000, 'the miss to complete');
    const d = await rawClient();
    d.socket.write(get('/held'));
    const [r] = await d.responses(1);
    expect(r!.body).toBe('held\n');
    expect(r!.headers['cache-status']).toMatch(/; hit;/);
    expect(origin.count('/held') - fetchesBefore).toBe(1);
  });

  it('answers HEAD without a body, and the next pipelined answer is framed right', async () => {
    await fill('/b');
    const before = viaNode;
    const c = await rawClient();
    c.socket.write('HEAD /b HTTP/1.1\r\nHost: www.test\r\n\r\n' + get('/b'));
    await waitFor(() => splitResponses(c.received(), new Set([0])).length >= 2, 5000, 'two responses');
    const [h, g] = splitResponses(c.received(), new Set([0]));
    expect(h!.headers['content-length']).toBe('11');
    expect(h!.body).toBe('');
    expect(g!.body).toBe('body of /b\n');
    expect(viaNode - before).toBe(0);
  });

  it('passes a head split over two reads to node:http, which answers it', async () => {
    await fill('/split');
    const before = viaNode;
    const c = await rawClient();
    const text = get('/split');
    c.socket.write(text.slice(0, 20));
    await new Promise((r) => setTimeout(r, 50));
    c.socket.write(text.slice(20));
    const [r] = await c.responses(1);
    expect(r!.body).toBe('body of /split\n');
    expect(viaNode - before).toBe(1);
  });

  it('gives requests it may not answer from storage to the request handler (Authorization, Cache-Control, validators, /healthz)', async () => {
    await fill('/auth');
    for (const extra of [
      'Authorization: Bearer x\r\n',
      'Cache-Control: no-cache\r\n',
      'If-None-Match: "x"\r\n',
      'Pragma: no-cache\r\n',
      'Range: bytes=0-1\r\n',
    ]) {
      const before = viaNode;
      const c = await rawClient();
      c.socket.write(get('/auth', extra));
      await c.responses(1);
      expect(viaNode - before, extra).toBe(1);
    }
    const before = viaNode;
    const c = await rawClient();
    c.socket.write(get('/healthz'));
    const [r] = await c.responses(1);
    expect(JSON.parse(r!.body)).toEqual({ ok: true });
    expect(viaNode - before).toBe(1);
  });

  it('stops answering an object once it is stale or purged', async () => {
    await fill('/obj');
    const c = await rawClient();
    offset += 61_000;
    try {
      const before = viaNode;
      c.socket.write(get('/obj'));
      const [r] = await c.responses(1);
      expect(viaNode - before).toBe(1);
      expect(r!.headers['cache-status']).not.toMatch(/; hit;/);
    } finally {
      offset -= 61_000;
    }
    await fill('/obj');
    await core.purger.apply({ kind: 'url', key: 'http://www.test/obj', soft: false });
    const before = viaNode;
    const d = await rawClient();
    d.socket.write(get('/obj'));
    await d.responses(1);
    expect(viaNode - before).toBe(1);
  });

  it('gives malformed bytes after a hit to node:http, which answers 400', async () => {
    await fill('/a');
    const c = await rawClient();
    c.socket.write(get('/a') + 'GET / HTTP/1.1\r\nHost: www.test\r\nBad Header\r\n\r\n');
    await waitFor(() => c.received().includes('400 Bad Request'), 5000, 'a 400');
    expect(splitResponses(c.received())[0]!.body).toBe('body of /a\n');
    await c.closed;
  });

  it('answers thousands of pipelined requests from a client that does not read, then closes when idle', async () => {
    await fill('/a');
    const c = await rawClient();
    c.socket.pause();
    const n = 3000;
    c.socket.write(get('/a').repeat(n));
    await new Promise((r) => setTimeout(r, 200));
    c.socket.resume();
    const rs = await c.responses(n);
    expect(rs.length).toBe(n);
    expect(rs.every((r) => r.status === 200 && r.body === 'body of /a\n')).toBe(true);
    const idleFrom = Date.now();
    await c.closed;
    expect(Date.now() - idleFrom).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
  });

  it('goes on reading after an answer over the high-water mark that the kernel took whole', async () => {
    await fill('/20k');
    const c = await rawClient();
    await waitFor(() => serverSockets.has(c.socket.localPort!), 2000, 'the server side of the connection');
    const serverSide = serverSockets.get(c.socket.localPort!)!;
    let pauses = 0;
    serverSide.on('pause', () => pauses++);
    // One at a time, each taken by the client before the next: nothing is ever left queued, so
    // there is nothing to wait for, although each write is past the high-water mark (16 KiB).
    for (let i = 1; i <= 5; i++) {
      c.socket.write(get('/20k'));
      const rs = await c.responses(i);
      expect(rs[i - 1]!.body.length).toBe(20 * 1024);
    }
    expect(pauses).toBe(0);
  });

  it('stops answering a client that does not read once its queue reaches the high-water mark, and answers the rest when it reads', async () => {
    await fill('/mid');
    const n = 400;
    const hitsBefore = core.metrics.count('hit');
    const c = await rawClient();
    c.socket.pause();
    // 400 requests arrive in one or two reads; answered at once they would queue 26 MB.
    c.socket.write(get('/mid').repeat(n));
    const answered = (await settled(() => core.metrics.count('hit'))) - hitsBefore;
    const serverSide = serverSockets.get(c.socket.localPort!)!;
    // What the kernel's buffers took, plus at most the high-water mark and one answer queued.
    expect(answered).toBeLessThan(n / 2);
    expect(serverSide.writableLength).toBeLessThanOrEqual(serverSide.writableHighWaterMark + MID_BYTES + 1024);
    c.socket.resume();
    const rs = await c.responses(n);
    expect(rs.length).toBe(n);
    expect(rs.every((r) => r.status === 200 && r.body.length === MID_BYTES)).toBe(true);
    expect(core.metrics.count('hit') - hitsBefore).toBe(n);
  });

  it('goes on in order from requests kept under backpressure: to the handler, hits, then node:http at one not plain', async () => {
    await fill('/mid');
    await fill('/a');
    const before = viaNode;
    const c = await rawClient();
    c.socket.pause();
    const n = 200;
    c.socket.write(get('/mid').repeat(n) + get('/nostore') + get('/a') + get('/mid', 'X-Dup: 1\r\nX-Dup: 2\r\n'));
    await settled(() => core.metrics.count('hit'));
    // Still waiting for the client: nothing has reached node:http yet.
    expect(viaNode - before).toBe(0);
    c.socket.resume();
    const rs = await c.responses(n + 3);
    expect(rs.length).toBe(n + 3);
    expect(rs.slice(0, n).every((r) => r.body.length === MID_BYTES && /; hit;/.test(r.headers['cache-status']!))).toBe(
      true,
    );
    expect(rs.slice(n, n + 2).map((r) => r.body)).toEqual(['fresh every time\n', 'body of /a\n']);
    expect(rs[n + 2]!.body.length).toBe(MID_BYTES);
    expect(viaNode - before).toBe(2);
  });

  it('closes an idle front connection after the keep-alive timeout, and half-closed clients get their answers first', async () => {
    await fill('/a');
    const idle = await rawClient();
    const opened = Date.now();
    await idle.closed;
    expect(Date.now() - opened).toBeGreaterThanOrEqual(KEEP_ALIVE_MS - 50);
    const c = await rawClient();
    const sent = Date.now();
    c.socket.end(get('/a'));
    await c.closed;
    // Closed because the client finished, not because it went idle.
    expect(Date.now() - sent).toBeLessThan(KEEP_ALIVE_MS / 2);
    expect(splitResponses(c.received()).map((r) => r.body)).toEqual(['body of /a\n']);
  });

  it('keeps a connection whose client is slow to take a large hit past the keep-alive timeout', async () => {
    await fill('/large');
    const before = viaNode;
    const c = await rawClient();
    c.socket.pause();
    c.socket.write(get('/large'));
    // node:net holds back its own timeout while a write makes progress; a reader that takes
    // nothing for several periods must still not lose its answer (node:http keeps it too).
    await new Promise((r) => setTimeout(r, KEEP_ALIVE_MS * 3.5));
    c.socket.resume();
    const [r] = await c.responses(1);
    expect(r!.body.length).toBe(LARGE_BYTES);
    expect(viaNode - before).toBe(0);
  });

  it('answers any pipelined run of hits, misses, HEADs, handler requests and a handover in order, however the bytes are split', async () => {
    for (let i = 0; i < 6; i++)
      origin.route(`/p${i}`, reply(200, { 'cache-control': 'public, max-age=600' }, `body of /p${i}\n`));
    const request = fc.record({
      path: fc.constantFrom('/p0', '/p1', '/p2', '/p3', '/p4', '/p5', '/nostore'),
      // plain (a hit or a miss), HEAD, one the handler answers (no-cache), one not plain (node:http from there on)
      kind: fc.constantFrom('get', 'get', 'get', 'head', 'no-cache', 'not-plain'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 1, maxLength: 24 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 }),
        async (requests, cuts) => {
          const text = requests
            .map(({ path, kind }) =>
              kind === 'head'
                ? `HEAD ${path} HTTP/1.1\r\nHost: www.test\r\n\r\n`
                : get(
                    path,
                    kind === 'no-cache'
                      ? 'Cache-Control: no-cache\r\n'
                      : kind === 'not-plain'
                        ? 'X-Dup: 1\r\nX-Dup: 2\r\n'
                        : '',
                  ),
            )
            .join('');
          const c = await rawClient();
          // The bytes in pieces of the drawn sizes, a few ms apart (heads cut anywhere).
          let at = 0;
          for (const cut of cuts) {
            if (at >= text.length) break;
            c.socket.write(text.slice(at, at + cut));
            at += cut;
            await new Promise((r) => setTimeout(r, 2));
          }
          if (at < text.length) c.socket.write(text.slice(at));
          const heads = new Set(requests.flatMap((r, i) => (r.kind === 'head' ? [i] : [])));
          await waitFor(
            () => splitResponses(c.received(), heads).length >= requests.length,
            5000,
            `${requests.length} answers`,
          );
          const rs = splitResponses(c.received(), heads);
          expect(rs.length).toBe(requests.length);
          rs.forEach((r, i) => {
            const { path, kind } = requests[i]!;
            const body = path === '/nostore' ? 'fresh every time\n' : `body of ${path}\n`;
            expect(r.status).toBe(200);
            expect(r.body).toBe(kind === 'head' ? '' : body);
          });
          c.socket.destroy();
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);

  it('closeAll destroys the connections it holds', async () => {
    const c = await rawClient();
    await waitFor(() => front.connections > 0, 2000, 'the connection with the front');
    front.closeAll();
    await c.closed;
    expect(front.connections).toBe(0);
  });
}
