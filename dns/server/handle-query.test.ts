// The query pipeline as a table: one row per case, query bytes and the resolver's address in,
// what a client sees out (rcode, header flags, the question as echoed, each section, the OPT with
// its ECS scope, TC). Calls QueryHandler.handle directly, no sockets; dns-packet reads the bytes.
import dnsPacket from 'dns-packet';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { testState } from '../answer/testdata/serving-state.js';
import { ResolverTable } from '../pop-health/resolvers.js';
import { DnsMetrics } from './metrics.js';
import { QueryHandler, TCP, UDP, type TransportId } from './handle-query.js';
import { metricValue } from '../../test/helpers/metric-value.js';
import { ServerCookies } from '../answer/cookies.js';
import { OPT_RECORD, nameWire, queryWith, tsigRecord } from '../wire/testdata/signed-query.js';

interface Ask {
  name: string;
  type?: string;
  /** A QTYPE dns-packet has no name for, written into the question afterwards. */
  qtype?: number;
  class?: string;
  id?: number;
  rd?: boolean;
  opcode?: number;
  /** EDNS(0) OPT: the advertised payload size and the rest. */
  edns?: { size?: number; version?: number; do?: boolean; nsid?: boolean; ecs?: string };
}

function query(a: Ask): Buffer {
  const options: unknown[] = [];
  if (a.edns?.nsid) options.push({ code: 3, data: Buffer.alloc(0) });
  if (a.edns?.ecs) {
    const [ip, prefix] = a.edns.ecs.split('/') as [string, string];
    options.push({
      code: 8,
      family: ip.includes(':') ? 2 : 1,
      sourcePrefixLength: Number(prefix),
      scopePrefixLength: 0,
      ip,
    });
  }
  const msg = dnsPacket.encode({
    type: 'query',
    id: a.id ?? 4660,
    flags: (a.rd === false ? 0 : dnsPacket.RECURSION_DESIRED) | ((a.opcode ?? 0) << 11),
    questions: [{ name: a.name, type: (a.type ?? 'A') as 'A', class: (a.class ?? 'IN') as 'IN' }],
    additionals: a.edns
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: a.edns.size ?? 1232,
            ednsVersion: a.edns.version ?? 0,
            flags: a.edns.do ? dnsPacket.DNSSEC_OK : 0,
            options,
          } as unknown as dnsPacket.Answer,
        ]
      : [],
  });
  // The question is the only one and starts at 12: QTYPE follows the QNAME's terminating zero.
  if (a.qtype !== undefined) msg.writeUInt16BE(a.qtype, msg.indexOf(0, 12) + 1);
  return msg;
}

type Rr = { name: string; type: string; ttl: number; data: unknown };

function dataText(rr: Rr): string {
  const d = rr.data as Record<string, unknown> & unknown[];
  switch (rr.type) {
    case 'MX':
      return `${d.preference} ${d.exchange}`;
    case 'TXT':
      return (d as Buffer[]).map((b) => JSON.stringify(b.toString())).join(' ');
    case 'SOA':
      return `${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    default:
      return String(rr.data);
  }
}

/** What a client sees; `opt` null when the response has none. */
function view(bytes: Buffer | null) {
  if (!bytes) return null;
  const r = dnsPacket.decode(bytes) as dnsPacket.DecodedPacket & Record<string, unknown>;
  const rrs = (list: dnsPacket.Answer[] | undefined) =>
    ((list ?? []) as Rr[])
      .filter((rr) => rr.type !== 'OPT')
      .map((rr) => `${rr.name} ${rr.type} ${rr.ttl} ${dataText(rr)}`);
  const opt = (r.additionals ?? []).find((rr) => rr.type === 'OPT') as
    (Record<string, unknown> & { options: Record<string, unknown>[] }) | undefined;
  const ecs = opt?.options.find((o) => o.code === 8);
  const nsid = opt?.options.find((o) => o.code === 3);
  const flags = ['qr', 'aa', 'tc', 'rd', 'ra'].filter((f) => r[`flag_${f}`]).join(' ');
  return {
    id: r.id,
    rcode: (bytes.readUInt16BE(2) & 0xf) | (Number(opt?.extendedRcode ?? 0) << 4),
    flags,
    question: (r.questions ?? []).map((q) => `${q.name} ${q.type} ${q.class}`),
    answer: rrs(r.answers),
    authority: rrs(r.authorities),
    additional: rrs(r.additionals),
    opt: opt
      ? {
          size: opt.udpPayloadSize,
          do: Boolean(opt.flag_do),
          ...(ecs && { ecs: `${ecs.ip}/${ecs.sourcePrefixLength}/${ecs.scopePrefixLength}` }),
          ...(nsid && { nsid: (nsid.data as Buffer).toString() }),
        }
      : null,
  };
}

const SOA = 'example.test SOA 60 ns1.example.test admin.example.test 1 7200 3600 1209600 60';

interface Row {
  case: string;
  /** Query fields, or raw bytes for malformed messages. */
  ask: Ask | Buffer;
  transport?: TransportId;
  /** The resolver's address (default 127.0.0.1, which no database places). */
  from?: string;
  out: Partial<NonNullable<ReturnType<typeof view>>> | null;
}

const NOERROR = 0;
const ROWS: Row[] = [
  // Static answers (precomputed templates).
  {
    case: 'static A, RD echoed, AA set, RA never',
    ask: { name: 'mail.example.test' },
    out: {
      id: 4660,
      rcode: NOERROR,
      flags: 'qr aa rd',
      question: ['mail.example.test A IN'],
      answer: ['mail.example.test A 3600 192.0.2.25'],
      authority: [],
      additional: [],
      opt: null,
    },
  },
  {
    case: 'static AAAA, RD clear stays clear',
    ask: { name: 'mail.example.test', type: 'AAAA', rd: false },
    out: { rcode: NOERROR, flags: 'qr aa', answer: ['mail.example.test AAAA 3600 2001:db8::25'] },
  },
  {
    case: 'static MX with additional addresses',
    ask: { name: 'example.test', type: 'MX' },
    out: {
      rcode: NOERROR,
      flags: 'qr aa rd',
      answer: ['example.test MX 3600 10 mail.example.test'],
      additional: ['mail.example.test A 3600 192.0.2.25', 'mail.example.test AAAA 3600 2001:db8::25'],
    },
  },
  {
    case: 'static TXT',
    ask: { name: 'txt.example.test', type: 'TXT' },
    out: { rcode: NOERROR, answer: ['txt.example.test TXT 3600 "hello"'] },
  },
  {
    case: 'CNAME chased in the zone',
    ask: { name: 'alias.example.test', type: 'TXT' },
    out: {
      rcode: NOERROR,
      flags: 'qr aa rd',
      answer: ['alias.example.test CNAME 3600 txt.example.test', 'txt.example.test TXT 3600 "hello"'],
    },
  },
  {
    case: 'wildcard, owned by the name asked',
    ask: { name: 'x.y.wild.example.test' },
    out: {
      rcode: NOERROR,
      flags: 'qr aa rd',
      question: ['x.y.wild.example.test A IN'],
      answer: ['x.y.wild.example.test A 3600 192.0.2.99'],
    },
  },
  {
    case: 'NXDOMAIN with the SOA',
    ask: { name: 'nope.example.test' },
    out: { rcode: 3, flags: 'qr aa rd', answer: [], authority: [SOA] },
  },
  {
    case: 'NODATA with the SOA',
    ask: { name: 'txt.example.test', type: 'MX' },
    out: { rcode: NOERROR, flags: 'qr aa rd', answer: [], authority: [SOA] },
  },
  {
    case: 'out of our zones: REFUSED, not authoritative',
    ask: { name: 'www.other.test' },
    out: { rcode: 5, flags: 'qr rd', question: ['www.other.test A IN'], answer: [], authority: [], additional: [] },
  },
  {
    case: 'zone transfer: REFUSED',
    ask: { name: 'example.test', type: 'AXFR' },
    out: { rcode: 5, flags: 'qr rd', answer: [] },
  },
  {
    case: 'QTYPE OPT in the question: FORMERR',
    ask: { name: 'example.test', type: 'OPT' },
    out: { rcode: 1, flags: 'qr rd', answer: [] },
  },
  { case: 'MAILB: NOTIMP', ask: { name: 'example.test', qtype: 253 }, out: { rcode: 4, flags: 'qr rd', answer: [] } },
  {
    case: 'class HS: REFUSED',
    ask: { name: 'mail.example.test', class: 'HS' },
    out: { rcode: 5, flags: 'qr rd', answer: [] },
  },

  // Case of the question preserved, in the echo and in compressed owners pointing at it.
  {
    case: 'QNAME case preserved on a static answer',
    ask: { name: 'MaIL.eXaMpLe.TeST' },
    out: { rcode: NOERROR, question: ['MaIL.eXaMpLe.TeST A IN'], answer: ['MaIL.eXaMpLe.TeST A 3600 192.0.2.25'] },
  },
  {
    case: 'QNAME case preserved on a routed answer',
    ask: { name: 'WWW.Example.Test', edns: { ecs: '203.0.113.0/24' } },
    out: { rcode: NOERROR, question: ['WWW.Example.Test A IN'], answer: ['WWW.Example.Test A 30 192.0.2.3'] },
  },

  // Routed names.
  {
    case: "routed A without ECS: the resolver's address decides (nets: Tokyo)",
    ask: { name: 'www.example.test' },
    from: '10.9.9.9',
    out: { rcode: NOERROR, flags: 'qr aa rd', answer: ['www.example.test A 30 192.0.2.3'], authority: [], opt: null },
  },
  {
    case: 'routed A without ECS, EDNS: no ECS option invented',
    ask: { name: 'www.example.test', edns: {} },
    from: '10.9.9.9',
    out: { rcode: NOERROR, answer: ['www.example.test A 30 192.0.2.3'], opt: { size: 1232, do: false } },
  },
  {
    case: 'routed A with ECS: the subnet decides, scope echoed',
    ask: { name: 'www.example.test', edns: { ecs: '198.51.100.0/24' } },
    from: '10.9.9.9',
    out: {
      rcode: NOERROR,
      answer: ['www.example.test A 30 192.0.2.1'],
      opt: { size: 1232, do: false, ecs: '198.51.100.0/24/24' },
    },
  },
  {
    case: 'routed AAAA with IPv6 ECS',
    ask: { name: 'www.example.test', type: 'AAAA', edns: { ecs: '2001:db8:1::/48' } },
    out: {
      rcode: NOERROR,
      answer: ['www.example.test AAAA 30 2001:db8:1::1'],
      opt: { size: 1232, do: false, ecs: '2001:db8:1::/48/48' },
    },
  },
  {
    case: 'ECS source prefix 0: scope 0 (RFC 7871 §7.1.2)',
    ask: { name: 'www.example.test', edns: { ecs: '0.0.0.0/0' } },
    from: '10.9.9.9',
    out: {
      rcode: NOERROR,
      answer: ['www.example.test A 30 192.0.2.3'],
      opt: { size: 1232, do: false, ecs: '0.0.0.0/0/0' },
    },
  },
  {
    case: 'routed AAAA with no address at the chosen PoP: NODATA, scope still echoed',
    ask: { name: 'www.example.test', type: 'AAAA', edns: { ecs: '203.0.113.0/24' } },
    out: { rcode: NOERROR, answer: [], authority: [SOA], opt: { size: 1232, do: false, ecs: '203.0.113.0/24/24' } },
  },
  {
    case: 'routed name via a CNAME, scope echoed',
    ask: { name: 'toroute.example.test', edns: { ecs: '198.51.100.0/24' } },
    out: {
      rcode: NOERROR,
      answer: ['toroute.example.test CNAME 3600 www.example.test', 'www.example.test A 30 192.0.2.1'],
      opt: { size: 1232, do: false, ecs: '198.51.100.0/24/24' },
    },
  },
  {
    case: 'routed wildcard',
    ask: { name: 'img.r.example.test', edns: { ecs: '198.51.100.0/24' } },
    out: {
      rcode: NOERROR,
      answer: ['img.r.example.test A 20 192.0.2.1'],
      opt: { size: 1232, do: false, ecs: '198.51.100.0/24/24' },
    },
  },
  {
    case: 'routed to an external CDN: a CNAME',
    ask: { name: 'multi.example.test' },
    out: { rcode: NOERROR, answer: ['multi.example.test CNAME 30 edge.other-cdn.example'] },
  },
  {
    case: "ECS narrower than the database network: the scope is the network's (the decision boundary)",
    ask: { name: 'www.example.test', edns: { ecs: '198.51.100.128/25' } },
    out: {
      rcode: NOERROR,
      answer: ['www.example.test A 30 192.0.2.1'],
      opt: { size: 1232, do: false, ecs: '198.51.100.128/25/24' },
    },
  },
  {
    case: 'static answer with ECS: scope 0 (the same for every client)',
    ask: { name: 'mail.example.test', edns: { ecs: '198.51.100.0/24' } },
    out: {
      rcode: NOERROR,
      answer: ['mail.example.test A 3600 192.0.2.25'],
      opt: { size: 1232, do: false, ecs: '198.51.100.0/24/0' },
    },
  },

  // EDNS (RFC 6891).
  {
    case: 'OPT echoed with our payload size, DO echoed (RFC 3225)',
    ask: { name: 'mail.example.test', edns: { size: 4096, do: true } },
    out: { rcode: NOERROR, answer: ['mail.example.test A 3600 192.0.2.25'], opt: { size: 1232, do: true } },
  },
  {
    case: 'NSID answered (RFC 5001)',
    ask: { name: 'mail.example.test', edns: { nsid: true } },
    out: { rcode: NOERROR, opt: { size: 1232, do: false, nsid: 'ns1.example.test' } },
  },
  {
    case: 'EDNS version 1: BADVERS with an OPT, no answer',
    ask: { name: 'mail.example.test', edns: { version: 1, do: true } },
    out: { rcode: 16, flags: 'qr rd', answer: [], authority: [], opt: { size: 1232, do: true } },
  },
  {
    case: 'REFUSED keeps the OPT, DO and ECS echo',
    ask: { name: 'www.other.test', edns: { do: true, ecs: '198.51.100.0/24' } },
    out: { rcode: 5, flags: 'qr rd', opt: { size: 1232, do: true, ecs: '198.51.100.0/24/0' } },
  },

  // Truncation.
  {
    case: 'too big for plain UDP (512): TC, empty, question kept',
    ask: { name: 'big.example.test', type: 'TXT' },
    out: {
      rcode: NOERROR,
      flags: 'qr aa tc rd',
      question: ['big.example.test TXT IN'],
      answer: [],
      authority: [],
      additional: [],
      opt: null,
    },
  },
  {
    case: 'too big for a 512-byte EDNS payload: TC keeps the OPT',
    ask: { name: 'big.example.test', type: 'TXT', edns: { size: 512 } },
    out: { rcode: NOERROR, flags: 'qr aa tc rd', answer: [], opt: { size: 1232, do: false } },
  },
  {
    case: 'fits a 1232-byte EDNS payload',
    ask: { name: 'big.example.test', type: 'TXT', edns: { size: 1232 } },
    out: { rcode: NOERROR, flags: 'qr aa rd', opt: { size: 1232, do: false } },
  },
  {
    case: 'over TCP nothing is truncated',
    ask: { name: 'big.example.test', type: 'TXT' },
    transport: TCP,
    out: { rcode: NOERROR, flags: 'qr aa rd', opt: null },
  },

  // CHAOS (RFC 4892).
  {
    case: 'CH TXT id.server',
    ask: { name: 'id.server', type: 'TXT', class: 'CH' },
    out: {
      rcode: NOERROR,
      flags: 'qr aa rd',
      question: ['id.server TXT CH'],
      answer: ['id.server TXT 0 "ns1.example.test"'],
    },
  },
  {
    case: 'CH TXT version.bind, configured',
    ask: { name: 'VERSION.bind', type: 'TXT', class: 'CH' },
    out: { rcode: NOERROR, question: ['VERSION.bind TXT CH'], answer: ['VERSION.bind TXT 0 "meridian-test"'] },
  },
  {
    case: 'CH A id.server: REFUSED',
    ask: { name: 'id.server', type: 'A', class: 'CH' },
    out: { rcode: 5, flags: 'qr rd', answer: [] },
  },
  {
    case: 'CH TXT of an unknown name: REFUSED',
    ask: { name: 'nope.bind', type: 'TXT', class: 'CH' },
    out: { rcode: 5, flags: 'qr rd', answer: [] },
  },

  // Other opcodes and malformed messages.
  {
    case: 'opcode STATUS with RD: NOTIMP, question echoed, RD not (RFC 1035 §4.1.1: RD is for QUERY)',
    ask: { name: 'mail.example.test', opcode: 2 },
    out: { rcode: 4, flags: 'qr', question: ['mail.example.test A IN'], answer: [] },
  },
  {
    case: 'no question (QDCOUNT 0): FORMERR, nothing echoed',
    ask: Buffer.from('abcd01000000000000000000', 'hex'),
    out: { id: 0xabcd, rcode: 1, flags: 'qr rd', question: [], answer: [], opt: null },
  },
  {
    case: 'question cut short: FORMERR',
    ask: Buffer.from('abcd0100000100000000000003777777', 'hex'),
    out: { id: 0xabcd, rcode: 1, flags: 'qr rd', question: [] },
  },
  {
    case: 'a response is never answered',
    ask: Buffer.from('abcd8100000100000000000000' + '00010001', 'hex'),
    out: null,
  },
  { case: 'shorter than a header: nothing', ask: Buffer.from('abcd01', 'hex'), out: null },
];

describe('QueryHandler.handle', () => {
  let handler: QueryHandler;
  beforeAll(async () => {
    handler = new QueryHandler(await testState());
  });

  it.each(ROWS)('$case', (row) => {
    const msg = Buffer.isBuffer(row.ask) ? row.ask : query(row.ask);
    const got = view(handler.handle(msg, row.transport ?? UDP, row.from ?? '127.0.0.1'));
    if (row.out === null) expect(got).toBeNull();
    else expect(got).toMatchObject(row.out);
  });

  it('a trailing byte after a valid query with an OPT: FORMERR with a plain OPT, nothing of the query echoed', () => {
    const msg = Buffer.concat([query({ name: 'mail.example.test', edns: { do: true, nsid: true } }), Buffer.from([0])]);
    expect(view(handler.handle(msg, UDP, '127.0.0.1'))).toMatchObject({
      rcode: 1,
      question: ['mail.example.test A IN'],
      answer: [],
      opt: { size: 1232, do: false },
    });
  });

  it('keeps nothing between queries: two clients interleaved each get their own answer and scope', () => {
    const ask = (ecs: string) =>
      view(handler.handle(query({ name: 'www.example.test', edns: { ecs } }), UDP, '127.0.0.1'));
    const [tokyo, frankfurt, wide, tokyoAgain] = [
      ask('203.0.113.0/24'),
      ask('198.51.100.0/24'),
      ask('198.51.100.0/23'),
      ask('203.0.113.0/24'),
    ];
    expect([tokyo, frankfurt, wide, tokyoAgain].map((r) => [r!.answer, r!.opt!.ecs])).toEqual([
      [['www.example.test A 30 192.0.2.3'], '203.0.113.0/24/24'],
      [['www.example.test A 30 192.0.2.1'], '198.51.100.0/24/24'],
      [['www.example.test A 30 192.0.2.1'], '198.51.100.0/23/23'],
      [['www.example.test A 30 192.0.2.3'], '203.0.113.0/24/24'],
    ]);
    // A routed ECS answer leaves no scope behind for the static answer that follows.
    expect(ask('198.51.100.0/24')!.opt!.ecs).toBe('198.51.100.0/24/24');
    expect(
      view(handler.handle(query({ name: 'mail.example.test', edns: { ecs: '198.51.100.0/24' } }), UDP, '127.0.0.1'))!
        .opt!.ecs,
    ).toBe('198.51.100.0/24/0');
  });

  it("counts each routed query's resolver once, on the pre-encoded path and in full; static answers not at all", async () => {
    const resolvers = new ResolverTable();
    const h = new QueryHandler(await testState(resolvers));
    h.handle(query({ name: 'www.example.test' }), UDP, '10.0.0.1');
    h.handle(query({ name: 'toroute.example.test' }), UDP, '10.0.0.1');
    h.handle(query({ name: 'www.example.test', type: 'AAAA' }), UDP, '10.0.0.2');
    h.handle(query({ name: 'mail.example.test' }), UDP, '10.0.0.3');
    expect(resolvers.entries()).toEqual([
      ['10.0.0.1', 2],
      ['10.0.0.2', 1],
    ]);
  });

  it('counts truncated responses and answers by rcode in the metrics', async () => {
    const metrics = new DnsMetrics(new Registry());
    const h = new QueryHandler(await testState(), metrics);
    h.handle(query({ name: 'big.example.test', type: 'TXT' }), UDP, '127.0.0.1');
    h.handle(query({ name: 'big.example.test', type: 'TXT' }), TCP, '127.0.0.1');
    h.handle(query({ name: 'mail.example.test' }), UDP, '127.0.0.1');
    expect(metrics.snapshot().truncated).toBe(1);
    expect(metrics.snapshot().answered.reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe('QueryHandler.handle: signed requests (RFC 8945; Meridian holds no keys)', () => {
  let handler: QueryHandler;
  beforeAll(async () => {
    handler = new QueryHandler(await testState());
  });

  /** The unsigned BADKEY record RFC 8945 §5.3.2 wants, for a request signed by tsigRecord(fields). */
  function badKeyRecord(keyName: string, timeSigned: number, fudge: number, originalId: number): Buffer {
    const alg = nameWire('hmac-sha256.');
    const rdata = Buffer.alloc(alg.length + 16);
    alg.copy(rdata);
    rdata.writeUInt16BE(Math.floor(timeSigned / 2 ** 32), alg.length);
    rdata.writeUInt32BE(timeSigned % 2 ** 32, alg.length + 2);
    rdata.writeUInt16BE(fudge, alg.length + 6);
    // MAC size 0, original ID, error BADKEY (17), other length 0.
    rdata.writeUInt16BE(originalId, alg.length + 10);
    rdata.writeUInt16BE(17, alg.length + 12);
    const fixed = Buffer.from([0, 250, 0, 255, 0, 0, 0, 0, 0, rdata.length]);
    return Buffer.concat([nameWire(keyName), fixed, rdata]);
  }

  it.each<[string, TransportId, boolean]>([
    ['over UDP, no EDNS', UDP, false],
    ['over TCP, with EDNS', TCP, true],
  ])('answers NOTAUTH with TSIG error BADKEY, unsigned, for an unknown key: %s', (_, transport, edns) => {
    const tsig = tsigRecord({ keyName: 'NoKey.Example.', timeSigned: 2 ** 33 + 5, fudge: 300, originalId: 0x4242 });
    const res = handler.handle(
      queryWith(edns ? [OPT_RECORD, tsig] : [tsig], 'mail.example.test'),
      transport,
      '127.0.0.1',
    )!;
    const got = view(res)!;
    // The name is ours and has an answer, but a signed request is checked first and not answered.
    expect(got).toMatchObject({
      rcode: 9,
      flags: 'qr rd',
      question: ['mail.example.test A IN'],
      answer: [],
      authority: [],
    });
    expect(got.opt === null).toBe(!edns);
    expect(res.readUInt16BE(10), 'ARCOUNT: the OPT if asked, then the TSIG').toBe(edns ? 2 : 1);
    const expected = badKeyRecord('NoKey.Example.', 2 ** 33 + 5, 300, 0x4242);
    expect(res.subarray(res.length - expected.length).toString('hex'), 'the TSIG ends the message').toBe(
      expected.toString('hex'),
    );
  });

  it('answers NOTAUTH before REFUSED: a signed query outside our zones is refused for its key', () => {
    const res = handler.handle(queryWith([tsigRecord()], 'www.example.org'), UDP, '127.0.0.1')!;
    expect(view(res)).toMatchObject({ rcode: 9 });
  });

  it('answers a misplaced or malformed TSIG FORMERR, without a TSIG', () => {
    for (const msg of [queryWith([tsigRecord(), OPT_RECORD]), queryWith([tsigRecord({ cls: 1 })])]) {
      const res = handler.handle(msg, UDP, '127.0.0.1')!;
      expect(view(res)).toMatchObject({ rcode: 1 });
      expect(res.includes(nameWire('hmac-sha256.')), 'no TSIG in the answer').toBe(false);
    }
  });

  it('counts NOTAUTH answers under their own rcode', async () => {
    const registry = new Registry();
    const h = new QueryHandler(await testState(), new DnsMetrics(registry));
    h.handle(queryWith([tsigRecord()], 'mail.example.test'), UDP, '127.0.0.1');
    const text = await registry.metrics();
    expect(metricValue(text, 'meridian_dns_queries_total', { transport: 'udp', qtype: 'A', rcode: 'NOTAUTH' })).toBe(1);
  });
});

describe('QueryHandler.handle: DNS Cookies (RFC 7873, RFC 9018 server cookies)', () => {
  const SECRET = Buffer.from('e5e973e5a6b2a43f48e7dc849e37bfcf', 'hex');
  const T1 = 1559731985;
  const CLIENT = '2464c4abcf10c957';
  /** RFC 9018 A.1: what 198.51.100.100 with CLIENT is given at T1. */
  const A1 = '010000005cf79f111f8130c3eee29480';
  let handler: QueryHandler;
  beforeAll(async () => {
    const state = await testState();
    handler = new QueryHandler({ ...state, cookies: new ServerCookies({ kind: 'fixed', key: SECRET }, () => T1 + 60) });
  });

  function ask(cookieHex: string | null, transport: TransportId = UDP, from = '198.51.100.100') {
    const options = cookieHex === null ? [] : [{ code: 10, data: Buffer.from(cookieHex, 'hex') }];
    const msg = dnsPacket.encode({
      type: 'query',
      id: 7,
      questions: [{ name: 'mail.example.test', type: 'A', class: 'IN' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options } as unknown as dnsPacket.Answer],
    });
    const res = handler.handle(msg, transport, from)!;
    const got = view(res)!;
    const opt = (dnsPacket.decode(res).additionals ?? []).find((r) => r.type === 'OPT') as
      { options: { code: number; data: Buffer }[] } | undefined;
    const cookie = opt?.options.find((o) => o.code === 10)?.data.toString('hex') ?? null;
    return { rcode: got.rcode, answer: got.answer, cookie };
  }

  it('answers a client cookie alone normally, echoing it with our server cookie (§5.2.3)', () => {
    const r = ask(CLIENT);
    expect(r.rcode).toBe(0);
    expect(r.answer).toEqual(['mail.example.test A 3600 192.0.2.25']);
    expect(r.cookie!.slice(0, 16)).toBe(CLIENT);
    expect(r.cookie).toHaveLength(48);
    // Our clock is a minute past A.1's: same secret and client, a minute's newer timestamp.
    expect(r.cookie!.slice(16, 24)).toBe('01000000');
    expect(parseInt(r.cookie!.slice(24, 32), 16)).toBe(T1 + 60);
  });

  it('answers a valid returning cookie normally and echoes it (§5.2.5)', () => {
    expect(ask(CLIENT + A1)).toEqual({
      rcode: 0,
      answer: ['mail.example.test A 3600 192.0.2.25'],
      cookie: CLIENT + A1,
    });
  });

  it('answers an invalid server cookie over UDP with BADCOOKIE and a new cookie, nothing else (§5.2.4)', () => {
    const stale = CLIENT + A1.slice(0, 31) + '1';
    const r = ask(stale);
    expect(r.rcode).toBe(23);
    expect(r.answer).toEqual([]);
    expect(r.cookie).toBe(ask(CLIENT).cookie);
    // The same cookie from another address is not ours either.
    expect(ask(CLIENT + A1, UDP, '198.51.100.101').rcode).toBe(23);
  });

  it('answers an invalid server cookie over TCP normally, with a new cookie', () => {
    const r = ask(CLIENT + A1.slice(0, 31) + '1', TCP);
    expect(r.rcode).toBe(0);
    expect(r.answer).toHaveLength(1);
    expect(r.cookie).toBe(ask(CLIENT).cookie);
  });

  it('answers FORMERR, without a cookie, for a malformed COOKIE option (§5.2.2)', () => {
    for (const bad of [CLIENT.slice(0, 14), CLIENT + 'aa', CLIENT + A1 + A1 + 'aa'])
      expect(ask(bad)).toMatchObject({ rcode: 1, cookie: null });
  });

  it('sends no COOKIE option without one in the query, or with dns.cookies.enabled false', async () => {
    expect(ask(null).cookie).toBeNull();
    const off = new QueryHandler({ ...(await testState()), cookies: null });
    const msg = dnsPacket.encode({
      type: 'query',
      id: 7,
      questions: [{ name: 'mail.example.test', type: 'A', class: 'IN' }],
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          options: [{ code: 10, data: Buffer.from(CLIENT + A1.slice(0, 31) + '1', 'hex') }],
        } as unknown as dnsPacket.Answer,
      ],
    });
    const res = off.handle(msg, UDP, '198.51.100.100')!;
    expect(view(res)!.rcode).toBe(0);
    expect(res.includes(Buffer.from(CLIENT, 'hex'))).toBe(false);
  });
});
