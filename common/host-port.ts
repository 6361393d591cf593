// `127.0.0.1:5353`, `[::1]:5353`, `localhost:53` → { host, port }.
import { isIP } from 'node:net';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function parseHostPort(text: string): HostPort {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`'${text}' is not HOST:PORT (write IPv6 as [::1]:5353)`);
  const host = m[1]!;
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`port ${port} in '${text}' is above 65535`);
  if (text.startsWith('[') && isIP(host) !== 6) throw new Error(`'${host}' in '${text}' is not an IPv6 address`);
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
