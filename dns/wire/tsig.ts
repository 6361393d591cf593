// TSIG (RFC 8945) as far as a server with no keys needs it: read the request's TSIG record, and
// write the unsigned error record that answers it (§5.3.2). Off the hot path: a query without a
// TSIG never reaches this file.
import { Class, TSIG_TYPE } from './constants.js';
import { expandName, scanUncompressedName } from './name.js';
import type { MessageWriter } from './writer.js';

/** What an error answer copies from the request's TSIG (RFC 8945 §4.2). */
export interface TsigRequest {
  /** The key's name (the record's owner), uncompressed wire bytes as sent. */
  readonly keyName: Buffer;
  /** The algorithm's name, uncompressed wire bytes as sent. */
  readonly algorithm: Buffer;
  /** Seconds since the epoch (48 bits). */
  readonly timeSigned: number;
  readonly fudge: number;
  readonly originalId: number;
}

const TWO_32 = 2 ** 32;

/**
 * `rrStart` is the record's owner name, `fixed` its TYPE field, `rdata` its RDATA. Returns the
 * request's fields, or why the record is malformed (the caller answers FORMERR).
 */
export function parseTsig(
  msg: Buffer,
  rrStart: number,
  fixed: number,
  rdata: number,
  rdlength: number,
): TsigRequest | string {
  if (msg.readUInt16BE(fixed + 2) !== Class.ANY) return 'TSIG class is not ANY (RFC 8945 §4.2)';
  if (msg.readUInt32BE(fixed + 4) !== 0) return 'TSIG TTL is not 0 (RFC 8945 §4.2)';
  const keyName = expandName(msg, rrStart, fixed);
  if (!keyName) return 'TSIG key name unreadable';
  const end = rdata + rdlength;
  // The algorithm name "MUST NOT be compressed" (RFC 8945 §4.2, RFC 3597 §4).
  const algEnd = scanUncompressedName(msg, rdata, end);
  if (algEnd < 0) return 'TSIG algorithm name unreadable or compressed';
  if (algEnd + 10 > end) return 'TSIG RDATA cut short';
  const timeSigned = msg.readUInt16BE(algEnd) * TWO_32 + msg.readUInt32BE(algEnd + 2);
  const fudge = msg.readUInt16BE(algEnd + 6);
  const macEnd = algEnd + 10 + msg.readUInt16BE(algEnd + 8);
  if (macEnd + 6 > end) return 'TSIG MAC runs past the RDATA';
  const originalId = msg.readUInt16BE(macEnd);
  const otherEnd = macEnd + 6 + msg.readUInt16BE(macEnd + 4);
  if (otherEnd !== end) return 'TSIG other data does not end the RDATA';
  return {
    keyName,
    algorithm: Buffer.from(msg.subarray(rdata, algEnd)),
    timeSigned,
    fudge,
    originalId,
  };
}

/** Bytes `writeTsigError` writes. */
export function tsigErrorLength(req: TsigRequest): number {
  return req.keyName.length + 10 + req.algorithm.length + 16;
}

/**
 * The unsigned TSIG record of an error answer (RFC 8945 §5.3.2): key name, algorithm, time
 * signed and fudge copied from the request, MAC size 0, the request's original ID, `error`, and
 * no other data. Names are written uncompressed, as the request's own algorithm name must be.
 */
export function writeTsigError(w: MessageWriter, req: TsigRequest, error: number): void {
  w.bytes(req.keyName);
  w.u16(TSIG_TYPE);
  w.u16(Class.ANY);
  w.u32(0);
  w.u16(req.algorithm.length + 16);
  w.bytes(req.algorithm);
  w.u16(Math.floor(req.timeSigned / TWO_32));
  w.u32(req.timeSigned % TWO_32);
  w.u16(req.fudge);
  w.u16(0);
  w.u16(req.originalId);
  w.u16(error);
  w.u16(0);
}
