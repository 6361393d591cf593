// Pieces every response shares: the header and the OPT pseudo-record.
import { EdnsOption, Flag, Type } from './constants.js';
import type { ClientSubnet } from './query.js';
import type { MessageWriter } from './writer.js';

export interface ResponseHeader {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
  readonly aa: boolean;
  readonly tc: boolean;
  /** Full 12-bit RCODE; the upper 8 bits travel in the OPT (RFC 6891 §6.1.3). */
  readonly rcode: number;
  readonly qdcount: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
}

export function headerFlags(opcode: number, rd: boolean, aa: boolean, tc: boolean, rcode: number): number {
  // RA is never set: Meridian is authoritative only.
  return (
    Flag.QR | ((opcode & 0xf) << 11) | (aa ? Flag.AA : 0) | (tc ? Flag.TC : 0) | (rd ? Flag.RD : 0) | (rcode & 0xf)
  );
}

export function writeHeader(buf: Buffer, h: ResponseHeader): void {
  buf.writeUInt16BE(h.id, 0);
  buf.writeUInt16BE(headerFlags(h.opcode, h.rd, h.aa, h.tc, h.rcode), 2);
  buf.writeUInt16BE(h.qdcount, 4);
  buf.writeUInt16BE(h.ancount, 6);
  buf.writeUInt16BE(h.nscount, 8);
  buf.writeUInt16BE(h.arcount, 10);
}

/** The COOKIE option of a response (RFC 7873 §5.2): the query's client cookie, then our server cookie. */
export interface ResponseCookie {
  /** The query's message, holding the client cookie at `clientAt` (8 bytes). */
  readonly msg: Buffer;
  readonly clientAt: number;
  /** 16 bytes (RFC 9018). */
  readonly server: Buffer;
}

export interface ResponseOpt {
  /** Our own maximum UDP payload, advertised back. */
  readonly udpSize: number;
  readonly rcode: number;
  readonly dnssecOk: boolean;
  readonly nsid: Buffer | null;
  readonly clientSubnet: ClientSubnet | null;
  /** Scope prefix to answer with (RFC 7871 §7.2.1). */
  readonly scopePrefix: number;
  readonly cookie: ResponseCookie | null;
}

export function optLength(opt: ResponseOpt): number {
  let n = 11;
  if (opt.nsid) n += 4 + opt.nsid.length;
  if (opt.clientSubnet) n += 8 + opt.clientSubnet.address.length;
  if (opt.cookie) n += 4 + 8 + opt.cookie.server.length;
  return n;
}

export function writeOpt(w: MessageWriter, opt: ResponseOpt): void {
  w.u8(0);
  w.u16(Type.OPT);
  w.u16(opt.udpSize);
  // TTL field: extended RCODE, version 0, DO echoed (RFC 3225 §3).
  w.u8((opt.rcode >> 4) & 0xff);
  w.u8(0);
  w.u16(opt.dnssecOk ? 0x8000 : 0);
  const lenAt = w.off;
  w.off += 2;
  if (opt.nsid) {
    w.u16(EdnsOption.NSID);
    w.u16(opt.nsid.length);
    w.bytes(opt.nsid);
  }
  const ecs = opt.clientSubnet;
  if (ecs) {
    w.u16(EdnsOption.ECS);
    w.u16(4 + ecs.address.length);
    w.u16(ecs.family);
    w.u8(ecs.sourcePrefix);
    w.u8(opt.scopePrefix);
    w.bytes(ecs.address);
  }
  const cookie = opt.cookie;
  if (cookie) {
    w.u16(EdnsOption.COOKIE);
    w.u16(8 + cookie.server.length);
    cookie.msg.copy(w.buf, w.off, cookie.clientAt, cookie.clientAt + 8);
    w.off += 8;
    w.bytes(cookie.server);
  }
  w.buf.writeUInt16BE(w.off - lenAt - 2, lenAt);
}
