// Message writer with RFC 1035 §4.1.4 name compression. One writer is reused for every
// response a server builds; `finish()` copies the bytes out so the scratch buffer can be reused.
import { Class, HEADER_LEN } from './constants.js';
import type { Name } from './name.js';
import type { RData, SectionEntry } from './rdata.js';

const MAX_MESSAGE = 65535;
const MAX_POINTER = 0x3fff;

export class MessageWriter {
  readonly buf = Buffer.alloc(MAX_MESSAGE + 1024);
  off = 0;
  private readonly suffixes = new Map<string, number>();

  reset(): void {
    this.off = 0;
    this.suffixes.clear();
  }

  u8(v: number): void {
    this.buf[this.off++] = v;
  }

  u16(v: number): void {
    this.buf.writeUInt16BE(v, this.off);
    this.off += 2;
  }

  u32(v: number): void {
    this.buf.writeUInt32BE(v >>> 0, this.off);
    this.off += 4;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.off);
    this.off += b.length;
  }

  /**
   * Writes the header placeholder and the question copied verbatim from the request (its case is
   * preserved). With `qnameKey`, every suffix of the QNAME becomes a compression target; without
   * it (precomputed sections follow, which already point into the question) nothing is indexed.
   */
  question(request: Buffer, questionEnd: number, qnameKey: string | null): void {
    request.copy(this.buf, HEADER_LEN, HEADER_LEN, questionEnd);
    this.off = questionEnd;
    if (qnameKey === null) return;
    for (let i = 0; i < qnameKey.length; i += qnameKey.charCodeAt(i) + 1) {
      this.suffixes.set(qnameKey.slice(i), HEADER_LEN + i);
    }
  }

  /** Writes `name`, compressed against earlier names when allowed. */
  name(name: Name, compress: boolean): void {
    const key = name.key;
    if (!compress) {
      this.bytes(name.wire);
      return;
    }
    // Find the longest already-written suffix; labels before it are written out.
    let i = 0;
    for (; i < key.length; i += key.charCodeAt(i) + 1) {
      const at = this.suffixes.get(i === 0 ? key : key.slice(i));
      if (at !== undefined) break;
    }
    const start = this.off;
    if (i > 0) {
      this.buf.set(name.wire.subarray(0, i), this.off);
      this.off += i;
      for (let j = 0; j < i; j += key.charCodeAt(j) + 1) {
        if (start + j > MAX_POINTER) break;
        const suffix = key.slice(j);
        if (!this.suffixes.has(suffix)) this.suffixes.set(suffix, start + j);
      }
    }
    if (i < key.length) {
      this.u16(0xc000 | this.suffixes.get(key.slice(i))!);
    } else {
      this.u8(0);
    }
  }

  /** The QNAME as asked: a pointer to the question (always at offset 12). */
  qname(): void {
    this.u16(0xc000 | HEADER_LEN);
  }

  rdata(rdata: RData): void {
    const lenAt = this.off;
    this.off += 2;
    for (const part of rdata) {
      if (Buffer.isBuffer(part)) this.bytes(part);
      else this.name(part.name, part.compress);
    }
    this.buf.writeUInt16BE(this.off - lenAt - 2, lenAt);
  }

  /** Writes every RR of the entries; returns how many RRs were written. */
  section(entries: readonly SectionEntry[]): number {
    let count = 0;
    for (const entry of entries) {
      const { rrset } = entry;
      const ttl = entry.ttl ?? rrset.ttl;
      for (const rdata of rrset.rdata) {
        if (entry.owner === null) this.qname();
        else this.name(entry.owner ?? rrset.owner, true);
        this.u16(rrset.type);
        this.u16(rrset.cls ?? Class.IN);
        this.u32(ttl);
        this.rdata(rdata);
        count++;
      }
    }
    return count;
  }

  /** Copies the message out of the scratch buffer. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.off);
    this.buf.copy(out, 0, 0, this.off);
    return out;
  }
}
