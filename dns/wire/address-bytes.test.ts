// Checked against node's own parser (net.SocketAddress through ipBytes) on the forms transports
// give, and on what is not an address.
import { describe, expect, it } from 'vitest';
import { ipBytes } from '../../common/ip.js';
import { writeAddressBytes } from './address-bytes.js';

function bytes(text: string): string | null {
  const out = Buffer.alloc(20, 0xee);
  const n = writeAddressBytes(text, out, 2);
  expect(out[0]).toBe(0xee);
  return n === 0 ? null : out.subarray(2, 2 + n).toString('hex');
}

describe('writeAddressBytes', () => {
  it.each([
    '0.0.0.0',
    '127.0.0.1',
    '198.51.100.100',
    '255.255.255.255',
    '::',
    '::1',
    '1::',
    '2001:db8::1',
    '2001:db8:220:1:59de:d0f4:8769:82b8',
    '2001:DB8:0:0:0:0:0:1',
    'fe80::1:2',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '64:ff9b::192.0.2.33',
    '1:2:3:4:5:6:1.2.3.4',
  ])('writes %s as the platform parses it', (text) => {
    expect(bytes(text)).toBe(ipBytes(text)!.toString('hex'));
  });

  it('writes an IPv4-mapped address as its IPv4 address, and drops a zone index', () => {
    expect(bytes('::ffff:198.51.100.100')).toBe('c6336464');
    expect(bytes('::ffff:c633:6464')).toBe('c6336464');
    expect(bytes('fe80::1%eth0')).toBe(ipBytes('fe80::1')!.toString('hex'));
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1..2.3',
    'a.b.c.d',
    ':',
    ':::',
    '1::2::3',
    '12345::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:',
    ':1',
    'g::1',
    '1:2:3:4:5:6:7:1.2.3.4',
  ])('writes nothing for %j', (text) => {
    expect(bytes(text)).toBeNull();
  });
});
