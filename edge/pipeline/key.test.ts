import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileQueryFilter,
  keyOfUrl,
  normaliseEncoding,
  normaliseHost,
  normaliseQuery,
  normaliseTarget,
} from './key.js';

const deny = compileQueryFilter({ deny: ['utm_*', 'fbclid', 'gclid'] });

describe('cache key', () => {
  it('filters the deny list (with * prefixes) and sorts by name, keeping the order of equal names', () => {
    expect(normaliseQuery('z=1&utm_source=a&a=2&fbclid=x&a=1&gclid=&utm=keep', deny)).toBe('a=2&a=1&utm=keep&z=1');
    expect(normaliseTarget('/p?utm_source=x', deny)).toBe('/p');
    expect(normaliseTarget('/p?', deny)).toBe('/p');
    expect(normaliseTarget('/p?&&b&a=', deny)).toBe('/p?a=&b');
    expect(normaliseQuery('utm%5Fsource=x&b=1', deny)).toBe('b=1');
  });

  it('keeps only allowed parameters with an allow list', () => {
    const allow = compileQueryFilter({ allow: ['id', 'v*'] });
    expect(normaliseQuery('x=1&version=2&id=3&vid=4', allow)).toBe('id=3&version=2&vid=4');
  });

  it('is idempotent and order-insensitive', () => {
    const param = fc
      .tuple(fc.constantFrom('a', 'b', 'utm_x', 'fbclid', 'c'), fc.stringMatching(/^[a-z0-9]{0,3}$/))
      .map(([k, v]) => `${k}=${v}`);
    fc.assert(
      fc.property(fc.uniqueArray(param, { selector: (p) => p.split('=')[0] }), (params) => {
        const once = normaliseQuery(params.join('&'), deny);
        expect(normaliseQuery(once, deny)).toBe(once);
        expect(normaliseQuery([...params].reverse().join('&'), deny)).toBe(once);
      }),
    );
  });

  it('lower-cases the host and drops the default port', () => {
    expect(normaliseHost('WWW.Example.TEST:80')).toBe('www.example.test');
    expect(normaliseHost('www.example.test.:8080')).toBe('www.example.test:8080');
    expect(normaliseHost('example.test:443', 'https')).toBe('example.test');
    expect(normaliseHost('[::1]:80')).toBe('[::1]');
    for (const bad of ['', 'a b', 'x:99999', 'x:', 'ex/ample', '@evil']) expect(normaliseHost(bad)).toBeUndefined();
    // Answers are remembered per raw value: asking again, and past the memo's size, changes none.
    for (let i = 0; i < 2100; i++) expect(normaliseHost(`H${i % 1500}.Test:80`)).toBe(`h${i % 1500}.test`);
    for (const bad of ['a b', 'x:99999', '@evil']) expect(normaliseHost(bad)).toBeUndefined();
    expect(normaliseHost('WWW.Example.TEST:80')).toBe('www.example.test');
    expect(keyOfUrl('HTTP://Www.Test:80/a/b?utm_source=1&z=2&y=1', deny)).toBe('http://www.test/a/b?y=1&z=2');
    expect(keyOfUrl('ftp://x/y', deny)).toBeUndefined();
  });

  it('folds Accept-Encoding to br, gzip or identity', () => {
    expect(normaliseEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(normaliseEncoding('gzip;q=0.8, br;q=0')).toBe('gzip');
    expect(normaliseEncoding('deflate')).toBe('identity');
    expect(normaliseEncoding('*')).toBe('gzip');
    expect(normaliseEncoding(undefined)).toBe('identity');
    expect(normaliseEncoding('GZIP')).toBe('gzip');
  });
});
