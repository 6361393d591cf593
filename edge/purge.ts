// Purging: by URL (every variant), by prefix, by surrogate key, or everything; `soft` marks the
// objects stale (revalidated on next use, still usable for stale-if-error / -while-revalidate)
// instead of removing them. Used by the control port and by PURGE requests on the proxy port.
//
// A purge is first resolved into a PurgeOp (checked, keyed like requests are), then applied to
// a store. With serving workers the primary resolves it once and every worker applies the same
// op to its own store (edge/workers/).
import { z } from 'zod';
import type { CacheStore } from './cache-store.js';
import type { EdgeMetrics } from './metrics.js';
import type { KeepParam } from './pipeline/context.js';
import { keyOfUrl, normaliseHost } from './pipeline/key.js';

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

/** A checked purge, in cache-key terms: what every store applies. */
export type PurgeOp =
  | { readonly kind: 'url'; readonly key: string; readonly soft: boolean }
  | { readonly kind: 'prefix'; readonly prefix: string; readonly soft: boolean }
  | { readonly kind: 'tag'; readonly tags: readonly string[]; readonly soft: boolean }
  | { readonly kind: 'all'; readonly soft: boolean };

export interface PurgeResult {
  readonly purged: number;
  readonly soft: boolean;
}

export class PurgeError extends Error {}

/** The op for a control-port purge request; throws PurgeError for a URL that is not one. */
export function resolvePurge(p: PurgeRequest, keep: KeepParam): PurgeOp {
  const soft = p.soft;
  if (p.url !== undefined) {
    const key = keyOfUrl(p.url, keep);
    if (key === undefined) throw new PurgeError(`'${p.url}' is not an absolute http(s) URL`);
    return { kind: 'url', key, soft };
  }
  if (p.prefix !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(p.prefix);
    } catch {
      throw new PurgeError(`'${p.prefix}' is not an absolute http(s) URL`);
    }
    const scheme = parsed.protocol.slice(0, -1);
    const host = normaliseHost(parsed.host, scheme === 'https' ? 'https' : 'http');
    if ((scheme !== 'http' && scheme !== 'https') || host === undefined)
      throw new PurgeError(`'${p.prefix}' is not an absolute http(s) URL`);
    // The query as given: a prefix may end inside it.
    return { kind: 'prefix', prefix: `${scheme}://${host}${parsed.pathname}${parsed.search}`, soft };
  }
  if (p.tag !== undefined) {
    const tags = (typeof p.tag === 'string' ? p.tag.split(/[\s,]+/) : p.tag).filter((t) => t !== '');
    return { kind: 'tag', tags, soft };
  }
  return { kind: 'all', soft };
}

/** Applies `op` to one store; the number of objects removed (or marked stale). */
export function applyPurge(cache: CacheStore, op: PurgeOp, now: number): number {
  switch (op.kind) {
    case 'url':
      return cache.purgeUrl(op.key, op.soft, now) + cache.purgeUrl(otherScheme(op.key), op.soft, now);
    case 'prefix':
      return cache.purgePrefix(op.prefix, op.soft, now) + cache.purgePrefix(otherScheme(op.prefix), op.soft, now);
    case 'tag': {
      let n = 0;
      for (const tag of op.tags) n += cache.purgeTag(tag, op.soft, now);
      return n;
    }
    case 'all':
      return cache.purgeAll(op.soft, now);
  }
}

/**
 * The same key under the other scheme. Behind a trusted TLS proxy one URL may be stored as
 * http:// and https:// (trusted-proxies.ts); a purge names the resource, so it takes both.
 */
export function otherScheme(key: string): string {
  if (key.startsWith('http://')) return `https://${key.slice(7)}`;
  if (key.startsWith('https://')) return `http://${key.slice(8)}`;
  return key;
}

/** Whether `op` covers an object with this URL key and these surrogate keys. */
export function purgeMatches(op: PurgeOp, primary: string, tags: readonly string[]): boolean {
  switch (op.kind) {
    case 'url':
      return primary === op.key || primary === otherScheme(op.key);
    case 'prefix':
      return primary.startsWith(op.prefix) || primary.startsWith(otherScheme(op.prefix));
    case 'tag':
      return op.tags.some((t) => tags.includes(t));
    case 'all':
      return true;
  }
}

/** The metrics label of an op: url, prefix, tag, all; soft_ prefixed when marked stale. */
export function purgeLabel(op: PurgeOp): string {
  return op.soft ? `soft_${op.kind}` : op.kind;
}

/** Purges in this process's own store and counts them. */
export class Purger {
  constructor(
    private readonly cache: CacheStore,
    private readonly keep: KeepParam,
    private readonly metrics: EdgeMetrics,
    private readonly now: () => number,
  ) {}

  run(p: PurgeRequest): PurgeResult {
    return this.apply(resolvePurge(p, this.keep));
  }

  apply(op: PurgeOp): PurgeResult {
    const purged = applyPurge(this.cache, op, this.now());
    this.metrics.purged(purgeLabel(op), purged);
    return { purged, soft: op.soft };
  }
}
