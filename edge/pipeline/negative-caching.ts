// Which error answers (4xx/5xx) may be stored. Negative caching protects the origin: a 404, 410
// or 503 the origin gave an explicit lifetime is served from storage for that long. Everything
// else about errors stays closed, which is what keeps a shared cache safe from cache-poisoned
// denial of service (CPDoS, Nguyen et al. 2019), where one client's request makes the origin
// fail and the cache hands that failure to everyone:
// - an error without explicit freshness (max-age / s-maxage in the field this cache obeys, or a
//   valid Expires beside a plain Cache-Control) is never stored: no heuristic lifetime, no
//   "stored for revalidation" because of an ETag;
// - an error that describes the request rather than the resource (400 for an oversized or
//   malformed header, 431, 414 for a long query whose tracking parameters the key drops, 405 and
//   501 for a method an override header chose, 429 for one client's rate) is never stored, even
//   with explicit freshness: the bytes that caused it are not in the key.
import type { Directives } from '../freshness/cache-control.js';
import { isHttpDate } from '../freshness/view.js';
import { headerValue, type HeaderMap } from '../headers.js';

/** Errors about the request's own bytes or client: never shared, whatever their lifetime. */
export const REQUEST_ERRORS: ReadonlySet<number> = new Set([
  400, 405, 408, 411, 412, 413, 414, 416, 417, 421, 426, 428, 429, 431, 501,
]);

/** Why error `status` may not be stored, or undefined when it may (2xx/3xx: not this rule). */
export function errorRefusal(
  status: number,
  directives: Directives,
  targeted: boolean,
  headers: HeaderMap,
): 'request-error' | 'error-no-lifetime' | undefined {
  if (status < 400) return undefined;
  if (REQUEST_ERRORS.has(status)) return 'request-error';
  return explicitFreshness(directives, targeted, headers) ? undefined : 'error-no-lifetime';
}

/** RFC 9111 §4.2.1: a lifetime the origin stated (not a heuristic). */
export function explicitFreshness(directives: Directives, targeted: boolean, headers: HeaderMap): boolean {
  if (typeof directives['s-maxage'] === 'string' || typeof directives['max-age'] === 'string') return true;
  return !targeted && isHttpDate(headerValue(headers, 'expires'));
}

// http-cache-semantics stores only the statuses it knows (not 500, 503, 403…) and gives a 404
// without a lifetime a heuristic one; errors that reach it have passed errorRefusal (explicit
// lifetime), so it is shown a 200 for the ones it does not know and computes that lifetime.
const LIBRARY_KNOWS: ReadonlySet<number> = new Set([404, 405, 410, 414, 501]);

/** The status http-cache-semantics is shown for a response with `status`. */
export function libraryStatus(status: number): number {
  return status >= 400 && !LIBRARY_KNOWS.has(status) ? 200 : status;
}
