// RFC 9111 decisions for this shared cache: http-cache-semantics (shared mode) computes
// storability, freshness lifetime and age; this wrapper decides what it must see and what it
// does not decide for us:
// - CDN-Cache-Control (RFC 9213), else Surrogate-Control, replaces Cache-Control and Expires for
//   this cache (the library is shown the targeted field as Cache-Control);
// - proxy-revalidate is must-revalidate for a shared cache (the library zeroes the lifetime);
// - must-revalidate only forbids serving STALE (the library refuses every reuse);
// - Authorization, Set-Cookie, Vary: * and 5xx get their own reasons, so only answers that say
//   something about the URL make it hit-for-miss;
// - freshness, request directives, stale-while-revalidate and stale-if-error are evaluated here,
//   with soft purges counted as staleness.
import CachePolicy from 'http-cache-semantics';
import type { HeaderMap, IncomingHeaders } from '../headers.js';
import { headerValue } from '../headers.js';

export type Directives = Readonly<Record<string, string | true>>;

export function parseCacheControl(value: string | undefined): Directives {
  const out: Record<string, string | true> = {};
  if (!value) return out;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === '') continue;
    // RFC 9111 §4.2.1: a directive given twice makes it invalid; the first one wins here.
    if (name in out) continue;
    out[name] =
      eq < 0
        ? true
        : part
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, '');
  }
  return out;
}

/** The cache-control value this cache obeys, and whether it came from a CDN-targeted field. */
export function targetedCacheControl(headers: IncomingHeaders): { value: string | undefined; targeted: boolean } {
  for (const name of ['cdn-cache-control', 'surrogate-control']) {
    const value = headerValue(headers, name)?.trim();
    if (value) return { value, targeted: true };
  }
  return { value: headerValue(headers, 'cache-control'), targeted: false };
}

/** Response headers as the library must see them for this cache. */
export function policyView(headers: HeaderMap): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...headers };
  const { value, targeted } = targetedCacheControl(headers);
  if (targeted) {
    delete out.expires;
    delete out.pragma;
  }
  delete out['cdn-cache-control'];
  delete out['surrogate-control'];
  if (value === undefined) delete out['cache-control'];
  else out['cache-control'] = value.replace(/\bproxy-revalidate\b/gi, 'must-revalidate');
  return out;
}

export interface PolicyRequest {
  readonly url: string;
  readonly method: 'GET';
  readonly headers: IncomingHeaders;
}

export type PolicyClass = new (
  req: CachePolicy.Request,
  res: CachePolicy.Response,
  options?: CachePolicy.Options,
) => CachePolicy;

/** The library's class with its clock replaced (tests move time; the library reads `now()`). */
export function policyClass(now: () => number): PolicyClass {
  return class ClockedPolicy extends CachePolicy {
    now(): number {
      return now();
    }
  };
}

export function createPolicy(Policy: PolicyClass, req: PolicyRequest, status: number, headers: HeaderMap): CachePolicy {
  return new Policy(
    req as CachePolicy.Request,
    { status, headers: policyView(headers) as CachePolicy.Headers },
    { shared: true },
  );
}

export type Storability =
  { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly hitForMiss: boolean };

const OK: Storability = { ok: true };

/** Whether to store the answer; `hitForMiss` when the refusal is about the URL, not this request. */
export function storability(policy: CachePolicy, req: PolicyRequest, status: number, headers: HeaderMap): Storability {
  const cc = parseCacheControl(targetedCacheControl(headers).value);
  const reqCc = parseCacheControl(headerValue(req.headers, 'cache-control'));
  if (reqCc['no-store']) return { ok: false, reason: 'request-no-store', hitForMiss: false };
  if (req.headers.authorization !== undefined && !allowsAuthorized(cc))
    return { ok: false, reason: 'authorization', hitForMiss: false };
  if (status >= 500) return { ok: false, reason: 'error-status', hitForMiss: false };
  if (headers['set-cookie'] !== undefined && !cc.public) return { ok: false, reason: 'set-cookie', hitForMiss: true };
  const vary = headerValue(headers, 'vary');
  if (vary !== undefined && varyFields(vary).includes('*')) return { ok: false, reason: 'vary-star', hitForMiss: true };
  if (!policy.storable()) return { ok: false, reason: 'not-storable', hitForMiss: true };
  const lifetime = policy.maxAge();
  const useful =
    lifetime > 0 ||
    headers.etag !== undefined ||
    headers['last-modified'] !== undefined ||
    seconds(cc['stale-if-error']) > 0 ||
    seconds(cc['stale-while-revalidate']) > 0;
  if (!useful) return { ok: false, reason: 'no-lifetime', hitForMiss: true };
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
  readonly policy: CachePolicy;
  readonly directives: Directives;
  /** Soft-purge time (ms): stale from then on. */
  readonly invalidatedAt: number | undefined;
}

export function freshness(e: FreshnessInput, now: number): Freshness {
  const age = e.policy.age();
  let ttl = e.policy.maxAge() - age;
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
 * Applies a 304 to a stored response: undefined when the 304's validators do not select it
 * (the library's `revalidatedPolicy` decides; a 304 without any validator selects it), else the stored headers updated with the 304's
 * and a policy built from them (Age and Date are the 304's: the response is new).
 */
export function applyNotModified(
  Policy: PolicyClass,
  stored: { readonly policy: CachePolicy; readonly status: number; readonly headers: HeaderMap },
  req: PolicyRequest,
  notModified: HeaderMap,
): { headers: HeaderMap; policy: CachePolicy } | undefined {
  const { matches } = stored.policy.revalidatedPolicy(req as CachePolicy.Request, {
    status: 304,
    headers: policyView(notModified) as CachePolicy.Headers,
  });
  // A 304 without validators answers our conditional request about this one stored response
  // (RFC 9110 §15.4.5 does not require it to repeat Last-Modified); one naming other
  // validators does not describe what we hold.
  const validatorless = notModified.etag === undefined && notModified['last-modified'] === undefined;
  if (!matches && !validatorless) return undefined;
  const headers: HeaderMap = { ...stored.headers };
  delete headers.age;
  for (const name in notModified) if (!NOT_FROM_304.has(name)) headers[name] = notModified[name]!;
  return { headers, policy: createPolicy(Policy, req, stored.status, headers) };
}
