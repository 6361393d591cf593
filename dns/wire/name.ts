// Domain names on the wire. Inside Meridian a name has two forms:
//  - `wire`: the uncompressed wire bytes in their original case, root byte included;
//  - `key`:  the same bytes lower-cased (ASCII only, RFC 4343) as a latin1 string without the
//            root byte. Keys compare and hash fast, and the parent of a key is a slice of it, so
//            zone lookups walk up a name without allocating per label.
import { MAX_LABEL, MAX_NAME_WIRE } from './constants.js';

export interface Name {
  readonly wire: Buffer;
  readonly key: string;
}

export const ROOT_KEY = '';

/** The key of the parent name, or undefined for the root. */
export function parentKey(key: string): string | undefined {
  if (key.length === 0) return undefined;
  return key.slice(key.charCodeAt(0) + 1);
}

/** Number of labels in a key (the root has none). */
export function labelCount(key: string): number {
  let n = 0;
  for (let i = 0; i < key.length; i += key.charCodeAt(i) + 1) n++;
  return n;
}

/** True when `key` equals `ancestor` or lies below it. */
export function isAtOrBelow(key: string, ancestor: string): boolean {
  if (ancestor.length === 0) return true;
  if (key.length < ancestor.length || !key.endsWith(ancestor)) return false;
  // The suffix must start on a label boundary.
  for (let i = 0; i <= key.length - ancestor.length; i += key.charCodeAt(i) + 1) {
    if (i === key.length - ancestor.length) return true;
  }
  return false;
}

export function nameFromWire(wire: Buffer): Name {
  return { wire, key: keyOfWire(wire, 0, wire.length - 1) };
}

/** Lower-cased key of the uncompressed name bytes buf[start, end) (end excludes the root byte). */
export function keyOfWire(buf: Buffer, start: number, end: number): string {
  let needsFold = false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if ((c >= 0x41 && c <= 0x5a) || c >= 0x80) {
      needsFold = true;
      break;
    }
  }
  if (!needsFold) return buf.toString('latin1', start, end);
  // Slow path: fold ASCII only. Bytes >= 0x80 must stay as they are (latin1 toLowerCase would
  // fold them too and make distinct DNS names collide).
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
  }
  return s;
}

/**
 * Reads an uncompressed name at `off`; returns the offset after its root byte, or -1 when the
 * bytes are not a valid uncompressed name (pointer, extended label type, too long, truncated).
 * Questions are always uncompressed: a pointer there could only point into the header.
 */
export function scanUncompressedName(buf: Uint8Array, off: number, end: number): number {
  const start = off;
  for (;;) {
    if (off >= end) return -1;
    const len = buf[off]!;
    if (len === 0) {
      off += 1;
      return off - start > MAX_NAME_WIRE ? -1 : off;
    }
    if (len > MAX_LABEL) return -1;
    off += len + 1;
    if (off - start >= MAX_NAME_WIRE) return -1;
  }
}

/**
 * Skips a possibly compressed name at `off` without following pointers (the RRs we skip are
 * never interpreted); returns the offset after it, or -1 if malformed. A pointer must point
 * backwards into the message, which is all a skipper can check.
 */
export function skipName(buf: Uint8Array, off: number, end: number): number {
  const start = off;
  for (;;) {
    if (off >= end) return -1;
    const len = buf[off]!;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= end) return -1;
      const target = ((len & 0x3f) << 8) | buf[off + 1]!;
      return target < start ? off + 2 : -1;
    }
    if (len > MAX_LABEL) return -1;
    off += len + 1;
    if (off - start >= MAX_NAME_WIRE) return -1;
  }
}

/**
 * Reads a possibly compressed name at `off` into its uncompressed wire bytes (case kept), or
 * null when malformed. Every pointer must point before the label that holds it, so a chain of
 * pointers strictly moves backwards and cannot loop. Off the hot path: it allocates.
 */
export function expandName(buf: Uint8Array, off: number, end: number): Buffer | null {
  const out = Buffer.allocUnsafe(MAX_NAME_WIRE);
  let n = 0;
  for (;;) {
    if (off >= end) return null;
    const len = buf[off]!;
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= end) return null;
      const target = ((len & 0x3f) << 8) | buf[off + 1]!;
      if (target >= off) return null;
      off = target;
      continue;
    }
    if (len > MAX_LABEL) return null;
    if (n + len + 1 > MAX_NAME_WIRE || off + len + 1 > end) return null;
    out[n++] = len;
    if (len === 0) return Buffer.from(out.subarray(0, n));
    for (let i = 1; i <= len; i++) out[n++] = buf[off + i]!;
    off += len + 1;
  }
}

/** Presentation form (RFC 1035 §5.1) of a wire name: escapes dots, backslashes, quotes and non-printables. */
export function wireToText(wire: Uint8Array): string {
  let out = '';
  let off = 0;
  for (;;) {
    const len = wire[off];
    if (len === undefined || len === 0) break;
    for (let i = off + 1; i <= off + len; i++) {
      const c = wire[i]!;
      if (
        c === 0x2e ||
        c === 0x5c ||
        c === 0x22 ||
        c === 0x28 ||
        c === 0x29 ||
        c === 0x3b ||
        c === 0x24 ||
        c === 0x40
      ) {
        out += '\\' + String.fromCharCode(c);
      } else if (c <= 0x20 || c >= 0x7f) {
        out += '\\' + String(c).padStart(3, '0');
      } else {
        out += String.fromCharCode(c);
      }
    }
    out += '.';
    off += len + 1;
  }
  return out === '' ? '.' : out;
}

/** Presentation form of a key (lower case). */
export function keyToText(key: string): string {
  return wireToText(keyToWire(key));
}

export function keyToWire(key: string): Buffer {
  const b = Buffer.allocUnsafe(key.length + 1);
  b.write(key, 0, 'latin1');
  b[key.length] = 0;
  return b;
}
