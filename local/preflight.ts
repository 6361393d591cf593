// Before anything starts: can every fixed address be bound? A port already taken (often by a
// `meridian up` still running in another terminal) or a loopback address the machine does not
// have (macOS has only 127.0.0.1) is one clear message now, rather than a dozen children failing
// and restarting forever.
import { createSocket } from 'node:dgram';
import { createServer, isIP } from 'node:net';
import { formatHostPort } from '../common/host-port.js';
import type { Listener } from './plan.js';

/** One message per address that cannot be bound; empty when all can. */
export async function unavailable(listeners: readonly Listener[]): Promise<string[]> {
  const results = await Promise.all(
    listeners
      .filter((l) => l.port !== 0)
      .map(async (l) => {
        const code = await bindError(l);
        return code === undefined ? undefined : `${l.proto} ${formatHostPort(l)} for ${l.what}: ${explain(code, l)}`;
      }),
  );
  return results.filter((r): r is string => r !== undefined);
}

function explain(code: string, l: Listener): string {
  switch (code) {
    case 'EADDRINUSE':
      return 'already in use (is `meridian up`, or that service, already running?)';
    case 'EADDRNOTAVAIL':
      if (l.host === '::1') return 'this machine has no address ::1 (no IPv6 loopback, as in a Docker container)';
      return `this machine has no address ${l.host} (on macOS: sudo ifconfig lo0 alias ${l.host} up)`;
    case 'EACCES':
      return 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)';
    default:
      return code;
  }
}

/** Binds and releases `l`: undefined when it can be bound, else the error code (EADDRNOTAVAIL…). */
export function bindError(l: Listener): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (l.proto === 'udp') {
      const socket = createSocket(isIP(l.host) === 6 ? 'udp6' : 'udp4');
      socket.once('error', (err: NodeJS.ErrnoException) => {
        try {
          socket.close();
        } catch {
          // Never bound: nothing to close.
        }
        resolve(err.code ?? err.message);
      });
      socket.bind(l.port, l.host, () => socket.close(() => resolve(undefined)));
      return;
    }
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host: l.host, port: l.port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
