import { describe, expect, it } from 'vitest';
import { parseCidr } from '../common/ip.js';
import { birdConf, protocolName } from './bird-conf.js';

const prefix = (text: string) => ({ text, network: parseCidr(text) });

describe('generated bird.conf', () => {
  it('names one protocol per prefix', () => {
    expect(protocolName({ text: '198.51.100.0/24' })).toBe('meridian_198_51_100_0_24');
    expect(protocolName({ text: '2001:DB8:53::/48' })).toBe('meridian_2001_db8_53___48');
  });

  it('has a disabled static protocol per prefix on the lease interface, and BGP exporting only those', () => {
    const text = birdConf({
      pop: 'a',
      prefixes: [prefix('198.51.100.0/24'), prefix('2001:db8:53::/48')],
      leaseInterface: 'mrd-lease',
      bgp: {
        socket: '/run/bird.ctl',
        asn: 65001,
        routerId: '10.0.0.2',
        neighbors: [
          { address: '10.0.0.1', asn: 65000, bfd: true },
          { address: '2001:db8::1', asn: 65000, bfd: false, multihop: 2 },
        ],
        timers: { hold: 3, keepalive: 1 },
        bfd: { interval: 50, multiplier: 3 },
      },
    });
    expect(text).toContain('router id 10.0.0.2;');
    expect(text).toContain(
      'protocol static meridian_198_51_100_0_24 {\n  ipv4;\n  disabled yes;\n  check link yes;\n  route 198.51.100.0/24 via "mrd-lease";\n}',
    );
    expect(text).toContain('route 2001:db8:53::/48 via "mrd-lease";');
    expect(text).toContain('interface "*" { interval 50 ms; multiplier 3; };');
    expect(text).toContain(
      'protocol bgp meridian_peer1 {\n  local as 65001;\n  neighbor 10.0.0.1 as 65000;\n  hold time 3;\n  keepalive time 1;\n  connect retry time 5;\n' +
        '  error wait time 1, 30;\n  error forget time 30;\n  bfd yes;\n' +
        '  ipv4 { import none; export where source = RTS_STATIC && proto ~ "meridian_*"; };\n}',
    );
    expect(text).toMatch(
      /protocol bgp meridian_peer2 \{\n  local as 65001;\n  neighbor 2001:db8::1 as 65000;\n  multihop 2;[^}]*ipv6 \{ import none;/,
    );
  });
});
