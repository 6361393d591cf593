import { describe, expect, it } from 'vitest';
import { writeAddressBytes } from '../wire/address-bytes.js';
import { clientNetwork, DEFAULT_PREFIXES, inNetwork, keepNetworkBits } from './client-network.js';

describe('clientNetwork', () => {
  it('groups IPv4 by /24 and IPv6 by /56', () => {
    expect(clientNetwork('127.0.0.1')).toBe('127.0.0.0/24');
    expect(clientNetwork('127.0.0.200')).toBe('127.0.0.0/24');
    expect(clientNetwork('127.0.1.1')).toBe('127.0.1.0/24');
    expect(clientNetwork('2001:db8:1:2ff::1')).toBe('2001:db8:1:200::/56');
    expect(clientNetwork('2001:db8:1:2ff::1')).toBe(clientNetwork('2001:db8:1:200:ffff::9'));
    expect(clientNetwork('2001:db8:1:300::1')).not.toBe(clientNetwork('2001:db8:1:200::1'));
  });

  it('counts an IPv4-mapped address (dual-stack socket) as its IPv4 network', () => {
    expect(clientNetwork('::ffff:192.0.2.7')).toBe('192.0.2.0/24');
  });

  it('keeps text that is not an address as its own key', () => {
    expect(clientNetwork('')).toBe('');
    expect(clientNetwork('fe80::1%eth0')).toBe('fe80::1%eth0');
  });
});

describe('network bytes, in place', () => {
  const bytes = (address: string) => {
    const out = new Uint8Array(16);
    return { out, length: writeAddressBytes(address, out, 0) };
  };

  it('keeps the prefix bits and zeroes the rest, for any prefix length', () => {
    const a = bytes('198.51.100.77');
    keepNetworkBits(a.out, a.length, { ipv4: 20, ipv6: 56 });
    expect([...a.out.subarray(0, 4)]).toEqual([198, 51, 96, 0]);
    const b = bytes('2001:db8:1:2ff::1');
    keepNetworkBits(b.out, b.length, DEFAULT_PREFIXES);
    expect(Buffer.from(b.out.subarray(0, b.length)).toString('hex')).toBe('20010db8000102000000000000000000');
  });

  it('tells whether an address lies in a network', () => {
    const net = { bytes: Buffer.from([10, 1, 128, 0]), prefixLength: 17 };
    const inside = bytes('10.1.200.3');
    const outside = bytes('10.1.127.3');
    expect(inNetwork(inside.out, inside.length, net)).toBe(true);
    expect(inNetwork(outside.out, outside.length, net)).toBe(false);
    const v6 = bytes('2001:db8::1');
    expect(inNetwork(v6.out, v6.length, net)).toBe(false);
    expect(inNetwork(inside.out, inside.length, { bytes: Buffer.alloc(4), prefixLength: 0 })).toBe(true);
  });

  it('names a network with other prefix lengths', () => {
    expect(clientNetwork('198.51.100.77', { ipv4: 32, ipv6: 64 })).toBe('198.51.100.77/32');
    expect(clientNetwork('2001:db8:1:2ff::1', { ipv4: 32, ipv6: 48 })).toBe('2001:db8:1::/48');
  });
});
