// Batched accept (native/tcp_accept.c) on real loopback sockets: a burst of connections queued
// while the event loop is busy is taken in one turn, not one per turn as libuv takes them; the
// sockets it hands over are served like node's own; closing the server closes the port.
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { reply, startOrigin } from '../test/helpers/test-origin.js';
import { startTestEdge } from '../test/helpers/test-edge.js';
import { batchedAcceptUnavailable, startBatchedAccept, type BatchedAccept } from './batched-accept.js';

const unavailable = batchedAcceptUnavailable();
// Built by npm install where python3, make and g++ are present; CI requires it (.ci/run sets
// MERIDIAN_REQUIRE_NATIVE), so a build that silently failed there is a failure, not a skip.
if (unavailable && process.env.MERIDIAN_REQUIRE_NATIVE === '1')
  throw new Error(`the batched accept addon is required here but ${unavailable}`);

const BURST = 100;
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

async function listen(): Promise<{ server: Server; port: number; accepted: () => number }> {
  const server = createServer((req, res) => res.end(`hello ${req.url}`));
  let accepted = 0;
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));
  cleanup.push(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  return { server, port, accepted: () => accepted };
}

/** Opens `n` connections and waits until the kernel completed every handshake (queued, maybe not accepted). */
async function connectAll(port: number, n: number): Promise<Socket[]> {
  const sockets = Array.from({ length: n }, () => connect(port, '127.0.0.1'));
  cleanup.push(() => sockets.forEach((s) => s.destroy()));
  await Promise.all(sockets.map((s) => new Promise((resolve) => s.once('connect', resolve))));
  return sockets;
}

/** New connections the server saw in the event-loop turn after one that held the loop while `n` clients connected. */
async function acceptedInOneTurn(server: { accepted: () => number }, port: number, n: number): Promise<number> {
  const sockets = Array.from({ length: n }, () => connect(port, '127.0.0.1'));
  cleanup.push(() => sockets.forEach((s) => s.destroy()));
  // Hold the loop: the handshakes complete in the kernel and queue for accept meanwhile.
  const until = Date.now() + 300;
  while (Date.now() < until);
  const before = server.accepted();
  // setImmediate runs after the next poll phase: what that one turn accepted.
  await new Promise((resolve) => setImmediate(resolve));
  return server.accepted() - before;
}

describe.skipIf(unavailable !== undefined)('batched accept', () => {
  function start(server: Server): BatchedAccept {
    const batched = startBatchedAccept(server, () => {});
    if (!batched) throw new Error('batched accept did not start on a listening server');
    cleanup.push(() => batched.close());
    return batched;
  }

  it('takes a burst queued during a busy turn in one turn, where node alone takes one', async () => {
    const plain = await listen();
    const alone = await acceptedInOneTurn(plain, plain.port, BURST);
    const fast = await listen();
    start(fast.server);
    const batched = await acceptedInOneTurn(fast, fast.port, BURST);
    // libuv: one (two when a wake-up was already pending); batched: the whole queue.
    expect(alone).toBeLessThanOrEqual(2);
    expect(batched).toBe(BURST);
  });

  it('hands over sockets node:http serves, counts them until they close', async () => {
    const { server, port } = await listen();
    const batched = start(server);
    const sockets = await connectAll(port, 20);
    const answers = await Promise.all(
      sockets.map(
        (s, i) =>
          new Promise<string>((resolve) => {
            let text = '';
            s.on('data', (d: Buffer) => {
              text += d.toString('latin1');
              if (text.endsWith(`hello /${i}`)) resolve(text);
            });
            s.write(`GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
          }),
      ),
    );
    answers.forEach((a, i) => expect(a).toMatch(new RegExp(`^HTTP/1.1 200 OK\r\n[^]*\r\n\r\nhello /${i}$`)));
    // Most (often all) came through the batch; node's own watcher may have taken a few.
    expect(batched.open).toBeGreaterThan(0);
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(batched.open).toBe(0);
  });

  it('is on in the edge, which says so at start-up and frees its port when it closes', async () => {
    const origin = await startOrigin();
    cleanup.push(() => void origin.stop());
    origin.route('/a', reply(200, { 'cache-control': 'max-age=60' }, 'aaa'));
    const edge = await startTestEdge({ origin: origin.url });
    const started = edge.lines.find((l) => l.msg === 'meridian edge serving');
    expect(started?.accept).toBe('batched');
    expect((await edge.get('/a')).text).toBe('aaa');
    const port = Number(new URL(edge.url).port);
    await edge.close();
    // Our duplicate of the listening descriptor would keep the port open if it outlived the server.
    const refused = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('does not start on a server that is not listening', () => {
    expect(startBatchedAccept(createServer(), () => {})).toBeUndefined();
  });
});
