import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { anycastConfigFrom } from './config.js';
import { asnProblem } from './config-problems.js';

const FILE = 'meridian.yaml';

function config(anycast: string, pops = POPS): unknown {
  return parse(`${pops}\nzones: [{ name: mrd.test }]\nanycast:\n${anycast}`);
}

const POPS = `
pops:
  - { id: a, location: { lat: 50, lon: 8 }, ipv4: [10.0.0.11] }
  - { id: b, location: { lat: 40, lon: -74 }, ipv4: [10.0.0.12], ipv6: ["2001:db8:1::12"] }
`;

const GOOD = `
  prefixes:
    - prefix: 198.51.100.0/24
      addresses:
        - { address: 198.51.100.53, serves: dns }
        - { address: 198.51.100.80, serves: edge }
    - prefix: 2001:db8:53::/48
      addresses: [{ address: "2001:db8:53::53", serves: dns }]
  pops:
    - pop: a
      bgp: { socket: /run/bird/a.ctl, asn: 65001, neighbors: [{ address: 10.0.0.1, asn: 65000, bfd: true }, { address: "2001:db8::1", asn: 65000 }] }
    - pop: b
      bgp: { socket: /run/bird/b.ctl, asn: 65002, neighbors: [{ address: 10.0.0.1, asn: 65000 }] }
      addresses: [198.51.100.53]
`;

function errorOf(anycast: string, pop = 'a', pops = POPS): string {
  try {
    anycastConfigFrom(FILE, config(anycast, pops), pop);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a config error');
}

describe('anycast config', () => {
  it('reads prefixes, the addresses this PoP serves, their checks and the BGP settings', () => {
    const a = anycastConfigFrom(FILE, config(GOOD), 'a');
    expect(
      a.prefixes.map((p) => [
        p.text,
        p.addresses.map((x) => `${x.address}:${x.port}/${x.serves}/${x.settings.check.type}`),
      ]),
    ).toEqual([
      ['198.51.100.0/24', ['198.51.100.53:53/dns/dns', '198.51.100.80:80/edge/http']],
      ['2001:db8:53::/48', ['2001:db8:53::53:53/dns/dns']],
    ]);
    // The DNS check asks for the first zone's SOA unless told otherwise.
    expect(a.prefixes[0]!.addresses[0]!.settings.check).toMatchObject({ type: 'dns', name: 'mrd.test', qtype: 'SOA' });
    expect(a.bgp).toMatchObject({
      socket: '/run/bird/a.ctl',
      asn: 65001,
      timers: { hold: 9, keepalive: 3 },
      bfd: { interval: 100, multiplier: 3 },
    });
    expect(a.damping).toEqual({ penalty: 1000, suppress: 2000, reuse: 750, halfLife: 15_000, maxHoldDown: 60_000 });
    expect(a.warnings).toEqual([]);
    // PoP b serves only the DNS address: the IPv6 prefix has nothing of b's, so b does not announce it.
    const b = anycastConfigFrom(FILE, config(GOOD), 'b');
    expect(b.prefixes.map((p) => [p.text, p.addresses.map((x) => x.address)])).toEqual([
      ['198.51.100.0/24', ['198.51.100.53']],
    ]);
  });

  it('warns about prefixes longer than /24 or /48 (they do not propagate) but accepts them', () => {
    const lab = GOOD.replace('198.51.100.0/24', '198.51.100.0/25').replace('2001:db8:53::/48', '2001:db8:53::/64');
    const a = anycastConfigFrom(FILE, config(lab), 'a');
    expect(a.warnings).toEqual([
      expect.stringMatching(/^anycast\.prefixes\[0\]\.prefix: 198\.51\.100\.0\/25 is longer than \/24/),
      expect.stringMatching(/^anycast\.prefixes\[1\]\.prefix: 2001:db8:53::\/64 is longer than \/48/),
    ]);
  });

  it('names the file, the field and the problem for an address outside its prefix', () => {
    expect(errorOf(GOOD.replace('198.51.100.80', '198.51.101.80'))).toBe(
      `${FILE}: anycast.prefixes[0].addresses[1].address: 198.51.101.80 is outside its prefix 198.51.100.0/24`,
    );
  });

  it('refuses a prefix covering a PoP unicast address', () => {
    const pops = POPS.replace('10.0.0.12]', '198.51.100.12]');
    expect(errorOf(GOOD, 'a', pops)).toBe(
      `${FILE}: anycast.prefixes[0].prefix: 198.51.100.0/24 contains PoP 'b''s unicast address 198.51.100.12 (pops[1].ipv4[0]): anycast and unicast addresses must not overlap`,
    );
    const pops6 = POPS.replace('2001:db8:1::12', '2001:db8:53::12');
    expect(errorOf(GOOD, 'a', pops6)).toMatch(
      /anycast\.prefixes\[1\]\.prefix: 2001:db8:53::\/48 contains PoP 'b''s unicast address 2001:db8:53::12 \(pops\[1\]\.ipv6\[0\]\)/,
    );
  });

  it('refuses bad ASNs, local and neighbour, with the reason', () => {
    expect(errorOf(GOOD.replace('asn: 65001', 'asn: 23456'))).toBe(
      `${FILE}: anycast.pops[0].bgp.asn: AS 23456 is AS_TRANS, reserved for 2-byte speakers (RFC 6793)`,
    );
    expect(errorOf(GOOD.replace('asn: 65002', 'asn: 0'))).toBe(
      `${FILE}: anycast.pops[1].bgp.asn: AS 0 is reserved (RFC 7607)`,
    );
    expect(errorOf(GOOD.replace('asn: 65000, bfd', 'asn: 4294967296, bfd'))).toBe(
      `${FILE}: anycast.pops[0].bgp.neighbors[0].asn: 4294967296 is not an AS number (1 to 4294967294)`,
    );
    expect(errorOf(GOOD.replace('asn: 65001', 'asn: "AS65001"'))).toMatch(
      /anycast\.pops\[0\]\.bgp\.asn: expected an AS number/,
    );
    expect(asnProblem(65001)).toBeUndefined();
    expect(asnProblem(4200000000)).toBeUndefined();
    expect(asnProblem(65535)).toMatch(/RFC 7300/);
  });

  it('refuses a PoP without BGP settings, listed without them or not listed at all', () => {
    const noBgp = GOOD.replace(/ *bgp: \{ socket: \/run\/bird\/b\.ctl[^\n]*\n/, '');
    expect(errorOf(noBgp)).toBe(
      `${FILE}: anycast.pops[1].bgp: PoP 'b' has no BGP settings (bgp: { socket, asn, neighbors })`,
    );
    const onlyA = GOOD.replace(/    - pop: b[\s\S]*$/, '');
    expect(errorOf(onlyA, 'b')).toBe(
      `${FILE}: anycast.pops: no entry for PoP 'b' (--pop), so it has no BGP settings; listed: a`,
    );
  });

  it('refuses unknown PoPs, overlapping prefixes, an address of no prefix and a config without the section', () => {
    expect(errorOf(GOOD.replace('pop: b', 'pop: z'))).toMatch(/anycast\.pops\[1\]\.pop: no PoP with id 'z'/);
    expect(
      errorOf(GOOD.replace('2001:db8:53::/48', '198.51.100.0/25').replace('"2001:db8:53::53"', '198.51.100.54')),
    ).toMatch(
      /anycast\.prefixes\[1\]\.prefix: 198\.51\.100\.0\/25 overlaps 198\.51\.100\.0\/24 \(anycast\.prefixes\[0\]\)/,
    );
    expect(errorOf(GOOD.replace('addresses: [198.51.100.53]', 'addresses: [198.51.100.99]'))).toMatch(
      /anycast\.pops\[1\]\.addresses\[0\]: 198\.51\.100\.99 is not an address of any anycast prefix/,
    );
    expect(() => anycastConfigFrom(FILE, parse(POPS), 'a')).toThrow(`${FILE}: anycast: missing`);
    expect(errorOf(GOOD.replace('198.51.100.0/24', '198.51.100.1/24'))).toMatch(
      /anycast\.prefixes\[0\]\.prefix: '198\.51\.100\.1\/24' has host bits set/,
    );
  });

  it('refuses a PoP announcing a family it has no BGP neighbour of (the prefix would reach no router)', () => {
    const v4Only = GOOD.replace(', { address: "2001:db8::1", asn: 65000 }', '');
    expect(errorOf(v4Only)).toBe(
      `${FILE}: anycast.pops[0].bgp.neighbors: PoP 'a' announces IPv6 prefix 2001:db8:53::/48 but has no IPv6 neighbour (a BGP session carries its own address family only): add one, or leave the prefix's addresses out of anycast.pops[0].addresses`,
    );
    // PoP b serves only an IPv4 address: its IPv4 neighbour is enough.
    expect(
      anycastConfigFrom(FILE, config(v4Only.replace(/    - pop: a[\s\S]*?(?=    - pop: b)/, '')), 'b').prefixes,
    ).toHaveLength(1);
    // And the other way round: an IPv6-only PoP cannot announce the IPv4 prefix.
    const v6Only = GOOD.replace('{ address: 10.0.0.1, asn: 65000, bfd: true }, ', '');
    expect(errorOf(v6Only)).toMatch(
      /anycast\.pops\[0\]\.bgp\.neighbors: PoP 'a' announces IPv4 prefix 198\.51\.100\.0\/24 but has no IPv4 neighbour/,
    );
  });

  it('checks BGP timers and damping against their RFCs', () => {
    const timers = GOOD.replace('asn: 65001,', 'asn: 65001, timers: { hold: 2, keepalive: 1 },');
    expect(errorOf(timers)).toMatch(/anycast\.pops\[0\]\.bgp\.timers: hold must be 0 or at least 3 seconds/);
    const damping = `${GOOD}  damping: { suppress: 500, reuse: 750 }\n`;
    expect(errorOf(damping)).toMatch(/anycast\.damping: reuse must be below suppress/);
  });
});
