// DNS over TCP (RFC 7766): length-prefixed messages, several per connection, pipelined, and
// read however the bytes arrive. Protections against abuse (RFC 7766 §10): a connection cap in
// total and per client network, an idle timeout that only a complete query resets (a client
// trickling bytes is still idle), a shorter read timeout for a connection left holding part of
// a message (slowloris), and a bound on answers queued for a client that does not read them.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../common/log.js';
import type { HostPort } from '../../common/host-port.js';
import { clientNetwork } from './client-network.js';
import { TCP, type QueryHandler } from './handle-query.js';
import type { DnsMetrics } from './metrics.js';
import type { QueryLog } from './query-log.js';
import { NetworkLogThrottle } from './network-log-throttle.js';
import type { Listener } from './udp.js';

export interface TcpLimits {
  idleTimeout: number;
  maxConnections: number;
  /** Open connections from one client network (/24, /56); the next is closed at once. */
  maxConnectionsPerNetwork: number;
  /** How long part of a length prefix or message may wait for the rest. */
  readTimeout: number;
  /** Answers queued for a connection and not yet handed to the kernel; then reading stops. */
  maxInFlight: number;
}

/** Stop reading from a client that has this much unsent response data queued, whatever the count. */
const MAX_QUEUED_BYTES = 256 * 1024;

/** What is held for clients right now: for tests and for anyone asking why memory grew. */
export interface TcpBacklog {
  readonly connections: number;
  /** Answer bytes written but not yet taken by the kernel, over all connections. */
  readonly queuedBytes: number;
  /** Answers written but not yet taken by the kernel, over all connections. */
  readonly inFlight: number;
}

export interface TcpListener extends Listener {
  setLimits(limits: TcpLimits): void;
  backlog(): TcpBacklog;
}

export function listenTcp(
  at: HostPort,
  handler: Pick<QueryHandler, 'handle'>,
  metrics: DnsMetrics,
  log: Logger,
  queryLog: QueryLog,
  initial: TcpLimits,
): Promise<TcpListener> {
  let limits = initial;
  const sockets = new Set<net.Socket>();
  const perNetwork = new Map<string, number>();
  let inFlightTotal = 0;
  // One warning per network refused (at most a minute apart; 20 a minute in all).
  const refusals = new NetworkLogThrottle();
  const server = net.createServer({ noDelay: true }, (socket) => serve(socket));
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => metrics.tcpRefusedOne());

  function serve(socket: net.Socket): void {
    const clientIp = socket.remoteAddress ?? '';
    const network = clientNetwork(clientIp);
    const fromNetwork = perNetwork.get(network) ?? 0;
    if (fromNetwork >= limits.maxConnectionsPerNetwork) {
      // One network holding many connections starves everyone else of the total cap.
      metrics.tcpRefusedForNetwork();
      socket.destroy();
      const line = refusals.take(Date.now(), () => network);
      if (line)
        log.warn(
          {
            network: line.network,
            open: fromNetwork,
            ...(line.leftOut > 0 ? { linesLeftOut: line.leftOut } : {}),
          },
          'refusing DNS-over-TCP connections from a client network at its cap (dns.tcp.maxConnectionsPerNetwork)',
        );
      return;
    }
    perNetwork.set(network, fromNetwork + 1);
    sockets.add(socket);
    metrics.tcpOpened();
    const client = `${clientIp}:${socket.remotePort}`;
    let pending: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    /** Reading stopped until queued answers drain. */
    let blocked = false;
    let closed = false;
    let idle = setTimeout(() => socket.destroy(), limits.idleTimeout);
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => socket.destroy(), limits.idleTimeout);
    };
    let partial: NodeJS.Timeout | undefined;
    const watchPartial = () => {
      clearTimeout(partial);
      partial = undefined;
      // Bytes held because we stopped reading are our doing, not the client's.
      if (pending.length === 0 || blocked) return;
      partial = setTimeout(() => {
        metrics.tcpReadTimedOut();
        socket.destroy();
      }, limits.readTimeout);
    };

    const written = () => {
      if (closed) return; // already let go of when it closed
      inFlight--;
      inFlightTotal--;
      if (!blocked || socket.destroyed || !roomToAnswer()) return;
      blocked = false;
      answerPending();
      if (!blocked) socket.resume();
    };
    const roomToAnswer = () => inFlight < limits.maxInFlight && socket.writableLength <= MAX_QUEUED_BYTES;

    /** Answers the complete messages in `pending`, as many as the client's queue has room for. */
    function answerPending(): void {
      let off = 0;
      while (pending.length - off >= 2) {
        if (!roomToAnswer()) {
          // A client that sends without reading waits here; the kernel's buffers hold the rest.
          blocked = true;
          socket.pause();
          break;
        }
        const len = pending.readUInt16BE(off);
        if (len === 0) {
          // Not a DNS message at all: nothing sensible to answer on this stream.
          metrics.drop('malformed');
          socket.destroy();
          return;
        }
        if (pending.length - off - 2 < len) break;
        const msg = pending.subarray(off + 2, off + 2 + len);
        off += 2 + len;
        touch();
        const start = performance.now();
        const response = handler.handle(msg, TCP, clientIp);
        if (response) {
          const framed = Buffer.allocUnsafe(response.length + 2);
          framed.writeUInt16BE(response.length, 0);
          response.copy(framed, 2);
          inFlight++;
          inFlightTotal++;
          socket.write(framed, written);
        }
        metrics.latency.observe(0, (performance.now() - start) / 1000);
        if (queryLog.sample()) queryLog.write('tcp', client, msg, response);
      }
      pending = off === 0 ? pending : pending.subarray(off);
      watchPartial();
    }

    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (!blocked) answerPending();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(idle);
      clearTimeout(partial);
      closed = true;
      inFlightTotal -= inFlight;
      sockets.delete(socket);
      const left = (perNetwork.get(network) ?? 1) - 1;
      if (left > 0) perNetwork.set(network, left);
      else perNetwork.delete(network);
      metrics.tcpClosed();
    });
  }

  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on tcp ${at.host}:${at.port}: ${err.message}`)));
    server.listen({ port: at.port, host: at.host, ipv6Only: net.isIP(at.host) === 6 }, () => {
      server.removeAllListeners('error');
      server.on('error', (err) =>
        log.warn({ err: err.message, listener: `tcp ${at.host}:${at.port}` }, 'tcp server error'),
      );
      const bound = server.address() as net.AddressInfo;
      resolve({
        address: { host: at.host, port: bound.port },
        setLimits(next) {
          limits = next;
          server.maxConnections = next.maxConnections;
        },
        backlog() {
          let queuedBytes = 0;
          for (const s of sockets) queuedBytes += s.writableLength;
          return { connections: sockets.size, queuedBytes, inFlight: inFlightTotal };
        },
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}
