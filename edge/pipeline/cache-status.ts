// The Cache-Status response field (RFC 9211): how this cache handled the request, appended to
// whatever the caches nearer the origin (a shield) said.

/** Why the request went forward (RFC 9211 §2.2). */
export type Fwd = 'bypass' | 'miss' | 'uri-miss' | 'vary-miss' | 'stale' | 'request';

export interface CacheStatus {
  /** Answered from storage without going forward. */
  hit: boolean;
  fwd: Fwd | undefined;
  /** The status the upstream answered with, when it did. */
  fwdStatus: number | undefined;
  /** The response was stored (or its stored headers refreshed). */
  stored: boolean;
  /** Waited on another request's fetch instead of going forward itself. */
  collapsed: boolean;
  /** Seconds of freshness left; negative when stale. */
  ttl: number | undefined;
  /** An sf-token saying more: stale-while-revalidate, stale-if-error, hit-for-miss, too-large… */
  detail: string | undefined;
}

export function formatCacheStatus(name: string, s: CacheStatus): string {
  let out = name;
  if (s.hit) out += '; hit';
  else if (s.fwd !== undefined) out += `; fwd=${s.fwd}`;
  if (!s.hit && s.fwdStatus !== undefined) out += `; fwd-status=${s.fwdStatus}`;
  if (s.stored) out += '; stored';
  if (s.collapsed) out += '; collapsed';
  if (s.ttl !== undefined) out += `; ttl=${s.ttl}`;
  if (s.detail !== undefined) out += `; detail=${s.detail}`;
  return out;
}

/** Our entry appended to the upstream's list (the last member is the cache nearest the client). */
export function appendCacheStatus(upstream: string | string[] | undefined, ours: string): string {
  const prior = Array.isArray(upstream) ? upstream.join(', ') : upstream;
  return prior ? `${prior}, ${ours}` : ours;
}
