// Client validators (If-None-Match, If-Modified-Since) are answered here, against the response
// about to be sent (stored or just fetched): the upstream only ever sees ours, so what it
// answers can be stored and shared.
import { parseHttpDate } from '../freshness/http-date.js';
import { headerValue, type HeaderMap } from '../headers.js';
import type { Middleware } from './context.js';
import { discard } from './tee.js';

export function conditional(): Middleware {
  return async function conditional(c, next) {
    await next();
    const r = c.response;
    if (!c.cacheable || r?.status !== 200) return;
    const headers = r.entry ? r.entry.headers : r.headers;
    if (!notModified(c.req.headers, headers, c.edge.now())) return;
    // A streaming body is dropped for this client; the cache side of it keeps filling.
    if (r.body !== undefined && !Buffer.isBuffer(r.body)) discard(r.body);
    c.response = { ...r, status: 304, body: undefined };
  };
}

/**
 * RFC 9110 §13.2.2: If-None-Match (weak comparison) decides when present, else If-Modified-Since.
 * Either date that is not an HTTP-date is ignored (§13.1.3): no 304 on a date only Date.parse reads.
 * `now` places RFC 850 two-digit years.
 */
export function notModified(
  req: Record<string, string | string[] | undefined>,
  res: HeaderMap,
  now = Date.now(),
): boolean {
  const inm = headerValue(req, 'if-none-match');
  if (inm !== undefined) {
    const etag = headerValue(res, 'etag');
    if (etag === undefined) return false;
    if (inm.trim() === '*') return true;
    const opaque = (t: string): string => t.trim().replace(/^W\//, '');
    return inm.split(',').some((t) => opaque(t) === opaque(etag));
  }
  const ims = headerValue(req, 'if-modified-since');
  const lastModified = headerValue(res, 'last-modified');
  if (ims === undefined || lastModified === undefined) return false;
  const since = parseHttpDate(ims, now);
  const modified = parseHttpDate(lastModified, now);
  return since !== undefined && modified !== undefined && modified <= since;
}
