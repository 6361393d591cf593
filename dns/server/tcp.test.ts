// The TCP listener under abuse (RFC 7766 §10), with a stand-in query handler so the tests count
// exactly what the server took in and holds: connections per client network, a slowloris left
// holding part of a message, and a client that pipelines queries without reading the answers.
import net from 'node:net';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { capturedLog } from '../../test/helpers/captured-log.js';
import { encodeQuery, frame, TcpClient } from '../../test/helpers/dns-client.js';
import { sleep, waitFor } from '../../test/helpers/wait-for.js';
import { DnsMetrics } from './metrics.js';
import { QueryLog } from './query-log.js';
import { listenTcp, type TcpLimits, type TcpListener } from './tcp.js';

const LIMITS: TcpLimits = {
  idleTimeout: 10_000,
  maxConnections: 100,
  maxConnectionsPerNetwork: 100,
  readTimeout: 5000,
  maxInFlight: 64,
};

const silent = pino({ level: 'silent' });
let listener: TcpListener | undefined;
const clients: TcpClient[] = [];
const raw: net.Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of raw.splice(0)) s.destroy();
  await listener?.close();
  listener = undefined;
});

/** A listener on 127.0.0.1 whose "answer" to any query is `answerBytes` bytes; counts the queries it took. */
async function start(limits: Partial<TcpLimits>, answerBytes = 100, log: Logger = silent) {
  const metrics = new DnsMetrics(new Registry());
  const answer = Buffer.alloc(answerBytes, 0xab);
  const taken = { queries: 0 };
  const handler = {
    handle: () => {
      taken.queries++;
      return answer;
    },
  };
  listener = await listenTcp({ host: '127.0.0.1', port: 0 }, handler, metrics, log, new QueryLog(silent, 0), {
    ...LIMITS,
    ...limits,
  });
  return { server: listener, at: listener.address, metrics, taken };
}

function client(at: { host: string; port: number }, localAddress: string): TcpClient {
  const c = new TcpClient(at, { localAddress });
  clients.push(c);
  return c;
}

const QUERY = frame(encodeQuery(1, 'www.example.test', 'A'));

describe('connections per client network', () => {
  it('closes connections from a network over dns.tcp.maxConnectionsPerNetwork at once; other networks are served', async () => {
    const { server, at, metrics } = await start({ maxConnectionsPerNetwork: 3 });
    // Three slow connections from 127.0.0.0/24, on different addresses of it: all held open.
    const slow = ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((a) => client(at, a));
    await Promise.all(slow.map((c) => c.connected));
    await waitFor(() => server.backlog().connections === 3, 2000, 'three connections accepted');

    // More from the same /24 are closed without an answer, and counted.
    const over = ['127.0.0.5', '127.0.0.2'].map((a) => client(at, a));
    for (const c of over) {
      await c.connected.catch(() => undefined);
      c.socket.write(QUERY, () => undefined);
    }
    await Promise.all(over.map((c) => c.closedPromise));
    for (const c of over) expect(c.messages).toEqual([]);
    expect(metrics.snapshot().tcpRefusedNetwork).toBe(2);

    // A client from 127.0.1.0/24 is served all the same.
    const other = client(at, '127.0.1.2');
    await other.connected;
    await other.write(QUERY);
    await other.waitFor(1);
    expect(slow.every((c) => !c.closed)).toBe(true);

    // When one of the three goes, its network may open another.
    slow[0]!.destroy();
    await waitFor(() => server.backlog().connections === 3, 2000, 'the closed connection let go of');
    const again = client(at, '127.0.0.6');
    await again.connected;
    await again.write(QUERY);
    await again.waitFor(1);
    expect(metrics.snapshot().tcpRefusedNetwork).toBe(2);
  });

  it('says so in one warning per network, not one per refused connection', async () => {
    const { log, lines } = capturedLog();
    const { server, at } = await start({ maxConnectionsPerNetwork: 1 }, 100, log);
    const held = client(at, '127.0.0.2');
    await held.connected;
    await waitFor(() => server.backlog().connections === 1, 2000, 'one connection accepted');
    const held2 = client(at, '127.0.1.2');
    await held2.connected;
    await waitFor(() => server.backlog().connections === 2, 2000, 'one connection from the other network');
    // Five refused from 127.0.0.0/24, two from 127.0.1.0/24.
    const over = ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.1.3', '127.0.1.4'].map((a) =>
      client(at, a),
    );
    await Promise.all(over.map((c) => c.closedPromise));
    const warnings = lines.filter((l) => String(l.msg).startsWith('refusing DNS-over-TCP connections'));
    expect(warnings.map((l) => l.network).sort()).toEqual(['127.0.0.0/24', '127.0.1.0/24']);
    expect(warnings[0]).toMatchObject({ level: 40, open: 1 }); // pino's warn
  });
});

describe('slowloris', () => {
  it('closes a connection holding one byte of a length prefix after dns.tcp.readTimeout', async () => {
    const { metrics } = await start({ readTimeout: 200 });
    const at = listener!.address;
    const slow = client(at, '127.0.0.2');
    await slow.connected;
    const sent = performance.now();
    await slow.write(QUERY.subarray(0, 1));
    await Promise.race([slow.closedPromise, sleep(3000)]);
    expect(slow.closed).toBe(true);
    expect(slow.closedAt - sent).toBeGreaterThan(150);
    // Well before the idle timeout (10 s) would have closed it.
    expect(slow.closedAt - sent).toBeLessThan(2000);
    expect(metrics.snapshot().tcpReadTimeouts).toBe(1);
  });

  it('closes a connection holding part of a message; a connection between whole queries stays open', async () => {
    const { metrics } = await start({ readTimeout: 200 });
    const at = listener!.address;
    const half = client(at, '127.0.0.2');
    const between = client(at, '127.0.0.3');
    await Promise.all([half.connected, between.connected]);
    await half.write(QUERY.subarray(0, 7));
    await between.write(QUERY);
    await between.waitFor(1);
    await Promise.race([half.closedPromise, sleep(3000)]);
    expect(half.closed).toBe(true);
    expect(half.messages).toEqual([]);
    // Nothing partial held: only the idle timeout applies, so it is still usable.
    await sleep(300);
    expect(between.closed).toBe(false);
    await between.write(QUERY);
    await between.waitFor(2);
    expect(metrics.snapshot().tcpReadTimeouts).toBe(1);
  });
});

describe('pipelining without reading', () => {
  it('holds at most dns.tcp.maxInFlight answers for a client that does not read, and answers all once it does', async () => {
    const ANSWER = 16_000;
    const COUNT = 4000; // 64 MB of answers: more than the kernel's socket buffers take
    const { server, at, taken } = await start({ maxInFlight: 8 }, ANSWER);
    const socket = net.connect({ host: at.host, port: at.port, localAddress: '127.0.0.2' });
    raw.push(socket);
    socket.pause(); // never reads until told
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(Buffer.concat(Array.from({ length: COUNT }, () => QUERY)));

    // Wait until the server has stopped taking queries in.
    let last = -1;
    while (taken.queries !== last) {
      last = taken.queries;
      await sleep(300);
    }
    expect(taken.queries).toBeGreaterThan(0);
    expect(taken.queries).toBeLessThan(COUNT);
    const held = server.backlog();
    expect(held.inFlight).toBeLessThanOrEqual(8);
    expect(held.queuedBytes).toBeLessThanOrEqual(8 * (ANSWER + 2));

    // Reading again drains everything, in order and complete.
    let received = 0;
    let buffered = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.length;
      received = Math.floor(buffered / (ANSWER + 2));
    });
    socket.resume();
    await waitFor(() => received === COUNT, 20_000, `all ${COUNT} answers`);
    expect(taken.queries).toBe(COUNT);
    expect(server.backlog()).toEqual({ connections: 1, queuedBytes: 0, inFlight: 0 });
  });
});
