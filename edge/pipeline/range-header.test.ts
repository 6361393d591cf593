// RFC 9110 §14.1.2 (Range), §14.2, §15.5.17 (416) and §13.1.5 (If-Range), case by case.
import { describe, expect, it } from 'vitest';
import { ifRangeMatches, MAX_RANGES, parseRange, resolveRanges } from './range-header.js';

const resolve = (value: string, length: number) => {
  const specs = parseRange(value);
  return specs === undefined ? 'not parsed' : resolveRanges(specs, length);
};
const ranges = (...pairs: [number, number][]) => ({
  kind: 'partial',
  ranges: pairs.map(([start, end]) => ({ start, end })),
});

describe('Range (RFC 9110 §14.1.2)', () => {
  it.each([
    ['bytes=0-499', 10_000, ranges([0, 499])],
    ['bytes=500-999', 10_000, ranges([500, 999])],
    ['bytes=9500-', 10_000, ranges([9500, 9999])],
    ['bytes=-500', 10_000, ranges([9500, 9999])],
    ['bytes=-50000', 10_000, ranges([0, 9999])],
    ['bytes=0-0,-1', 10_000, ranges([0, 0], [9999, 9999])],
    ['bytes=500-600, 601-999', 10_000, ranges([500, 600], [601, 999])],
    ['bytes=601-999,0-99', 10_000, ranges([601, 999], [0, 99])],
    ['BYTES=0-1', 10, ranges([0, 1])],
    ['bytes=5-100000000000000000000000', 10, ranges([5, 9])],
    ['bytes=0-1,,  ,2-3', 10, ranges([0, 1], [2, 3])],
    ['bytes=0-1,20-30', 10, ranges([0, 1])],
  ])('%s of %i bytes', (value, length, expected) => {
    expect(resolve(value, length)).toEqual(expected);
  });

  it.each([
    ['bytes=10-', 10],
    ['bytes=10-20', 10],
    ['bytes=-0', 10],
    ['bytes=0-', 0],
    ['bytes=-5', 0],
    ['bytes=20-30,40-', 10],
    ['bytes=100000000000000000000000-', 10],
  ])('%s of %i bytes is unsatisfiable (416)', (value, length) => {
    expect(resolve(value, length)).toEqual({ kind: 'unsatisfiable' });
  });

  it.each([
    'bytes=5-1', // last-pos before first-pos: the whole set is invalid (§14.1.1)
    'bytes=0-1,5-1',
    'bytes=1-2-3',
    'bytes=-',
    'bytes=',
    'bytes=,',
    'bytes= 0-1',
    'bytes =0-1',
    'bytes=0x1-2',
    'bytes=+1-2',
    'bytes=1.5-2',
    'bytes=-1-2',
    'bytes=0-1;x',
    'items=0-1',
    'bytes',
    '0-1',
    'bytes=0-1, bytes=2-3',
  ])('%j is ignored (the whole 200)', (value) => {
    expect(parseRange(value)).toBeUndefined();
  });

  it(`more than ${MAX_RANGES} ranges are ignored, however small`, () => {
    const many = (n: number) => `bytes=${Array.from({ length: n }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',')}`;
    expect(resolve(many(MAX_RANGES), 1000)).toMatchObject({ kind: 'partial' });
    expect(parseRange(many(MAX_RANGES + 1))).toBeUndefined();
  });

  it('overlapping ranges are ignored (a body many times over in one answer, §15.5.17)', () => {
    expect(resolve('bytes=0-99,50-149', 1000)).toEqual({ kind: 'ignore' });
    expect(resolve('bytes=0-,0-,0-', 1000)).toEqual({ kind: 'ignore' });
    expect(resolve('bytes=-100,900-', 1000)).toEqual({ kind: 'ignore' });
    expect(resolve('bytes=0-99,100-199', 1000)).toEqual(ranges([0, 99], [100, 199]));
  });
});

describe('If-Range (RFC 9110 §13.1.5)', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const lastModified = 'Mon, 01 Dec 2025 00:00:00 GMT';
  const stored = { etag: '"v1"', 'last-modified': lastModified, date: 'Thu, 01 Jan 2026 00:00:00 GMT' };

  it('an entity-tag matches only strongly', () => {
    expect(ifRangeMatches('"v1"', stored, now)).toBe(true);
    expect(ifRangeMatches('"v2"', stored, now)).toBe(false);
    expect(ifRangeMatches('W/"v1"', stored, now)).toBe(false);
    expect(ifRangeMatches('"v1"', { ...stored, etag: 'W/"v1"' }, now)).toBe(false);
    expect(ifRangeMatches('"v1"', { date: stored.date }, now)).toBe(false);
    expect(ifRangeMatches('"v1", "v2"', stored, now)).toBe(false);
  });

  it('an HTTP-date matches Last-Modified exactly, and only when that is a strong validator', () => {
    expect(ifRangeMatches(lastModified, stored, now)).toBe(true);
    expect(ifRangeMatches('Monday, 01-Dec-25 00:00:00 GMT', stored, now)).toBe(true); // RFC 850 form, same instant
    expect(ifRangeMatches('Mon, 01 Dec 2025 00:00:01 GMT', stored, now)).toBe(false);
    expect(ifRangeMatches('Tue, 02 Dec 2025 00:00:00 GMT', stored, now)).toBe(false); // later is not "not modified"
    // Last-Modified less than 60 s before Date is weak (§8.8.2.2): it may have changed twice that second.
    expect(ifRangeMatches(lastModified, { ...stored, date: 'Mon, 01 Dec 2025 00:00:30 GMT' }, now)).toBe(false);
    expect(ifRangeMatches(lastModified, { 'last-modified': lastModified }, now)).toBe(false);
  });

  it('anything else is false', () => {
    expect(ifRangeMatches('Mon, 01 Dec 2025 00:00:00 UTC', stored, now)).toBe(false);
    expect(ifRangeMatches('v1', stored, now)).toBe(false);
    expect(ifRangeMatches('', stored, now)).toBe(false);
  });
});
