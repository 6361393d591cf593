import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Type } from '../wire/constants.js';
import type { RData } from '../wire/rdata.js';
import { parseName } from './name-text.js';
import { parseRdata, txtRdata } from './rdata-text.js';
import { TextError, tokenizeLine } from './text.js';

const origin = parseName('example.test.', null);
const parse = (type: number, text: string) => parseRdata(type, tokenizeLine(text), origin);
const bytes = (rdata: RData) => Buffer.concat(rdata.map((p) => (Buffer.isBuffer(p) ? p : p.name.wire)));

describe('names in presentation form', () => {
  it('resolves relative names and @ against the origin, keeping case in wire form', () => {
    const n = parseName('WWW', origin);
    expect(n.wire.toString('latin1')).toBe('\x03WWW\x07example\x04test\x00');
    expect(n.key).toBe('\x03www\x07example\x04test');
    expect(parseName('@', origin)).toBe(origin);
  });

  it('handles escaped dots and decimal escapes', () => {
    expect(parseName('a\\.b.test.', null).wire).toEqual(Buffer.from('\x03a.b\x04test\x00', 'latin1'));
    expect(parseName('\\065bc.test.', null).key).toBe('\x03abc\x04test');
  });

  it('refuses empty labels, long labels and long names', () => {
    expect(() => parseName('a..b.', null)).toThrow(TextError);
    expect(() => parseName(`${'a'.repeat(64)}.test.`, null)).toThrow(/longer than 63/);
    expect(() => parseName(`${'abcdefghi.'.repeat(26)}`, null)).toThrow(/longer than 255/);
    expect(() => parseName('relative', null)).toThrow(/no origin/);
  });
});

describe('RDATA in presentation form', () => {
  it('parses A and refuses what is not an IPv4 address', () => {
    expect(bytes(parse(Type.A, '192.0.2.1'))).toEqual(Buffer.from([192, 0, 2, 1]));
    for (const bad of ['192.0.2', '256.1.1.1', '::1', '1.2.3.4 5']) expect(() => parse(Type.A, bad)).toThrow(TextError);
  });

  const ipv6Bytes = (text: string) => bytes(parse(Type.AAAA, text));
  it('expands IPv6 addresses exactly as the standard form says', () => {
    expect(ipv6Bytes('2001:db8::1').toString('hex')).toBe('20010db8000000000000000000000001');
    expect(ipv6Bytes('::').toString('hex')).toBe('0'.repeat(32));
    expect(ipv6Bytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(ipv6Bytes('1:2:3:4:5:6:7:8').toString('hex')).toBe('00010002000300040005000600070008');
    expect(ipv6Bytes('fe80::').toString('hex')).toBe('fe80' + '0'.repeat(28));
    expect(() => parse(Type.AAAA, 'fe80::1%eth0')).toThrow(TextError);
  });

  it('round-trips random IPv6 addresses through their compressed text form', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (raw) => {
        const groups = Array.from({ length: 8 }, (_, i) => ((raw[2 * i]! << 8) | raw[2 * i + 1]!).toString(16));
        // The longest run of zero groups becomes '::', as RFC 5952 writes it.
        const text = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
        expect(ipv6Bytes(text)).toEqual(Buffer.from(raw));
      }),
    );
  });

  it('parses MX, SRV (target never compressed), CAA and SOA', () => {
    const mx = parse(Type.MX, '10 mail');
    expect(mx[0]).toEqual(Buffer.from([0, 10]));
    expect(mx[1]).toMatchObject({ compress: true, name: { key: '\x04mail\x07example\x04test' } });
    const srv = parse(Type.SRV, '1 2 443 www.example.test.');
    expect(srv[3]).toMatchObject({ compress: false });
    expect(bytes(parse(Type.CAA, '0 issue "ca.test"'))).toEqual(Buffer.from('\x00\x05issueca.test', 'latin1'));
    expect(() => parse(Type.CAA, '0 is-sue "x"')).toThrow(/CAA tag/);
    const soa = parse(Type.SOA, 'ns1 admin 2026112201 2h 1h 2w 5m');
    expect(bytes(soa).subarray(-20).toString('hex')).toBe(
      '78c404c9' + '00001c20' + '00000e10' + '00127500' + '0000012c',
    );
  });

  it('parses TXT character-strings with escapes and refuses one over 255 bytes', () => {
    expect(bytes(parse(Type.TXT, '"a b" c\\"d'))).toEqual(Buffer.from('\x03a b\x03c"d', 'latin1'));
    expect(() => parse(Type.TXT, `"${'x'.repeat(256)}"`)).toThrow(/at most 255/);
    expect(bytes(txtRdata('y'.repeat(300)))).toHaveLength(302);
    expect(bytes(txtRdata(''))).toEqual(Buffer.from([0]));
  });

  it('accepts RFC 3597 generic RDATA and checks its length', () => {
    expect(bytes(parse(Type.A, '\\# 4 C0000201'))).toEqual(Buffer.from([192, 0, 2, 1]));
    expect(() => parse(Type.A, '\\# 3 C0000201')).toThrow(/says 3 bytes but has 4/);
  });

  it('names the missing or extra field', () => {
    expect(() => parse(Type.MX, '10')).toThrow(/MX record is missing its exchange/);
    expect(() => parse(Type.A, '192.0.2.1 extra')).toThrow(/unexpected 'extra'/);
    expect(() => parse(Type.SRV, '1 2 70000 x.')).toThrow(/port '70000' is not a whole number from 0 to 65535/);
  });
});
