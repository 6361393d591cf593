// Strict, bounds-checked query decoder. It never throws on any input: every read is checked
// against the message length first, and every malformation maps to a Decoded outcome.
import { EdnsOption, Flag, HEADER_LEN, MIN_UDP_PAYLOAD, Opcode, Rcode, TSIG_TYPE, Type } from './constants.js';
import { keyOfWire, scanUncompressedName, skipName } from './name.js';
import type { ClientSubnet, Decoded, Edns } from './query.js';
import { parseTsig, type TsigRequest } from './tsig.js';

class Malformed {
  constructor(readonly reason: string) {}
}

export function decodeQuery(msg: Buffer): Decoded {
  const len = msg.length;
  if (len < HEADER_LEN) return { kind: 'drop', reason: 'shorter than a DNS header' };
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & Flag.QR) return { kind: 'drop', reason: 'message is a response' };
  const opcode = (flags >> 11) & 0xf;
  // RD is defined for QUERY only (RFC 1035 §4.1.1): for other opcodes it is not echoed.
  const rd = opcode === Opcode.QUERY && (flags & Flag.RD) !== 0;
  const qdcount = msg.readUInt16BE(4);
  const ancount = msg.readUInt16BE(6);
  const nscount = msg.readUInt16BE(8);
  const arcount = msg.readUInt16BE(10);

  // A function declaration, not a closure, so the common path allocates nothing for it.
  function error(rcode: number, reason: string, questionEnd: number, hadEdns: boolean): Decoded {
    return { kind: 'error', rcode, reason, id, opcode, rd, questionEnd, hadEdns };
  }

  let questionEnd = 0;
  const nameEnd = qdcount === 1 ? scanUncompressedName(msg, HEADER_LEN, len) : -1;
  if (nameEnd > 0 && nameEnd + 4 <= len) questionEnd = nameEnd + 4;

  if (opcode !== Opcode.QUERY) {
    return error(
      Rcode.NOTIMP,
      `opcode ${opcode} not implemented`,
      questionEnd,
      sendsOpt(msg, qdcount, questionEnd, ancount + nscount, arcount),
    );
  }
  if (qdcount !== 1)
    return error(
      Rcode.FORMERR,
      `QDCOUNT is ${qdcount}, expected 1`,
      0,
      sendsOpt(msg, qdcount, questionEnd, ancount + nscount, arcount),
    );
  if (questionEnd === 0) return error(Rcode.FORMERR, 'question unreadable', 0, false);

  let off = skipRecords(msg, questionEnd, ancount + nscount);
  if (off === TSIG_MISPLACED) return error(Rcode.FORMERR, TSIG_NOT_LAST, questionEnd, false);
  if (off < 0) return error(Rcode.FORMERR, 'answer or authority section unreadable', questionEnd, false);

  let edns: Edns | null = null;
  let tsig: TsigRequest | null = null;
  let sawOpt = false;
  for (let i = 0; i < arcount; i++) {
    const rrStart = off;
    off = skipName(msg, off, len);
    if (off < 0 || off + 10 > len) return error(Rcode.FORMERR, 'additional section unreadable', questionEnd, sawOpt);
    const type = msg.readUInt16BE(off);
    const rdlength = msg.readUInt16BE(off + 8);
    const rdata = off + 10;
    if (rdata + rdlength > len) return error(Rcode.FORMERR, 'RDATA runs past the message', questionEnd, sawOpt);
    if (type === Type.OPT) {
      if (sawOpt) return error(Rcode.FORMERR, 'more than one OPT record', questionEnd, true);
      sawOpt = true;
      if (msg[rrStart] !== 0 || off !== rrStart + 1)
        return error(Rcode.FORMERR, 'OPT owner is not the root', questionEnd, true);
      const parsed = parseOpt(msg, off, rdata, rdlength);
      if (parsed instanceof Malformed) return error(Rcode.FORMERR, parsed.reason, questionEnd, true);
      edns = parsed;
    } else if (type === TSIG_TYPE) {
      // RFC 8945 §5.2: a TSIG anywhere but last is FORMERR.
      if (i !== arcount - 1) return error(Rcode.FORMERR, TSIG_NOT_LAST, questionEnd, sawOpt);
      const parsed = parseTsig(msg, rrStart, off, rdata, rdlength);
      if (typeof parsed === 'string') return error(Rcode.FORMERR, parsed, questionEnd, sawOpt);
      tsig = parsed;
    }
    off = rdata + rdlength;
  }
  if (off !== len) return error(Rcode.FORMERR, 'trailing bytes after the last record', questionEnd, sawOpt);

  return {
    kind: 'query',
    query: {
      id,
      opcode,
      rd,
      cd: (flags & Flag.CD) !== 0,
      qnameKey: keyOfWire(msg, HEADER_LEN, nameEnd - 1),
      qtype: msg.readUInt16BE(nameEnd),
      qclass: msg.readUInt16BE(nameEnd + 2),
      questionEnd,
      edns,
      tsig,
    },
  };
}

/**
 * Best effort for error replies: does the message carry an OPT? (RFC 6891 §7 wants an OPT in the
 * reply then, even when the query itself is not one we answer.) Unreadable means no.
 */
function sendsOpt(msg: Buffer, qdcount: number, questionEnd: number, skip: number, arcount: number): boolean {
  let off = qdcount === 0 ? HEADER_LEN : qdcount === 1 && questionEnd > 0 ? questionEnd : -1;
  if (off < 0) return false;
  off = skipRecords(msg, off, skip);
  for (let i = 0; i < arcount && off >= 0; i++) {
    const fixed = skipName(msg, off, msg.length);
    if (fixed < 0 || fixed + 10 > msg.length) return false;
    if (msg.readUInt16BE(fixed) === Type.OPT) return true;
    off = fixed + 10 + msg.readUInt16BE(fixed + 8);
  }
  return false;
}

const TSIG_NOT_LAST = 'TSIG is not the last record (RFC 8945 §5.2)';
/** `skipRecords` met a TSIG, which belongs only at the end of the additional section. */
const TSIG_MISPLACED = -2;

/**
 * Skips `count` resource records starting at `off`; -1 when one is malformed, TSIG_MISPLACED
 * when one is a TSIG (these are answer and authority records).
 */
function skipRecords(msg: Buffer, off: number, count: number): number {
  for (let i = 0; i < count; i++) {
    off = skipName(msg, off, msg.length);
    if (off < 0 || off + 10 > msg.length) return -1;
    if (msg.readUInt16BE(off) === TSIG_TYPE) return TSIG_MISPLACED;
    off += 10 + msg.readUInt16BE(off + 8);
    if (off > msg.length) return -1;
  }
  return off;
}

/** `fixed` points at the OPT's TYPE field; `rdata` at its options. */
function parseOpt(msg: Buffer, fixed: number, rdata: number, rdlength: number): Edns | Malformed {
  const udpSize = Math.max(MIN_UDP_PAYLOAD, msg.readUInt16BE(fixed + 2));
  const version = msg[fixed + 5]!;
  const dnssecOk = (msg[fixed + 6]! & 0x80) !== 0;
  let nsid = false;
  let clientSubnet: ClientSubnet | null = null;
  let cookieAt = -1;
  let cookieLength = 0;
  const end = rdata + rdlength;
  let off = rdata;
  while (off < end) {
    if (off + 4 > end) return new Malformed('truncated EDNS option header');
    const code = msg.readUInt16BE(off);
    const optLen = msg.readUInt16BE(off + 2);
    const value = off + 4;
    if (value + optLen > end) return new Malformed('EDNS option runs past the OPT record');
    if (code === EdnsOption.NSID) {
      nsid = true;
    } else if (code === EdnsOption.ECS) {
      if (clientSubnet) return new Malformed('more than one Client Subnet option');
      const ecs = parseClientSubnet(msg, value, optLen);
      if (ecs instanceof Malformed) return ecs;
      clientSubnet = ecs;
    } else if (code === EdnsOption.COOKIE) {
      if (cookieAt >= 0) return new Malformed('more than one COOKIE option');
      // RFC 7873 §5.2.2: a client cookie of 8 bytes, then no server cookie or one of 8 to 32.
      if (optLen !== 8 && (optLen < 16 || optLen > 40))
        return new Malformed(`COOKIE option of ${optLen} bytes (8, or 16 to 40; RFC 7873 §4)`);
      cookieAt = value;
      cookieLength = optLen;
    }
    // Unknown options are ignored (RFC 6891 §6.1.2).
    off = value + optLen;
  }
  return { udpSize, version, dnssecOk, nsid, clientSubnet, cookieAt, cookieLength };
}

/** RFC 7871 §6 and §7.1.1: anything inconsistent is FORMERR. */
function parseClientSubnet(msg: Buffer, off: number, len: number): ClientSubnet | Malformed {
  if (len < 4) return new Malformed('Client Subnet option shorter than 4 bytes');
  const family = msg.readUInt16BE(off);
  const sourcePrefix = msg[off + 2]!;
  const scopePrefix = msg[off + 3]!;
  if (family !== 1 && family !== 2) return new Malformed(`Client Subnet family ${family} unknown`);
  const maxPrefix = family === 1 ? 32 : 128;
  if (sourcePrefix > maxPrefix)
    return new Malformed(`Client Subnet source prefix ${sourcePrefix} exceeds ${maxPrefix}`);
  if (scopePrefix !== 0) return new Malformed('Client Subnet scope prefix must be 0 in a query');
  const addrLen = len - 4;
  if (addrLen !== Math.ceil(sourcePrefix / 8)) {
    return new Malformed(
      `Client Subnet address is ${addrLen} bytes, source prefix ${sourcePrefix} needs ${Math.ceil(sourcePrefix / 8)}`,
    );
  }
  const spareBits = addrLen * 8 - sourcePrefix;
  if (spareBits > 0 && (msg[off + 4 + addrLen - 1]! & ((1 << spareBits) - 1)) !== 0) {
    return new Malformed('Client Subnet address has bits set beyond the source prefix');
  }
  return { family, sourcePrefix, scopePrefix, address: Buffer.from(msg.subarray(off + 4, off + 4 + addrLen)) };
}
