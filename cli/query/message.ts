// The query `meridian query` sends (EDNS(0) with an NSID request and, when asked, a Client
// Subnet) and the reply read back into plain data that prints as text or JSON. dns-packet is
// the codec: it is independent of the server's own, so the CLI does not share its bugs.
import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import type { ClientSubnet } from './args.js';
import { absolute, rdataText } from './rdata.js';
import { fromPacketType } from './types.js';

/** What we advertise: the DNS Flag Day 2020 size, which the server also uses by default. */
export const UDP_PAYLOAD_SIZE = 1232;

const OPTION_NSID = 3;
const OPTION_CLIENT_SUBNET = 8;
const FLAG_TC = 1 << 9;

export interface QuerySpec {
  readonly name: string;
  readonly type: number;
  readonly subnet: ClientSubnet | null;
}

export interface ResourceRecord {
  readonly name: string;
  readonly ttl: number;
  readonly class: string;
  readonly type: string;
  /** Master-file text of the data. */
  readonly data: string;
}

export interface EdnsInfo {
  readonly version: number;
  readonly udpPayloadSize: number;
  /** The Client Subnet option as echoed; scopePrefix is the network the answer holds for. */
  readonly clientSubnet: { family: number; address: string; sourcePrefix: number; scopePrefix: number } | null;
  /** The server's NSID: text when printable, always as hex. */
  readonly nsid: { text: string | null; hex: string } | null;
  /** Other option codes the server sent back. */
  readonly otherOptions: number[];
}

export interface DnsReply {
  readonly id: number;
  readonly opcode: string;
  readonly rcode: string;
  /** Header flags that are set, in dig's order: qr aa tc rd ra ad cd. */
  readonly flags: string[];
  readonly question: { name: string; type: string; class: string }[];
  readonly answer: ResourceRecord[];
  readonly authority: ResourceRecord[];
  readonly additional: ResourceRecord[];
  /** null when the reply had no OPT record (a server without EDNS). */
  readonly edns: EdnsInfo | null;
}

export function buildQuery(spec: QuerySpec, id = randomInt(0, 65536)): Buffer {
  const options: unknown[] = [{ code: OPTION_NSID, data: Buffer.alloc(0) }];
  if (spec.subnet) {
    options.push({
      code: OPTION_CLIENT_SUBNET,
      family: spec.subnet.family === 4 ? 1 : 2,
      sourcePrefixLength: spec.subnet.prefix,
      scopePrefixLength: 0,
      ip: spec.subnet.address,
    });
  }
  return dnsPacket.encode({
    type: 'query',
    id,
    // RD as dig sets it: an authoritative server ignores it, a recursive one needs it.
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: spec.name, type: `UNKNOWN_${spec.type}` as dnsPacket.RecordType, class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: UDP_PAYLOAD_SIZE,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: options as dnsPacket.PacketOpt[],
      },
    ],
  });
}

export function queryId(wire: Buffer): number {
  return wire.readUInt16BE(0);
}

/** Whether a reply says it was truncated (read before decoding: a truncated reply may not decode). */
export function isTruncated(wire: Buffer): boolean {
  return wire.length >= 4 && (wire.readUInt16BE(2) & FLAG_TC) !== 0;
}

export class BadReply extends Error {}

export function readReply(wire: Buffer): DnsReply {
  let p: dnsPacket.DecodedPacket;
  try {
    p = dnsPacket.decode(wire);
  } catch (e) {
    throw new BadReply(`the reply (${wire.length} bytes) cannot be decoded: ${(e as Error).message}`);
  }
  const raw = p as unknown as { opcode?: string; questions?: { name: string; type: string; class: string }[] };
  const opt = (p.additionals ?? []).find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined;
  const lowRcode = wire.readUInt16BE(2) & 0xf;
  return {
    id: p.id ?? 0,
    opcode: raw.opcode ?? 'QUERY',
    rcode: rcodeName(((opt?.extendedRcode ?? 0) << 4) | lowRcode),
    flags: (['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const).filter(
      (f) => (p as unknown as Record<string, boolean>)[`flag_${f}`],
    ),
    question: (raw.questions ?? []).map((q) => ({
      name: absolute(q.name),
      type: fromPacketType(q.type),
      class: q.class,
    })),
    answer: records(p.answers),
    authority: records(p.authorities),
    additional: records((p.additionals ?? []).filter((a) => a.type !== 'OPT')),
    edns: opt ? ednsInfo(opt) : null,
  };
}

function records(list: dnsPacket.Answer[] | undefined): ResourceRecord[] {
  return (list ?? []).map((a) => {
    const r = a as unknown as { name: string; ttl?: number; class?: string; type: string; data?: unknown };
    const type = fromPacketType(r.type);
    return { name: absolute(r.name), ttl: r.ttl ?? 0, class: r.class ?? 'IN', type, data: rdataText(type, r.data) };
  });
}

function ednsInfo(opt: dnsPacket.OptAnswer): EdnsInfo {
  let clientSubnet: EdnsInfo['clientSubnet'] = null;
  let nsid: EdnsInfo['nsid'] = null;
  const otherOptions: number[] = [];
  // dns-packet decodes every option's code as a number and keeps its raw bytes in `data`.
  for (const o of opt.options as unknown as {
    code: number;
    data?: Buffer;
    family?: number;
    sourcePrefixLength?: number;
    scopePrefixLength?: number;
    ip?: string;
  }[]) {
    if (o.code === OPTION_CLIENT_SUBNET) {
      clientSubnet = {
        family: o.family ?? 0,
        address: o.ip ?? '',
        sourcePrefix: o.sourcePrefixLength ?? 0,
        scopePrefix: o.scopePrefixLength ?? 0,
      };
    } else if (o.code === OPTION_NSID) {
      const data = o.data ?? Buffer.alloc(0);
      nsid = {
        text: /^[\x20-\x7e]*$/.test(data.toString('latin1')) ? data.toString('latin1') : null,
        hex: data.toString('hex'),
      };
    } else {
      otherOptions.push(o.code);
    }
  }
  return { version: opt.ednsVersion, udpPayloadSize: opt.udpPayloadSize, clientSubnet, nsid, otherOptions };
}

const RCODES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];

function rcodeName(code: number): string {
  if (code === 16) return 'BADVERS';
  return RCODES[code] ?? `RCODE${code}`;
}
