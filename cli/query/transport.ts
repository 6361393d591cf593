// One DNS exchange with a timeout and a retry: UDP first, TCP when the UDP reply is truncated
// (or when asked). A reply counts only if it carries our query id and comes from the server we
// asked (the UDP socket is connected), so a stray datagram cannot pass for the answer.
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { formatHostPort, type HostPort } from '../../common/host-port.js';
import { isTruncated, queryId } from './message.js';

export interface ExchangeOptions {
  readonly tcp: boolean;
  /** Per attempt. */
  readonly timeoutMs: number;
  readonly tries: number;
}

export interface Exchange {
  readonly reply: Buffer;
  readonly transport: 'udp' | 'tcp';
  /** The UDP reply had TC set, so the answer shown came over TCP. */
  readonly retriedOverTcp: boolean;
  /** Of the attempt that got the reply. */
  readonly rttMs: number;
  /** The address actually asked (a host name resolved). */
  readonly server: HostPort;
}

export class NoReply extends Error {}

export async function exchange(server: HostPort, query: Buffer, opts: ExchangeOptions): Promise<Exchange> {
  const target = await resolve(server);
  if (!opts.tcp) {
    const udp = await attempt('UDP', target, opts, () => udpOnce(target, query, opts.timeoutMs));
    if (!isTruncated(udp.reply)) return { ...udp, transport: 'udp', retriedOverTcp: false, server: target };
  }
  const tcp = await attempt('TCP', target, opts, () => tcpOnce(target, query, opts.timeoutMs));
  return { ...tcp, transport: 'tcp', retriedOverTcp: !opts.tcp, server: target };
}

async function resolve(server: HostPort): Promise<HostPort> {
  if (net.isIP(server.host) !== 0) return server;
  try {
    const { address } = await lookup(server.host);
    return { host: address, port: server.port };
  } catch (e) {
    throw new NoReply(`cannot resolve server name '${server.host}': ${(e as Error).message}`);
  }
}

/** Runs `once` up to `tries` times while it times out; a refusal is final (nothing listens). */
async function attempt(
  label: string,
  server: HostPort,
  opts: ExchangeOptions,
  once: () => Promise<Buffer | null>,
): Promise<{ reply: Buffer; rttMs: number }> {
  for (let i = 0; i < opts.tries; i++) {
    const started = performance.now();
    let reply: Buffer | null;
    try {
      reply = await once();
    } catch (e) {
      const why =
        (e as NodeJS.ErrnoException).code === 'ECONNREFUSED'
          ? `refused (nothing listens on ${label} port ${server.port})`
          : (e as Error).message;
      throw new NoReply(`no reply from ${formatHostPort(server)} over ${label}: ${why}`);
    }
    if (reply) return { reply, rttMs: performance.now() - started };
  }
  const tries = opts.tries === 1 ? '1 try' : `${opts.tries} tries`;
  throw new NoReply(
    `no reply from ${formatHostPort(server)} over ${label} (${tries}, ${opts.timeoutMs / 1000} s each)`,
  );
}

/** One datagram out, the matching reply back; null on timeout. */
function udpOnce(server: HostPort, query: Buffer, timeoutMs: number): Promise<Buffer | null> {
  const id = queryId(query);
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    let finished = false;
    const done = (fn: () => void): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.close();
      fn();
    };
    const timer = setTimeout(() => done(() => resolve(null)), timeoutMs);
    socket.on('message', (msg) => {
      if (msg.length >= 12 && queryId(msg) === id) done(() => resolve(msg));
    });
    // On a connected socket an ICMP port-unreachable arrives as ECONNREFUSED: fail at once.
    socket.on('error', (err) => done(() => reject(err)));
    socket.connect(server.port, server.host, () => socket.send(query));
  });
}

/** One length-prefixed query over a fresh connection (RFC 1035 §4.2.2); null on timeout. */
function tcpOnce(server: HostPort, query: Buffer, timeoutMs: number): Promise<Buffer | null> {
  const id = queryId(query);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port, noDelay: true });
    let pending = Buffer.alloc(0);
    let finished = false;
    const done = (fn: () => void): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(() => done(() => resolve(null)), timeoutMs);
    socket.on('connect', () => {
      const framed = Buffer.allocUnsafe(query.length + 2);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      socket.write(framed);
    });
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + msg.length);
        if (msg.length >= 12 && queryId(msg) === id) return done(() => resolve(msg));
      }
    });
    socket.on('error', (err) => done(() => reject(err)));
    socket.on('end', () => done(() => reject(new Error('the server closed the connection without a reply'))));
  });
}
