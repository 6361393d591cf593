// RFC 9111 decisions for this shared cache: http-cache-semantics (shared mode) computes
// storability, freshness lifetime and age from the response as ../freshness/view.ts shows it
// (every freshness field parsed exactly there, the targeted field as Cache-Control, proxy-
// revalidate as must-revalidate); this wrapper decides what the library does not decide for us:
// - must-revalidate only forbids serving STALE (the library refuses every reuse);
// - Authorization, Set-Cookie, Vary: * and errors get their own reasons, so only answers that say
//   something about the URL make it hit-for-miss; which errors may be stored is
//   negative-caching.ts's rule;
// - freshness, request directives, stale-while-revalidate and stale-if-error are evaluated here,
//   with soft purges counted as staleness.
import CachePolicy from 'http-cache-semantics';
import { parseCacheControl, type Directives } from '../freshness/cache-control.js';
import { freshnessView, isHttpDate } from '../freshness/view.js';
import { targetedDirectives } from '../freshness/targeted.js';
import type { HeaderMap, IncomingHeaders } from '../headers.js';
import { headerValue } from '../headers.js';
import type { Lifetime } from './lifetime.js';
import { errorRefusal, libraryStatus } from './negative-caching.js';

export interface PolicyRequest {
  readonly url: string;
  readonly method: 'GET';
  readonly headers: IncomingHeaders;
}

export type PolicyClass = (new (
  req: CachePolicy.Request,
  res: CachePolicy.Response,
  options?: CachePolicy.Options,
) => CachePolicy) & { readonly clock: () => number };

/** The library's class with its clock replaced (tests move time; the library reads `now()`). */
export function policyClass(now: () => number): PolicyClass {
  return class ClockedPolicy extends CachePolicy {
    static readonly clock = now;
    now(): number {
      return now();
    }
  };
}

export function createPolicy(Policy: PolicyClass, req: PolicyRequest, status: number, headers: HeaderMap): CachePolicy {
  return new Policy(
    req as CachePolicy.Request,
    { status: libraryStatus(status), headers: freshnessView(headers, Policy.clock()).headers as CachePolicy.Headers },
    { shared: true },
  );
}

export type Storability =
  { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly hitForMiss: boolean };

const OK: Storability = { ok: true };

/** Whether to store the answer; `hitForMiss` when the refusal is about the URL, not this request. */
export function storability(policy: CachePolicy, req: PolicyRequest, status: number, headers: HeaderMap): Storability {
  const { directives: cc, source } = targetedDirectives(headers);
  const reqCc = parseCacheControl(headerValue(req.headers, 'cache-control'));
  if (reqCc['no-store']) return { ok: false, reason: 'request-no-store', hitForMiss: false };
  if (req.headers.authorization !== undefined && !allowsAuthorized(cc))
    return { ok: false, reason: 'authorization', hitForMiss: false };
  const error = errorRefusal(status, cc, source !== 'cache-control', headers);
  if (error !== undefined) return { ok: false, reason: error, hitForMiss: false };
  if (headers['set-cookie'] !== undefined && !cc.public) return { ok: false, reason: 'set-cookie', hitForMiss: true };
  const vary = headerValue(headers, 'vary');
  if (vary !== undefined && varyFields(vary).includes('*')) return { ok: false, reason: 'vary-star', hitForMiss: true };
  // An error says nothing lasting about the URL: it never makes it hit-for-miss.
  if (!policy.storable()) return { ok: false, reason: 'not-storable', hitForMiss: status < 400 };
  const lifetime = policy.maxAge();
  const useful =
    lifetime > 0 ||
    headers.etag !== undefined ||
    isHttpDate(headerValue(headers, 'last-modified')) ||
    seconds(cc['stale-if-error']) > 0 ||
    seconds(cc['stale-while-revalidate']) > 0;
  if (!useful) return { ok: false, reason: 'no-lifetime', hitForMiss: status < 400 };
  return OK;
}

/** RFC 9111 §3.5: responses to requests with Authorization are shared only when these say so. */
export function allowsAuthorized(cc: Directives): boolean {
  return cc.public !== undefined || cc['s-maxage'] !== undefined || cc['must-revalidate'] !== undefined;
}

export function varyFields(vary: string): string[] {
  return vary
    .toLowerCase()
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '')
    .sort();
}

export interface Freshness {
  readonly fresh: boolean;
  /** Seconds of freshness left; negative when stale. */
  readonly ttl: number;
  readonly age: number;
  /** May be served stale while one background request revalidates it. */
  readonly staleWhileRevalidate: boolean;
  /** May be served stale when the upstream fails. */
  readonly staleIfError: boolean;
  /** must-revalidate, proxy-revalidate or no-cache: never served stale. */
  readonly strict: boolean;
}

export interface FreshnessInput {
  readonly lifetime: Lifetime;
  readonly directives: Directives;
  /** Soft-purge time (ms): stale from then on. */
  readonly invalidatedAt: number | undefined;
}

export function freshness(e: FreshnessInput, now: number): Freshness {
  const age = e.lifetime.age();
  let ttl = e.lifetime.maxAge() - age;
  if (e.invalidatedAt !== undefined) ttl = Math.min(ttl, (e.invalidatedAt - now) / 1000);
  const fresh = ttl > 0;
  const d = e.directives;
  const strict =
    d['must-revalidate'] !== undefined || d['proxy-revalidate'] !== undefined || d['no-cache'] !== undefined;
  return {
    fresh,
    ttl,
    age,
    staleWhileRevalidate: !fresh && !strict && -ttl < seconds(d['stale-while-revalidate']),
    staleIfError: !fresh && !strict && -ttl < seconds(d['stale-if-error']),
    strict,
  };
}

/**
 * What the request's own Cache-Control allows: use the stored response, or go forward. Without
 * `refusals` (edge.requestCacheControl: ignore) only max-stale counts: it widens what this one
 * client accepts and cannot cost anyone else their stored copy.
 */
export function requestAllows(headers: IncomingHeaders, f: Freshness, refusals = true): 'use' | 'forward' {
  if (refusals && requestRefuses(headers, f)) return 'forward';
  if (f.fresh) return 'use';
  const maxStale = parseCacheControl(headerValue(headers, 'cache-control'))['max-stale'];
  if (maxStale !== undefined && !f.strict && (maxStale === true || -f.ttl <= seconds(maxStale))) return 'use';
  return 'forward';
}

/** True when the request's Cache-Control refuses the stored response regardless of its state. */
export function requestRefuses(headers: IncomingHeaders, f: Freshness): boolean {
  const value = headerValue(headers, 'cache-control');
  // RFC 9111 §5.4: Pragma: no-cache counts only without a Cache-Control field.
  if (value === undefined) return /no-cache/i.test(headerValue(headers, 'pragma') ?? '');
  const cc = parseCacheControl(value);
  if (cc['no-cache'] !== undefined) return true;
  if (cc['max-age'] !== undefined && f.age > seconds(cc['max-age'])) return true;
  if (cc['min-fresh'] !== undefined && f.ttl < seconds(cc['min-fresh'])) return true;
  return false;
}

export function seconds(v: string | true | undefined): number {
  if (typeof v !== 'string') return 0;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

// RFC 9111 §4.3.4: these describe the stored body, which a 304 does not replace.
const NOT_FROM_304 = new Set([
  'content-length',
  'content-encoding',
  'content-range',
  'transfer-encoding',
  'set-cookie',
]);

/**
 * The validators a revalidation of `stored` sends: its ETag (If-None-Match) and its Last-Modified
 * (If-Modified-Since) when that is an HTTP-date; an invalid one counts as absent (RFC 9111 §4.2.2)
 * and a server must ignore it anyway (RFC 9110 §13.1.3).
 */
export function storedValidators(stored: HeaderMap): { etag?: string; lastModified?: string } {
  const etag = headerValue(stored, 'etag');
  const lastModified = headerValue(stored, 'last-modified');
  return {
    ...(etag !== undefined && { etag }),
    ...(isHttpDate(lastModified) && { lastModified: lastModified! }),
  };
}

/**
 * Applies a 304 to the stored response it answers, with the stored headers updated by the 304's
 * and a policy built from them (Age and Date are the 304's: the response is new). Undefined when
 * the 304 cannot be about it.
 *
 * Our revalidation carries the validators of exactly one stored response (`storedValidators`),
 * so a 304 to it selects that response for update (RFC 9111 §4.3.4), whatever validators it names
 * itself: they replace the stored ones (RFC 9111 §3.2), so a 304 with a new ETag leaves the new
 * ETag stored and the next revalidation asks with it, not without validators. A 304 without
 * validators selects it too (RFC 9110 §15.4.5 does not make it repeat them). Only when we sent no
 * validator at all and the 304 names one does it describe something we do not hold.
 */
export function applyNotModified(
  Policy: PolicyClass,
  stored: { readonly status: number; readonly headers: HeaderMap },
  req: PolicyRequest,
  notModified: HeaderMap,
): { headers: HeaderMap; policy: CachePolicy } | undefined {
  const sent = storedValidators(stored.headers);
  const asked = sent.etag !== undefined || sent.lastModified !== undefined;
  const validatorless = notModified.etag === undefined && notModified['last-modified'] === undefined;
  if (!asked && !validatorless) return undefined;
  const headers: HeaderMap = { ...stored.headers };
  delete headers.age;
  for (const name in notModified) if (!NOT_FROM_304.has(name)) headers[name] = notModified[name]!;
  return { headers, policy: createPolicy(Policy, req, stored.status, headers) };
}
