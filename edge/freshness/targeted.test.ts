import { describe, expect, it } from 'vitest';
import { parseTargeted, targetedDirectives } from './targeted.js';

describe('CDN-Cache-Control (RFC 9213 §2.1, a Structured Field Dictionary)', () => {
  it('reads the directives of a Dictionary, parameters ignored, ?0 as absent', () => {
    expect(parseTargeted('max-age=60;x=1, no-store=?0, must-revalidate')).toEqual({
      'max-age': '60',
      'must-revalidate': true,
    });
  });

  it.each([
    ['a String max-age', 'max-age="10000"'],
    ['a Decimal max-age', 'max-age=1.5'],
    ['a negative max-age', 's-maxage=-1'],
    ['a Token stale-if-error', 'stale-if-error=x'],
    ['trailing garbage', 'max-age=10000, &&&&&'],
    ['an upper-case key', 'Max-Age=60'],
    ['an empty field', ' '],
  ])('refuses the whole field for %s', (_, value) => expect(parseTargeted(value)).toBeUndefined());

  it('falls back to Surrogate-Control, then Cache-Control, when the field is ignored', () => {
    const cc = { 'cache-control': 'no-store' };
    expect(targetedDirectives({ ...cc, 'cdn-cache-control': 'max-age=60' })).toEqual({
      directives: { 'max-age': '60' },
      source: 'cdn-cache-control',
    });
    expect(
      targetedDirectives({ ...cc, 'cdn-cache-control': 'max-age="60"', 'surrogate-control': 'Max-Age=9' }),
    ).toEqual({ directives: { 'max-age': '9' }, source: 'surrogate-control' });
    expect(targetedDirectives({ ...cc, 'cdn-cache-control': 'max-age="60"' })).toEqual({
      directives: { 'no-store': true },
      source: 'cache-control',
    });
  });

  it('reads each response by its own fields when consecutive responses differ in any one of them', () => {
    const a = { 'cache-control': 'max-age=5', 'surrogate-control': 'max-age=50' };
    const seen = [
      a,
      { 'cache-control': 'max-age=5' },
      { 'cache-control': 'max-age=6' },
      { 'cache-control': 'max-age=6', 'cdn-cache-control': 'max-age=500' },
      { 'cache-control': 'max-age=6', 'cdn-cache-control': 'max-age=501' },
      { 'cache-control': ['max-age=6', 'no-store'] },
      a,
      { 'cache-control': 'max-age=5', 'surrogate-control': 'max-age=51' },
    ].map((h) => [targetedDirectives(h).source, targetedDirectives(h).directives]);
    expect(seen).toEqual([
      ['surrogate-control', { 'max-age': '50' }],
      ['cache-control', { 'max-age': '5' }],
      ['cache-control', { 'max-age': '6' }],
      ['cdn-cache-control', { 'max-age': '500' }],
      ['cdn-cache-control', { 'max-age': '501' }],
      ['cache-control', { 'max-age': '6', 'no-store': true }],
      ['surrogate-control', { 'max-age': '50' }],
      ['surrogate-control', { 'max-age': '51' }],
    ]);
  });
});
