// DNS over UDP: one datagram in, at most one out. A datagram from source port 0 cannot be
// answered (and is how spoofed reflection probes look), so it is dropped before decoding.
// Datagrams move in batches through native/udp_batch.c when it is built (udp-batch.ts), else
// one at a time through node:dgram; either way each one is answered by `answerDatagram` below.
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../common/log.js';
import type { HostPort } from '../../common/host-port.js';
import { UDP, type QueryHandler } from './handle-query.js';
import type { DnsMetrics } from './metrics.js';
import type { QueryLog } from './query-log.js';
import { UdpBatcher, loadUdpBatch, type DatagramAnswerer } from './udp-batch.js';

export interface Listener {
  readonly address: HostPort;
  close(): Promise<void>;
}

export interface UdpListener extends Listener {
  /** 'batch' (recvmmsg/sendmmsg) or 'dgram' (one datagram per call). */
  readonly io: 'batch' | 'dgram';
}

export interface UdpOptions {
  /** Use the native batching when it is available (`dns.udpBatching: auto`). */
  readonly batching: boolean;
  /** This process is one of several serving workers on the same addresses (batching only). */
  readonly reusePort: boolean;
}

export function listenUdp(
  at: HostPort,
  handler: QueryHandler,
  metrics: DnsMetrics,
  log: Logger,
  queryLog: QueryLog,
  opts: UdpOptions = { batching: true, reusePort: false },
): Promise<UdpListener> {
  const listener = `udp ${at.host}:${at.port}`;
  let lastErrorLog = 0;
  // Send errors (unreachable client, full buffer) are the client's problem, never fatal; log at
  // most one a second so a flood cannot flood the log too.
  const sendTrouble = (message: string): void => {
    const now = Date.now();
    if (now - lastErrorLog > 1000) {
      lastErrorLog = now;
      log.warn({ err: message, listener }, 'udp socket error');
    }
  };
  const answerDatagram: DatagramAnswerer = (msg, port, address) => {
    if (port === 0) {
      metrics.drop('spoofed_port');
      return null;
    }
    const start = performance.now();
    const response = handler.handle(msg, UDP, address);
    metrics.latency.observe(0, (performance.now() - start) / 1000);
    if (queryLog.sample()) queryLog.write('udp', `${address}:${port}`, msg, response);
    return response;
  };
  // A scoped IPv6 address (fe80::1%eth0) needs an interface index the addon does not resolve.
  const addon = opts.batching && !at.host.includes('%') ? loadUdpBatch() : null;
  if (addon) {
    let batcher: UdpBatcher;
    try {
      batcher = UdpBatcher.bind(addon, at.host, at.port, opts.reusePort, answerDatagram, () =>
        metrics.drop('oversize'),
      );
    } catch (e) {
      return Promise.reject(new Error(`cannot listen on ${listener}: ${(e as Error).message}`));
    }
    // The addon counts answers the kernel refused to send; say so the way node:dgram's errors are.
    let failed = 0;
    const watch = setInterval(() => {
      const now = batcher.stats().sendFailed;
      if (now > failed)
        sendTrouble(`${now - failed} answers could not be sent (full send buffer or unreachable client)`);
      failed = now;
    }, 1000).unref();
    return Promise.resolve({
      address: { host: at.host, port: batcher.port },
      io: 'batch',
      close: async () => {
        clearInterval(watch);
        batcher.close();
      },
    });
  }
  const v6 = isIP(at.host) === 6;
  const socket = dgram.createSocket({
    type: v6 ? 'udp6' : 'udp4',
    ipv6Only: v6,
    recvBufferSize: 4 << 20,
    sendBufferSize: 4 << 20,
  });
  socket.on('message', (msg, rinfo) => {
    const response = answerDatagram(msg, rinfo.port, rinfo.address);
    if (response) socket.send(response, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => reject(new Error(`cannot listen on ${listener}: ${err.message}`)));
    socket.bind(at.port, at.host, () => {
      socket.removeAllListeners('error');
      socket.on('error', (err) => sendTrouble(err.message));
      resolve({
        address: { host: at.host, port: socket.address().port },
        io: 'dgram',
        close: () => new Promise((done) => socket.close(() => done())),
      });
    });
  });
}
