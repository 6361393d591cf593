import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { BadReply, buildQuery, isTruncated, readReply, UDP_PAYLOAD_SIZE } from './message.js';

/** The OPT record's RDATA of an encoded message with exactly one question and the OPT as the only additional. */
function optRdata(wire: Buffer, questionName: string): Buffer {
  const qEnd = 12 + Buffer.byteLength(questionName) + 2 + 4;
  // OPT: root name (1), type (2), class = payload size (2), TTL = ext rcode/version/flags (4), rdlength (2)
  expect(wire.readUInt16BE(qEnd + 1)).toBe(41);
  expect(wire.readUInt16BE(qEnd + 3)).toBe(UDP_PAYLOAD_SIZE);
  const rdlength = wire.readUInt16BE(qEnd + 9);
  return wire.subarray(qEnd + 11, qEnd + 11 + rdlength);
}

function reply(packet: Partial<dnsPacket.Packet> & { rcode?: string }): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: 7,
    questions: [{ name: 'www.demo.test', type: 'A', class: 'IN' }],
    ...packet,
  } as dnsPacket.Packet);
}

const opt = (options: unknown[], extendedRcode = 0): dnsPacket.Answer =>
  ({
    type: 'OPT',
    name: '.',
    udpPayloadSize: 1232,
    extendedRcode,
    ednsVersion: 0,
    flags: 0,
    options,
  }) as unknown as dnsPacket.Answer;

describe('the query meridian query sends', () => {
  it('asks with RD, EDNS(0), an empty NSID option and the client subnet as RFC 7871 lays it out', () => {
    const wire = buildQuery(
      { name: 'www.demo.test', type: 28, subnet: { family: 4, address: '203.0.113.0', prefix: 24 } },
      0x1234,
    );
    expect(wire.readUInt16BE(0)).toBe(0x1234);
    expect(wire.readUInt16BE(2)).toBe(0x0100); // a query, RD only
    expect([wire.readUInt16BE(4), wire.readUInt16BE(6), wire.readUInt16BE(8), wire.readUInt16BE(10)]).toEqual([
      1, 0, 0, 1,
    ]);
    const qtype = 12 + 'www.demo.test'.length + 2;
    expect(wire.readUInt16BE(qtype)).toBe(28);
    const rdata = optRdata(wire, 'www.demo.test');
    // NSID: code 3, length 0. ECS: code 8, length 7, family 1, source /24, scope 0, 3 address bytes.
    expect(rdata.toString('hex')).toBe('00030000' + '00080007' + '0001' + '18' + '00' + 'cb0071');
  });

  it('sends only the bytes of an IPv6 prefix, and no ECS option without a subnet', () => {
    const v6 = optRdata(
      buildQuery({ name: 'x.test', type: 1, subnet: { family: 6, address: '2001:db8:5::', prefix: 48 } }, 1),
      'x.test',
    );
    expect(v6.subarray(4).toString('hex')).toBe('0008000a' + '0002' + '30' + '00' + '20010db80005');
    const none = optRdata(buildQuery({ name: 'x.test', type: 1, subnet: null }, 1), 'x.test');
    expect(none.toString('hex')).toBe('00030000');
  });

  it('sends a number without a dns-packet name as that number', () => {
    const wire = buildQuery({ name: 'x.test', type: 65, subnet: null }, 1);
    expect(wire.readUInt16BE(12 + 'x.test'.length + 2)).toBe(65);
  });
});

describe('reading a reply', () => {
  it('reads flags, records as master-file text, the ECS scope and the NSID as text', () => {
    const r = readReply(
      reply({
        flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED,
        answers: [{ name: 'www.demo.test', type: 'A', ttl: 30, class: 'IN', data: '127.0.4.1' }],
        additionals: [
          opt([
            { code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 20, ip: '203.0.113.0' },
            { code: 3, data: Buffer.from('ns1.demo.test') },
          ]),
        ],
      }),
    );
    expect(r.rcode).toBe('NOERROR');
    expect(r.flags).toEqual(['qr', 'aa', 'rd']);
    expect(r.question).toEqual([{ name: 'www.demo.test.', type: 'A', class: 'IN' }]);
    expect(r.answer).toEqual([{ name: 'www.demo.test.', ttl: 30, class: 'IN', type: 'A', data: '127.0.4.1' }]);
    expect(r.additional).toEqual([]);
    expect(r.edns).toEqual({
      version: 0,
      udpPayloadSize: 1232,
      clientSubnet: { family: 1, address: '203.0.113.0', sourcePrefix: 24, scopePrefix: 20 },
      nsid: { text: 'ns1.demo.test', hex: Buffer.from('ns1.demo.test').toString('hex') },
      otherOptions: [],
    });
  });

  it('keeps a binary NSID as hex only, and lists options it does not show', () => {
    const r = readReply(
      reply({
        additionals: [
          opt([
            { code: 3, data: Buffer.from([0, 1, 0xfe]) },
            { code: 10, data: Buffer.alloc(8) },
          ]),
        ],
      }),
    );
    expect(r.edns?.nsid).toEqual({ text: null, hex: '0001fe' });
    expect(r.edns?.otherOptions).toEqual([10]);
  });

  it('combines the OPT extended rcode with the header (BADVERS), and says when there is no EDNS', () => {
    expect(readReply(reply({ additionals: [opt([], 1)] })).rcode).toBe('BADVERS');
    const plain = readReply(reply({ flags: 3 } as Partial<dnsPacket.Packet>));
    expect(plain.rcode).toBe('NXDOMAIN');
    expect(plain.edns).toBeNull();
  });

  it('prints SOA, MX, SRV, TXT, CAA and unknown types as dig does', () => {
    const r = readReply(
      reply({
        answers: [
          { name: 'demo.test', type: 'MX', ttl: 1, data: { preference: 10, exchange: 'mail.demo.test' } },
          {
            name: 'demo.test',
            type: 'SRV',
            ttl: 1,
            data: { priority: 10, weight: 5, port: 443, target: 'www.demo.test' },
          },
          { name: 'demo.test', type: 'TXT', ttl: 1, data: ['v=spf1 "quoted" \\ ok', Buffer.from([7])] },
          { name: 'demo.test', type: 'CAA', ttl: 1, data: { flags: 0, tag: 'issue', value: 'letsencrypt.org' } },
          {
            name: 'demo.test',
            type: 'UNKNOWN_65' as dnsPacket.RecordType,
            ttl: 1,
            data: Buffer.from([1, 0, 0]),
          } as dnsPacket.Answer,
        ],
        authorities: [
          {
            name: 'demo.test',
            type: 'SOA',
            ttl: 300,
            data: {
              mname: 'ns1.demo.test',
              rname: 'hostmaster.demo.test',
              serial: 2026112201,
              refresh: 7200,
              retry: 3600,
              expire: 1209600,
              minimum: 300,
            },
          },
        ],
      }),
    );
    expect(r.answer.map((rr) => `${rr.type} ${rr.data}`)).toEqual([
      'MX 10 mail.demo.test.',
      'SRV 10 5 443 www.demo.test.',
      'TXT "v=spf1 \\"quoted\\" \\\\ ok" "\\007"',
      'CAA 0 issue "letsencrypt.org"',
      'HTTPS \\# 3 010000',
    ]);
    expect(r.authority[0]!.data).toBe('ns1.demo.test. hostmaster.demo.test. 2026112201 7200 3600 1209600 300');
  });

  it('refuses a reply it cannot decode with a reason, and sees TC before decoding', () => {
    const good = reply({ flags: dnsPacket.TRUNCATED_RESPONSE });
    expect(isTruncated(good)).toBe(true);
    expect(isTruncated(reply({}))).toBe(false);
    const cut = good.subarray(0, good.length - 3);
    expect(isTruncated(cut)).toBe(true);
    expect(() => readReply(cut)).toThrow(BadReply);
    expect(() => readReply(cut)).toThrow(/cannot be decoded/);
  });
});
