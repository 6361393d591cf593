// Queries carrying a TSIG record (RFC 8945 §4.2), built byte by byte: dns-packet cannot write
// TSIG. The MAC is random bytes: Meridian holds no keys, so it never checks one.
import dnsPacket from 'dns-packet';

export interface TsigFields {
  /** Presentation names, e.g. 'nokey.' and 'hmac-sha256.'. */
  keyName?: string;
  algorithm?: string;
  timeSigned?: number;
  fudge?: number;
  originalId?: number;
  macSize?: number;
  /** Record class and TTL: RFC 8945 wants ANY (255) and 0. */
  cls?: number;
  ttl?: number;
  /** Replaces the key name's wire bytes (e.g. a compression pointer). */
  ownerWire?: Buffer;
}

export function nameWire(name: string): Buffer {
  const labels = name.split('.').filter(Boolean);
  return Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
}

/** One TSIG resource record. */
export function tsigRecord(f: TsigFields = {}): Buffer {
  const alg = nameWire(f.algorithm ?? 'hmac-sha256.');
  const macSize = f.macSize ?? 32;
  const rdata = Buffer.alloc(alg.length + 16 + macSize);
  alg.copy(rdata, 0);
  let off = alg.length;
  const time = f.timeSigned ?? 1_796_600_000;
  rdata.writeUInt16BE(Math.floor(time / 2 ** 32), off);
  rdata.writeUInt32BE(time % 2 ** 32, off + 2);
  rdata.writeUInt16BE(f.fudge ?? 300, off + 6);
  rdata.writeUInt16BE(macSize, off + 8);
  off += 10;
  rdata.fill(0xab, off, off + macSize);
  off += macSize;
  rdata.writeUInt16BE(f.originalId ?? 0x1234, off);
  // Error 0, other length 0.
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(250, 0);
  fixed.writeUInt16BE(f.cls ?? 255, 2);
  fixed.writeUInt32BE(f.ttl ?? 0, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([f.ownerWire ?? nameWire(f.keyName ?? 'nokey.'), fixed, rdata]);
}

/**
 * A query for `name` A with `records` appended to its additional section in order (each a whole
 * RR's bytes: tsigRecord(), OPT_RECORD); ARCOUNT counts them.
 */
export function queryWith(records: Buffer[], name = 'www.example.test', id = 0x1234, rd = true): Buffer {
  const base = dnsPacket.encode({
    type: 'query',
    id,
    flags: rd ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: 'A', name, class: 'IN' }],
  });
  const msg = Buffer.concat([base, ...records]);
  msg.writeUInt16BE(records.length, 10);
  return msg;
}

/** An EDNS(0) OPT record with no options, payload 1232. */
export const OPT_RECORD = Buffer.from('00002904d0000000000000', 'hex');
