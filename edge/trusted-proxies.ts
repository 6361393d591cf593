// Who may tell the edge what it cannot see itself. The edge listens on plain HTTP; in front of it
// may stand a TLS terminator or load balancer (edge.trustedProxies), and only a connection from
// one of those may say which scheme the client used (X-Forwarded-Proto) and which addresses the
// request came through (X-Forwarded-For). Anyone else's copies are dropped
// (pipeline/forward-headers.ts): an origin that reads them would otherwise let one client decide
// what the cache stores for all.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export type Scheme = 'http' | 'https';

/** True when a connection from `address` is one of the operator's proxies. */
export type TrustedProxy = (address: string | undefined) => boolean;

/** undefined when no proxy is trusted: the common case costs one check per connection. */
export function trustedProxies(cidrs: readonly string[]): TrustedProxy | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/') as [string, string];
    list.addSubnet(address, Number(prefix), isIPv4(address) ? 'ipv4' : 'ipv6');
  }
  return (address) => {
    if (address === undefined) return false;
    // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
    const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
    if (isIPv4(v4)) return list.check(v4, 'ipv4');
    return isIPv6(address) && list.check(address, 'ipv6');
  };
}

/** The scheme a trusted proxy reports: the first X-Forwarded-Proto entry, https or else http. */
export function forwardedScheme(value: string | string[] | undefined): Scheme {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return 'http';
  const comma = text.indexOf(',');
  return (comma < 0 ? text : text.slice(0, comma)).trim().toLowerCase() === 'https' ? 'https' : 'http';
}
