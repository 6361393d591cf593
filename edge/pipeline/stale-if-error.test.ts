import { describe, expect, it } from 'vitest';
import { upstreamError } from '../errors.js';
import type { EdgeContext } from './context.js';
import type { Freshness } from './policy.js';
import { requestAllowsStale } from './stale-if-error.js';

const stale = (ttl: number, strict = false): Freshness => ({
  fresh: ttl > 0,
  ttl,
  age: 0,
  staleWhileRevalidate: false,
  staleIfError: false,
  strict,
});
const ctx = (cacheControl?: string) =>
  ({ req: { headers: cacheControl === undefined ? {} : { 'cache-control': cacheControl } } }) as unknown as EdgeContext;

describe("the request's stale-if-error (RFC 5861 §4)", () => {
  it('allows a response stale for less than its delta-seconds', () => {
    expect(requestAllowsStale(ctx('stale-if-error=10'), stale(-4))).toBe(true);
    expect(requestAllowsStale(ctx('Stale-If-Error=10'), stale(-4))).toBe(true);
    expect(requestAllowsStale(ctx('stale-if-error=4'), stale(-4))).toBe(false);
  });
  it('allows nothing without it, with a bad value, or over must-revalidate / no-cache', () => {
    expect(requestAllowsStale(ctx(), stale(-4))).toBe(false);
    expect(requestAllowsStale(ctx('max-stale=1'), stale(-4))).toBe(false);
    expect(requestAllowsStale(ctx('stale-if-error=1e9'), stale(-4))).toBe(false);
    expect(requestAllowsStale(ctx('stale-if-error=60'), stale(-4, true))).toBe(false);
  });
});

describe('a connection the upstream breaks before the head is complete', () => {
  it.each([
    ['closed', Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })],
    ['reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    [
      'unparsable',
      Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), { code: 'HPE_INVALID_CONSTANT' }),
    ],
  ])('%s is an upstream error (stale-if-error covers it)', (_name, err) => {
    expect(upstreamError(err, 'http://o').isOrigin).toBe(true);
  });
});
