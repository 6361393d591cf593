// Free ports on the loopback address, and waiting until a server accepts connections on one.
import dgram from 'node:dgram';
import net from 'node:net';
import { waitReady } from './processes.mjs';
import { HOST } from './setup.mjs';

/**
 * A port on HOST that is free for TCP (and, with `udp`, for UDP too: bound to port 0 over UDP,
 * then the same port tried over TCP), not in `used`; added to `used`.
 */
export async function freePort(used = new Set(), { udp = false } = {}) {
  const listen = (srv, port) =>
    new Promise((res) => {
      srv.once('error', () => res(false));
      srv.listen(port, HOST, () => res(true));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    let port;
    let ok = true;
    if (udp) {
      const sock = dgram.createSocket('udp4');
      port = await new Promise((res, rej) => {
        sock.once('error', rej);
        sock.bind(0, HOST, () => res(sock.address().port));
      });
      const tcp = net.createServer();
      ok = await listen(tcp, port);
      await new Promise((res) => sock.close(res));
      if (ok) await new Promise((res) => tcp.close(res));
    } else {
      const tcp = net.createServer();
      port = await new Promise((res, rej) => {
        tcp.once('error', rej);
        tcp.listen(0, HOST, () => res(tcp.address().port));
      });
      await new Promise((res) => tcp.close(res));
    }
    if (ok && !used.has(port)) {
      used.add(port);
      return port;
    }
  }
  throw new Error(`could not find a free ${udp ? 'UDP+TCP' : 'TCP'} port on ${HOST}`);
}

/** Resolves once `port` on HOST accepts a TCP connection; rejects when the server exits or after the timeout. */
export function waitForPort(server, port, timeoutMs) {
  const connects = () =>
    new Promise((res) => {
      const s = net.connect(port, HOST);
      s.setTimeout(500);
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
      s.once('timeout', () => {
        s.destroy();
        res(false);
      });
    });
  return waitReady(server, `accept connections on ${HOST}:${port}`, timeoutMs, connects, 100);
}
