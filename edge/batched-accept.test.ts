// Batched accept (native/tcp_accept.c) on real loopback sockets: a burst of connections queued
// while the event loop is busy is taken in one turn, not one per turn as libuv takes them; the
// sockets it hands over are served like node's own; closing the server closes the port.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../test/helpers/repo-paths.js';
import { reply, startOrigin } from '../test/helpers/test-origin.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { startTestEdge } from '../test/helpers/test-edge.js';
import { batchedAcceptUnavailable, startBatchedAccept, type BatchedAccept } from './batched-accept.js';

const unavailable = batchedAcceptUnavailable();
// Built by npm install where python3, make and g++ are present; CI requires it (.ci/run sets
// MERIDIAN_REQUIRE_NATIVE), so a build that silently failed there is a failure, not a skip.
if (unavailable && process.env.MERIDIAN_REQUIRE_NATIVE === '1')
  throw new Error(`the batched accept addon is required here but ${unavailable}`);

const BURST = 100;
/** The built module (pretest builds dist/), for a child process with fewer descriptors. */
const BUILT = join(REPO_ROOT, 'dist', 'edge', 'batched-accept.js');
const EMFILE_CHILD = `
import { createServer } from 'node:http';
const { startBatchedAccept } = await import(process.argv[1]);
let accepted = 0;
const server = createServer((req, res) => res.end('ok'));
server.on('connection', () => accepted++);
server.on('error', () => {});
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  startBatchedAccept(server, (errno) => process.stdout.write('accept-error ' + errno + '\\n'));
  process.stdout.write('port ' + server.address().port + '\\n');
});
// SIGUSR2: hold the loop while the test connects, then say how many the next turn accepted.
process.on('SIGUSR2', () => {
  const until = Date.now() + 1500;
  while (Date.now() < until);
  // A signal handler runs in the poll phase: the first immediate is still this turn, the second
  // comes after the next poll, the one that finds the burst queued.
  setImmediate(() => {
    const before = accepted;
    setImmediate(() => process.stdout.write('burst ' + (accepted - before) + '\\n'));
  });
});`;

/** utime + stime of a process, in ms. */
async function childCpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks (USER_HZ 100)
}

function httpStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path: '/' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', () => resolve(0));
  });
}
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

  it('out of file descriptors: pauses instead of spinning, says so once, and accepts again when they free', async () => {
    // A server process allowed 64 descriptors, and 120 clients connecting at once.
    const child = spawn(
      'bash',
      ['-c', `ulimit -n 64 && exec "${process.execPath}" --input-type=module -e "$0" "$1"`, EMFILE_CHILD, BUILT],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanup.push(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /port \d+/.test(out), 10_000, 'the limited server listening');
    const port = Number(/port (\d+)/.exec(out)![1]);
    const flood = Array.from({ length: 120 }, () => connect(port, '127.0.0.1').on('error', () => {}));
    cleanup.push(() => flood.forEach((s) => s.destroy()));
    await waitFor(() => out.includes('accept-error 24'), 5000, 'EMFILE reported');
    // Paused, not polling a queue it cannot take: the process stays nearly idle.
    const cpuBefore = await childCpuMs(child.pid!);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await childCpuMs(child.pid!)) - cpuBefore).toBeLessThan(300);
    flood.forEach((s) => s.destroy());
    await waitFor(async () => (await httpStatus(port)) === 200, 5000, 'a request answered once descriptors are free');
    expect(child.exitCode).toBeNull();
    // Batched accept resumed (node alone would take one connection in that turn).
    child.kill('SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const burst = Array.from({ length: 20 }, () => connect(port, '127.0.0.1').on('error', () => {}));
    cleanup.push(() => burst.forEach((s) => s.destroy()));
    await waitFor(() => /burst \d+/.test(out), 5000, 'the child reporting its burst');
    expect(Number(/burst (\d+)/.exec(out)![1])).toBe(20);
  });

  it('does not start on a server that is not listening', () => {
    expect(startBatchedAccept(createServer(), () => {})).toBeUndefined();
  });
});
