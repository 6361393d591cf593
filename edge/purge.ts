// Purging: by URL (every variant), by prefix, by surrogate key, or everything; `soft` marks the
// objects stale (revalidated on next use, still usable for stale-if-error / -while-revalidate)
// instead of removing them. Used by the control port and by PURGE requests on the proxy port.
import { z } from 'zod';
import type { CacheStore } from './cache-store.js';
import type { EdgeMetrics } from './metrics.js';
import { keyOfUrl, normaliseHost, type KeepParam } from './pipeline/key.js';

export const purgeRequestSchema = z
  .strictObject({
    url: z.string().min(1).optional(),
    prefix: z.string().min(1).optional(),
    /** Surrogate keys: one, several space/comma separated, or a list. */
    tag: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    all: z.literal(true).optional(),
    soft: z.boolean().default(false),
  })
  .refine((p) => [p.url, p.prefix, p.tag, p.all].filter((v) => v !== undefined).length === 1, {
    error: "give exactly one of 'url', 'prefix', 'tag' or 'all: true'",
  });
export type PurgeRequest = z.output<typeof purgeRequestSchema>;

export interface PurgeResult {
  readonly purged: number;
  readonly soft: boolean;
}

export class PurgeError extends Error {}

export class Purger {
  constructor(
    private readonly cache: CacheStore,
    private readonly keep: KeepParam,
    private readonly metrics: EdgeMetrics,
    private readonly now: () => number,
  ) {}

  run(p: PurgeRequest): PurgeResult {
    if (p.url !== undefined) return this.url(p.url, p.soft);
    if (p.prefix !== undefined) return this.prefix(p.prefix, p.soft);
    if (p.tag !== undefined) return this.tags(typeof p.tag === 'string' ? p.tag.split(/[\s,]+/) : p.tag, p.soft);
    return this.done('all', this.cache.purgeAll(p.soft, this.now()), p.soft);
  }

  /** Every variant of one URL (its query normalised as requests' are). */
  url(url: string, soft: boolean): PurgeResult {
    const key = keyOfUrl(url, this.keep);
    if (key === undefined) throw new PurgeError(`'${url}' is not an absolute http(s) URL`);
    return this.key(key, soft);
  }

  /** By cache key (PURGE requests, which arrive already keyed). */
  key(key: string, soft: boolean): PurgeResult {
    return this.done('url', this.cache.purgeUrl(key, soft, this.now()), soft);
  }

  /** Every URL starting with `prefix` (scheme://host/path…, the query as given). */
  prefix(prefix: string, soft: boolean): PurgeResult {
    let parsed: URL;
    try {
      parsed = new URL(prefix);
    } catch {
      throw new PurgeError(`'${prefix}' is not an absolute http(s) URL`);
    }
    const scheme = parsed.protocol.slice(0, -1);
    const host = normaliseHost(parsed.host, scheme === 'https' ? 'https' : 'http');
    if ((scheme !== 'http' && scheme !== 'https') || host === undefined) throw new PurgeError(`'${prefix}' is not an absolute http(s) URL`);
    return this.done('prefix', this.cache.purgePrefix(`${scheme}://${host}${parsed.pathname}${parsed.search}`, soft, this.now()), soft);
  }

  tags(tags: readonly string[], soft: boolean): PurgeResult {
    let n = 0;
    for (const tag of tags) if (tag !== '') n += this.cache.purgeTag(tag, soft, this.now());
    return this.done('tag', n, soft);
  }

  private done(kind: string, purged: number, soft: boolean): PurgeResult {
    this.metrics.purged(soft ? `soft_${kind}` : kind, purged);
    return { purged, soft };
  }
}
