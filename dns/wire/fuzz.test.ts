// Property tests of the hostile-input contract: the decoder and the whole query handler never
// throw, never stall, and always answer with something a standard client can parse.
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import dnsPacket from 'dns-packet';
import { decodeQuery } from './decode.js';
import { Rcode } from './constants.js';
import type { Decoded } from './query.js';
import { QueryHandler, TCP, UDP, type TransportId } from '../server/handle-query.js';
import { buildServingState } from '../server/state.js';
import { loadDnsConfig } from '../config.js';

const SEED = 0x6d657269; // 'meri'
const DEMO_CONFIG = fileURLToPath(new URL('../testdata/static-zone.yaml', import.meta.url));
/** The resolver address handed to the handler (a documentation address). */
const CLIENT_IP = '192.0.2.1';
const MAX_UDP_PAYLOAD = 1232; // dns/testdata/static-zone.yaml
const STALL_MS = 50;

type LoosePacket = Parameters<typeof dnsPacket.encode>[0];
const encode = (packet: object): Buffer => dnsPacket.encode(packet as LoosePacket);
const decodedBytes = (): number => (dnsPacket.decode as unknown as { bytes: number }).bytes;

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

const QTYPES = [
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

const ecsOption = fc.oneof(
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

const validQuery = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    rd: fc.boolean(),
    cd: fc.boolean(),
    name: qname,
    type: fc.constantFrom(...QTYPES),
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

type Mutation =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'truncate'; pos: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'delete'; pos: number; count: number }
  | { kind: 'set'; pos: number; byte: number }
  | { kind: 'count'; field: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
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

function mutate(original: Buffer, mutations: readonly Mutation[]): Buffer {
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

const mutatedQuery = fc
  .tuple(validQuery, fc.array(mutation, { minLength: 0, maxLength: 4 }))
  .map(([q, ms]) => mutate(q, ms));

/** A header that passes the first checks (QR=0, opcode 0, QDCOUNT 1), then random bytes. */
const plausibleGarbage = fc
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
const randomBytes = fc
  .oneof(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.uint8Array({ minLength: 0, maxLength: 600, size: 'max' }))
  .map((b) => Buffer.from(b));

// ---- checks ----------------------------------------------------------------------------------

/** Runs decodeQuery and checks the outcome is one of the three, consistent with the input. */
function checkDecode(msg: Buffer): Decoded {
  const copy = Buffer.from(msg);
  let d: Decoded;
  expect(() => {
    d = decodeQuery(msg);
  }).not.toThrow();
  d = d!;
  expect(msg.equals(copy), 'decodeQuery must not modify its input').toBe(true);
  const isResponse = msg.length >= 12 && (msg[2]! & 0x80) !== 0;
  switch (d.kind) {
    case 'drop':
      expect(msg.length < 12 || isResponse).toBe(true);
      break;
    case 'error':
      expect(msg.length >= 12 && !isResponse).toBe(true);
      expect([Rcode.FORMERR, Rcode.NOTIMP]).toContain(d.rcode);
      expect(d.id).toBe(msg.readUInt16BE(0));
      expect(d.opcode).toBe((msg[2]! >> 3) & 0xf);
      expect(d.rcode === Rcode.NOTIMP).toBe(d.opcode !== 0);
      expect(d.questionEnd === 0 || (d.questionEnd >= 12 + 1 + 4 && d.questionEnd <= msg.length)).toBe(true);
      break;
    case 'query': {
      const q = d.query;
      expect(q.id).toBe(msg.readUInt16BE(0));
      expect(q.opcode).toBe(0);
      expect(msg.readUInt16BE(4)).toBe(1);
      expect(q.questionEnd).toBeGreaterThanOrEqual(17);
      expect(q.questionEnd).toBeLessThanOrEqual(msg.length);
      expect(q.qnameKey.length).toBe(q.questionEnd - 12 - 5);
      expect(q.qnameKey.length).toBeLessThanOrEqual(254);
      expect(q.qnameKey).toBe(q.qnameKey.replace(/[A-Z]/g, (c) => c.toLowerCase()));
      if (q.edns) {
        expect(q.edns.udpSize).toBeGreaterThanOrEqual(512);
        const ecs = q.edns.clientSubnet;
        if (ecs) {
          expect(ecs.address.length).toBe(Math.ceil(ecs.sourcePrefix / 8));
          expect(ecs.scopePrefix).toBe(0);
        }
      }
      break;
    }
    default:
      throw new Error(`unknown outcome ${JSON.stringify(d)}`);
  }
  return d;
}

describe('decodeQuery never throws', () => {
  it('on arbitrary bytes (0–600)', () => {
    const kinds = { query: 0, drop: 0, error: 0 };
    fc.assert(
      fc.property(randomBytes, (msg) => {
        kinds[checkDecode(msg).kind]++;
      }),
      { seed: SEED, numRuns: 3000 },
    );
    expect(kinds.drop).toBeGreaterThan(100);
    expect(kinds.error).toBeGreaterThan(100);
  });

  it('on a plausible header followed by arbitrary bytes', () => {
    fc.assert(
      fc.property(plausibleGarbage, (msg) => void checkDecode(msg)),
      { seed: SEED + 1, numRuns: 2000 },
    );
  });

  it('on unmutated valid queries, which all decode as queries', () => {
    fc.assert(
      fc.property(validQuery, (msg) => {
        expect(checkDecode(msg).kind).toBe('query');
      }),
      { seed: SEED + 2, numRuns: 500 },
    );
  });

  it('on mutated valid queries (bit flips, truncation, insertions, deletions, random counts)', () => {
    const kinds = { query: 0, drop: 0, error: 0 };
    fc.assert(
      fc.property(mutatedQuery, (msg) => {
        kinds[checkDecode(msg).kind]++;
      }),
      { seed: SEED + 3, numRuns: 3000 },
    );
    // The mutations must not be so destructive that the interesting paths are never reached.
    expect(kinds.query).toBeGreaterThan(200);
    expect(kinds.error).toBeGreaterThan(200);
  });
});

describe('QueryHandler.handle on hostile input', () => {
  let handler: QueryHandler;
  let maxMs = 0;

  beforeAll(async () => {
    handler = new QueryHandler(buildServingState(await loadDnsConfig(DEMO_CONFIG)));
    // Warm up so the first measured calls are not JIT compilation.
    const warm = fc.sample(validQuery, { seed: SEED, numRuns: 200 });
    for (const q of warm) handler.handle(q, UDP, CLIENT_IP);
  });

  function checkHandle(msg: Buffer, transport: TransportId): void {
    const copy = Buffer.from(msg);
    let res: Buffer | null = null;
    const t0 = performance.now();
    try {
      res = handler.handle(msg, transport, CLIENT_IP);
    } catch (e) {
      throw new Error(`handle threw on ${msg.toString('hex')}: ${(e as Error).stack}`);
    }
    const ms = performance.now() - t0;
    if (ms > maxMs) maxMs = ms;
    expect(msg.equals(copy), 'handle must not modify its input').toBe(true);

    const unanswerable = msg.length < 12 || (msg[2]! & 0x80) !== 0;
    if (res === null) {
      expect(unanswerable, `null for an answerable message ${msg.toString('hex')}`).toBe(true);
      return;
    }
    expect(unanswerable).toBe(false);
    let decoded: ReturnType<typeof dnsPacket.decode>;
    try {
      decoded = dnsPacket.decode(res);
    } catch (e) {
      throw new Error(
        `dns-packet cannot decode the response ${res.toString('hex')} to ${msg.toString('hex')}: ${(e as Error).message}`,
      );
    }
    expect(decodedBytes(), 'response has trailing bytes').toBe(res.length);
    expect(decoded.flag_qr).toBe(true);
    expect(decoded.id).toBe(msg.readUInt16BE(0));
    // RD is echoed for QUERY only (RFC 1035 §4.1.1).
    expect(decoded.flag_rd).toBe((msg[2]! & 0x01) !== 0 && (msg[2]! & 0x78) === 0);
    expect(decoded.flag_ra).toBe(false);
    expect((res[2]! >> 3) & 0xf, 'opcode echoed').toBe((msg[2]! >> 3) & 0xf);
    // A question, when echoed, is the query's bytes verbatim (case included).
    const qd = res.readUInt16BE(4);
    expect(qd === 0 || qd === 1).toBe(true);
    if (qd === 1) {
      const d = decodeQuery(msg);
      const questionEnd = d.kind === 'query' ? d.query.questionEnd : d.kind === 'error' ? d.questionEnd : 0;
      expect(questionEnd).toBeGreaterThan(0);
      expect(res.subarray(12, questionEnd).equals(msg.subarray(12, questionEnd))).toBe(true);
    }
    if (transport === UDP) {
      expect(res.length).toBeLessThanOrEqual(MAX_UDP_PAYLOAD);
      const d = decodeQuery(msg);
      if (d.kind === 'query' && d.query.edns === null) expect(res.length).toBeLessThanOrEqual(512);
      if (d.kind === 'query' && d.query.edns)
        expect(res.length).toBeLessThanOrEqual(Math.min(d.query.edns.udpSize, MAX_UDP_PAYLOAD));
    }
  }

  const transport = fc.constantFrom<TransportId>(UDP, TCP);

  it('answers valid queries with parseable responses', () => {
    fc.assert(
      fc.property(validQuery, transport, (msg, t) => checkHandle(msg, t)),
      { seed: SEED + 4, numRuns: 1500 },
    );
  });

  it('never throws on mutated queries and answers with parseable responses or nothing', () => {
    fc.assert(
      fc.property(mutatedQuery, transport, (msg, t) => checkHandle(msg, t)),
      { seed: SEED + 5, numRuns: 3000 },
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes, plausibleGarbage), transport, (msg, t) => checkHandle(msg, t)),
      {
        seed: SEED + 6,
        numRuns: 2000,
      },
    );
  });

  it(`never stalls: every call returned within ${STALL_MS} ms`, () => {
    // Runs after the properties above (vitest runs a file's tests in order).
    expect(maxMs).toBeGreaterThan(0);
    expect(maxMs).toBeLessThan(STALL_MS);
  });
});
