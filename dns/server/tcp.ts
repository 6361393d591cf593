// DNS over TCP (RFC 7766): length-prefixed messages, several per connection, pipelined, and
// read however the bytes arrive. Protections: a connection cap, an idle timeout that only a
// complete query resets (a client trickling bytes is still idle), and backpressure when a
// client stops reading its answers.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../common/log.js';
import type { HostPort } from '../../common/host-port.js';
import { TCP, type QueryHandler } from './handle-query.js';
import type { DnsMetrics } from './metrics.js';
import type { QueryLog } from './query-log.js';
import type { Listener } from './udp.js';

export interface TcpLimits {
  idleTimeout: number;
  maxConnections: number;
}

/** Stop reading from a client that has this much unread response data queued. */
const MAX_QUEUED_BYTES = 256 * 1024;

export interface TcpListener extends Listener {
  setLimits(limits: TcpLimits): void;
}

export function listenTcp(
  at: HostPort,
  handler: QueryHandler,
  metrics: DnsMetrics,
  log: Logger,
  queryLog: QueryLog,
  initial: TcpLimits,
): Promise<TcpListener> {
  let limits = initial;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => serve(socket));
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => metrics.tcpRefusedOne());

  function serve(socket: net.Socket): void {
    sockets.add(socket);
    metrics.tcpOpened();
    const clientIp = socket.remoteAddress ?? '';
    const client = `${clientIp}:${socket.remotePort}`;
    let pending: Buffer = Buffer.alloc(0);
    let idle = setTimeout(() => socket.destroy(), limits.idleTimeout);
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => socket.destroy(), limits.idleTimeout);
    };

    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let off = 0;
      while (pending.length - off >= 2) {
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
          socket.write(framed);
        }
        metrics.latency.observe(0, (performance.now() - start) / 1000);
        if (queryLog.sample()) queryLog.write('tcp', client, msg, response);
      }
      pending = off === 0 ? pending : pending.subarray(off);
      if (socket.writableLength > MAX_QUEUED_BYTES) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(idle);
      sockets.delete(socket);
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
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}
