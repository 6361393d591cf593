import { describe, expect, it } from 'vitest';
import { parseCacheControl } from './cache-control.js';

// One row per line: the cases read as a table.
// prettier-ignore
describe('Cache-Control (RFC 9111 §5.2)', () => {
  it.each([
    ['names in any case', 'Max-Age=60, No-CaChE, S-MAXAGE=5', { 'max-age': '60', 'no-cache': true, 's-maxage': '5' }],
    ['both argument forms', 'max-age="60", s-maxage=5', { 'max-age': '60', 's-maxage': '5' }],
    ['commas and quoted-pairs inside a quoted-string', 'private="a, b\\"c", max-age=1', { private: 'a, b"c', 'max-age': '1' }],
    ['the first of a repeated directive (§4.2.1)', 'max-age=60, MAX-AGE=10', { 'max-age': '60' }],
    ['an invalid delta-seconds as 0', 'max-age=-1, s-maxage=1.5, stale-if-error=abc', { 'max-age': '0', 's-maxage': '0', 'stale-if-error': '0' }],
    ['a delta-seconds over 2^31 capped (§1.2.2)', 'max-age=00000000000000000001, s-maxage=99999999999', { 'max-age': '1', 's-maxage': '2147483648' }],
    ['max-stale without an argument', 'max-stale', { 'max-stale': true }],
    ['max-age without an argument as 0', 'max-age', { 'max-age': '0' }],
    ['empty elements and surrounding spaces', ' , no-store ,, public ', { 'no-store': true, public: true }],
    ['an element that is no directive skipped', 'max-age = 60, no-store, "x"', { 'no-store': true }],
  ])('reads %s', (_, value, expected) => expect(parseCacheControl(value)).toEqual(expected));
});
