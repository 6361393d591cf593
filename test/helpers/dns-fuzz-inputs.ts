// DNS inputs for fuzzing, shared by the in-process codec fuzz (dns/wire/fuzz.test.ts) and the
// campaign against the real server (test/security/dns-fuzz-campaign.test.ts): fast-check
// arbitraries for valid queries as real clients send them (EDNS, Client Subnet, cookies, NSID,
// names in and around the demo zone in random case) and the mutations applied to them.
import fc from 'fast-check';
import dnsPacket from 'dns-packet';

type LoosePacket = Parameters<typeof dnsPacket.encode>[0];
const encode = (packet: object): Buffer => dnsPacket.encode(packet as LoosePacket);

// ---- arbitraries: valid queries, as a real client would send them ----------------------------

const LDH = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-'];
const label = fc.string({ unit: fc.constantFrom(...LDH), minLength: 1, maxLength: 24 });
const randomName = fc.array(label, { minLength: 1, maxLength: 5 }).map((labels) => labels.join('.'));

const DEMO_NAMES = [
  'demo.test',
  'www.demo.test',
  'docs.demo.test',
  'static.demo.test',
  'status.demo.test',
  'api.demo.test',
  'mail.demo.test',
  'ns1.demo.test',
  'ns2.demo.test',
  '_https._tcp.demo.test',
  '_tcp.demo.test',
  '_dmarc.demo.test',
  'lab.demo.test',
  'ns.lab.demo.test',
  'x.lab.demo.test',
  'cdn.demo.test',
  'foo.cdn.demo.test',
  'nope.demo.test',
  'id.server',
  'hostname.bind',
  'version.bind',
  '.',
];

function randomCase(name: string): fc.Arbitrary<string> {
  return fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((upper) => [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
}

/** Names in (and around) the demo zone in random case, so answers, not only REFUSED, are fuzzed. */
const demoName = fc
  .tuple(fc.constantFrom(...DEMO_NAMES), fc.option(label, { freq: 3 }))
  .map(([base, prefix]) => (prefix === null ? base : base === '.' ? prefix : `${prefix}.${base}`))
  .chain(randomCase);

const qname = fc.oneof(randomName, demoName);

/** Question types the generators draw from: common, meta (ANY, OPT, AXFR, IXFR) and unknown. */
export const QUESTION_TYPES = [
  'A',
  'AAAA',
  'NS',
  'SOA',
  'MX',
  'TXT',
  'SRV',
  'CAA',
  'CNAME',
  'PTR',
  'ANY',
  'DS',
  'HINFO',
  'TLSA',
  'OPT',
  'AXFR',
  'IXFR',
  'UNKNOWN_64',
  'UNKNOWN_65',
  'UNKNOWN_253',
  'UNKNOWN_254',
  'UNKNOWN_65280',
];
const QCLASSES = ['IN', 'IN', 'IN', 'IN', 'CH', 'ANY', 'HS'];

function masked(bytes: Uint8Array, prefix: number): number[] {
  return [...bytes].map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
}

/** An EDNS Client Subnet option (RFC 7871) as dns-packet writes it: IPv4 or IPv6, address masked to its prefix. */
export const ecsOption = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 32 }), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([prefix, b]) => ({
    code: 8,
    family: 1,
    sourcePrefixLength: prefix,
    scopePrefixLength: 0,
    ip: masked(b, prefix).join('.'),
  })),
  fc.tuple(fc.integer({ min: 0, max: 128 }), fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([prefix, b]) => {
    const m = masked(b, prefix);
    const groups = Array.from({ length: 8 }, (_, i) => ((m[2 * i]! << 8) | m[2 * i + 1]!).toString(16));
    return { code: 8, family: 2, sourcePrefixLength: prefix, scopePrefixLength: 0, ip: groups.join(':') };
  }),
);

const ednsOptions = fc
  .record({
    ecs: fc.option(ecsOption),
    nsid: fc.boolean(),
    unknown: fc.option(
      fc.oneof(
        fc.record({ code: fc.constantFrom(12, 15, 65001), data: fc.uint8Array({ maxLength: 16 }) }),
        // COOKIE (RFC 7873): a client cookie, with or without a server cookie.
        fc.record({
          code: fc.constant(10),
          data: fc.oneof(
            fc.uint8Array({ minLength: 8, maxLength: 8 }),
            fc.uint8Array({ minLength: 16, maxLength: 40 }),
          ),
        }),
      ),
    ),
  })
  .chain(({ ecs, nsid, unknown }) => {
    const opts: object[] = [];
    if (ecs) opts.push(ecs);
    if (nsid) opts.push({ code: 3, data: Buffer.alloc(0) });
    if (unknown) opts.push({ code: unknown.code, data: Buffer.from(unknown.data) });
    return fc.shuffledSubarray(opts, { minLength: opts.length, maxLength: opts.length });
  });

const edns = fc.option(
  fc.record({
    udpPayloadSize: fc.oneof(fc.constantFrom(512, 1232, 4096), fc.integer({ min: 1, max: 65535 })),
    ednsVersion: fc.oneof(
      { arbitrary: fc.constant(0), weight: 5 },
      { arbitrary: fc.integer({ min: 1, max: 255 }), weight: 1 },
    ),
    dnssecOk: fc.boolean(),
    options: ednsOptions,
  }),
  { freq: 2 },
);

export const validQuery = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    rd: fc.boolean(),
    cd: fc.boolean(),
    name: qname,
    type: fc.constantFrom(...QUESTION_TYPES),
    cls: fc.constantFrom(...QCLASSES),
    edns,
  })
  .map((q) =>
    encode({
      type: 'query',
      id: q.id,
      flags: (q.rd ? dnsPacket.RECURSION_DESIRED : 0) | (q.cd ? dnsPacket.CHECKING_DISABLED : 0),
      questions: [{ name: q.name, type: q.type, class: q.cls }],
      additionals: q.edns
        ? [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: q.edns.udpPayloadSize,
              ednsVersion: q.edns.ednsVersion,
              flags: q.edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
              options: q.edns.options,
            },
          ]
        : [],
    }),
  );

// ---- mutations -------------------------------------------------------------------------------

export type Mutation =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'truncate'; pos: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'delete'; pos: number; count: number }
  | { kind: 'set'; pos: number; byte: number }
  | { kind: 'count'; field: number; value: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    pos: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  // Bytes that mean something to a DNS parser: label-length edges, pointer prefix, OPT, ECS.
  fc.record({
    kind: fc.constant('set' as const),
    pos: fc.nat(),
    byte: fc.constantFrom(0x00, 0x01, 0x3f, 0x40, 0x80, 0xbf, 0xc0, 0xff, 0x29, 0x08, 0x03),
  }),
  fc.record({
    kind: fc.constant('count' as const),
    field: fc.integer({ min: 0, max: 3 }),
    value: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffff })),
  }),
);

export function mutate(original: Buffer, mutations: readonly Mutation[]): Buffer {
  let msg = Buffer.from(original);
  for (const m of mutations) {
    const len = msg.length;
    switch (m.kind) {
      case 'flip':
        if (len > 0) msg[m.pos % len]! ^= 1 << m.bit;
        break;
      case 'truncate':
        msg = msg.subarray(0, m.pos % (len + 1));
        break;
      case 'insert': {
        const at = m.pos % (len + 1);
        msg = Buffer.concat([msg.subarray(0, at), m.bytes, msg.subarray(at)]);
        break;
      }
      case 'delete': {
        const at = len === 0 ? 0 : m.pos % len;
        msg = Buffer.concat([msg.subarray(0, at), msg.subarray(at + m.count)]);
        break;
      }
      case 'set':
        if (len > 0) msg[m.pos % len] = m.byte;
        break;
      case 'count':
        if (len >= 12) msg.writeUInt16BE(m.value, 4 + 2 * m.field);
        break;
    }
  }
  return Buffer.from(msg);
}

export const mutatedQuery = fc
  .tuple(validQuery, fc.array(mutation, { minLength: 0, maxLength: 4 }))
  .map(([q, ms]) => mutate(q, ms));

/** A header that passes the first checks (QR=0, opcode 0, QDCOUNT 1), then random bytes. */
export const plausibleGarbage = fc
  .tuple(
    fc.integer({ min: 0, max: 0xffff }),
    fc.uint8Array({ minLength: 4, maxLength: 4 }),
    fc.uint8Array({ maxLength: 588 }),
  )
  .map(([id, counts, body]) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(id, 0);
    h.writeUInt16BE(0x0100, 2);
    h.writeUInt16BE(1, 4);
    h.writeUInt16BE(counts[0]! & 3, 6);
    h.writeUInt16BE(counts[1]! & 3, 8);
    h.writeUInt16BE(counts[2]! & 3, 10);
    return Buffer.concat([h, body]);
  });

// fast-check keeps arrays short by default; `size: 'max'` spreads lengths over the whole range.
export const randomBytes = fc
  .oneof(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.uint8Array({ minLength: 0, maxLength: 600, size: 'max' }))
  .map((b) => Buffer.from(b));
