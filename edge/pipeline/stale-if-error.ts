// Stale-if-error (RFC 5861): when the upstream cannot be reached, times out, breaks the
// connection before the response head is complete (closed, reset, unparsable: upstream.ts turns
// each into an EdgeError) or answers 5xx, a stored response still inside its stale-if-error
// window is served instead. The window is the response's directive, or the request's own
// (RFC 5861 §4: a client may accept a response that much stale when the upstream fails).
import { toEdgeError } from '../errors.js';
import { parseCacheControl } from '../freshness/cache-control.js';
import { headerValue } from '../headers.js';
import type { EdgeContext, Middleware } from './context.js';
import { serveEntry } from './lookup.js';
import { freshness, seconds, type Freshness } from './policy.js';
import { discard } from './tee.js';

export function staleIfError(): Middleware {
  return async function staleIfError(c, next) {
    try {
      await next();
    } catch (err) {
      if (toEdgeError(err).isOrigin && serveStale(c)) return;
      throw err;
    }
    const r = c.response;
    if (r && r.entry === undefined && r.status >= 500 && c.origin !== undefined) {
      const body = r.body;
      if (serveStale(c) && body !== undefined && !Buffer.isBuffer(body)) discard(body);
    }
  };
}

/**
 * Whether `c`'s stale stored response may stand in for an upstream failure. `store` asks too: a
 * 5xx that is about to be replaced by the stale response is not stored over it.
 */
export function staleMayServe(c: EdgeContext): boolean {
  const entry = c.stale;
  if (!entry || !c.staleIfErrorAllowed) return false;
  const f = freshness(entry, c.edge.now());
  return f.staleIfError || requestAllowsStale(c, f);
}

function serveStale(c: EdgeContext): boolean {
  const entry = c.stale;
  if (!entry || !staleMayServe(c)) return false;
  const f = freshness(entry, c.edge.now());
  serveEntry(c, entry, f);
  c.status.stored = false;
  c.status.detail = 'stale-if-error';
  return true;
}

/** RFC 5861 §4: the request's `stale-if-error=N` (never over must-revalidate / no-cache). */
export function requestAllowsStale(c: EdgeContext, f: Freshness): boolean {
  if (f.fresh || f.strict) return false;
  const value = headerValue(c.req.headers, 'cache-control');
  if (value === undefined) return false;
  return -f.ttl < seconds(parseCacheControl(value)['stale-if-error']);
}
