// What `meridian query` accepts, checked before anything goes on the wire: a mistyped subnet,
// type or server must say what is wrong with it, not surface as a timeout or a FORMERR.
import { isIP } from 'node:net';
import { parseHostPort, type HostPort } from '../../common/host-port.js';
import { formatIp, parseCidr, parseIp } from '../../common/ip.js';
import { typeCode, unaskable } from './types.js';

export class UsageError extends Error {}

export interface ClientSubnet {
  readonly family: 4 | 6;
  /** The network address, host bits zero. */
  readonly address: string;
  readonly prefix: number;
}

/** The DNS port, for a server given without one (the demo's 5353 is only the default server). */
const DNS_PORT = 53;

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i;

/** A query name as written, checked against the limits of the wire format (RFC 1035 §2.3.4). */
export function parseName(text: string): string {
  if (text === '.') return text;
  const body = text.endsWith('.') ? text.slice(0, -1) : text;
  const labels = body.split('.');
  if (body === '' || labels.some((l) => l === '')) throw new UsageError(`'${text}' is not a domain name (empty label)`);
  // dns-packet writes labels as they are: an escape or a space would go out as literal bytes.
  if (/[\s\\]/.test(body))
    throw new UsageError(`'${text}' is not a domain name (spaces and backslash escapes are not supported)`);
  for (const label of labels) {
    if (Buffer.byteLength(label) > 63) throw new UsageError(`label '${label}' in '${text}' is longer than 63 bytes`);
  }
  const wireLength = labels.reduce((n, l) => n + 1 + Buffer.byteLength(l), 1);
  if (wireLength > 255) throw new UsageError(`'${text}' is ${wireLength} bytes on the wire, more than 255`);
  return text;
}

/** `A`, `aaaa`, `TYPE65` (RFC 3597) → the type number. */
export function parseType(text: string): number {
  const code = typeCode(text);
  if (code === undefined)
    throw new UsageError(
      `unknown record type '${text}' (e.g. A, AAAA, CNAME, MX, TXT, SOA, NS, SRV, CAA, ANY, or TYPE<number>)`,
    );
  const why = unaskable(code);
  if (why) throw new UsageError(`type '${text}' (${why}) is not a question meridian query can ask`);
  return code;
}

/** `203.0.113.0/24`, `2001:db8::/48`, or a bare address (a /32 or /128 client, as dig takes it). */
export function parseSubnet(text: string): ClientSubnet {
  try {
    if (!text.includes('/')) {
      const ip = parseIp(text);
      if (!ip) throw new Error(`'${text}' is not an IPv4 or IPv6 address or subnet`);
      return { family: ip.family, address: formatIp(ip.family, ip.address), prefix: ip.family === 4 ? 32 : 128 };
    }
    // Strict: host bits beyond the prefix are refused with the network the user probably meant.
    const net = parseCidr(text);
    return { family: net.family, address: formatIp(net.family, net.address), prefix: net.prefix };
  } catch (e) {
    throw new UsageError(`--subnet: ${(e as Error).message}`);
  }
}

/** `127.0.0.1:5353`, `[::1]:5353`, `ns1.example:53`, or a bare address or name (port 53). */
export function parseServer(text: string): HostPort {
  if (isIP(text) !== 0) {
    if (text.includes('%')) throw new UsageError(`--server: '${text}': scoped IPv6 addresses are not supported`);
    return { host: text, port: DNS_PORT };
  }
  let hp: HostPort;
  try {
    hp = HOST_NAME.test(text) ? { host: text, port: DNS_PORT } : parseHostPort(text);
  } catch (e) {
    throw new UsageError(`--server: ${(e as Error).message}`);
  }
  if (hp.port === 0) throw new UsageError(`--server: port 0 in '${text}' is not a port a server listens on`);
  if (isIP(hp.host) === 0 && !HOST_NAME.test(hp.host))
    throw new UsageError(`--server: '${hp.host}' is neither an IP address nor a host name`);
  return hp;
}
