import { describe, expect, it } from 'vitest';
import { formatQueryResult, type QueryResult } from './format.js';
import type { DnsReply } from './message.js';

const EDNS = {
  version: 0,
  udpPayloadSize: 1232,
  clientSubnet: null,
  nsid: { text: 'ns1.demo.test', hex: '6e73312e64656d6f2e74657374' },
  otherOptions: [],
};

function result(reply: Partial<DnsReply>, over: Partial<QueryResult> = {}): QueryResult {
  return {
    server: '127.0.0.1:5353',
    transport: 'udp',
    retriedOverTcp: false,
    rttMs: 0.84,
    query: { name: 'www.demo.test', type: 'A', subnet: null },
    reply: {
      id: 4711,
      opcode: 'QUERY',
      rcode: 'NOERROR',
      flags: ['qr', 'aa', 'rd'],
      question: [],
      answer: [],
      authority: [],
      additional: [],
      edns: EDNS,
      ...reply,
    },
    ...over,
  };
}

describe('meridian query output', () => {
  it('puts status, server, NSID and ECS scope on top, then aligned answer lines', () => {
    const text = formatQueryResult(
      result(
        {
          answer: [
            { name: 'img.cdn.demo.test.', ttl: 30, class: 'IN', type: 'A', data: '127.0.6.1' },
            { name: 'img.cdn.demo.test.', ttl: 3600, class: 'IN', type: 'AAAA', data: '2001:db8:4::1' },
          ],
          edns: { ...EDNS, clientSubnet: { family: 1, address: '41.0.5.0', sourcePrefix: 24, scopePrefix: 16 } },
        },
        { query: { name: 'img.cdn.demo.test', type: 'A', subnet: '41.0.5.0/24' } },
      ),
    );
    expect(text).toBe(
      [
        'img.cdn.demo.test A for client subnet 41.0.5.0/24',
        'status:  NOERROR   flags: qr aa rd   id: 4711',
        'server:  127.0.0.1:5353 over UDP, 0.8 ms',
        'nsid:    ns1.demo.test',
        'ecs:     41.0.5.0/24, scope /16',
        '',
        'ANSWER',
        '  img.cdn.demo.test.    30  IN  A     127.0.6.1',
        '  img.cdn.demo.test.  3600  IN  AAAA  2001:db8:4::1',
        '',
      ].join('\n'),
    );
  });

  it('shows the SOA of an NXDOMAIN and no empty answer section', () => {
    const text = formatQueryResult(
      result({
        rcode: 'NXDOMAIN',
        authority: [
          {
            name: 'demo.test.',
            ttl: 300,
            class: 'IN',
            type: 'SOA',
            data: 'ns1.demo.test. hostmaster.demo.test. 1 7200 3600 1209600 300',
          },
        ],
      }),
    );
    expect(text).toContain('status:  NXDOMAIN');
    expect(text).not.toContain('ANSWER');
    expect(text).toContain(
      'AUTHORITY\n  demo.test.  300  IN  SOA  ns1.demo.test. hostmaster.demo.test. 1 7200 3600 1209600 300\n',
    );
  });

  it('tells NODATA from a referral', () => {
    const soa = { name: 'demo.test.', ttl: 300, class: 'IN', type: 'SOA', data: '...' };
    expect(formatQueryResult(result({ authority: [soa] }))).toContain(
      'ANSWER\n  (none: the name exists but has no records of this type, NODATA)',
    );
    const referral = result({
      flags: ['qr', 'rd'],
      authority: [{ name: 'lab.demo.test.', ttl: 3600, class: 'IN', type: 'NS', data: 'ns.lab.demo.test.' }],
    });
    expect(formatQueryResult(referral)).toContain('(none: a referral; the servers in AUTHORITY answer for this name)');
  });

  it('says when the ECS was ignored, when it holds for every client, and when there is no EDNS', () => {
    const asked = { query: { name: 'www.demo.test', type: 'A', subnet: '198.51.100.0/24' } };
    expect(formatQueryResult(result({}, asked))).toContain('ecs:     not echoed (the server ignored 198.51.100.0/24)');
    const scope0 = result(
      { edns: { ...EDNS, clientSubnet: { family: 1, address: '198.51.100.0', sourcePrefix: 24, scopePrefix: 0 } } },
      asked,
    );
    expect(formatQueryResult(scope0)).toContain(
      'ecs:     198.51.100.0/24, scope /0 (the same answer for every client)',
    );
    const noEdns = formatQueryResult(result({ edns: null }));
    expect(noEdns).toContain('edns:    none in the reply');
    expect(noEdns).not.toContain('nsid:');
    expect(formatQueryResult(result({ edns: { ...EDNS, nsid: { text: null, hex: '00ff' } } }))).toContain(
      'nsid:    0x00ff',
    );
    expect(formatQueryResult(result({ edns: { ...EDNS, nsid: null } }))).toContain('nsid:    (none sent)');
  });

  it('says when a truncated UDP reply was asked again over TCP', () => {
    const text = formatQueryResult(result({}, { transport: 'tcp', retriedOverTcp: true, rttMs: 12.34 }));
    expect(text).toContain('server:  127.0.0.1:5353 over TCP (the UDP reply was truncated), 12.3 ms');
  });
});
