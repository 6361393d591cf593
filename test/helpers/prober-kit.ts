// Local stand-ins for the tests: HTTP "edges" on 127.0.0.1 that can be stopped and started on
// the same port, a port nothing listens on, UDP "resolvers" that answer late, and probe
// settings with test-sized timings.
import { createSocket as createDgramSocket } from 'node:dgram';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Check, ProbeSettings } from '../../common/health-contract.js';
import { createLogger, type Logger } from '../../common/log.js';
import type { ProbeTarget } from '../../prober/checks/types.js';

export interface LocalHttp {
  readonly port: number;
  readonly url: string;
  /** Stops listening and drops open connections, like a killed edge. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

export async function localHttp(handler: RequestListener, port = 0): Promise<LocalHttp> {
  let server: Server | undefined;
  let bound = port;
  const start = async (): Promise<void> => {
    const s = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen({ host: '127.0.0.1', port: bound }, resolve);
    });
    bound = (s.address() as AddressInfo).port;
    server = s;
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  };
  await start();
  return {
    get port() {
      return bound;
    },
    get url() {
      return `http://127.0.0.1:${bound}`;
    },
    start,
    stop,
  };
}

/** A loopback port that was free a moment ago (nothing listens on it now). */
export async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((resolve) => s.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export function target(edge: string, pop = 'test'): ProbeTarget {
  return { pop, edge: new URL(edge) };
}

export function settings<C extends Check>(check: C, timings: Partial<Omit<ProbeSettings, 'check'>> = {}): Omit<ProbeSettings, 'check'> & { check: C } {
  return { interval: 1000, fastInterval: 250, timeout: 300, rise: 2, fall: 3, ...timings, check };
}

export { prng as seededRandom } from './prng.js';

/** A logger whose JSON lines the test can read back. */
export function capturedLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ service: 'test', level: 'debug', destination }), lines };
}

/** Polls `predicate` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface LocalResolver {
  readonly host: string;
  readonly port: number;
  /** When each query arrived (performance.now() ms). */
  readonly queries: number[];
  stop(): Promise<void>;
}

/**
 * A stand-in for a resolver: a UDP DNS responder on `host` that answers every query REFUSED
 * (as a resolver does to strangers) after `delayMs`, or never when `silent`.
 */
export async function localResolver(opts: { host?: string; port?: number; delayMs?: number; silent?: boolean } = {}): Promise<LocalResolver> {
  const host = opts.host ?? '127.0.0.1';
  const queries: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const socket = createDgramSocket('udp4');
  socket.on('message', (msg, from) => {
    queries.push(performance.now());
    if (opts.silent || msg.length < 12) return;
    // Echo the header with QR set and rcode REFUSED (5); the question is not needed.
    const reply = Buffer.from(msg.subarray(0, 12));
    reply[2] = reply[2]! | 0x80;
    reply[3] = (reply[3]! & 0xf0) | 5;
    reply.writeUInt16BE(0, 4);
    const timer = setTimeout(() => {
      timers.delete(timer);
      socket.send(reply, from.port, from.address);
    }, opts.delayMs ?? 0);
    timers.add(timer);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port ?? 0, host, () => resolve());
  });
  return {
    host,
    port: socket.address().port,
    queries,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
