// One serving process's state: storage, upstream pool, counters and the pipeline's shared
// state. The single-process service and every serving worker build it the same way; only the
// byte budget and the peers differ.
import type { Logger } from '../common/log.js';
import type { Registry } from 'prom-client';
import { CacheStore } from './cache-store.js';
import type { EdgeConfig } from './config.js';
import { EdgeMetrics } from './metrics.js';
import { NO_PEERS, type Peers } from './peers.js';
import type { EdgeState, StoreOutcome } from './pipeline/context.js';
import { HitForMiss } from './pipeline/hit-for-miss.js';
import { refreshInBackground } from './pipeline/index.js';
import { forwardRule } from './pipeline/forward-headers.js';
import { compileQueryFilter } from './pipeline/key.js';
import { policyClass } from './pipeline/policy.js';
import { Purger } from './purge.js';
import { trustedProxies } from './trusted-proxies.js';
import { Upstream } from './upstream.js';

export interface EdgeCoreOptions {
  readonly config: EdgeConfig;
  readonly log: Logger;
  readonly now: () => number;
  readonly registry: Registry;
  /** This process's share of the byte budget (default: all of edge.maxBytes). */
  readonly maxBytes?: number;
  readonly peers?: Peers;
}

/** What a serving process knows about itself, for /healthz, status and /metrics. */
export interface CoreStats {
  readonly objects: number;
  readonly bytes: number;
  readonly evictions: number;
  /** Fetches under way here. */
  readonly inflight: number;
  /** ms the upstream has been unreachable (0 when fine). */
  readonly downFor: number;
  readonly upstream: ReturnType<Upstream['status']>;
}

export interface EdgeCore {
  readonly state: EdgeState;
  readonly cache: CacheStore;
  readonly metrics: EdgeMetrics;
  readonly upstream: Upstream;
  readonly purger: Purger;
  stats(): CoreStats;
}

export function createEdgeCore(opts: EdgeCoreOptions): EdgeCore {
  const { config, log, now } = opts;
  const cache = new CacheStore(opts.maxBytes ?? config.maxBytes);
  const metrics = new EdgeMetrics(opts.registry, () => ({ objects: cache.objects, bytes: cache.bytes, evictions: cache.evictions }));
  const upstream = new Upstream({ url: config.upstream, connections: config.connections, timeouts: config.timeouts, now, log });
  const keepParam = compileQueryFilter(config.query);
  const state: EdgeState = {
    config,
    pseudonym: `meridian-${config.pop}`,
    keepParam,
    trustedProxy: trustedProxies(config.trustedProxies),
    forwardRule: forwardRule(config.forwardHeaders),
    cache,
    inflight: new Map<string, Promise<StoreOutcome>>(),
    hitForMiss: new HitForMiss(config.hitForMiss, now),
    upstream,
    peers: opts.peers ?? NO_PEERS,
    metrics,
    Policy: policyClass(now),
    now,
    log,
    refresh: (c, entry) => void refreshInBackground(c, entry),
  };
  const purger = new Purger(cache, keepParam, metrics, now);
  const stats = (): CoreStats => ({
    objects: cache.objects,
    bytes: cache.bytes,
    evictions: cache.evictions,
    inflight: state.inflight.size,
    downFor: upstream.downFor(),
    upstream: upstream.status(),
  });
  return { state, cache, metrics, upstream, purger, stats };
}
