import { describe, expect, it } from 'vitest';
import { parseQueryArgs } from '../query.js';
import { parseName, parseServer, parseSubnet, parseType, UsageError } from './args.js';

describe('meridian query arguments', () => {
  it('takes a subnet in CIDR form, or a bare address as a single client', () => {
    expect(parseSubnet('203.0.113.0/24')).toEqual({ family: 4, address: '203.0.113.0', prefix: 24 });
    expect(parseSubnet('2001:DB8:5::/48')).toEqual({ family: 6, address: '2001:db8:5::', prefix: 48 });
    expect(parseSubnet('198.51.100.7')).toEqual({ family: 4, address: '198.51.100.7', prefix: 32 });
    expect(parseSubnet('0.0.0.0/0')).toEqual({ family: 4, address: '0.0.0.0', prefix: 0 });
  });

  it('refuses bad subnets with what is wrong, and suggests the network for host bits', () => {
    expect(() => parseSubnet('203.0.113.7/24')).toThrow(
      "--subnet: '203.0.113.7/24' has host bits set beyond /24 (did you mean 203.0.113.0/24?)",
    );
    expect(() => parseSubnet('10.0.0.0/33')).toThrow(/not a prefix length from 0 to 32/);
    expect(() => parseSubnet('300.1.1.1/8')).toThrow(/'300.1.1.1' in '300.1.1.1\/8' is not an IPv4 or IPv6 address/);
    expect(() => parseSubnet('tokyo')).toThrow(UsageError);
  });

  it('knows record types by name in any case, and by RFC 3597 number', () => {
    expect(parseType('aaaa')).toBe(28);
    expect(parseType('MX')).toBe(15);
    expect(parseType('HTTPS')).toBe(65);
    expect(parseType('TYPE65')).toBe(65);
    expect(parseType('type65280')).toBe(65280);
  });

  it('refuses unknown types and ones a lookup cannot ask', () => {
    expect(() => parseType('FOO')).toThrow("unknown record type 'FOO'");
    expect(() => parseType('TYPE0')).toThrow(/unknown record type/);
    expect(() => parseType('TYPE70000')).toThrow(/unknown record type/);
    expect(() => parseType('axfr')).toThrow("type 'axfr' (AXFR) is not a question meridian query can ask");
    expect(() => parseType('OPT')).toThrow(/not a question/);
  });

  it('takes servers as HOST:PORT, [IPv6]:PORT, or an address or name on port 53', () => {
    expect(parseServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseServer('[::1]:5353')).toEqual({ host: '::1', port: 5353 });
    expect(parseServer('::1')).toEqual({ host: '::1', port: 53 });
    expect(parseServer('192.0.2.53')).toEqual({ host: '192.0.2.53', port: 53 });
    expect(parseServer('ns1.demo.test')).toEqual({ host: 'ns1.demo.test', port: 53 });
    expect(parseServer('localhost:5353')).toEqual({ host: 'localhost', port: 5353 });
  });

  it('refuses server addresses it could not send to', () => {
    expect(() => parseServer('127.0.0.1:99999')).toThrow("--server: port 99999 in '127.0.0.1:99999' is above 65535");
    expect(() => parseServer('127.0.0.1:0')).toThrow(/port 0/);
    expect(() => parseServer('[127.0.0.1]:53')).toThrow(/is not an IPv6 address/);
    expect(() => parseServer('bad_host:53')).toThrow("--server: 'bad_host' is neither an IP address nor a host name");
    expect(() => parseServer('fe80::1%eth0')).toThrow(/scoped IPv6/);
    expect(() => parseServer('127.0.0.1:')).toThrow(/is not HOST:PORT/);
  });

  it('checks names against the wire limits', () => {
    expect(parseName('www.demo.test')).toBe('www.demo.test');
    expect(parseName('www.demo.test.')).toBe('www.demo.test.');
    expect(parseName('.')).toBe('.');
    expect(() => parseName('a..b')).toThrow(/empty label/);
    expect(() => parseName('')).toThrow(/empty label/);
    expect(() => parseName(`${'a'.repeat(64)}.test`)).toThrow(/longer than 63 bytes/);
    expect(() => parseName(Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.'))).toThrow(/more than 255/);
    expect(() => parseName('with space.test')).toThrow(/spaces/);
  });

  it('reads the command line: defaults, a positional type, and conflicts', () => {
    const plain = parseQueryArgs(['www.demo.test']);
    expect(plain).toEqual({
      name: 'www.demo.test',
      type: 1,
      subnet: null,
      server: { host: '127.0.0.1', port: 5353 },
      tcp: false,
      json: false,
    });
    expect(parseQueryArgs(['demo.test', 'mx', '--tcp', '--json']).type).toBe(15);
    expect(parseQueryArgs(['demo.test', '--type', 'AAAA', '--subnet', '2001:db8::/32']).subnet).toEqual({
      family: 6,
      address: '2001:db8::',
      prefix: 32,
    });
    expect(() => parseQueryArgs([])).toThrow('NAME is missing');
    expect(() => parseQueryArgs(['demo.test', 'MX', '--type', 'A'])).toThrow(/type is given twice/);
    expect(() => parseQueryArgs(['demo.test', 'MX', 'extra'])).toThrow("unexpected argument 'extra'");
    expect(() => parseQueryArgs(['demo.test', '--nope'])).toThrow(UsageError);
  });
});
