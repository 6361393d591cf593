// Lookup: find the stored response for the request's variant and decide what it is good for —
// answered at once (fresh, or stale the request accepts), answered stale while one background
// request revalidates it (stale-while-revalidate), or kept aside for revalidation and
// stale-if-error while the request goes forward. A request's own no-cache / max-age / min-fresh
// count only with edge.requestCacheControl: obey; by default a fresh shared object is served.
import type { StoredResponse } from '../cache-store.js';
import { headerValue } from '../headers.js';
import type { EdgeContext, EdgeRequest, ForwardRule, Middleware } from './context.js';
import { forwards } from './forward-headers.js';
import { parseCacheControl } from '../freshness/cache-control.js';
import { allowsAuthorized, freshness, requestAllows, requestRefuses, type Freshness } from './policy.js';

/**
 * The URL key extended with the request's values of the stored Vary fields. A field the edge
 * does not forward (forward-headers.ts) counts as absent: the origin never saw it, so its value
 * cannot have chosen the response.
 */
export function variantKey(
  primary: string,
  vary: readonly string[],
  req: Pick<EdgeRequest, 'headers' | 'encoding'>,
  rule: ForwardRule,
): string {
  let key = primary;
  for (const field of vary) {
    if (field === 'accept-encoding') key += `\n${req.encoding}`;
    else if (!forwards(rule, field, true, false)) key += '\n\0';
    else {
      const value = headerValue(req.headers, field);
      key += value === undefined ? '\n\0' : `\n${value.trim().replace(/\s+/g, ' ')}`;
    }
  }
  return key;
}

/** Answers `c` with a stored response. */
export function serveEntry(c: EdgeContext, entry: StoredResponse, f: Freshness): void {
  c.response = { status: entry.status, headers: entry.publicHeaders, body: entry.body, entry };
  c.status.ttl = Math.round(f.ttl);
}

export function lookup(): Middleware {
  return async function lookup(c, next) {
    if (!c.cacheable) return next();
    const { edge, req } = c;
    // Requests that could not use a shared answer do not wait for one.
    c.coalescible =
      !req.authorization && parseCacheControl(headerValue(req.headers, 'cache-control'))['no-store'] === undefined;

    const vary = edge.cache.varyOf(c.key);
    if (vary === undefined) {
      c.status.fwd = 'uri-miss';
      return next();
    }
    c.variantKey = variantKey(c.key, vary, req, edge.forwardRule);
    const entry = edge.cache.get(c.variantKey);
    if (!entry) {
      c.status.fwd = 'vary-miss';
      return next();
    }
    if (req.authorization && !allowsAuthorized(entry.directives)) {
      c.status.fwd = 'request';
      c.status.detail = 'authorization';
      return next();
    }

    const f = freshness(entry, edge.now());
    // One client's no-cache must not replace everyone's object (config.ts: requestCacheControl).
    const obey = edge.config.requestCacheControl === 'obey';
    if (requestAllows(req.headers, f, obey) === 'use') {
      serveEntry(c, entry, f);
      c.status.hit = true;
      return;
    }
    c.stale = entry;
    if (obey && requestRefuses(req.headers, f)) {
      c.status.fwd = 'request';
      c.staleIfErrorAllowed = false;
      return next();
    }
    if (f.staleWhileRevalidate) {
      serveEntry(c, entry, f);
      c.status.hit = true;
      c.status.detail = 'stale-while-revalidate';
      edge.refresh(c, entry);
      return;
    }
    c.status.fwd = 'stale';
    return next();
  };
}
