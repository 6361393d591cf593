// What flows through the request pipeline: the parsed client request, what the steps learn
// about it (key, stored response, origin answer) and the response to send. One context per
// request; the shared state (cache, in-flight fetches, upstream) hangs off `edge`. This file is
// the pipeline's contract: the steps import it and it imports no step, so the small types the
// state names (the query filter, the encodings, the forwarding rule, the peers) are defined here.
import type { Readable } from 'node:stream';
import type { CacheStore, StoredResponse } from '../cache-store.js';
import type { EdgeConfig } from '../config.js';
import type { EdgeError } from '../errors.js';
import type { HeaderMap, IncomingHeaders } from '../headers.js';
import type { EdgeMetrics } from '../metrics.js';
import type { Scheme, TrustedProxy } from '../trusted-proxies.js';
import type { Upstream } from '../upstream.js';
import type { Logger } from '../../common/log.js';
import type { CacheStatus } from './cache-status.js';
import type { HitForMiss } from './hit-for-miss.js';
import type { PolicyClass } from './policy.js';

/** Which query parameters enter the cache key (key.ts's compileQueryFilter makes one). */
export type KeepParam = (name: string) => boolean;

/** The content encodings worth storing a variant for (key.ts's normaliseEncoding). */
export type Encoding = 'br' | 'gzip' | 'identity';

/** Which client headers go upstream (forward-headers.ts's forwardRule makes one). */
export interface ForwardRule {
  /** edge.forwardHeaders, lower-case: forwarded on every request and keyed on cacheable ones. */
  readonly extra: ReadonlySet<string>;
}

/** The other processes serving the same PoP (edge/peers.ts says more; NO_PEERS with one process). */
export interface Peers {
  /**
   * Asks for the fetch lease of `key`. true: this process fetches and must call `release`.
   * false: another process fetches; `settle` is called with its outcome (its object, when
   * stored, is already in this process's storage by then).
   */
  lease(key: string, settle: (outcome: StoreOutcome) => void): boolean | Promise<boolean>;
  /** The fetch for `key` this process led came to `outcome`. */
  release(key: string, outcome: StoreOutcome): void;
  /** This process stored `entry`. */
  stored(entry: StoredResponse): void;
  /** This process removed every variant of a URL (invalidation) or one variant. */
  removedUrl(primary: string): void;
  removed(key: string): void;
  /** This process marked (true) or cleared (false) `key` as hit-for-miss. */
  hitForMiss(key: string, marked: boolean): void;
}

export interface EdgeRequest {
  readonly method: string;
  /** http, or what a trusted proxy in front says the client used (trusted-proxies.ts); keyed. */
  readonly scheme: Scheme;
  /** The connection comes from edge.trustedProxies: its X-Forwarded-For chain is passed on. */
  readonly trustedPeer: boolean;
  /** Lower-case host, default port dropped. */
  readonly host: string;
  /** The Host header to forward (the client's, unless the config overrides it). */
  readonly hostHeader: string;
  /** Path with the normalised query: what is keyed and forwarded. */
  readonly path: string;
  readonly headers: IncomingHeaders;
  readonly encoding: Encoding;
  readonly clientAddress: string | undefined;
  /** The request body, for methods that have one (streamed to the upstream). */
  readonly body: Readable | undefined;
  /** Sent by one of our own edges (a PoP using us as shield): gets the CDN-only headers. */
  readonly internal: boolean;
  readonly authorization: boolean;
}

export interface OriginResponse {
  readonly status: number;
  /** Without hop-by-hop fields. */
  readonly headers: HeaderMap;
  readonly body: Readable;
}

export interface EdgeResponse {
  readonly status: number;
  /** For responses not from storage: the headers to send (before Via/Age/Cache-Status). */
  readonly headers: HeaderMap;
  readonly body: Buffer | Readable | undefined;
  /** Set when the response is a stored one (its headers come from the entry). */
  readonly entry?: StoredResponse;
  /** A part of the stored response (range.ts): these fields replace the stored ones of the same names. */
  readonly partial?: readonly string[];
}

/** What a fetch for a key came to, for the requests that waited on it. */
export type StoreOutcome =
  | { readonly kind: 'stored' }
  | { readonly kind: 'uncacheable' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'error'; readonly error: EdgeError };

export interface EdgeState {
  readonly config: EdgeConfig;
  /** `meridian-<pop>`: our name in Via and Cache-Status. */
  readonly pseudonym: string;
  readonly keepParam: KeepParam;
  /** Whether a connection comes from a proxy the operator trusts; undefined when none is. */
  readonly trustedProxy: TrustedProxy | undefined;
  /** Which client headers go upstream (forward-headers.ts). */
  readonly forwardRule: ForwardRule;
  readonly cache: CacheStore;
  /** Fetches under way, by variant key (or URL key while the variants are unknown). */
  readonly inflight: Map<string, Promise<StoreOutcome>>;
  readonly hitForMiss: HitForMiss;
  readonly upstream: Upstream;
  /** The other serving processes of this PoP (none with one process). */
  readonly peers: Peers;
  readonly metrics: EdgeMetrics;
  readonly Policy: PolicyClass;
  readonly now: () => number;
  readonly log: Logger;
  /** Starts one background revalidation of `c`'s stored response (stale-while-revalidate). */
  refresh(c: EdgeContext, entry: StoredResponse): void;
}

export interface EdgeContext {
  readonly edge: EdgeState;
  readonly req: EdgeRequest;
  /** The URL key (set by `key`). */
  key: string;
  /** The variant key, once the URL's Vary fields are known. */
  variantKey: string | undefined;
  /** GET/HEAD without Range: may be answered from and stored in the cache. */
  cacheable: boolean;
  /** May wait on (or lead) a fetch for the same key. */
  coalescible: boolean;
  /** A stored response that cannot be used as is: revalidated, or served if the origin fails. */
  stale: StoredResponse | undefined;
  /** Whether `stale` may be served under stale-if-error (not when the request refused it). */
  staleIfErrorAllowed: boolean;
  /** Set by the fetch step. */
  origin: OriginResponse | undefined;
  /** Set by whichever step answers. */
  response: EdgeResponse | undefined;
  /** Settles when the response has been stored (or will not be); set by `store`. */
  outcome: Promise<StoreOutcome>;
  readonly status: CacheStatus;
  /** A background revalidation: no client waits for it. */
  readonly background: boolean;
  /** Forwards an upstream 1xx to the client (edge/interim.ts); undefined when there is none to tell. */
  interim: ((status: number, headers: HeaderMap) => void) | undefined;
}

export type Next = () => Promise<void>;
export type Middleware = (c: EdgeContext, next: Next) => Promise<void>;

const UNCACHEABLE: Promise<StoreOutcome> = Promise.resolve({ kind: 'uncacheable' });

export function createContext(edge: EdgeState, req: EdgeRequest, background = false): EdgeContext {
  return {
    edge,
    req,
    key: '',
    variantKey: undefined,
    cacheable: false,
    coalescible: false,
    stale: undefined,
    staleIfErrorAllowed: true,
    origin: undefined,
    response: undefined,
    outcome: UNCACHEABLE,
    status: {
      hit: false,
      fwd: undefined,
      fwdStatus: undefined,
      stored: false,
      collapsed: false,
      ttl: undefined,
      detail: undefined,
    },
    background,
    interim: undefined,
  };
}

/** Runs the steps in order; each may answer and return, or call `next` and look at the result. */
export function compose(steps: readonly Middleware[]): (c: EdgeContext) => Promise<void> {
  return (c) => {
    const dispatch = (i: number): Promise<void> => {
      const step = steps[i];
      if (!step) return Promise.resolve();
      let called = false;
      return step(c, () => {
        if (called) return Promise.reject(new Error(`${step.name} called next() twice`));
        called = true;
        return dispatch(i + 1);
      });
    };
    return dispatch(0);
  };
}
