// The network a client address belongs to, as text, for per-network limits: one host of an
// attacker's rarely comes alone, and an IPv6 customer gets a whole /56 (RFC 6177), so limiting
// per address would limit nothing. IPv4-mapped IPv6 (a dual-stack socket) counts as IPv4.
import { formatIp, networkMask, parseIp } from '../../common/ip.js';

export const IPV4_NETWORK_BITS = 24;
export const IPV6_NETWORK_BITS = 56;

export function clientNetwork(address: string): string {
  const text = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  const ip = parseIp(text);
  if (!ip) return address;
  const prefix = ip.family === 4 ? IPV4_NETWORK_BITS : IPV6_NETWORK_BITS;
  const network = ip.address & networkMask(ip.family === 4 ? 32 : 128, prefix);
  return `${formatIp(ip.family, network)}/${prefix}`;
}
