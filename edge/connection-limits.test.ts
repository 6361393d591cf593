// What a client connection may hold on the proxy listener (startEdgeServer, front attached):
// a connection node:http cannot read is answered and closed, not left half-open; a connection
// whose client takes nothing of its answer is closed after the send-stall timeout, whichever
// way in answered it (the raw front or node:http); a client that reads slowly keeps it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadEdgeConfig } from './config.js';
import { EdgeCore } from './core.js';
import { startEdgeServer, type EdgeServer } from './server.js';
import { capturedLog } from '../test/helpers/captured-log.js';
import { reply, startOrigin, type TestOrigin } from '../test/helpers/test-origin.js';
import { waitFor } from '../test/helpers/wait-for.js';

const HEADERS_MS = 1500;
const STALL_MS = 600;
/** More than loopback's socket buffers take from a client that does not read. */
const LARGE_BYTES = 16 * 1024 * 1024;

let origin: TestOrigin;
let core: EdgeCore;
let edge: EdgeServer;
const clients: Socket[] = [];

beforeAll(async () => {
  origin = await startOrigin();
  origin.route('/large', reply(200, { 'cache-control': 'public, max-age=600' }, 'x'.repeat(LARGE_BYTES)));
  const dir = mkdtempSync(join(tmpdir(), 'meridian-limits-'));
  const file = join(dir, 'meridian.yaml');
  writeFileSync(
    file,
    `edge:\n  origin: "${origin.url}"\n  maxObjectBytes: 32MiB\n  clientTimeouts: { headers: ${HEADERS_MS}ms, sendStall: ${STALL_MS}ms }\n` +
      `pops:\n  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [127.0.0.1], edge: "http://127.0.0.1:8080" }\n`,
  );
  const config = await loadEdgeConfig(file, 'fra', { listen: { host: '127.0.0.1', port: 0 } });
  core = new EdgeCore({ config, log: capturedLog().log, now: Date.now, registry: new Registry() });
  edge = await startEdgeServer(
    core.state,
    {
      healthz: () => ({ status: 200, body: { ok: true } }),
      purge: () => ({ purged: 0, soft: false }),
      token: undefined,
    },
    config.listen,
  );
  // Stored by a miss on a connection that closes after it, so the tests start with none open.
  const filled = await client();
  filled.socket.write(get('/large', 'Connection: close\r\n'));
  await filled.ended;
  expect(filled.received()).toBeGreaterThan(LARGE_BYTES);
  filled.socket.destroy();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await waitFor(async () => (await edge.connections()) === 0, 5000, 'the connections of the last test closed');
});

afterAll(async () => {
  await edge.close();
  await core.upstream.close();
  await origin.stop();
});

interface Client {
  readonly socket: Socket;
  text(): string;
  received(): number;
  /** Resolves when the server has ended its side (FIN). */
  readonly ended: Promise<void>;
}

/** A client that never closes its side by itself (half-open allowed), as an attacker's would not. */
function client(): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port: edge.port, host: '127.0.0.1', allowHalfOpen: true });
    clients.push(socket);
    let text = '';
    let received = 0;
    socket.on('data', (d: Buffer) => {
      received += d.length;
      if (text.length < 4096) text += d.toString('latin1', 0, Math.min(d.length, 4096));
    });
    socket.on('error', () => {});
    const ended = new Promise<void>((res) => {
      socket.once('end', res);
      socket.once('close', res);
    });
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, text: () => text, received: () => received, ended }));
  });
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: www.test\r\n${extra}\r\n`;

describe('client connections that node:http cannot read', () => {
  it('answers malformed bytes with 400 and closes the connection itself', async () => {
    const cs = await Promise.all(Array.from({ length: 40 }, () => client()));
    for (const c of cs) c.socket.write('NOT HTTP AT ALL\r\n\r\n');
    await Promise.all(cs.map((c) => c.ended));
    for (const c of cs) expect(c.text()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    // The clients have not closed their side: the server has let go of its own, at once (not
    // later, when node's headers timeout finds the connection stuck).
    await waitFor(
      async () => (await edge.connections()) === 0,
      HEADERS_MS / 2,
      'the server closing the rejected connections',
    );
  });

  it('answers a head that stalls past the headers timeout with 408 and closes the connection', async () => {
    const cs = await Promise.all(Array.from({ length: 20 }, () => client()));
    const sent = Date.now();
    for (const c of cs) c.socket.write('GET /large HTTP/1.1\r\nHost: www.test\r\n');
    await Promise.all(cs.map((c) => c.ended));
    expect(Date.now() - sent).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    for (const c of cs) expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    await waitFor(async () => (await edge.connections()) === 0, 3000, 'the server closing the timed-out connections');
  });
});

describe('clients that take nothing of their answer', () => {
  // The front answers a plain request; a Cache-Control field sends the same hit through node:http.
  for (const [path, extra] of [
    ['the raw front', ''],
    ['node:http', 'Cache-Control: max-age=100\r\n'],
  ] as const) {
    it(`are closed after the send-stall timeout (${path}), and a slow reader is not`, async () => {
      const hitsBefore = core.metrics.count('hit');
      const stalled = await Promise.all(Array.from({ length: 6 }, () => client()));
      for (const c of stalled) {
        c.socket.pause();
        c.socket.write(get('/large', extra));
      }
      const slow = await client();
      slow.socket.write(get('/large', extra));
      // The slow reader takes a little, then nothing for less than the timeout, and again.
      let reading = true;
      void (async () => {
        while (reading && !slow.socket.destroyed) {
          slow.socket.pause();
          await new Promise((r) => setTimeout(r, STALL_MS / 3));
          slow.socket.resume();
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const sent = Date.now();
      await waitFor(() => core.metrics.count('hit') - hitsBefore === 7, 5000, 'seven hits answered');
      await waitFor(async () => (await edge.connections()) === 1, 10_000, 'the six stalled connections closed');
      expect(Date.now() - sent).toBeGreaterThanOrEqual(STALL_MS - 50);
      await waitFor(() => slow.received() > LARGE_BYTES, 15_000, 'the slow reader has its whole answer');
      reading = false;
      expect(slow.socket.destroyed).toBe(false);
      expect(slow.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    });
  }
});
