// Storage: an LRU with a byte budget (body + headers per object), indexed by URL key (its
// variants and their Vary fields) and by surrogate key, so purges by URL, prefix, tag or
// everything are exact. Soft purges mark objects stale instead of removing them.
import { LRUCache } from 'lru-cache';
import { appendVia, headerValue, type HeaderMap } from './headers.js';
import type { Directives } from './freshness/cache-control.js';
import type { StoredLifetime } from './pipeline/lifetime.js';
import { targetedDirectives } from './freshness/targeted.js';

export interface StoredResponse {
  /** The variant key (URL key + the request's values of the Vary fields). */
  readonly key: string;
  /** The URL key. */
  readonly primary: string;
  readonly vary: readonly string[];
  readonly status: number;
  /** As stored: no hop-by-hop fields, no Set-Cookie, no upstream Cache-Status. */
  readonly headers: HeaderMap;
  /** Sent to clients: also without the CDN-only fields and Age (added per response). */
  readonly publicHeaders: HeaderMap;
  /**
   * `publicHeaders` as node's flat [name, value, …] list, and the same for our own edges (shield
   * traffic: the CDN-only fields kept), so that a hit node:http writes only appends Age and
   * Cache-Status instead of copying a header object per response. Built on first use: most
   * objects are only ever written by the raw front (front/hit-bytes.ts), which needs neither.
   */
  readonly publicHead: readonly (string | string[])[];
  readonly internalHead: readonly (string | string[])[];
  readonly body: Buffer;
  /** Its freshness lifetime and age (what it keeps of the policy that judged it). */
  readonly lifetime: StoredLifetime;
  /** The Cache-Control directives this cache obeys (CDN-Cache-Control when present). */
  readonly directives: Directives;
  /** Surrogate keys, from Surrogate-Key and Cache-Tag. */
  readonly tags: readonly string[];
  readonly size: number;
  /** Soft purge time (ms): stale from then on, revalidated on next use. */
  invalidatedAt: number | undefined;
}

/** Response fields meant for this cache (and our shields' children), not for clients. */
export const CDN_ONLY = ['cdn-cache-control', 'surrogate-control', 'surrogate-key', 'cache-tag'] as const;

// What a stored object takes beyond its body and header text: its header map for clients (the
// flat lists are built on first use), the directives, the lifetime, the hit prefix, the LRU's
// and the indexes' entries. Measured at about 1.5 KB with a typical origin's eight fields, on
// Node 20 (2.5 KB while it kept its http-cache-semantics policy and built every header list at
// once; cache-store.test.ts checks the count covers it); at 512, a store of 1 KiB objects used
// about twice the memory maxBytes allowed.
const PER_OBJECT_OVERHEAD = 2048;

export interface StoredResponseInput {
  key: string;
  primary: string;
  vary: readonly string[];
  status: number;
  /** The upstream's headers, hop-by-hop fields already removed. */
  headers: HeaderMap;
  body: Buffer;
  lifetime: StoredLifetime;
  /** Our `Via` hop, e.g. '1.1 meridian-fra'. */
  via: string;
}

/** Never stored: the requester's cookie, and the upstream's own Cache-Status. */
export const NOT_STORED: ReadonlySet<string> = new Set(['set-cookie', 'cache-status']);
const NOT_INTERNAL: ReadonlySet<string> = new Set(['age']);
const NOT_PUBLIC: ReadonlySet<string> = new Set([...NOT_INTERNAL, ...CDN_ONLY]);

export function storedResponse(input: StoredResponseInput): StoredResponse {
  // Copies made by leaving fields out, not by spreading and deleting: V8 keeps the latter larger
  // (measured 0.5 KB more per stored object with nginx's fields), for as long as it is stored.
  const headers = without(input.headers, NOT_STORED);
  headers['content-length'] = String(input.body.length);
  const publicHeaders = without(headers, NOT_PUBLIC);
  publicHeaders.via = appendVia(headers.via, input.via);
  let headerBytes = 0;
  for (const name in headers) headerBytes += name.length + String(headers[name]).length + 4;
  const size = input.body.length + 2 * headerBytes + 2 * input.key.length + PER_OBJECT_OVERHEAD;
  return new Stored(input, headers, publicHeaders, size);
}

class Stored implements StoredResponse {
  readonly key: string;
  readonly primary: string;
  readonly vary: readonly string[];
  readonly status: number;
  readonly body: Buffer;
  readonly lifetime: StoredLifetime;
  readonly directives: Directives;
  readonly tags: readonly string[];
  invalidatedAt: number | undefined = undefined;
  #publicHead: (string | string[])[] | undefined;
  #internalHead: (string | string[])[] | undefined;

  constructor(
    input: StoredResponseInput,
    readonly headers: HeaderMap,
    readonly publicHeaders: HeaderMap,
    readonly size: number,
  ) {
    this.key = input.key;
    this.primary = input.primary;
    this.vary = input.vary;
    this.status = input.status;
    this.body = input.body;
    this.lifetime = input.lifetime;
    this.directives = targetedDirectives(headers).directives;
    this.tags = surrogateKeys(headers);
  }

  get publicHead(): readonly (string | string[])[] {
    return (this.#publicHead ??= flatHeaders(this.publicHeaders));
  }

  /** The stored fields but Age, Via with our hop (as in publicHeaders), in the stored order. */
  get internalHead(): readonly (string | string[])[] {
    if (this.#internalHead === undefined) {
      const internal = without(this.headers, NOT_INTERNAL);
      internal.via = this.publicHeaders.via!;
      this.#internalHead = flatHeaders(internal);
    }
    return this.#internalHead;
  }
}

function without(headers: HeaderMap, names: ReadonlySet<string>): HeaderMap {
  const out: HeaderMap = {};
  for (const name of Object.keys(headers)) if (!names.has(name)) out[name] = headers[name]!;
  return out;
}

function flatHeaders(headers: HeaderMap): (string | string[])[] {
  const out: (string | string[])[] = [];
  for (const name in headers) out.push(name, headers[name]!);
  return out;
}

export function surrogateKeys(headers: HeaderMap): string[] {
  const keys = new Set<string>();
  for (const name of ['surrogate-key', 'cache-tag']) {
    for (const k of headerValue(headers, name)?.split(/[\s,]+/) ?? []) if (k !== '') keys.add(k);
  }
  return [...keys];
}

interface UrlRecord {
  vary: readonly string[];
  readonly variants: Set<string>;
}

export class CacheStore {
  private readonly lru: LRUCache<string, StoredResponse>;
  private readonly urls = new Map<string, UrlRecord>();
  private readonly tagIndex = new Map<string, Set<string>>();
  private evicted = 0;

  constructor(maxBytes: number) {
    this.lru = new LRUCache<string, StoredResponse>({
      maxSize: maxBytes,
      sizeCalculation: (entry) => entry.size,
      dispose: (entry, key, reason) => {
        if (reason === 'evict') this.evicted++;
        this.unindex(entry, key);
      },
    });
  }

  /** The Vary fields of `primary`'s stored responses; undefined when none is stored. */
  varyOf(primary: string): readonly string[] | undefined {
    return this.urls.get(primary)?.vary;
  }

  /** Marks the entry most recently used. */
  get(key: string): StoredResponse | undefined {
    return this.lru.get(key);
  }

  peek(key: string): StoredResponse | undefined {
    return this.lru.peek(key);
  }

  /** Stores `entry`; variants stored under other Vary fields are dropped. False if it does not fit. */
  put(entry: StoredResponse): boolean {
    const record = this.urls.get(entry.primary);
    if (record && !sameFields(record.vary, entry.vary)) for (const key of [...record.variants]) this.lru.delete(key);
    this.lru.set(entry.key, entry);
    if (this.lru.peek(entry.key) !== entry) return false;
    let r = this.urls.get(entry.primary);
    if (!r) this.urls.set(entry.primary, (r = { vary: entry.vary, variants: new Set() }));
    r.vary = entry.vary;
    r.variants.add(entry.key);
    for (const tag of entry.tags) {
      let keys = this.tagIndex.get(tag);
      if (!keys) this.tagIndex.set(tag, (keys = new Set()));
      keys.add(entry.key);
    }
    return true;
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  /** Every variant of a URL. */
  purgeUrl(primary: string, soft: boolean, now: number): number {
    const record = this.urls.get(primary);
    return record ? this.purgeKeys([...record.variants], soft, now) : 0;
  }

  /** Every URL whose key starts with `prefix` (scheme://host/path…). */
  purgePrefix(prefix: string, soft: boolean, now: number): number {
    const keys: string[] = [];
    for (const [primary, record] of this.urls) if (primary.startsWith(prefix)) keys.push(...record.variants);
    return this.purgeKeys(keys, soft, now);
  }

  /** Every object tagged `tag` by Surrogate-Key or Cache-Tag. */
  purgeTag(tag: string, soft: boolean, now: number): number {
    return this.purgeKeys([...(this.tagIndex.get(tag) ?? [])], soft, now);
  }

  purgeAll(soft: boolean, now: number): number {
    return this.purgeKeys([...this.lru.keys()], soft, now);
  }

  get objects(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }

  get evictions(): number {
    return this.evicted;
  }

  private purgeKeys(keys: readonly string[], soft: boolean, now: number): number {
    let n = 0;
    for (const key of keys) {
      if (soft) {
        const entry = this.lru.peek(key);
        if (entry) {
          entry.invalidatedAt = Math.min(entry.invalidatedAt ?? now, now);
          n++;
        }
      } else if (this.lru.delete(key)) n++;
    }
    return n;
  }

  private unindex(entry: StoredResponse, key: string): void {
    const record = this.urls.get(entry.primary);
    if (record) {
      record.variants.delete(key);
      if (record.variants.size === 0) this.urls.delete(entry.primary);
    }
    for (const tag of entry.tags) {
      const keys = this.tagIndex.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.tagIndex.delete(tag);
    }
  }
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}
