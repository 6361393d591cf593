// Conditional GET/HEAD (RFC 9110 §13.2.2): If-None-Match decides when present, and only without
// it does If-Modified-Since count. Caches revalidate with these, so answering 304 here is what
// lets an edge refresh a stale object without downloading it again.

export interface Validators {
  /** The current representation's entity tag, e.g. '"abc"' or 'W/"abc"'. */
  readonly etag?: string | undefined;
  /** The current representation's Last-Modified, in ms since the epoch. */
  readonly lastModified?: number | undefined;
}

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** True when a GET or HEAD may be answered 304 Not Modified. */
export function isNotModified(headers: RequestHeaders, current: Validators): boolean {
  const inm = joined(headers['if-none-match']);
  if (inm !== undefined) return current.etag !== undefined && noneMatchHits(inm, current.etag);
  const ims = headers['if-modified-since'];
  // Only one valid HTTP-date counts; anything else is ignored (RFC 9110 §13.1.3).
  if (current.lastModified === undefined || typeof ims !== 'string') return false;
  const since = Date.parse(ims);
  if (Number.isNaN(since)) return false;
  return Math.floor(current.lastModified / 1000) * 1000 <= since;
}

/** If-None-Match uses the weak comparison: W/"x" and "x" match. `*` matches any representation. */
function noneMatchHits(field: string, etag: string): boolean {
  if (field.trim() === '*') return true;
  const wanted = opaque(etag);
  for (const m of field.matchAll(/(?:W\/)?"([^"]*)"/g)) if (m[1] === wanted) return true;
  return false;
}

function opaque(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
