// The resource-exhaustion attacks of issue 12 against a real edge (startTestEdge, one process,
// in front of a test origin), at a small, bounded scale: what the edge holds for clients that
// pipeline and never read, that send garbage or a head that never ends, and that take nothing
// of a large answer. Assertions are on counts (answers written, file descriptors held), never on
// speed; every wait is bounded and every socket is destroyed afterwards.
import { existsSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { reply, startOrigin, type TestOrigin } from '../helpers/test-origin.js';
import { request } from '../helpers/http-client.js';
import { startTestEdge, type TestEdge } from '../helpers/test-edge.js';
import { waitFor } from '../helpers/wait-for.js';

const HEADERS_MS = 2000;
const STALL_MS = 1500;
const MID_BYTES = 65_000;
const LARGE_BYTES = 16 * 1024 * 1024;

let origin: TestOrigin;
let edge: TestEdge;
let port: number;
const clients: Socket[] = [];

/** Open file descriptors of this process (the edge runs in it): what an attacker exhausts. */
const fds = (): number => readdirSync('/proc/self/fd').length;

beforeAll(async () => {
  origin = await startOrigin();
  origin.route('/mid', reply(200, { 'cache-control': 'public, max-age=600' }, 'm'.repeat(MID_BYTES)));
  origin.route('/large', reply(200, { 'cache-control': 'public, max-age=600' }, 'x'.repeat(LARGE_BYTES)));
  edge = await startTestEdge({
    origin: origin.url,
    edge: `  maxObjectBytes: 32MiB\n  clientTimeouts: { headers: ${HEADERS_MS}ms, sendStall: ${STALL_MS}ms }`,
  });
  port = Number(new URL(edge.url).port);
  for (const path of ['/mid', '/large']) expect((await edge.get(path)).status).toBe(200);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

afterAll(async () => {
  await edge.close();
  await origin.stop();
});

interface Client {
  readonly socket: Socket;
  text(): string;
  /** The server ended its side (FIN) or the connection closed. */
  readonly ended: Promise<void>;
}

/** An attacker's connection: never closes its own side (half-open allowed). */
function client(): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    clients.push(socket);
    let text = '';
    socket.on('data', (d: Buffer) => {
      if (text.length < 1024) text += d.toString('latin1', 0, Math.min(d.length, 1024));
    });
    const ended = new Promise<void>((res) => {
      socket.once('end', res);
      socket.once('close', res);
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => {});
      resolve({ socket, text: () => text, ended });
    });
  });
}

const clientsOf = (n: number): Promise<Client[]> => Promise.all(Array.from({ length: n }, () => client()));
const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: www.test\r\n${extra}\r\n`;

async function hits(): Promise<number> {
  const r = await request(`${edge.controlUrl}/metrics`);
  const m = /^meridian_edge_requests_total\{cache="hit"[^}]*\} (\d+)$/m.exec(r.text);
  return m ? Number(m[1]) : 0;
}

/** Waits until `value()` has stopped changing (the same over three polls 100 ms apart). */
async function settled(value: () => Promise<number>): Promise<number> {
  let last = await value();
  for (let same = 0, i = 0; same < 3 && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const v = await value();
    same = v === last ? same + 1 : 0;
    last = v;
  }
  return last;
}

describe.skipIf(!existsSync('/proc/self/fd'))('edge resource exhaustion (issue 12)', () => {
  it('answers pipelining clients that never read only as far as their sockets take, not every request read', async () => {
    const n = 8;
    const perClient = 300;
    const before = await hits();
    const cs = await clientsOf(n);
    // Answered at once, 2400 answers of 65 KB would be ~156 MB queued in the edge.
    for (const c of cs) {
      c.socket.pause();
      c.socket.write(get('/mid').repeat(perClient));
    }
    const answered = (await settled(hits)) - before;
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan((n * perClient) / 2);
  });

  it('closes connections that send garbage at once, though their clients keep them open', async () => {
    const n = 100;
    const base = fds();
    const cs = await clientsOf(n);
    for (const c of cs) c.socket.write('\x16\x03\x01 not http\r\n\r\n');
    await Promise.all(cs.map((c) => c.ended));
    for (const c of cs) expect(c.text()).toMatch(/^HTTP\/1\.1 400 /);
    // Only the clients' own descriptors are left, long before any headers timeout.
    await waitFor(
      () => fds() <= base + n + 2,
      HEADERS_MS / 2,
      `the edge's ${n} rejected connections closed (fds ${fds() - base} over base)`,
    );
  });

  it('closes connections whose head never ends after the headers timeout', async () => {
    const n = 50;
    const base = fds();
    const cs = await clientsOf(n);
    for (const c of cs) c.socket.write('GET /mid HTTP/1.1\r\nHost: www.test\r\nX-Slow: ');
    await Promise.all(cs.map((c) => c.ended));
    for (const c of cs) expect(c.text()).toMatch(/^HTTP\/1\.1 408 /);
    await waitFor(
      () => fds() <= base + n + 2,
      HEADERS_MS,
      `the edge's ${n} timed-out connections closed (fds ${fds() - base} over base)`,
    );
  });

  it('drops clients that take nothing of a large answer after the send-stall timeout, on the front and through node:http', async () => {
    const n = 8;
    // After the metrics request: its connection (both ends in this process) is in the base.
    const before = await hits();
    const base = fds();
    const cs = await clientsOf(2 * n);
    cs.forEach((c, i) => {
      c.socket.pause();
      // Half plain (the raw front answers), half with a field that sends the same hit through node:http.
      c.socket.write(get('/large', i < n ? '' : 'Cache-Control: max-age=100\r\n'));
    });
    await waitFor(async () => (await hits()) - before === 2 * n, 5000, `${2 * n} answers under way`);
    // Both ends of every connection are open now (give or take the metrics connection).
    expect(fds()).toBeGreaterThanOrEqual(base + 4 * n - 2);
    await waitFor(
      () => fds() <= base + 2 * n + 2,
      STALL_MS * 4,
      `the edge's ${2 * n} stalled connections closed (fds ${fds() - base} over base)`,
    );
  });
});
