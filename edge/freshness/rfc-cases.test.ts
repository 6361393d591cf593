// The RFC cases of this cache's freshness decisions, one row each: response headers in, what the
// edge decides out (stored? seconds of freshness left, age). Each row names the section it
// follows. The decisions are policy.ts's (storability, freshness) over http-cache-semantics, with
// every freshness field read by this folder (view.ts).
import { describe, expect, it } from 'vitest';
import { storedLifetime } from '../pipeline/lifetime.js';
import { createPolicy, freshness, policyClass, storability, type PolicyRequest } from '../pipeline/policy.js';
import { DELTA_SECONDS_MAX } from './delta-seconds.js';
import { targetedDirectives } from './targeted.js';

const now = Date.UTC(2026, 11, 7, 0, 0, 0);
const DATE = 'Mon, 07 Dec 2026 00:00:00 GMT';
const Policy = policyClass(() => now);
const req: PolicyRequest = { url: '/x', method: 'GET', headers: { host: 'www.test' } };

interface Row {
  readonly rfc: string;
  readonly case: string;
  readonly headers: Record<string, string>;
  readonly stored: boolean;
  /** Seconds of freshness left (<= 0: stale). */
  readonly ttl: number;
  readonly age?: number;
  /** The response status (200 unless given); for an error not stored, `ttl` is not checked. */
  readonly status?: number;
}

const until2050 = (Date.UTC(2050, 7, 18, 2, 1, 18) - now) / 1000;

// One row per line: a table reads better than what the formatter would make of it.
// prettier-ignore
const rows: Row[] = [
  // Item 1: HTTP dates.
  { rfc: '9110 §5.6.7', case: 'IMF-fixdate Expires', headers: { date: DATE, expires: 'Mon, 07 Dec 2026 01:00:00 GMT' }, stored: true, ttl: 3600 },
  { rfc: '9110 §5.6.7', case: 'RFC 850 Expires', headers: { date: DATE, expires: 'Monday, 07-Dec-26 01:00:00 GMT' }, stored: true, ttl: 3600 },
  { rfc: '9110 §5.6.7', case: 'asctime Expires', headers: { date: DATE, expires: 'Mon Dec  7 01:00:00 2026' }, stored: true, ttl: 3600 },
  { rfc: '9110 §5.6.7', case: 'RFC 850 year 50 is 2050 (within 50 years)', headers: { date: DATE, expires: 'Thursday, 18-Aug-50 02:01:18 GMT' }, stored: true, ttl: until2050 },
  { rfc: '9110 §5.6.7', case: 'RFC 850 year 77 is 1977 (2077 is more than 50 years ahead)', headers: { date: DATE, expires: 'Wednesday, 18-Aug-77 02:01:18 GMT' }, stored: false, ttl: 0 },
  { rfc: '9111 §5.3', case: 'Expires in UTC, not GMT: expired', headers: { date: DATE, expires: 'Thu, 18 Aug 2050 02:01:18 UTC' }, stored: false, ttl: 0 },
  { rfc: '9111 §5.3', case: 'Expires without the comma: expired', headers: { date: DATE, expires: 'Thu 18 Aug 2050 02:01:18 GMT' }, stored: false, ttl: 0 },
  { rfc: '9111 §5.3', case: 'Expires with a double space: expired', headers: { date: DATE, expires: 'Thu, 18 Aug 2050  02:01:18 GMT' }, stored: false, ttl: 0 },
  { rfc: '9111 §5.3', case: 'Expires with dashes in an IMF date: expired', headers: { date: DATE, expires: 'Thu, 18-Aug-2050 02:01:18 GMT' }, stored: false, ttl: 0 },
  { rfc: '9111 §5.3', case: 'Expires with a 1-digit hour: expired', headers: { date: DATE, expires: 'Thu, 18 Aug 2050 2:01:18 GMT' }, stored: false, ttl: 0 },
  { rfc: '9111 §5.3', case: 'Expires in lower case: expired', headers: { date: DATE, expires: 'thu, 18 aug 2050 02:01:18 gmt' }, stored: false, ttl: 0 },
  { rfc: '9111 §5.3', case: 'invalid Expires with a validator: stored, stale', headers: { date: DATE, expires: 'Thu, 18 Aug 2050 02:01:18 UTC', etag: '"v"' }, stored: true, ttl: 0 },
  { rfc: '9111 §4.2.3', case: 'invalid Date is absent: Expires counts from the response time', headers: { date: 'Thu, 18 Aug 2050 02:01:18 UTC', expires: 'Mon, 07 Dec 2026 01:00:00 GMT' }, stored: true, ttl: 3600 },
  { rfc: '9111 §4.2.2', case: 'Last-Modified heuristic (10 %)', headers: { date: DATE, 'last-modified': 'Sun, 06 Dec 2026 23:43:20 GMT' }, stored: true, ttl: 100 },
  { rfc: '9111 §4.2.2', case: 'invalid Last-Modified is absent: no heuristic, no validator', headers: { date: DATE, 'last-modified': 'Sun, 06 Dec 2016 23:43:20 UTC' }, stored: false, ttl: 0 },
  // Item 2: Cache-Control directive names are case-insensitive; both argument forms count.
  { rfc: '9111 §5.2', case: 'max-age=10000, No-CaChE: never fresh', headers: { 'cache-control': 'max-age=10000, No-CaChE', etag: '"v"' }, stored: true, ttl: 0 },
  { rfc: '9111 §5.2', case: 'Max-Age=60', headers: { 'cache-control': 'Max-Age=60' }, stored: true, ttl: 60 },
  { rfc: '9111 §5.2', case: 'S-MAXAGE=60 over max-age=0', headers: { 'cache-control': 'S-MAXAGE=60, max-age=0' }, stored: true, ttl: 60 },
  { rfc: '9111 §5.2', case: 'NO-STORE', headers: { 'cache-control': 'NO-STORE, max-age=60' }, stored: false, ttl: 0 },
  { rfc: '9111 §5.2', case: 'Private', headers: { 'cache-control': 'Private, max-age=60' }, stored: false, ttl: 0 },
  { rfc: '9111 §5.2', case: 'max-age="60" (quoted form accepted)', headers: { 'cache-control': 'max-age="60"' }, stored: true, ttl: 60 },
  { rfc: '9111 §5.2', case: 'a comma inside a quoted argument does not split', headers: { 'cache-control': 'no-cache="set-cookie, max-age=999", max-age=60', etag: '"v"' }, stored: true, ttl: 0 },
  { rfc: '9111 §4.2.1', case: 'max-age twice: the first counts', headers: { 'cache-control': 'max-age=60, max-age=10' }, stored: true, ttl: 60 },
  { rfc: '9111 §4.2.1', case: 'max-age=-1: invalid, stale', headers: { 'cache-control': 'max-age=-1', etag: '"v"' }, stored: true, ttl: 0 },
  { rfc: '9111 §1.2.2', case: 'huge max-age capped at 2^31', headers: { 'cache-control': 'max-age=99999999999999999999' }, stored: true, ttl: DELTA_SECONDS_MAX },
  { rfc: '9111 §5.4', case: 'Pragma: No-Cache without Cache-Control: never fresh', headers: { date: DATE, expires: 'Mon, 07 Dec 2026 01:00:00 GMT', pragma: 'No-Cache', etag: '"v"' }, stored: true, ttl: 0 },
  { rfc: '9111 §5.4', case: 'Pragma: no-cache does not count beside Cache-Control', headers: { 'cache-control': 'max-age=60', pragma: 'no-cache' }, stored: true, ttl: 60 },
  // Item 3: CDN-Cache-Control is a Structured Field Dictionary; one that does not parse is ignored.
  { rfc: '9213 §2.1', case: 'CDN-Cache-Control overrides Cache-Control', headers: { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60' }, stored: true, ttl: 60 },
  { rfc: '9213 §2.1', case: 'CDN-Cache-Control max-age="10000" (a String): ignored, no-store stands', headers: { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age="10000"' }, stored: false, ttl: 0 },
  { rfc: '9213 §2.1', case: 'CDN-Cache-Control max-age=10000, &&&&& (no Dictionary): ignored', headers: { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=10000, &&&&&' }, stored: false, ttl: 0 },
  { rfc: '9213 §2.1', case: 'CDN-Cache-Control Max-Age=60 (keys are lower-case): ignored', headers: { 'cache-control': 'max-age=30', 'cdn-cache-control': 'Max-Age=60' }, stored: true, ttl: 30 },
  { rfc: '9213 §2.1', case: 'CDN-Cache-Control max-age=1.5 (a Decimal): ignored', headers: { 'cache-control': 'max-age=30', 'cdn-cache-control': 'max-age=1.5' }, stored: true, ttl: 30 },
  { rfc: '9213 §2.1', case: 'CDN-Cache-Control parameters are ignored', headers: { 'cache-control': 'max-age=30', 'cdn-cache-control': 'max-age=60;x=1' }, stored: true, ttl: 60 },
  { rfc: '9213 §2.1', case: 'CDN-Cache-Control no-store', headers: { 'cache-control': 'public, max-age=600', 'cdn-cache-control': 'no-store' }, stored: false, ttl: 0 },
  { rfc: '9213 §2.1', case: 'CDN-Cache-Control hides Expires', headers: { date: DATE, expires: 'Mon, 07 Dec 2026 01:00:00 GMT', 'cdn-cache-control': 'max-age=60' }, stored: true, ttl: 60 },
  { rfc: '9213 §2.1', case: 'an ignored CDN-Cache-Control falls back to Surrogate-Control', headers: { 'cache-control': 'no-store', 'cdn-cache-control': '&&', 'surrogate-control': 'max-age=20' }, stored: true, ttl: 20 },
  // Item 4: Age is delta-seconds or ignored; a huge one is capped.
  { rfc: '9111 §5.1', case: 'Age 600', headers: { 'cache-control': 'max-age=3600', age: '600' }, stored: true, ttl: 3000, age: 600 },
  { rfc: '9111 §5.1', case: 'Age 7200.0: ignored', headers: { 'cache-control': 'max-age=3600', age: '7200.0' }, stored: true, ttl: 3600, age: 0 },
  { rfc: '9111 §5.1', case: 'Age -1: ignored', headers: { 'cache-control': 'max-age=3600', age: '-1' }, stored: true, ttl: 3600, age: 0 },
  { rfc: '9111 §5.1', case: 'Age "1 2": ignored', headers: { 'cache-control': 'max-age=3600', age: '1 2' }, stored: true, ttl: 3600, age: 0 },
  { rfc: '9111 §1.2.2', case: 'huge Age capped at 2^31', headers: { 'cache-control': 'max-age=3600', age: '99999999999999999999' }, stored: true, ttl: 3600 - DELTA_SECONDS_MAX, age: DELTA_SECONDS_MAX },
  // Item 7: errors are stored only with explicit freshness, never when they describe the request.
  { rfc: '9111 §3, §4.2.1', case: '404 with max-age (negative caching)', status: 404, headers: { 'cache-control': 'max-age=60' }, stored: true, ttl: 60 },
  { rfc: '9111 §3, §4.2.1', case: '503 with s-maxage', status: 503, headers: { 'cache-control': 's-maxage=60' }, stored: true, ttl: 60 },
  { rfc: '9111 §3, §4.2.1', case: '500 with CDN-Cache-Control max-age', status: 500, headers: { 'cdn-cache-control': 'max-age=60' }, stored: true, ttl: 60 },
  { rfc: '9111 §3, §4.2.1', case: '410 with Expires', status: 410, headers: { date: DATE, expires: 'Mon, 07 Dec 2026 01:00:00 GMT' }, stored: true, ttl: 3600 },
  { rfc: '9111 §4.2.2', case: '404 with Last-Modified only: no heuristic for errors', status: 404, headers: { date: DATE, 'last-modified': 'Sun, 06 Dec 2026 23:43:20 GMT' }, stored: false, ttl: 0 },
  { rfc: '9111 §3', case: '404 with an ETag only: not stored', status: 404, headers: { etag: '"v"' }, stored: false, ttl: 0 },
  { rfc: '9111 §3', case: '503 with an invalid Expires: not explicit', status: 503, headers: { date: DATE, expires: 'Thu, 18 Aug 2050 02:01:18 UTC' }, stored: false, ttl: 0 },
  { rfc: '9110 §15.5.1 (CPDoS)', case: '400 with max-age: about the request, never stored', status: 400, headers: { 'cache-control': 'public, max-age=3600' }, stored: false, ttl: 0 },
  { rfc: '6585 §5 (CPDoS)', case: '431 with max-age: never stored', status: 431, headers: { 'cache-control': 'max-age=3600' }, stored: false, ttl: 0 },
  { rfc: '9110 §15.5.6 (CPDoS)', case: '405 with max-age: never stored', status: 405, headers: { 'cache-control': 'max-age=3600' }, stored: false, ttl: 0 },
];

describe('freshness decisions, RFC case by case', () => {
  it.each(rows)('RFC $rfc: $case', (row) => {
    const status = row.status ?? 200;
    const policy = createPolicy(Policy, req, status, row.headers);
    const verdict = storability(policy, req, status, row.headers);
    const f = freshness(
      {
        lifetime: storedLifetime(policy, Policy.clock),
        directives: targetedDirectives(row.headers).directives,
        invalidatedAt: undefined,
      },
      now,
    );
    // An error that is not stored has no lifetime worth checking: it is never served from storage.
    const refusedError = row.status !== undefined && !row.stored;
    const ttl = refusedError ? row.ttl : Math.round(f.ttl);
    expect({ stored: verdict.ok, ttl }).toEqual({ stored: row.stored, ttl: row.ttl });
    if (row.ttl <= 0 && !refusedError) expect(f.fresh).toBe(false);
    if (row.age !== undefined) expect(f.age).toBe(row.age);
  });
});
