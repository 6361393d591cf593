// The network a client address belongs to, for per-network limits (TCP connection caps, response
// rate limiting): one host of an attacker's rarely comes alone, and an IPv6 customer gets a whole
// /56 (RFC 6177), so limiting per address would limit nothing. IPv4-mapped IPv6 (a dual-stack
// socket) counts as IPv4. Two forms: text, for maps and log lines, and bytes written in place,
// for the UDP hot path, which must not allocate per query.
import { formatIp, networkMask, parseIp } from '../../common/ip.js';

export const IPV4_NETWORK_BITS = 24;
export const IPV6_NETWORK_BITS = 56;

/** How long a network prefix is, per family. */
export interface NetworkPrefixes {
  readonly ipv4: number;
  readonly ipv6: number;
}

export const DEFAULT_PREFIXES: NetworkPrefixes = { ipv4: IPV4_NETWORK_BITS, ipv6: IPV6_NETWORK_BITS };

export function clientNetwork(address: string, prefixes: NetworkPrefixes = DEFAULT_PREFIXES): string {
  const text = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  const ip = parseIp(text);
  if (!ip) return address;
  const prefix = ip.family === 4 ? prefixes.ipv4 : prefixes.ipv6;
  const network = ip.address & networkMask(ip.family === 4 ? 32 : 128, prefix);
  return `${formatIp(ip.family, network)}/${prefix}`;
}

/**
 * Zeroes the host part of out[0, length) in place (an address's bytes, as wire/address-bytes.ts
 * writes them): what is left is the client's network.
 */
export function keepNetworkBits(out: Uint8Array, length: number, prefixes: NetworkPrefixes): void {
  const bits = length === 4 ? prefixes.ipv4 : prefixes.ipv6;
  const whole = bits >> 3;
  if (whole < length) out[whole] = out[whole]! & (0xff00 >> (bits & 7));
  for (let i = whole + 1; i < length; i++) out[i] = 0;
}

/** Whether bytes[0, length) (an address, as wire/address-bytes.ts writes it) lies in `network`. */
export function inNetwork(
  bytes: Uint8Array,
  length: number,
  network: { readonly bytes: Uint8Array; readonly prefixLength: number },
): boolean {
  if (network.bytes.length !== length) return false;
  const bits = network.prefixLength;
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== network.bytes[i]) return false;
  if ((bits & 7) === 0) return true;
  const mask = 0xff00 >> (bits & 7);
  return (bytes[whole]! & mask) === (network.bytes[whole]! & mask);
}
