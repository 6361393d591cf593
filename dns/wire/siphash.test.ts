// SipHash-2-4 against the reference vectors (key 00..0f, messages 00, 00 01, ...: the first
// entries of vectors.h of the reference implementation, and the paper's Appendix A) and the
// server cookies of RFC 9018 Appendix A, which pin the hash exactly as DNS cookies use it.
import { describe, expect, it } from 'vitest';
import { SipKey, siphash24 } from './siphash.js';

const KEY = new SipKey(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'));
const MSG = Buffer.from(Array.from({ length: 64 }, (_, i) => i));

function hash(key: SipKey, m: Uint8Array, off = 0, len = m.length): string {
  const out = Buffer.alloc(10, 0xee);
  siphash24(key, m, off, len, out, 1);
  expect(out[0]).toBe(0xee);
  expect(out[9], 'writes exactly 8 bytes').toBe(0xee);
  return out.subarray(1, 9).toString('hex');
}

describe('siphash24', () => {
  it.each([
    [0, '310e0edd47db6f72'],
    [1, 'fd67dc93c539f874'],
    [2, '5a4fa9d909806c0d'],
    [7, '37d1018bf50002ab'],
    [8, '6224939a79f5f593'],
    [15, 'e545be4961ca29a1'],
  ])('matches the reference vector for %i message bytes', (len, expected) => {
    expect(hash(KEY, MSG, 0, len)).toBe(expected);
  });

  it('hashes a message inside a larger buffer, at any offset', () => {
    const shifted = Buffer.concat([Buffer.from([9, 9, 9]), MSG.subarray(0, 15), Buffer.from([9])]);
    expect(hash(KEY, shifted, 3, 15)).toBe('e545be4961ca29a1');
  });

  /** RFC 9018 Appendix A: Version 1, Reserved 0, Timestamp, then SipHash-2-4 over client cookie | those | client IP. */
  function serverCookie(secret: string, clientCookie: string, timestamp: number, ip: Buffer): string {
    const head = Buffer.alloc(8);
    head[0] = 1;
    head.writeUInt32BE(timestamp, 4);
    const input = Buffer.concat([Buffer.from(clientCookie, 'hex'), head, ip]);
    return head.toString('hex') + hash(new SipKey(Buffer.from(secret, 'hex')), input);
  }

  it.each([
    [
      'A.1',
      'e5e973e5a6b2a43f48e7dc849e37bfcf',
      '2464c4abcf10c957',
      1559731985,
      '198.51.100.100',
      '010000005cf79f111f8130c3eee29480',
    ],
    [
      'A.2',
      'e5e973e5a6b2a43f48e7dc849e37bfcf',
      '2464c4abcf10c957',
      1559734385,
      '198.51.100.100',
      '010000005cf7a871d4a564a1442aca77',
    ],
    [
      'A.3',
      'e5e973e5a6b2a43f48e7dc849e37bfcf',
      'fc93fc62807ddb86',
      1559734700,
      '203.0.113.203',
      '010000005cf7a9acf73a7810aca2381e',
    ],
    [
      'A.4',
      'dd3bdf9344b678b185a6f5cb60fca715',
      '22681ab97d52c298',
      1559741817,
      '2001:db8:220:1:59de:d0f4:8769:82b8',
      '010000005cf7c57926556bd0934c72f8',
    ],
  ])('gives the server cookie of RFC 9018 %s', (_, secret, client, ts, ip, expected) => {
    const bytes = ip.includes(':')
      ? Buffer.from(ip.split(':').flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]))
      : Buffer.from(ip.split('.').map(Number));
    expect(serverCookie(secret, client, ts, bytes)).toBe(expected);
  });
});
