// Protocol behaviour the DNS server owes (DESIGN.md), checked with `dig` and a raw JS client
// against the real `meridian dns` process on free loopback ports.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, encodeQuery, frame, rcodeOf, TcpClient, udpExchange } from '../helpers/dns-client.js';
import { prng } from '../helpers/prng.js';
import { dig, kdig, query } from '../helpers/dig.js';
import { metricValue } from '../helpers/metric-value.js';
import { parseDigAll, type DigRecord } from '../helpers/dig-output.js';
import { scrapeMetrics } from '../helpers/control-client.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { all, needs, needsLoopback6 } from '../helpers/system-tools.js';

const BIG_TXT = Array.from({ length: 60 }, (_, i) => `big-txt-record-${String(i).padStart(2, '0')}-padding-padding`);

function protocolConfig(opts: { version?: boolean } = {}): string {
  return `
dns:
  serverId: test-ns
${opts.version === false ? '' : '  version: "meridian-test"\n'}  maxUdpPayload: 1232
  tcp: { idleTimeout: 500, maxConnections: 5 }
  log: { level: info }
zones:
  - name: example.test
    ttl: 3600
    soa: { mname: ns1.example.test., rname: hostmaster.example.test., serial: 2026010101, minimum: 300, ttl: 600 }
    ns: [ns1.example.test., ns2.example.test.]
    records:
      - { name: ns1, type: A, value: 192.0.2.1 }
      - { name: ns1, type: AAAA, value: "2001:db8::1" }
      - { name: ns2, type: A, value: 192.0.2.2 }
      - { name: www, type: A, ttl: 60, values: [192.0.2.10, 192.0.2.11] }
      - { name: www, type: AAAA, ttl: 60, value: "2001:db8::10" }
      - { name: alias1, type: CNAME, value: alias2 }
      - { name: alias2, type: CNAME, value: www.example.test. }
      - { name: outside, type: CNAME, value: target.elsewhere.invalid. }
      - { name: dangling, type: CNAME, value: missing.example.test. }
      - { name: loop1, type: CNAME, value: loop2 }
      - { name: loop2, type: CNAME, value: loop1 }
      - { name: "*.wild", type: A, value: 192.0.2.50 }
      - { name: "*.wild", type: TXT, value: "from the wildcard" }
      - { name: exists.wild, type: A, value: 192.0.2.51 }
      - { name: deep.ent.wild, type: A, value: 192.0.2.52 }
      - { name: a.b.c, type: A, value: 192.0.2.60 }
      - { name: sub, type: NS, values: [ns1.sub.example.test., ns2.sub.example.test.] }
      - { name: ns1.sub, type: A, value: 192.0.2.70 }
      - { name: ns2.sub, type: AAAA, value: "2001:db8::70" }
      - { name: "@", type: MX, value: "10 mail.example.test." }
      - { name: mail, type: A, value: 192.0.2.25 }
      - { name: "@", type: TXT, value: "v=spf1 -all" }
      - { name: _sip._tcp, type: SRV, value: "10 5 5060 www.example.test." }
      - { name: "@", type: CAA, value: '0 issue "ca.example"' }
      - name: big
        type: TXT
        values: [${BIG_TXT.map((t) => JSON.stringify(t)).join(', ')}]
  # SOA TTL below MINIMUM: the negative TTL is the SOA TTL here.
  - name: other.test
    ttl: 3600
    soa: { mname: ns1.example.test., rname: hostmaster.example.test., minimum: 900, ttl: 120 }
    ns: [ns1.example.test.]
    records:
      - { name: host, type: A, value: 192.0.2.99 }
`;
}

const rr = (r: DigRecord) => `${r.name.toLowerCase()} ${r.ttl} ${r.class} ${r.type} ${r.data}`;

let server: RunningServer;

beforeAll(async () => {
  server = await startServer(protocolConfig());
});

afterAll(async () => {
  await server?.stop();
});

describe('authoritative semantics (RFC 1034/1035)', needs('dig'), () => {
  it('sets AA, never sets RA, and copies RD from the query', async () => {
    const plain = await query(server, ['www.example.test', 'A']);
    expect(plain.status).toBe('NOERROR');
    expect(plain.flags).toContain('qr');
    expect(plain.flags).toContain('aa');
    expect(plain.flags).not.toContain('ra');
    expect(plain.flags).not.toContain('rd');
    expect(plain.answer.map((r) => r.data).sort()).toEqual(['192.0.2.10', '192.0.2.11']);

    const withRd = await query(server, ['+rec', 'www.example.test', 'A']);
    expect(withRd.flags).toContain('aa');
    expect(withRd.flags).toContain('rd');
    expect(withRd.flags).not.toContain('ra');
    expect(withRd.answer).toHaveLength(2);

    // The same on the per-query (non-precomputed) path: a wildcard name, and over TCP.
    const wild = await query(server, ['+rec', 'x.wild.example.test', 'A']);
    expect(wild.flags).toEqual(expect.arrayContaining(['qr', 'aa', 'rd']));
    expect(wild.flags).not.toContain('ra');
    const tcp = await query(server, ['+tcp', 'www.example.test', 'A']);
    expect(tcp.flags).toContain('aa');
    expect(tcp.flags).not.toContain('rd');
    expect(tcp.flags).not.toContain('ra');
  });

  it('NXDOMAIN and NODATA carry the SOA in authority with TTL = min(SOA TTL, SOA minimum)', async () => {
    const nx = await query(server, ['nope.example.test', 'A']);
    expect(nx.status).toBe('NXDOMAIN');
    expect(nx.flags).toContain('aa');
    expect(nx.answer).toEqual([]);
    expect(nx.authority).toHaveLength(1);
    expect(nx.authority[0]!.type).toBe('SOA');
    expect(nx.authority[0]!.name).toBe('example.test.');
    expect(nx.authority[0]!.ttl).toBe(300); // SOA TTL 600, minimum 300

    const nodata = await query(server, ['www.example.test', 'MX']);
    expect(nodata.status).toBe('NOERROR');
    expect(nodata.flags).toContain('aa');
    expect(nodata.answer).toEqual([]);
    expect(nodata.authority.map((r) => [r.name, r.type, r.ttl])).toEqual([['example.test.', 'SOA', 300]]);

    // The other way round: SOA TTL 120 < minimum 900.
    const nx2 = await query(server, ['nope.other.test', 'A']);
    expect(nx2.status).toBe('NXDOMAIN');
    expect(nx2.authority.map((r) => [r.name, r.type, r.ttl])).toEqual([['other.test.', 'SOA', 120]]);
    const nodata2 = await query(server, ['host.other.test', 'TXT']);
    expect(nodata2.status).toBe('NOERROR');
    expect(nodata2.answer).toEqual([]);
    expect(nodata2.authority.map((r) => [r.name, r.type, r.ttl])).toEqual([['other.test.', 'SOA', 120]]);
  });

  it('answers REFUSED, with no answer, for names outside our zones', async () => {
    for (const name of ['www.example.org', 'test', 'example.test.evil']) {
      const res = await query(server, [name, 'A']);
      expect(res.status, name).toBe('REFUSED');
      expect(res.flags, name).not.toContain('aa');
      expect(res.answer, name).toEqual([]);
      expect(res.authority, name).toEqual([]);
    }
  });

  it('serves MX, TXT, SRV, CAA, and apex NS with glue in additional', async () => {
    const mx = await query(server, ['example.test', 'MX']);
    expect(mx.answer.map(rr)).toEqual(['example.test. 3600 IN MX 10 mail.example.test.']);
    expect(mx.additional.map(rr)).toContain('mail.example.test. 3600 IN A 192.0.2.25');

    const txt = await query(server, ['example.test', 'TXT']);
    expect(txt.answer.map(rr)).toEqual(['example.test. 3600 IN TXT "v=spf1 -all"']);

    const srv = await query(server, ['_sip._tcp.example.test', 'SRV']);
    expect(srv.answer.map(rr)).toEqual(['_sip._tcp.example.test. 3600 IN SRV 10 5 5060 www.example.test.']);

    const caa = await query(server, ['example.test', 'CAA']);
    expect(caa.answer.map(rr)).toEqual(['example.test. 3600 IN CAA 0 issue "ca.example"']);

    const ns = await query(server, ['example.test', 'NS']);
    expect(ns.flags).toContain('aa');
    expect(ns.answer.map((r) => r.data).sort()).toEqual(['ns1.example.test.', 'ns2.example.test.']);
    expect(ns.additional.map(rr).sort()).toEqual([
      'ns1.example.test. 3600 IN A 192.0.2.1',
      'ns1.example.test. 3600 IN AAAA 2001:db8::1',
      'ns2.example.test. 3600 IN A 192.0.2.2',
    ]);
  });

  it('follows a CNAME chain inside the zone, stops at an out-of-zone target, and terminates a loop', async () => {
    const chain = await query(server, ['alias1.example.test', 'A']);
    expect(chain.status).toBe('NOERROR');
    expect(chain.flags).toContain('aa');
    expect(chain.answer.map(rr)).toEqual([
      'alias1.example.test. 3600 IN CNAME alias2.example.test.',
      'alias2.example.test. 3600 IN CNAME www.example.test.',
      'www.example.test. 60 IN A 192.0.2.10',
      'www.example.test. 60 IN A 192.0.2.11',
    ]);

    const out = await query(server, ['outside.example.test', 'A']);
    expect(out.status).toBe('NOERROR');
    expect(out.flags).toContain('aa');
    expect(out.answer.map(rr)).toEqual(['outside.example.test. 3600 IN CNAME target.elsewhere.invalid.']);
    expect(out.authority).toEqual([]);

    const started = performance.now();
    const loop = await query(server, ['loop1.example.test', 'A']);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(['NOERROR', 'SERVFAIL']).toContain(loop.status);
    expect(loop.answer.map(rr)).toEqual([
      'loop1.example.test. 3600 IN CNAME loop2.example.test.',
      'loop2.example.test. 3600 IN CNAME loop1.example.test.',
    ]);

    // A chain ending at a name we know does not exist: NXDOMAIN with the CNAME (RFC 6604).
    const dangling = await query(server, ['dangling.example.test', 'A']);
    expect(dangling.status).toBe('NXDOMAIN');
    expect(dangling.answer.map(rr)).toEqual(['dangling.example.test. 3600 IN CNAME missing.example.test.']);
    expect(dangling.authority.map((r) => [r.type, r.ttl])).toEqual([['SOA', 300]]);

    // Asking for the CNAME itself does not follow it.
    const cname = await query(server, ['alias1.example.test', 'CNAME']);
    expect(cname.answer.map(rr)).toEqual(['alias1.example.test. 3600 IN CNAME alias2.example.test.']);
  });

  it('synthesizes from a wildcard with owner = QNAME, not where names exist; empty non-terminals are NODATA', async () => {
    const wild = await query(server, ['anything.wild.example.test', 'A']);
    expect(wild.status).toBe('NOERROR');
    expect(wild.flags).toContain('aa');
    expect(wild.answer.map(rr)).toEqual(['anything.wild.example.test. 3600 IN A 192.0.2.50']);

    const deeper = await query(server, ['x.y.wild.example.test', 'TXT']);
    expect(deeper.answer.map(rr)).toEqual(['x.y.wild.example.test. 3600 IN TXT "from the wildcard"']);

    const wildNodata = await query(server, ['anything.wild.example.test', 'MX']);
    expect(wildNodata.status).toBe('NOERROR');
    expect(wildNodata.answer).toEqual([]);
    expect(wildNodata.authority.map((r) => r.type)).toEqual(['SOA']);

    // An existing name is never covered by the wildcard, not even for types it lacks.
    const exists = await query(server, ['exists.wild.example.test', 'A']);
    expect(exists.answer.map(rr)).toEqual(['exists.wild.example.test. 3600 IN A 192.0.2.51']);
    const existsTxt = await query(server, ['exists.wild.example.test', 'TXT']);
    expect(existsTxt.status).toBe('NOERROR');
    expect(existsTxt.answer).toEqual([]);
    expect(existsTxt.authority.map((r) => r.type)).toEqual(['SOA']);
    // ent.wild exists as an empty non-terminal (deep.ent.wild has data): no synthesis there.
    const ent = await query(server, ['ent.wild.example.test', 'A']);
    expect(ent.status).toBe('NOERROR');
    expect(ent.answer).toEqual([]);

    // a.b.c exists, so b.c and c are empty non-terminals: NODATA, not NXDOMAIN.
    for (const name of ['b.c.example.test', 'c.example.test']) {
      const res = await query(server, [name, 'A']);
      expect(res.status, name).toBe('NOERROR');
      expect(res.flags, name).toContain('aa');
      expect(res.answer, name).toEqual([]);
      expect(
        res.authority.map((r) => [r.type, r.ttl]),
        name,
      ).toEqual([['SOA', 300]]);
    }
    expect((await query(server, ['a.b.c.example.test', 'A'])).answer.map((r) => r.data)).toEqual(['192.0.2.60']);
    expect((await query(server, ['x.b.c.example.test', 'A'])).status).toBe('NXDOMAIN');
  });

  it('answers below a delegation with a referral: NS in authority, glue in additional, AA clear', async () => {
    for (const [name, type] of [
      ['www.sub.example.test', 'A'],
      ['sub.example.test', 'NS'],
      ['sub.example.test', 'A'],
      ['ns1.sub.example.test', 'A'],
    ] as const) {
      const res = await query(server, [name, type]);
      const what = `${name} ${type}`;
      expect(res.status, what).toBe('NOERROR');
      expect(res.flags, what).not.toContain('aa');
      expect(res.answer, what).toEqual([]);
      expect(res.authority.map(rr).sort(), what).toEqual([
        'sub.example.test. 3600 IN NS ns1.sub.example.test.',
        'sub.example.test. 3600 IN NS ns2.sub.example.test.',
      ]);
      expect(res.additional.map(rr).sort(), what).toEqual([
        'ns1.sub.example.test. 3600 IN A 192.0.2.70',
        'ns2.sub.example.test. 3600 IN AAAA 2001:db8::70',
      ]);
    }
  });

  it('preserves the QNAME case in the echoed question and matches case-insensitively', async () => {
    const res = await query(server, ['WwW.ExAmPle.TeSt', 'A']);
    expect(res.status).toBe('NOERROR');
    expect(res.question).toEqual([{ name: 'WwW.ExAmPle.TeSt.', class: 'IN', type: 'A' }]);
    expect(res.answer.map((r) => r.data).sort()).toEqual(['192.0.2.10', '192.0.2.11']);

    // Per-query paths too: wildcard synthesis and NXDOMAIN.
    const wild = await query(server, ['FoO.WiLd.ExAmPle.TeSt', 'A']);
    expect(wild.question[0]!.name).toBe('FoO.WiLd.ExAmPle.TeSt.');
    expect(wild.answer.map((r) => [r.name.toLowerCase(), r.data])).toEqual([['foo.wild.example.test.', '192.0.2.50']]);
    const nx = await query(server, ['NoPe.EXAMPLE.test', 'A']);
    expect(nx.status).toBe('NXDOMAIN');
    expect(nx.question[0]!.name).toBe('NoPe.EXAMPLE.test.');
  });

  it('answers ANY minimally with one RRset (RFC 8482)', async () => {
    for (const args of [
      ['www.example.test', 'ANY'],
      ['+tcp', 'www.example.test', 'ANY'],
      ['example.test', 'ANY'],
    ]) {
      const res = await query(server, args);
      expect(res.status, args.join(' ')).toBe('NOERROR');
      expect(res.flags, args.join(' ')).toContain('aa');
      expect(res.answer.length, args.join(' ')).toBeGreaterThan(0);
      expect(new Set(res.answer.map((r) => `${r.name.toLowerCase()}/${r.type}`)).size, args.join(' ')).toBe(1);
    }
  });

  it('answers NOTIMP for an unknown opcode and NODATA for an unknown type', async () => {
    const notimp = await query(server, ['+noedns', '+opcode=2', 'www.example.test', 'A']);
    expect(notimp.status).toBe('NOTIMP');
    expect(notimp.opcode).toBe('STATUS');
    expect(notimp.answer).toEqual([]);
    // dig sets RD; RD is defined for QUERY only (RFC 1035 §4.1.1), so the answer must not carry it.
    expect(notimp.flags).not.toContain('rd');
    const notimp15 = await query(server, ['+noedns', '+opcode=15', 'www.example.test', 'A']);
    expect(notimp15.status).toBe('NOTIMP');

    const unknown = await query(server, ['www.example.test', 'TYPE65000']);
    expect(unknown.status).toBe('NOERROR');
    expect(unknown.flags).toContain('aa');
    expect(unknown.answer).toEqual([]);
    expect(unknown.authority.map((r) => [r.type, r.ttl])).toEqual([['SOA', 300]]);
  });
});

describe('EDNS (RFC 6891), NSID (RFC 5001), CHAOS', needs('dig'), () => {
  it('echoes OPT and advertises its own UDP payload size (1232)', async () => {
    const res = await query(server, ['www.example.test', 'A']);
    expect(res.edns).toEqual({ version: 0, flags: [], udp: 1232 });
    const big = await query(server, ['+bufsize=4096', 'www.example.test', 'A']);
    expect(big.edns?.udp).toBe(1232);
    const noEdns = await query(server, ['+noedns', 'www.example.test', 'A']);
    expect(noEdns.edns).toBeNull();
    expect(noEdns.counts.additional).toBe(0);
  });

  it('includes an OPT in every response to an EDNS query, error responses too (RFC 6891 §6.1.1)', async () => {
    const refused = await query(server, ['www.example.org', 'A']);
    expect(refused.status).toBe('REFUSED');
    expect(refused.edns?.version).toBe(0);
    const notimp = await query(server, ['+opcode=2', 'www.example.test', 'A']);
    expect(notimp.status).toBe('NOTIMP');
    expect(notimp.edns, 'NOTIMP response to an EDNS query has no OPT').not.toBeNull();
  });

  it('+bufsize=512 with a big answer: TC set, OPT kept, fits in 512 bytes', async () => {
    const res = await query(server, ['+bufsize=512', '+ignore', 'big.example.test', 'TXT']);
    expect(res.transport).toBe('UDP');
    expect(res.status).toBe('NOERROR');
    expect(res.flags).toContain('tc');
    expect(res.flags).toContain('aa');
    expect(res.edns).toEqual({ version: 0, flags: [], udp: 1232 });
    expect(res.size).toBeLessThanOrEqual(512);
    // With dig's default 1232 the 60 TXT records (> 1232 bytes) do not fit either.
    const dflt = await query(server, ['+ignore', 'big.example.test', 'TXT']);
    expect(dflt.flags).toContain('tc');
    expect(dflt.edns).not.toBeNull();
    expect(dflt.size).toBeLessThanOrEqual(1232);
  });

  it('the same big answer over TCP is complete', async () => {
    const res = await query(server, ['+tcp', '+bufsize=512', 'big.example.test', 'TXT']);
    expect(res.transport).toBe('TCP');
    expect(res.flags).not.toContain('tc');
    expect(res.answer).toHaveLength(60);
    expect(res.answer.map((r) => r.data.replace(/"/g, '')).sort()).toEqual([...BIG_TXT].sort());
    expect(res.size).toBeGreaterThan(1232);
    // And dig's default behaviour (retry over TCP on TC) gets there by itself.
    const retried = await query(server, ['big.example.test', 'TXT']);
    expect(retried.transport).toBe('TCP');
    expect(retried.answer).toHaveLength(60);
  });

  it('a query without EDNS gets TC for an answer over 512 bytes, and no OPT', async () => {
    const res = await query(server, ['+noedns', '+ignore', 'big.example.test', 'TXT']);
    expect(res.flags).toContain('tc');
    expect(res.edns).toBeNull();
    expect(res.size).toBeLessThanOrEqual(512);
  });

  it('answers BADVERS to EDNS version 1, with an OPT of version 0', async () => {
    const res = await query(server, ['+edns=1', '+noednsnegotiation', 'www.example.test', 'A']);
    expect(res.status).toBe('BADVERS');
    expect(res.edns?.version).toBe(0);
    expect(res.answer).toEqual([]);
  });

  it('ignores an unknown EDNS option and does not echo it', async () => {
    const res = await query(server, ['+ednsopt=65001:abcd', 'www.example.test', 'A']);
    expect(res.status).toBe('NOERROR');
    expect(res.answer).toHaveLength(2);
    expect(res.edns?.version).toBe(0);
    expect(res.raw).not.toMatch(/65001/);
  });

  it('+nsid returns the server id; without +nsid there is no NSID', async () => {
    const res = await query(server, ['+nsid', 'www.example.test', 'A']);
    expect(res.nsid).toBe('test-ns');
    expect(res.answer).toHaveLength(2);
    expect((await query(server, ['www.example.test', 'A'])).nsid).toBeNull();
  });

  it('CHAOS TXT id.server and hostname.bind give the server id, version.bind the version', async () => {
    for (const name of ['id.server', 'hostname.bind']) {
      const res = await query(server, ['CH', 'TXT', name]);
      expect(res.status, name).toBe('NOERROR');
      expect(
        res.answer.map((r) => [r.name, r.class, r.type, r.data]),
        name,
      ).toEqual([[`${name}.`, 'CH', 'TXT', '"test-ns"']]);
    }
    const version = await query(server, ['CH', 'TXT', 'version.bind']);
    expect(version.status).toBe('NOERROR');
    expect(version.answer.map((r) => r.data)).toEqual(['"meridian-test"']);
    // Case-insensitive like any name.
    expect((await query(server, ['CH', 'TXT', 'ID.Server'])).answer.map((r) => r.data)).toEqual(['"test-ns"']);
  });

  describe('with no dns.version configured', () => {
    let bare: RunningServer;
    beforeAll(async () => {
      bare = await startServer(protocolConfig({ version: false }));
    });
    afterAll(async () => {
      await bare?.stop();
    });

    it('version.bind is REFUSED while id.server still answers', async () => {
      const res = await query(bare, ['CH', 'TXT', 'version.bind']);
      expect(res.status).toBe('REFUSED');
      expect(res.answer).toEqual([]);
      expect((await query(bare, ['CH', 'TXT', 'id.server'])).answer.map((r) => r.data)).toEqual(['"test-ns"']);
    });
  });
});

describe('Client Subnet (RFC 7871)', needs('dig'), () => {
  it('echoes ECS with scope 0 for static answers', async () => {
    const v4 = await query(server, ['+subnet=198.51.100.0/24', 'www.example.test', 'A']);
    expect(v4.status).toBe('NOERROR');
    expect(v4.clientSubnet).toBe('198.51.100.0/24/0');
    expect(v4.answer).toHaveLength(2);
    const v6 = await query(server, ['+subnet=2001:db8:1234::/48', 'www.example.test', 'AAAA']);
    expect(v6.clientSubnet).toBe('2001:db8:1234::/48/0');
    // The per-query path as well.
    const wild = await query(server, ['+subnet=198.51.100.0/24', 'z.wild.example.test', 'A']);
    expect(wild.clientSubnet).toBe('198.51.100.0/24/0');
  });

  it('answers FORMERR to an ECS option with address bits set beyond the source prefix', async () => {
    // family 1, source /22, scope 0, address 198.51.101 (0x65: the last 2 bits are beyond /22).
    const res = await query(server, ['+ednsopt=8:00011600c63365', 'www.example.test', 'A']);
    expect(res.status).toBe('FORMERR');
    expect(res.answer).toEqual([]);
    // Sanity: the same option with the spare bits clear is fine.
    const ok = await query(server, ['+ednsopt=8:00011600c63364', 'www.example.test', 'A']);
    expect(ok.status).toBe('NOERROR');
    expect(ok.clientSubnet).toBe('198.51.100.0/22/0');
  });
});

describe('DNS Cookies (RFC 7873, RFC 9018)', needs('dig'), () => {
  /** dig's `; COOKIE: <hex> (good)` line: the cookie it got back and its verdict. */
  const cookieOf = (text: string) => /^; COOKIE: ([0-9a-f]+)(?: \((\w+)\))?/m.exec(text);

  it('gives dig +cookie a server cookie, accepts it back, and answers a forged one BADCOOKIE over UDP only', async () => {
    const first = await dig(server, ['+cookie', 'www.example.test', 'A']);
    const got = cookieOf(first);
    expect(got, first).not.toBeNull();
    // Client cookie (8 bytes) then an RFC 9018 server cookie (16 bytes: version 1, reserved 0).
    expect(got![1]).toHaveLength(48);
    expect(got![1]!.slice(16, 24)).toBe('01000000');
    expect(got![2]).toBe('good');

    const again = await dig(server, [`+cookie=${got![1]}`, 'www.example.test', 'A']);
    expect(again).toMatch(/status: NOERROR/);
    expect(cookieOf(again)![1]).toBe(got![1]);

    const forged = `${got![1]!.slice(0, 32)}${'0'.repeat(16)}`;
    const bad = await dig(server, [`+cookie=${forged}`, '+nobadcookie', 'www.example.test', 'A']);
    expect(bad).toMatch(/status: BADCOOKIE/);
    expect(bad).not.toMatch(/ANSWER SECTION/);
    // dig's default: retry with the new cookie, and get the answer.
    const retried = await dig(server, [`+cookie=${forged}`, 'www.example.test', 'A']);
    expect(retried).toMatch(/BADCOOKIE, retrying/);
    expect(retried).toMatch(/status: NOERROR/);
    const tcp = await dig(server, ['+tcp', `+cookie=${forged}`, 'www.example.test', 'A']);
    expect(tcp).toMatch(/status: NOERROR/);
    expect(cookieOf(tcp)![2]).toBe('good');
  });
});

describe('DNS Cookies with kdig (Knot)', needs('kdig'), () => {
  it('gets a server cookie back and is answered when it returns it, over UDP and TCP', async () => {
    const out = await kdig(server, ['+cookie', 'www.example.test', 'A']);
    expect(out, out).toMatch(/status: NOERROR/);
    const got = /COOKIE: ([0-9a-f]{16})\s*([0-9a-f]+)?/i.exec(out);
    expect(got, out).not.toBeNull();
    // kdig shows the client cookie, then the server cookie it got: RFC 9018, version 1.
    expect(got![2], out).toHaveLength(32);
    expect(got![2]!.slice(0, 8)).toBe('01000000');
    const again = await kdig(server, [`+cookie=${got![1]}${got![2]}`, 'www.example.test', 'A']);
    expect(again, again).toMatch(/status: NOERROR/);
    expect(again).toMatch(/ANSWER SECTION/);
    const tcp = await kdig(server, ['+tcp', `+cookie=${got![1]}${got![2]}`, 'www.example.test', 'A']);
    expect(tcp, tcp).toMatch(/status: NOERROR/);
  });
});

describe('TCP (RFC 7766)', () => {
  it(
    'answers several queries on one connection (dig +keepopen, and pipelined in one write)',
    needs('dig'),
    async () => {
      const before = metricValue(await scrapeMetrics(server), 'meridian_dns_tcp_connections_total');
      const out = await dig(server, ['+tcp', '+keepopen', 'www.example.test', 'A', 'ns1.example.test', 'A']);
      const [first, second] = parseDigAll(out);
      expect(first?.transport).toBe('TCP');
      expect(first?.answer.map((r) => r.data).sort()).toEqual(['192.0.2.10', '192.0.2.11']);
      expect(second?.answer.map((r) => r.data)).toEqual(['192.0.2.1']);
      const after = metricValue(await scrapeMetrics(server), 'meridian_dns_tcp_connections_total');
      expect(after - before).toBe(1);

      const client = new TcpClient(server);
      try {
        await client.connected;
        const names = ['www.example.test', 'mail.example.test', 'nope.example.test', 'big.example.test'] as const;
        const types = ['A', 'A', 'A', 'TXT'] as const;
        await client.write(Buffer.concat(names.map((n, i) => frame(encodeQuery(100 + i, n, types[i])))));
        const replies = (await client.waitFor(4)).map(decode);
        const byId = new Map(replies.map((r) => [r.id, r]));
        expect([...byId.keys()].sort()).toEqual([100, 101, 102, 103]);
        expect(
          byId
            .get(100)!
            .answers.map((a) => a.data)
            .sort(),
        ).toEqual(['192.0.2.10', '192.0.2.11']);
        expect(byId.get(101)!.answers.map((a) => a.data)).toEqual(['192.0.2.25']);
        expect(byId.get(102)!.rcode).toBe('NXDOMAIN');
        expect(byId.get(103)!.answers).toHaveLength(60);
        expect(client.closed).toBe(false);
      } finally {
        client.destroy();
      }
    },
  );

  it('reassembles a query sent one byte per write', async () => {
    const client = new TcpClient(server);
    try {
      await client.connected;
      const framed = frame(encodeQuery(4242, 'WWW.example.test', 'AAAA'));
      for (const byte of framed) {
        await client.write(Buffer.from([byte]));
        await new Promise((r) => setTimeout(r, 2));
      }
      const [reply] = await client.waitFor(1);
      const msg = decode(reply!);
      expect(msg.id).toBe(4242);
      expect(msg.questions[0]!.name).toBe('WWW.example.test');
      expect(msg.answers.map((a) => a.data)).toEqual(['2001:db8::10']);
    } finally {
      client.destroy();
    }
  });

  it('closes an idle connection after dns.tcp.idleTimeout (500 ms), counted from the last query', async () => {
    const silent = new TcpClient(server);
    await silent.connected;
    const opened = performance.now();
    await Promise.race([silent.closedPromise, new Promise((r) => setTimeout(r, 4000))]);
    expect(silent.closed).toBe(true);
    const silentFor = silent.closedAt - opened;
    expect(silentFor).toBeGreaterThan(400);
    expect(silentFor).toBeLessThan(3000);

    const active = new TcpClient(server);
    try {
      await active.connected;
      await new Promise((r) => setTimeout(r, 400));
      await active.write(frame(encodeQuery(1, 'www.example.test', 'A')));
      await active.waitFor(1);
      await new Promise((r) => setTimeout(r, 200));
      // Over 600 ms after connecting but only ~200 ms after the query: still open and usable.
      expect(active.closed).toBe(false);
      await active.write(frame(encodeQuery(2, 'www.example.test', 'A')));
      await active.waitFor(2);
      const answered = performance.now();
      await Promise.race([active.closedPromise, new Promise((r) => setTimeout(r, 4000))]);
      expect(active.closed).toBe(true);
      expect(active.closedAt - answered).toBeGreaterThan(400);
    } finally {
      active.destroy();
    }

    // Trickling bytes of a query that never completes does not count as activity.
    const trickler = new TcpClient(server);
    try {
      await trickler.connected;
      const started = performance.now();
      const partial = frame(encodeQuery(3, 'www.example.test', 'A'));
      for (let i = 0; i < partial.length - 1 && !trickler.closed && performance.now() - started < 3000; i++) {
        trickler.socket.write(partial.subarray(i, i + 1), () => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.race([trickler.closedPromise, new Promise((r) => setTimeout(r, 3000))]);
      expect(trickler.closed).toBe(true);
      expect(trickler.closedAt - started).toBeLessThan(3000);
      expect(trickler.messages).toEqual([]);
    } finally {
      trickler.destroy();
    }
  });

  it('closes connections beyond dns.tcp.maxConnections (5) while the first 5 keep working', needs('dig'), async () => {
    const first: TcpClient[] = [];
    const extra: TcpClient[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const c = new TcpClient(server);
        first.push(c);
        await c.connected;
        // Answered means accepted by the server: the order of acceptance is then certain.
        await c.write(frame(encodeQuery(i, 'www.example.test', 'A')));
        await c.waitFor(1);
      }
      for (let i = 0; i < 2; i++) {
        const c = new TcpClient(server);
        extra.push(c);
        await c.connected.catch(() => undefined);
        c.socket.write(frame(encodeQuery(50 + i, 'www.example.test', 'A')), () => undefined);
      }
      await Promise.race([Promise.all(extra.map((c) => c.closedPromise)), new Promise((r) => setTimeout(r, 2000))]);
      for (const c of extra) {
        expect(c.closed).toBe(true);
        expect(c.messages).toEqual([]);
      }
      for (const [i, c] of first.entries()) {
        expect(c.closed).toBe(false);
        await c.write(frame(encodeQuery(10 + i, 'mail.example.test', 'A')));
        const replies = await c.waitFor(2);
        expect(decode(replies[1]!).answers.map((a) => a.data)).toEqual(['192.0.2.25']);
      }
    } finally {
      for (const c of [...first, ...extra]) c.destroy();
    }
    // Once they are gone, new connections are accepted again.
    await new Promise((r) => setTimeout(r, 100));
    const res = await query(server, ['+tcp', 'www.example.test', 'A']);
    expect(res.answer).toHaveLength(2);
  });
});

describe('robustness', needs('dig'), () => {
  it('malformed UDP datagrams get no answer or FORMERR, and the server keeps answering', async () => {
    const rand = prng(0x5eed);
    const garbage: Buffer[] = [
      Buffer.from([1, 2, 3, 4, 5]),
      Buffer.alloc(0),
      Buffer.alloc(12),
      Buffer.from('hello, world, this is not DNS'),
    ];
    for (let i = 0; i < 40; i++) {
      const b = Buffer.alloc(1 + Math.floor(rand() * 300));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
      // Keep QR clear and the opcode QUERY, so the header asks to be parsed further.
      if (b.length > 2) b[2] = b[2]! & 0x07;
      garbage.push(b);
    }
    // A question whose name runs past the end, and a compression pointer loop in the question.
    garbage.push(Buffer.from('abcd0000000100000000000003777777', 'hex'));
    garbage.push(Buffer.from('abcd000000010000000000000c0c00010001', 'hex'));

    const socket = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    socket.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    try {
      for (const g of garbage) socket.send(g, server.port, server.host);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      socket.close();
    }
    expect(replies.length).toBeGreaterThan(0);
    for (const reply of replies) {
      expect(reply.length).toBeGreaterThanOrEqual(12);
      expect(reply[2]! & 0x80).toBe(0x80); // QR
      // FORMERR; NOTIMP only where the garbage happened to carry another opcode (echoed back).
      const opcode = (reply[2]! >> 3) & 0xf;
      expect(rcodeOf(reply), reply.toString('hex')).toBe(opcode === 0 ? 1 : 4);
    }

    const five = await udpExchange(server, Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00]), 300);
    expect(five === null || rcodeOf(five) === 1).toBe(true);

    expect(server.process.exitCode).toBeNull();
    const res = await query(server, ['www.example.test', 'A']);
    expect(res.status).toBe('NOERROR');
    expect(res.answer).toHaveLength(2);
  });
});

describe('IPv6', () => {
  it('a listener on [::1]:0 answers over UDP and TCP', all(needs('dig'), needsLoopback6()), async () => {
    const v6 = await startServer(protocolConfig(), { listen: ['127.0.0.1:0', '[::1]:0'] });
    try {
      expect(v6.listeners).toHaveLength(2);
      const at = v6.listeners[1]!;
      expect(at.host).toBe('::1');
      const udp = await query(at, ['www.example.test', 'AAAA']);
      expect(udp.status).toBe('NOERROR');
      expect(udp.flags).toContain('aa');
      expect(udp.answer.map((r) => r.data)).toEqual(['2001:db8::10']);
      const tcp = await query(at, ['+tcp', 'www.example.test', 'A']);
      expect(tcp.transport).toBe('TCP');
      expect(tcp.answer).toHaveLength(2);
      const raw = await udpExchange(at, encodeQuery(7, 'www.example.test', 'A'));
      expect(raw && decode(raw).answers).toHaveLength(2);
    } finally {
      await v6.stop();
    }
  });
});

describe('shipped config', needs('dig'), () => {
  it('config/demo.yaml (with its master file) loads and answers, used in place', async () => {
    const demo = await startServer({ file: 'config/demo.yaml' });
    try {
      expect(demo.configPath.endsWith('config/demo.yaml')).toBe(true);
      const soa = await query(demo, ['demo.test', 'SOA']);
      expect(soa.status).toBe('NOERROR');
      expect(soa.flags).toContain('aa');
      expect(soa.answer.map((r) => r.type)).toEqual(['SOA']);
      const fromFile = await query(demo, ['api.demo.test', 'A']);
      expect(fromFile.status).toBe('NOERROR');
      expect(fromFile.answer.length).toBeGreaterThan(0);
    } finally {
      await demo.stop();
    }
  });
});
