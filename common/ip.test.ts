import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIPv4 } from 'node:net';
import { contains, formatIp, ipBytes, ipv4Bytes, parseCidr, parseIp } from './ip.js';

describe('parseCidr', () => {
  it('parses IPv4 and IPv6 networks', () => {
    expect(parseCidr('192.0.2.0/24')).toEqual({ family: 4, address: 0xc0000200n, prefix: 24 });
    expect(parseCidr('0.0.0.0/0')).toEqual({ family: 4, address: 0n, prefix: 0 });
    expect(parseCidr('2001:db8::/32')).toEqual({ family: 6, address: 0x2001_0db8n << 96n, prefix: 32 });
    expect(parseCidr('::ffff:192.0.2.0/120')).toEqual({
      family: 6,
      address: (0xffffn << 32n) | 0xc0000200n,
      prefix: 120,
    });
    expect(parseCidr('::/0')).toEqual({ family: 6, address: 0n, prefix: 0 });
  });

  it.each([
    ['192.0.2.0', /not a CIDR network/],
    ['192.0.2.0/', /prefix length/],
    ['192.0.2.0/33', /prefix length from 0 to 32/],
    ['192.0.2.0/-1', /prefix length/],
    ['192.0.2.0/2 4', /prefix length/],
    ['300.0.0.0/8', /not an IPv4 or IPv6 address/],
    ['010.0.0.0/8', /not an IPv4 or IPv6 address/],
    ['example.com/8', /not an IPv4 or IPv6 address/],
    ['2001:db8::/129', /prefix length from 0 to 128/],
    ['2001:db8:::/32', /not an IPv4 or IPv6 address/],
    ['fe80::%eth0/64', /not an IPv4 or IPv6 address/],
  ])('refuses %s', (text, message) => {
    expect(() => parseCidr(text)).toThrow(message);
  });

  it('refuses host bits and suggests the network', () => {
    expect(() => parseCidr('192.0.2.1/24')).toThrow(
      "'192.0.2.1/24' has host bits set beyond /24 (did you mean 192.0.2.0/24?)",
    );
    expect(() => parseCidr('2001:db8::1/32')).toThrow('did you mean 2001:db8::/32?');
  });
});

describe('formatIp', () => {
  it('writes RFC 5952 IPv6 text', () => {
    const f = (text: string): string => formatIp(6, parseIp(text)!.address);
    expect(f('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(f('::')).toBe('::');
    expect(f('::1')).toBe('::1');
    expect(f('1::')).toBe('1::');
    expect(f('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1'); // one zero group stays
    expect(f('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1'); // the longest run wins
    expect(f('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1'); // the first of equal runs wins
  });

  it('round-trips every address', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (v6, v4) => {
          expect(parseIp(formatIp(6, v6))).toEqual({ family: 6, address: v6 });
          expect(parseIp(formatIp(4, BigInt(v4)))).toEqual({ family: 4, address: BigInt(v4) });
        },
      ),
    );
  });
});

describe('contains', () => {
  it('is true for the network itself and for networks inside it, per family', () => {
    const net = parseCidr('10.0.0.0/8');
    expect(contains(net, net)).toBe(true);
    expect(contains(net, parseCidr('10.1.0.0/16'))).toBe(true);
    expect(contains(parseCidr('10.1.0.0/16'), net)).toBe(false);
    expect(contains(net, parseCidr('11.0.0.0/8'))).toBe(false);
    expect(contains(parseCidr('::/0'), net)).toBe(false);
  });
});

describe('ipv4Bytes', () => {
  it('accepts exactly what isIPv4 accepts, with the same bytes as ipBytes', () => {
    const octet = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.constantFrom('', '00', '01', '-1', ' 1', 'x'),
    );
    const dotted = fc.array(octet, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.'));
    fc.assert(
      fc.property(fc.oneof(dotted, fc.string({ maxLength: 16 })), (text) => {
        const bytes = ipv4Bytes(text);
        expect(bytes !== undefined).toBe(isIPv4(text));
        if (bytes) expect([...bytes]).toEqual([...ipBytes(text)!]);
      }),
      { numRuns: 5000 },
    );
  });

  it.each(['192.0.2.1', '0.0.0.0', '255.255.255.255'])('reads %s', (text) => {
    expect(ipv4Bytes(text)).toEqual(ipBytes(text));
  });

  it.each(['192.0.2.01', '256.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', '1.2.3.4.', ' 1.2.3.4', '::1'])(
    'refuses %s',
    (text) => expect(ipv4Bytes(text)).toBeUndefined(),
  );
});
