// DNS over UDP: one datagram in, at most one out. A datagram from source port 0 cannot be
// answered (and is how spoofed reflection probes look), so it is dropped before decoding.
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../common/log.js';
import type { HostPort } from '../../common/host-port.js';
import { UDP, type QueryHandler } from './handle-query.js';
import type { DnsMetrics } from './metrics.js';
import type { QueryLog } from './query-log.js';

export interface Listener {
  readonly address: HostPort;
  close(): Promise<void>;
}

export function listenUdp(at: HostPort, handler: QueryHandler, metrics: DnsMetrics, log: Logger, queryLog: QueryLog): Promise<Listener> {
  const v6 = isIP(at.host) === 6;
  const socket = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  let lastErrorLog = 0;
  socket.on('message', (msg, rinfo) => {
    if (rinfo.port === 0) {
      metrics.drop('spoofed_port');
      return;
    }
    const start = performance.now();
    const response = handler.handle(msg, UDP, rinfo.address);
    if (response) socket.send(response, rinfo.port, rinfo.address);
    metrics.latency.observe(0, (performance.now() - start) / 1000);
    if (queryLog.sample()) queryLog.write('udp', `${rinfo.address}:${rinfo.port}`, msg, response);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', (err) => reject(new Error(`cannot listen on udp ${at.host}:${at.port}: ${err.message}`)));
    socket.bind(at.port, at.host, () => {
      socket.removeAllListeners('error');
      // Send errors (unreachable client, full buffer) are the client's problem, never fatal;
      // log at most one a second so a flood cannot flood the log too.
      socket.on('error', (err) => {
        const now = Date.now();
        if (now - lastErrorLog > 1000) {
          lastErrorLog = now;
          log.warn({ err: err.message, listener: `udp ${at.host}:${at.port}` }, 'udp socket error');
        }
      });
      const bound = socket.address();
      resolve({
        address: { host: at.host, port: bound.port },
        close: () => new Promise((done) => socket.close(() => done())),
      });
    });
  });
}
