import { describe, expect, it } from 'vitest';
import { isNotModified } from './conditional.js';

const LM = Date.parse('Sun, 22 Nov 2026 10:00:00 GMT');

describe('isNotModified', () => {
  it('If-None-Match: weak comparison, lists and *', () => {
    expect(isNotModified({ 'if-none-match': '"abc"' }, { etag: '"abc"' })).toBe(true);
    expect(isNotModified({ 'if-none-match': 'W/"abc"' }, { etag: '"abc"' })).toBe(true);
    expect(isNotModified({ 'if-none-match': '"x", W/"abc" , "y"' }, { etag: '"abc"' })).toBe(true);
    expect(isNotModified({ 'if-none-match': '*' }, { etag: '"abc"' })).toBe(true);
    expect(isNotModified({ 'if-none-match': '"abcd"' }, { etag: '"abc"' })).toBe(false);
    expect(isNotModified({ 'if-none-match': 'abc' }, { etag: '"abc"' })).toBe(false); // unquoted: not an entity tag
  });

  it('If-None-Match decides alone: a matching If-Modified-Since does not rescue a changed ETag', () => {
    const headers = { 'if-none-match': '"old"', 'if-modified-since': new Date(LM).toUTCString() };
    expect(isNotModified(headers, { etag: '"new"', lastModified: LM })).toBe(false);
  });

  it('If-None-Match without a current ETag never matches', () => {
    expect(isNotModified({ 'if-none-match': '"abc"' }, { lastModified: LM })).toBe(false);
  });

  it('If-Modified-Since: not modified at or after Last-Modified (whole seconds), modified before', () => {
    expect(isNotModified({ 'if-modified-since': 'Sun, 22 Nov 2026 10:00:00 GMT' }, { lastModified: LM + 999 })).toBe(
      true,
    );
    expect(isNotModified({ 'if-modified-since': 'Sun, 22 Nov 2026 11:00:00 GMT' }, { lastModified: LM })).toBe(true);
    expect(isNotModified({ 'if-modified-since': 'Sun, 22 Nov 2026 09:59:59 GMT' }, { lastModified: LM })).toBe(false);
  });

  it('ignores an invalid If-Modified-Since, or one without a Last-Modified to compare with', () => {
    expect(isNotModified({ 'if-modified-since': 'yesterday' }, { lastModified: LM })).toBe(false);
    expect(isNotModified({ 'if-modified-since': 'Sun, 22 Nov 2026 11:00:00 GMT' }, { etag: '"abc"' })).toBe(false);
  });
});
