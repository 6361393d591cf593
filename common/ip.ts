// IP addresses and CIDR networks as integers, for the MMDB writer's search tree. The tree walks
// an address bit by bit from the most significant end, so an address is one bigint of 32 or 128
// bits and a network is (address, prefix length). Parsing is strict: a network with host bits
// set is almost always a typo in a data file, so it is an error, not silently masked.
import { isIPv4, isIPv6 } from 'node:net';

export interface IpNetwork {
  readonly family: 4 | 6;
  /** The network address, host bits zero. */
  readonly address: bigint;
  readonly prefix: number;
}

export function familyBits(family: 4 | 6): 32 | 128 {
  return family === 4 ? 32 : 128;
}

/** '192.0.2.0/24' or '2001:db8::/32' → IpNetwork; throws with the offending text on anything else. */
export function parseCidr(text: string): IpNetwork {
  const slash = text.indexOf('/');
  if (slash < 0) throw new Error(`'${text}' is not a CIDR network (expected ADDRESS/PREFIX)`);
  const addressText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const ip = parseIp(addressText);
  if (!ip) throw new Error(`'${addressText}' in '${text}' is not an IPv4 or IPv6 address`);
  const bits = familyBits(ip.family);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw new Error(`'${prefixText}' in '${text}' is not a prefix length from 0 to ${bits}`);
  }
  const prefix = Number(prefixText);
  const network = ip.address & networkMask(bits, prefix);
  if (network !== ip.address) {
    const suggestion = `${formatIp(ip.family, network)}/${prefix}`;
    throw new Error(`'${text}' has host bits set beyond /${prefix} (did you mean ${suggestion}?)`);
  }
  return { family: ip.family, address: network, prefix };
}

/** An address as { family, address }, or undefined when the text is not one. Zone ids are refused. */
export function parseIp(text: string): { family: 4 | 6; address: bigint } | undefined {
  if (isIPv4(text)) return { family: 4, address: parseIPv4(text) };
  if (isIPv6(text) && !text.includes('%')) return { family: 6, address: parseIPv6(text) };
  return undefined;
}

/** Dotted quad for IPv4; RFC 5952 text for IPv6 (lower case, the longest run of zero groups as ::). */
export function formatIp(family: 4 | 6, address: bigint): string {
  if (family === 4) {
    const n = Number(address);
    return [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join('.');
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((address >> shift) & 0xffffn));
  // The first longest run of two or more zero groups becomes '::'.
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (best.start < 0) return hex(groups);
  return `${hex(groups.slice(0, best.start))}::${hex(groups.slice(best.start + best.length))}`;
}

/** Does `outer` contain `inner` (same family)? Equal networks contain each other. */
export function contains(outer: IpNetwork, inner: IpNetwork): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  return (inner.address & networkMask(familyBits(outer.family), outer.prefix)) === outer.address;
}

export function networkMask(bits: number, prefix: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

// node:net has already validated the syntax, so these only convert.
function parseIPv4(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function parseIPv6(text: string): bigint {
  const [head = '', tail] = text.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').flatMap(group));
  const high = groups(head);
  const low = tail === undefined ? [] : groups(tail);
  const all = [...high, ...new Array<number>(8 - high.length - low.length).fill(0), ...low];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** One hex group, or two groups for an embedded IPv4 tail such as ::ffff:192.0.2.1. */
function group(s: string): number[] {
  if (!s.includes('.')) return [parseInt(s, 16)];
  const v4 = Number(parseIPv4(s));
  return [v4 >>> 16, v4 & 0xffff];
}

/** Network byte order, as addresses travel in DNS (ECS) and as the locator compares them. */
export function toBytes(family: 4 | 6, address: bigint): Buffer {
  const out = Buffer.alloc(family === 4 ? 4 : 16);
  for (let i = out.length - 1; i >= 0; i--) {
    out[i] = Number(address & 0xffn);
    address >>= 8n;
  }
  return out;
}

export function fromBytes(bytes: Uint8Array): { family: 4 | 6; address: bigint } {
  let address = 0n;
  for (const b of bytes) address = (address << 8n) | BigInt(b);
  return { family: bytes.length === 4 ? 4 : 6, address };
}

/** '192.0.2.1' or '2001:db8::1' → 4 or 16 bytes; undefined when it is not an address. */
/**
 * Dotted-quad IPv4 text to its 4 bytes, accepting exactly what node:net's isIPv4 accepts (no
 * leading zeros, no other forms); undefined otherwise. No BigInt: a master file has a million.
 */
export function ipv4Bytes(text: string): Buffer | undefined {
  if (text.length < 7 || text.length > 15) return undefined;
  const out = Buffer.allocUnsafe(4);
  return writeIPv4(text, 0, text.length, out, 0) ? out : undefined;
}

/**
 * The dotted quad text[start, end) as 4 bytes at out[at], as ipv4Bytes reads it; false (and
 * some bytes written) when it is not one. Allocates nothing: DNS cookies hash client addresses.
 */
export function writeIPv4(text: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let octet = 0;
  let digits = 0;
  let k = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || k === 4) return false;
      out[at + k++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && octet === 0) return false; // a leading zero
      octet = octet * 10 + (c - 0x30);
      if (octet > 255) return false;
      digits++;
    } else return false;
  }
  return k === 4;
}

export function ipBytes(text: string): Buffer | undefined {
  const ip = parseIp(text);
  return ip && toBytes(ip.family, ip.address);
}
