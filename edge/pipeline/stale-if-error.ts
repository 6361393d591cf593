// Stale-if-error (RFC 5861): when the upstream cannot be reached, times out or answers 5xx, a
// stored response still inside its stale-if-error window is served instead.
import { toEdgeError } from '../errors.js';
import type { EdgeContext, Middleware } from './context.js';
import { serveEntry } from './lookup.js';
import { freshness } from './policy.js';
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

function serveStale(c: EdgeContext): boolean {
  const entry = c.stale;
  if (!entry || !c.staleIfErrorAllowed) return false;
  const f = freshness(entry, c.edge.now());
  if (!f.staleIfError) return false;
  serveEntry(c, entry, f);
  c.status.stored = false;
  c.status.detail = 'stale-if-error';
  return true;
}
