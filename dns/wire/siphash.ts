// SipHash-2-4 (Aumasson and Bernstein), the keyed hash of interoperable DNS server cookies
// (RFC 9018 §4.4). 64-bit words are kept as pairs of 32-bit halves in one preallocated state, so
// hashing allocates nothing: it runs on the query path for every query with a DNS cookie.

/** A 128-bit key split into its four little-endian 32-bit words. */
export class SipKey {
  readonly k0l: number;
  readonly k0h: number;
  readonly k1l: number;
  readonly k1h: number;
  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new Error(`a SipHash key is 16 bytes, not ${key.length}`);
    this.k0l = le32(key, 0);
    this.k0h = le32(key, 4);
    this.k1l = le32(key, 8);
    this.k1h = le32(key, 12);
  }
}

// v0..v3 as [low, high] pairs: v[0], v[1] = v0; v[2], v[3] = v1; v[4], v[5] = v2; v[6], v[7] = v3.
const v = new Uint32Array(8);

/** SipHash-2-4 of m[off, off + len) under `key`; the 8-byte result is written to out[outOff, outOff + 8). */
export function siphash24(key: SipKey, m: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void {
  v[0] = key.k0l ^ 0x70736575;
  v[1] = key.k0h ^ 0x736f6d65;
  v[2] = key.k1l ^ 0x6e646f6d;
  v[3] = key.k1h ^ 0x646f7261;
  v[4] = key.k0l ^ 0x6e657261;
  v[5] = key.k0h ^ 0x6c796765;
  v[6] = key.k1l ^ 0x79746573;
  v[7] = key.k1h ^ 0x74656462;
  const whole = off + len - (len % 8);
  for (let i = off; i < whole; i += 8) compress(le32(m, i), le32(m, i + 4));
  // The last block: the remaining bytes, and the length's low byte on top.
  let lo = 0;
  let hi = (len & 0xff) << 24;
  for (let j = 0; j < len % 8; j++) {
    const b = m[whole + j]!;
    if (j < 4) lo |= b << (8 * j);
    else hi |= b << (8 * (j - 4));
  }
  compress(lo >>> 0, hi >>> 0);
  v[4] = v[4]! ^ 0xff;
  round();
  round();
  round();
  round();
  writeLe32(out, outOff, v[0]! ^ v[2]! ^ v[4]! ^ v[6]!);
  writeLe32(out, outOff + 4, v[1]! ^ v[3]! ^ v[5]! ^ v[7]!);
}

function compress(lo: number, hi: number): void {
  v[6] = v[6]! ^ lo;
  v[7] = v[7]! ^ hi;
  round();
  round();
  v[0] = v[0]! ^ lo;
  v[1] = v[1]! ^ hi;
}

/** a += b on the 64-bit words at a and b (index of their low halves). */
function add(a: number, b: number): void {
  const lo = (v[a]! + v[b]!) >>> 0;
  v[a + 1] = v[a + 1]! + v[b + 1]! + (lo < v[a]! ? 1 : 0);
  v[a] = lo;
}

/** Rotates the 64-bit word at `a` left by `n` (0 < n < 32). */
function rotl(a: number, n: number): void {
  const lo = v[a]!;
  const hi = v[a + 1]!;
  v[a] = (lo << n) | (hi >>> (32 - n));
  v[a + 1] = (hi << n) | (lo >>> (32 - n));
}

/** Rotates the 64-bit word at `a` by 32: swaps its halves. */
function swap(a: number): void {
  const lo = v[a]!;
  v[a] = v[a + 1]!;
  v[a + 1] = lo;
}

function xor(a: number, b: number): void {
  v[a] = v[a]! ^ v[b]!;
  v[a + 1] = v[a + 1]! ^ v[b + 1]!;
}

function round(): void {
  add(0, 2);
  rotl(2, 13);
  xor(2, 0);
  swap(0);
  add(4, 6);
  rotl(6, 16);
  xor(6, 4);
  add(0, 6);
  rotl(6, 21);
  xor(6, 0);
  add(4, 2);
  rotl(2, 17);
  xor(2, 4);
  swap(4);
}

function le32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function writeLe32(b: Uint8Array, o: number, x: number): void {
  b[o] = x & 0xff;
  b[o + 1] = (x >>> 8) & 0xff;
  b[o + 2] = (x >>> 16) & 0xff;
  b[o + 3] = (x >>> 24) & 0xff;
}
