// A client address as the transports give it (text) → its network-order bytes, written into a
// caller's buffer without allocating: DNS cookies hash the address on every query carrying one.
// An IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4 client) is its IPv4 address.
import { writeIPv4 } from '../../common/ip.js';

/** Writes the address's bytes at out[at]; returns 4, 16, or 0 when `text` is not an address. */
export function writeAddressBytes(text: string, out: Uint8Array, at: number): number {
  let end = text.indexOf('%'); // a zone index (fe80::1%eth0) is not part of the address
  if (end < 0) end = text.length;
  if (text.indexOf(':') < 0) return writeIPv4(text, 0, end, out, at) ? 4 : 0;
  if (!writeIPv6(text, end, out, at)) return 0;
  // ::ffff:a.b.c.d
  for (let i = 0; i < 10; i++) if (out[at + i] !== 0) return 16;
  if (out[at + 10] !== 0xff || out[at + 11] !== 0xff) return 16;
  out.copyWithin(at, at + 12, at + 16);
  return 4;
}

/** Groups before a '::' are written in place, those after it gathered and moved to the end. */
function writeIPv6(text: string, end: number, out: Uint8Array, at: number): boolean {
  let n = 0; // bytes written
  let gap = -1; // byte index where '::' stands
  let i = 0;
  if (text.charCodeAt(0) === 0x3a) {
    if (text.charCodeAt(1) !== 0x3a) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    // One group: up to 4 hex digits, or a trailing dotted IPv4 address.
    let value = 0;
    let digits = 0;
    const start = i;
    for (; i < end && digits <= 4; i++) {
      const c = text.charCodeAt(i);
      const d =
        c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 87 : c >= 0x41 && c <= 0x46 ? c - 55 : -1;
      if (d < 0) break;
      value = value * 16 + d;
      digits++;
    }
    if (i < end && text.charCodeAt(i) === 0x2e) {
      if (n > 12 || !writeIPv4(text, start, end, out, at + n)) return false;
      n += 4;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4 || n > 14) return false;
    out[at + n++] = value >> 8;
    out[at + n++] = value & 0xff;
    if (i === end) break;
    if (text.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === end) return false; // a trailing single ':'
  }
  if (gap < 0) return n === 16;
  if (n > 14) return false;
  // Move what followed '::' to the end and zero the gap.
  const tail = n - gap;
  out.copyWithin(at + 16 - tail, at + gap, at + n);
  out.fill(0, at + gap, at + 16 - tail);
  return true;
}
