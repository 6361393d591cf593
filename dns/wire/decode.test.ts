// Unit tests of the strict query decoder: one test (or a small table) per outcome. Packets are
// built with dns-packet where it can express them and patched by hand where it cannot.
import { describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import { decodeQuery } from './decode.js';
import { Rcode } from './constants.js';
import type { Decoded, Query } from './query.js';
import { OPT_RECORD, nameWire, queryWith, tsigRecord } from './testdata/signed-query.js';

type LoosePacket = Parameters<typeof dnsPacket.encode>[0];

/** dns-packet's typings are narrower than what it encodes (numeric option codes, raw data). */
function encode(packet: object): Buffer {
  return dnsPacket.encode(packet as LoosePacket);
}

const NSID = 3;
const ECS = 8;

interface QueryOpts {
  id?: number;
  name?: string;
  type?: string;
  flags?: number;
  edns?: boolean;
  udpPayloadSize?: number;
  ednsVersion?: number;
  ednsFlags?: number;
  options?: object[];
}

function query(o: QueryOpts = {}): Buffer {
  const additionals =
    o.edns || o.options
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: o.udpPayloadSize ?? 1232,
            ednsVersion: o.ednsVersion ?? 0,
            flags: o.ednsFlags ?? 0,
            options: o.options ?? [],
          },
        ]
      : [];
  return encode({
    type: 'query',
    id: o.id ?? 0xbeef,
    flags: o.flags ?? dnsPacket.RECURSION_DESIRED,
    questions: [{ type: o.type ?? 'A', name: o.name ?? 'www.demo.test', class: 'IN' }],
    additionals,
  });
}

/** Wire form of a name from its labels (root byte included). */
function wireName(...labels: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.isBuffer(l) ? l : Buffer.from(l, 'latin1');
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function header(id: number, flags: number, qd: number, an: number, ns: number, ar: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(flags, 2);
  b.writeUInt16BE(qd, 4);
  b.writeUInt16BE(an, 6);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(ar, 10);
  return b;
}

function questionBytes(name: Buffer, qtype = 1, qclass = 1): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(qtype, 0);
  tail.writeUInt16BE(qclass, 2);
  return Buffer.concat([name, tail]);
}

/** An OPT RR with raw RDATA (and optionally a bogus owner or RDLENGTH). */
function optRR(rdata: Buffer, o: { owner?: Buffer; udpSize?: number; rdlength?: number } = {}): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(41, 0);
  fixed.writeUInt16BE(o.udpSize ?? 1232, 2);
  fixed.writeUInt32BE(0, 4);
  fixed.writeUInt16BE(o.rdlength ?? rdata.length, 8);
  return Buffer.concat([o.owner ?? Buffer.from([0]), fixed, rdata]);
}

function option(code: number, data: Buffer, claimedLength = data.length): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(code, 0);
  b.writeUInt16BE(claimedLength, 2);
  return Buffer.concat([b, data]);
}

function ecsData(family: number, source: number, scope: number, address: number[]): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(family, 0);
  b[2] = source;
  b[3] = scope;
  return Buffer.concat([b, Buffer.from(address)]);
}

/** A hand-built query for www.demo.test A with the given additional section. */
function withAdditional(arcount: number, ...records: Buffer[]): Buffer {
  return Buffer.concat([
    header(0x1234, 0x0100, 1, 0, 0, arcount),
    questionBytes(wireName('www', 'demo', 'test')),
    ...records,
  ]);
}

const WWW_QUESTION_END = 12 + wireName('www', 'demo', 'test').length + 4;

function expectQuery(d: Decoded): Query {
  if (d.kind !== 'query') throw new Error(`expected a query, got ${JSON.stringify(d)}`);
  return d.query;
}

function expectError(d: Decoded, rcode: number): Extract<Decoded, { kind: 'error' }> {
  if (d.kind !== 'error') throw new Error(`expected an error outcome, got ${d.kind}`);
  expect(d.rcode, d.reason).toBe(rcode);
  return d;
}

describe('decodeQuery: dropped messages', () => {
  it('drops every message shorter than a header', () => {
    const full = query();
    for (let n = 0; n < 12; n++) {
      const d = decodeQuery(full.subarray(0, n));
      expect(d.kind, `length ${n}`).toBe('drop');
    }
  });

  it('does not drop a bare 12-byte header (it is answerable: FORMERR)', () => {
    const e = expectError(decodeQuery(header(7, 0, 0, 0, 0, 0)), Rcode.FORMERR);
    expect(e.id).toBe(7);
    expect(e.questionEnd).toBe(0);
  });

  it('drops responses (QR=1), whatever follows', () => {
    const resp = encode({ type: 'response', id: 1, flags: 0, questions: [{ type: 'A', name: 'www.demo.test' }] });
    expect(decodeQuery(resp)).toMatchObject({ kind: 'drop', reason: 'message is a response' });
    const garbage = Buffer.concat([header(1, 0x8000 | (5 << 11), 9, 9, 9, 9), Buffer.from([0xff, 0xc0, 0x01])]);
    expect(decodeQuery(garbage).kind).toBe('drop');
  });
});

describe('decodeQuery: header errors', () => {
  it('answers NOTIMP for every opcode other than QUERY, echoing id, opcode and the question but not RD', () => {
    // RD is defined for QUERY only (RFC 1035 §4.1.1): a NOTIFY or UPDATE answer must not carry it.
    for (let opcode = 1; opcode < 16; opcode++) {
      const msg = query({ id: 0x4242, flags: (opcode << 11) | dnsPacket.RECURSION_DESIRED });
      const e = expectError(decodeQuery(msg), Rcode.NOTIMP);
      expect(e).toMatchObject({ id: 0x4242, opcode, rd: false, questionEnd: WWW_QUESTION_END, hadEdns: false });
    }
  });

  it('answers NOTIMP without a question when the question is unreadable', () => {
    const msg = Buffer.concat([header(9, 4 << 11, 1, 0, 0, 0), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
    const e = expectError(decodeQuery(msg), Rcode.NOTIMP);
    expect(e).toMatchObject({ id: 9, opcode: 4, rd: false, questionEnd: 0 });
  });

  it('checks the opcode before QDCOUNT', () => {
    expectError(decodeQuery(header(1, 2 << 11, 0, 0, 0, 0)), Rcode.NOTIMP);
  });

  it('answers FORMERR when QDCOUNT is 0', () => {
    const msg = encode({ type: 'query', id: 77, flags: dnsPacket.RECURSION_DESIRED, questions: [] });
    const e = expectError(decodeQuery(msg), Rcode.FORMERR);
    expect(e).toMatchObject({ id: 77, rd: true, opcode: 0, questionEnd: 0 });
  });

  it('answers FORMERR when QDCOUNT is 2, without echoing a question', () => {
    const msg = encode({
      type: 'query',
      id: 78,
      questions: [
        { type: 'A', name: 'a.demo.test' },
        { type: 'AAAA', name: 'b.demo.test' },
      ],
    });
    const e = expectError(decodeQuery(msg), Rcode.FORMERR);
    expect(e).toMatchObject({ id: 78, rd: false, questionEnd: 0 });
  });

  it('answers FORMERR when QDCOUNT is large but only one question is present', () => {
    const msg = query();
    msg.writeUInt16BE(0xffff, 4);
    expectError(decodeQuery(msg), Rcode.FORMERR);
  });
});

describe('decodeQuery: the question', () => {
  it('decodes a plain query', () => {
    const q = expectQuery(
      decodeQuery(
        query({ id: 0xabcd, type: 'AAAA', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED }),
      ),
    );
    expect(q).toMatchObject({
      id: 0xabcd,
      opcode: 0,
      rd: true,
      cd: true,
      qtype: 28,
      qclass: 1,
      questionEnd: WWW_QUESTION_END,
      edns: null,
    });
    expect(q.qnameKey).toBe('\x03www\x04demo\x04test');
  });

  it('reads RD=0 and CD=0', () => {
    const q = expectQuery(decodeQuery(query({ flags: 0 })));
    expect(q.rd).toBe(false);
    expect(q.cd).toBe(false);
  });

  it('keys the QNAME in lower case while the question bytes keep their case', () => {
    const msg = query({ name: 'WwW.DeMo.TeSt' });
    const q = expectQuery(decodeQuery(msg));
    expect(q.qnameKey).toBe('\x03www\x04demo\x04test');
    expect(msg.subarray(12, q.questionEnd - 4).toString('latin1')).toBe('\x03WwW\x04DeMo\x04TeSt\x00');
  });

  it('folds only ASCII letters: bytes >= 0x80 stay as they are', () => {
    const name = wireName(Buffer.from([0x41, 0xc4, 0xe4, 0x5a]), 'TEST');
    const q = expectQuery(decodeQuery(Buffer.concat([header(1, 0, 1, 0, 0, 0), questionBytes(name)])));
    expect(q.qnameKey).toBe('\x04a\xc4\xe4z\x04test');
  });

  it('accepts the root name', () => {
    const q = expectQuery(decodeQuery(query({ name: '.', type: 'NS' })));
    expect(q.qnameKey).toBe('');
    expect(q.questionEnd).toBe(12 + 1 + 4);
  });

  it('rejects a compressed QNAME (pointer only, and labels then pointer)', () => {
    for (const name of [Buffer.from([0xc0, 0x0c]), Buffer.from([3, 0x77, 0x77, 0x77, 0xc0, 0x0c])]) {
      const msg = Buffer.concat([header(5, 0x0100, 1, 0, 0, 0), name, Buffer.from([0, 1, 0, 1])]);
      const e = expectError(decodeQuery(msg), Rcode.FORMERR);
      expect(e).toMatchObject({ id: 5, rd: true, questionEnd: 0, hadEdns: false });
    }
  });

  it.each([0x40, 0x41, 0x7f, 0x80, 0xa5, 0xbf].map((b) => [b.toString(16), b] as const))(
    'rejects label length byte 0x%s (extended label types)',
    (_hex, lenByte) => {
      const label = Buffer.alloc(Math.min(lenByte, 0x3f), 0x61);
      const msg = Buffer.concat([
        header(5, 0, 1, 0, 0, 0),
        Buffer.from([lenByte]),
        label,
        Buffer.from([0, 0, 1, 0, 1]),
      ]);
      expectError(decodeQuery(msg), Rcode.FORMERR);
    },
  );

  it('accepts 63-byte labels and a 255-byte name, rejects a 256-byte name', () => {
    const l63 = 'a'.repeat(63);
    const max = wireName(l63, l63, l63, 'b'.repeat(61));
    expect(max.length).toBe(255);
    const ok = expectQuery(decodeQuery(Buffer.concat([header(1, 0, 1, 0, 0, 0), questionBytes(max)])));
    expect(ok.qnameKey.length).toBe(254);
    expect(ok.questionEnd).toBe(12 + 255 + 4);

    const over = wireName(l63, l63, l63, 'b'.repeat(62));
    expect(over.length).toBe(256);
    expectError(decodeQuery(Buffer.concat([header(1, 0, 1, 0, 0, 0), questionBytes(over)])), Rcode.FORMERR);

    // Many short labels reaching past 255 bytes.
    const many = wireName(...Array.from({ length: 130 }, () => 'x'));
    expectError(decodeQuery(Buffer.concat([header(1, 0, 1, 0, 0, 0), questionBytes(many)])), Rcode.FORMERR);
  });

  it('rejects a truncated question at every cut inside it', () => {
    const full = query({ name: 'www.demo.test' });
    for (let n = 12; n < WWW_QUESTION_END; n++) {
      const e = expectError(decodeQuery(full.subarray(0, n)), Rcode.FORMERR);
      expect(e.questionEnd, `cut at ${n}`).toBe(0);
    }
  });

  it('rejects a label that claims more bytes than the message has', () => {
    const msg = Buffer.concat([header(1, 0, 1, 0, 0, 0), Buffer.from([20, 0x61, 0x62, 0, 0, 1, 0, 1])]);
    expectError(decodeQuery(msg), Rcode.FORMERR);
  });

  it('rejects trailing bytes after the last record, keeping the question', () => {
    for (const extra of [Buffer.from([0]), Buffer.from('junk!'), Buffer.alloc(300, 0xff)]) {
      const e = expectError(decodeQuery(Buffer.concat([query(), extra])), Rcode.FORMERR);
      expect(e.reason).toMatch(/trailing/);
      expect(e.questionEnd).toBe(WWW_QUESTION_END);
      expect(e.hadEdns).toBe(false);
    }
    const e = expectError(decodeQuery(Buffer.concat([query({ edns: true }), Buffer.from([1, 2])])), Rcode.FORMERR);
    expect(e.hadEdns).toBe(true);
  });
});

describe('decodeQuery: answer, authority and additional sections', () => {
  it('skips well-formed answer and authority records', () => {
    const msg = encode({
      type: 'query',
      id: 3,
      questions: [{ type: 'SOA', name: 'demo.test' }],
      answers: [{ type: 'A', name: 'x.demo.test', ttl: 5, data: '192.0.2.1' }],
      authorities: [{ type: 'NS', name: 'demo.test', ttl: 5, data: 'ns1.demo.test' }],
    });
    const q = expectQuery(decodeQuery(msg));
    expect(q.qtype).toBe(6);
    expect(q.qnameKey).toBe('\x04demo\x04test');
  });

  it('rejects an answer section that is missing or overruns the message', () => {
    const missing = query();
    missing.writeUInt16BE(1, 6);
    expect(expectError(decodeQuery(missing), Rcode.FORMERR).questionEnd).toBe(WWW_QUESTION_END);

    const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 9, 1, 2, 3, 4]); // RDLENGTH 9, 4 bytes
    const overrun = Buffer.concat([header(1, 0, 1, 0, 1, 0), questionBytes(wireName('a')), rr]);
    expectError(decodeQuery(overrun), Rcode.FORMERR);
  });

  it('accepts a non-OPT additional record whose owner points back at the question', () => {
    const rr = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 192, 0, 2, 1]);
    const q = expectQuery(decodeQuery(withAdditional(1, rr)));
    expect(q.edns).toBeNull();
  });

  it('rejects an additional record whose owner pointer points forward', () => {
    const at = WWW_QUESTION_END;
    const rr = Buffer.from([0xc0 | (at >> 8), at & 0xff, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 192, 0, 2, 1]);
    expectError(decodeQuery(withAdditional(1, rr)), Rcode.FORMERR);
  });

  it('rejects ARCOUNT larger than the records present', () => {
    const msg = query({ edns: true });
    msg.writeUInt16BE(2, 10);
    const e = expectError(decodeQuery(msg), Rcode.FORMERR);
    expect(e.hadEdns).toBe(true);
  });
});

/** What an OPT record with no option we act on decodes to. */
const plainEdns = (udpSize: number) => ({
  udpSize,
  version: 0,
  dnssecOk: false,
  nsid: false,
  clientSubnet: null,
  cookieAt: -1,
  cookieLength: 0,
});

describe('decodeQuery: EDNS(0)', () => {
  it('parses a plain OPT', () => {
    const q = expectQuery(decodeQuery(query({ edns: true, udpPayloadSize: 4096 })));
    expect(q.edns).toEqual(plainEdns(4096));
  });

  it('reads the DO bit and the version', () => {
    const q = expectQuery(decodeQuery(query({ edns: true, ednsFlags: dnsPacket.DNSSEC_OK, ednsVersion: 1 })));
    expect(q.edns).toMatchObject({ dnssecOk: true, version: 1 });
  });

  it('raises a UDP payload size below 512 to 512 and keeps larger ones', () => {
    for (const [sent, seen] of [
      [1, 512],
      [100, 512],
      [511, 512],
      [512, 512],
      [513, 513],
      [65535, 65535],
    ] as const) {
      const q = expectQuery(decodeQuery(query({ edns: true, udpPayloadSize: sent })));
      expect(q.edns?.udpSize, `sent ${sent}`).toBe(seen);
    }
    // 0 cannot be expressed with dns-packet (it substitutes 4096).
    const q = expectQuery(decodeQuery(withAdditional(1, optRR(Buffer.alloc(0), { udpSize: 0 }))));
    expect(q.edns?.udpSize).toBe(512);
  });

  it('rejects two OPT records', () => {
    const msg = encode({
      type: 'query',
      id: 11,
      questions: [{ type: 'A', name: 'www.demo.test' }],
      additionals: [
        { type: 'OPT', name: '.', udpPayloadSize: 1232, options: [] },
        { type: 'OPT', name: '.', udpPayloadSize: 4096, options: [] },
      ],
    });
    const e = expectError(decodeQuery(msg), Rcode.FORMERR);
    expect(e).toMatchObject({ id: 11, hadEdns: true, questionEnd: WWW_QUESTION_END });
    expect(e.reason).toMatch(/more than one OPT/);
  });

  it('rejects an OPT whose owner is not the root', () => {
    for (const owner of [wireName('a'), wireName('www', 'demo', 'test'), Buffer.from([0xc0, 12 + 14])]) {
      // The last owner is a pointer to the question's root byte: still not a literal root.
      const e = expectError(decodeQuery(withAdditional(1, optRR(Buffer.alloc(0), { owner }))), Rcode.FORMERR);
      expect(e.reason).toMatch(/OPT owner/);
      expect(e.hadEdns).toBe(true);
      expect(e.questionEnd).toBe(WWW_QUESTION_END);
    }
  });

  it('rejects an OPT whose RDATA runs past the message', () => {
    const e = expectError(decodeQuery(withAdditional(1, optRR(Buffer.alloc(4), { rdlength: 5 }))), Rcode.FORMERR);
    expect(e.questionEnd).toBe(WWW_QUESTION_END);
  });

  it('rejects an option whose length overruns the OPT RDATA', () => {
    // The option says 10 bytes but only 2 follow inside the OPT; the message itself ends there too.
    const bad = option(65001, Buffer.from([1, 2]), 10);
    const e = expectError(decodeQuery(withAdditional(1, optRR(bad))), Rcode.FORMERR);
    expect(e).toMatchObject({ hadEdns: true, questionEnd: WWW_QUESTION_END });
    expect(e.reason).toMatch(/runs past the OPT/);

    // Overrunning the OPT RDATA even though more bytes follow in the message (a second record).
    const nsidOver = option(NSID, Buffer.alloc(0), 4);
    const next = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 5, 0, 0]);
    expectError(decodeQuery(withAdditional(2, optRR(nsidOver), next)), Rcode.FORMERR);
  });

  it('rejects a truncated option header', () => {
    expectError(decodeQuery(withAdditional(1, optRR(Buffer.from([0, 3])))), Rcode.FORMERR);
    expectError(decodeQuery(withAdditional(1, optRR(Buffer.from([0, 8, 0])))), Rcode.FORMERR);
  });

  it('sees an NSID request', () => {
    const q = expectQuery(decodeQuery(query({ options: [{ code: NSID, data: Buffer.alloc(0) }] })));
    expect(q.edns?.nsid).toBe(true);
    expect(q.edns?.clientSubnet).toBeNull();
  });

  it('ignores unknown options (RFC 6891 §6.1.2) and still reads the known ones after them', () => {
    const q = expectQuery(
      decodeQuery(
        query({
          options: [
            { code: 65001, data: Buffer.from('whatever') },
            { code: 10, data: Buffer.alloc(8, 7) }, // COOKIE
            { code: 12, length: 3 }, // PADDING
            { code: 65535, data: Buffer.alloc(0) },
            { code: NSID, data: Buffer.alloc(0) },
            { code: ECS, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '198.51.100.0' },
          ],
        }),
      ),
    );
    expect(q.edns?.nsid).toBe(true);
    expect(q.edns?.clientSubnet).toMatchObject({ family: 1, sourcePrefix: 24 });
    expect(q.edns?.cookieLength).toBe(8);
    const plain = expectQuery(decodeQuery(query({ options: [{ code: 65001, data: Buffer.from('x') }] })));
    expect(plain.edns).toEqual(plainEdns(1232));
  });

  describe('Client Subnet (RFC 7871)', () => {
    it('parses a valid IPv4 option', () => {
      const q = expectQuery(
        decodeQuery(
          query({ options: [{ code: ECS, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '192.0.2.0' }] }),
        ),
      );
      const ecs = q.edns?.clientSubnet;
      expect(ecs).toMatchObject({ family: 1, sourcePrefix: 24, scopePrefix: 0 });
      expect([...ecs!.address]).toEqual([192, 0, 2]);
    });

    it('parses valid options at odd prefix lengths and at the extremes', () => {
      const cases: [number, number, string, number[]][] = [
        [1, 32, '203.0.113.7', [203, 0, 113, 7]],
        [1, 0, '0.0.0.0', []],
        [1, 17, '10.128.128.0', [10, 128, 128]],
        [2, 56, '2001:db8:1234:5600::', [0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56]],
        [2, 128, '2001:db8::1', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]],
        [2, 0, '::', []],
      ];
      for (const [family, source, ip, address] of cases) {
        const q = expectQuery(
          decodeQuery(
            query({ options: [{ code: ECS, family, sourcePrefixLength: source, scopePrefixLength: 0, ip }] }),
          ),
        );
        const ecs = q.edns?.clientSubnet;
        expect(ecs, `${ip}/${source}`).toMatchObject({ family, sourcePrefix: source, scopePrefix: 0 });
        expect([...ecs!.address], `${ip}/${source}`).toEqual(address);
      }
    });

    const formerr = (data: Buffer | object, why: RegExp) => {
      const opt = Buffer.isBuffer(data) ? { code: ECS, data } : { code: ECS, ...data };
      const e = expectError(decodeQuery(query({ options: [opt] })), Rcode.FORMERR);
      expect(e.reason).toMatch(why);
      expect(e.hadEdns).toBe(true);
      expect(e.questionEnd).toBe(WWW_QUESTION_END);
    };

    it('rejects unknown address families', () => {
      formerr({ family: 3, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '192.0.2.0' }, /family 3/);
      formerr(ecsData(0, 0, 0, []), /family 0/);
      formerr(ecsData(0xffff, 8, 0, [10]), /family/);
    });

    it('rejects a source prefix longer than the address', () => {
      formerr({ family: 1, sourcePrefixLength: 33, scopePrefixLength: 0, ip: '192.0.2.1' }, /source prefix 33/);
      formerr(
        ecsData(
          2,
          129,
          0,
          Array.from({ length: 17 }, () => 0),
        ),
        /source prefix 129/,
      );
      formerr(
        ecsData(
          1,
          255,
          0,
          Array.from({ length: 32 }, () => 0),
        ),
        /source prefix/,
      );
    });

    it('rejects an address whose length does not match the source prefix', () => {
      formerr(ecsData(1, 24, 0, [192, 0, 2, 0]), /address is 4 bytes/);
      formerr(ecsData(1, 24, 0, [192, 0]), /address is 2 bytes/);
      formerr(ecsData(1, 0, 0, [0]), /address is 1 bytes/);
      formerr(ecsData(2, 48, 0, [0x20, 0x01, 0x0d, 0xb8]), /address/);
    });

    it('rejects address bits set beyond the source prefix', () => {
      formerr(ecsData(1, 23, 0, [10, 1, 3]), /beyond the source prefix/);
      formerr(ecsData(1, 20, 0, [10, 1, 0x1f]), /beyond the source prefix/);
      formerr(ecsData(1, 1, 0, [0xc0]), /beyond the source prefix/);
      formerr(ecsData(2, 65, 0, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0x01]), /beyond the source prefix/);
      // The same addresses with the spare bits clear are fine.
      expectQuery(decodeQuery(query({ options: [{ code: ECS, data: ecsData(1, 20, 0, [10, 1, 0x10]) }] })));
      expectQuery(decodeQuery(query({ options: [{ code: ECS, data: ecsData(1, 1, 0, [0x80]) }] })));
    });

    it('rejects a non-zero scope prefix in a query', () => {
      formerr({ family: 1, sourcePrefixLength: 24, scopePrefixLength: 16, ip: '192.0.2.0' }, /scope prefix/);
      formerr(ecsData(2, 0, 1, []), /scope prefix/);
    });

    it('rejects an option shorter than 4 bytes and a second Client Subnet option', () => {
      formerr(Buffer.from([0, 1, 24]), /shorter than 4/);
      const twice = query({
        options: [
          { code: ECS, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '192.0.2.0' },
          { code: ECS, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '192.0.2.0' },
        ],
      });
      expect(expectError(decodeQuery(twice), Rcode.FORMERR).reason).toMatch(/more than one Client Subnet/);
    });
  });

  it('remembers the OPT of a query it answers NOTIMP (RFC 6891 §7: an OPT in the request means one in the response)', () => {
    // A NOTIFY (opcode 4) carrying an OPT: the NOTIMP reply must carry an OPT too.
    const msg = query({ flags: 4 << 11, edns: true });
    const e = expectError(decodeQuery(msg), Rcode.NOTIMP);
    expect(e.questionEnd).toBe(WWW_QUESTION_END);
    expect(e.hadEdns).toBe(true);
    // Also behind an authority record (UPDATE-shaped), and not when there is none.
    const update = encode({
      type: 'query',
      flags: 5 << 11,
      questions: [{ type: 'SOA', name: 'demo.test' }],
      authorities: [{ type: 'A', name: 'x.demo.test', ttl: 0, data: '192.0.2.1' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [] }],
    });
    expect(expectError(decodeQuery(update), Rcode.NOTIMP).hadEdns).toBe(true);
    expect(expectError(decodeQuery(query({ flags: 4 << 11 })), Rcode.NOTIMP).hadEdns).toBe(false);
  });

  it('remembers an OPT that directly follows a header with QDCOUNT 0', () => {
    const msg = Buffer.concat([header(21, 0, 0, 0, 0, 1), optRR(Buffer.alloc(0))]);
    const e = expectError(decodeQuery(msg), Rcode.FORMERR);
    expect(e).toMatchObject({ id: 21, questionEnd: 0, hadEdns: true });
    // Without an OPT, or with an unreadable additional section, there is none to remember.
    expect(expectError(decodeQuery(header(22, 0, 0, 0, 0, 0)), Rcode.FORMERR).hadEdns).toBe(false);
    expect(
      expectError(decodeQuery(Buffer.concat([header(23, 0, 0, 0, 0, 1), Buffer.from([0, 0, 41])])), Rcode.FORMERR)
        .hadEdns,
    ).toBe(false);
  });
});

describe('decodeQuery: TSIG (RFC 8945)', () => {
  it('reads the fields an error answer copies from a TSIG that ends the message', () => {
    const msg = queryWith([
      OPT_RECORD,
      tsigRecord({ keyName: 'NoKey.', timeSigned: 2 ** 40 + 7, fudge: 17, originalId: 9 }),
    ]);
    const q = expectQuery(decodeQuery(msg));
    expect(q.edns).not.toBeNull();
    expect(q.tsig).toEqual({
      keyName: nameWire('NoKey.'),
      algorithm: nameWire('hmac-sha256.'),
      timeSigned: 2 ** 40 + 7,
      fudge: 17,
      originalId: 9,
    });
    expect(expectQuery(decodeQuery(queryWith([OPT_RECORD]))).tsig).toBeNull();
  });

  it('expands a compressed key name (a pointer to the QNAME)', () => {
    const q = expectQuery(decodeQuery(queryWith([tsigRecord({ ownerWire: Buffer.from([0xc0, 12]) })])));
    expect(q.tsig?.keyName).toEqual(nameWire('www.example.test.'));
  });

  it('answers FORMERR for a TSIG anywhere but last (§5.2)', () => {
    const early = expectError(decodeQuery(queryWith([tsigRecord(), OPT_RECORD])), Rcode.FORMERR);
    expect(early.reason).toMatch(/not the last record/);
    expect(early.hadEdns).toBe(false);
    expectError(decodeQuery(queryWith([tsigRecord(), tsigRecord()])), Rcode.FORMERR);
    // In the authority section.
    const msg = queryWith([tsigRecord()]);
    msg.writeUInt16BE(1, 8);
    msg.writeUInt16BE(0, 10);
    expect(expectError(decodeQuery(msg), Rcode.FORMERR).reason).toMatch(/not the last record/);
  });

  it.each([
    ['class not ANY', tsigRecord({ cls: 1 }), /class is not ANY/],
    ['TTL not 0', tsigRecord({ ttl: 5 }), /TTL is not 0/],
    ['MAC size past the RDATA', patchMacSize(tsigRecord(), 200), /MAC runs past/],
    ['RDATA longer than its fields', lengthen(tsigRecord()), /does not end the RDATA/],
    ['algorithm name compressed', compressAlgorithm(tsigRecord()), /algorithm name/],
    ['owner pointer forwards', tsigRecord({ ownerWire: Buffer.from([0xc0, 0xff]) }), /unreadable/],
  ])('answers FORMERR for a malformed TSIG: %s', (_, rr, reason) => {
    const e = expectError(decodeQuery(queryWith([rr])), Rcode.FORMERR);
    expect(e.reason).toMatch(reason);
  });
});

/** Offset of the TSIG's RDATA in a record from tsigRecord() with the default owner 'nokey.'. */
const RDATA_AT = nameWire('nokey.').length + 10;
const MAC_SIZE_AT = RDATA_AT + nameWire('hmac-sha256.').length + 8;

function patchMacSize(rr: Buffer, size: number): Buffer {
  rr.writeUInt16BE(size, MAC_SIZE_AT);
  return rr;
}

/** One more byte of RDATA than the fields account for. */
function lengthen(rr: Buffer): Buffer {
  const out = Buffer.concat([rr, Buffer.from([0])]);
  out.writeUInt16BE(rr.readUInt16BE(RDATA_AT - 2) + 1, RDATA_AT - 2);
  return out;
}

/** The algorithm name replaced by a pointer to the QNAME (same RDATA length kept consistent). */
function compressAlgorithm(rr: Buffer): Buffer {
  const alg = nameWire('hmac-sha256.').length;
  const rest = rr.subarray(RDATA_AT + alg);
  const out = Buffer.concat([rr.subarray(0, RDATA_AT), Buffer.from([0xc0, 12]), rest]);
  out.writeUInt16BE(2 + rest.length, RDATA_AT - 2);
  return out;
}

describe('decodeQuery: DNS COOKIE option (RFC 7873)', () => {
  const COOKIE = 10;
  const withCookie = (...lengths: number[]) =>
    query({ options: lengths.map((n, i) => ({ code: COOKIE, data: Buffer.alloc(n, i + 1) })) });

  it('points at a client cookie alone, or with a server cookie of 8 to 32 bytes', () => {
    for (const length of [8, 16, 24, 40]) {
      const msg = withCookie(length);
      const edns = expectQuery(decodeQuery(msg)).edns!;
      expect(edns.cookieLength).toBe(length);
      expect(msg.subarray(edns.cookieAt, edns.cookieAt + length)).toEqual(Buffer.alloc(length, 1));
    }
    const none = expectQuery(decodeQuery(query({ edns: true }))).edns!;
    expect([none.cookieAt, none.cookieLength]).toEqual([-1, 0]);
  });

  it.each([0, 1, 7, 9, 12, 15, 41, 64])('answers FORMERR for a COOKIE option of %i bytes (RFC 7873 §5.2.2)', (n) => {
    const e = expectError(decodeQuery(withCookie(n)), Rcode.FORMERR);
    expect(e.reason).toMatch(/COOKIE option of/);
    expect(e.hadEdns).toBe(true);
  });

  it('answers FORMERR for two COOKIE options', () => {
    expect(expectError(decodeQuery(withCookie(8, 8)), Rcode.FORMERR).reason).toMatch(/more than one COOKIE/);
  });
});
