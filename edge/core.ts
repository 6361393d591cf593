// One serving process's state (the edge twin of dns/server/core.ts): storage, upstream pool,
// counters and the pipeline's shared state. The single-process service and every serving worker
// build it the same way; only the byte budget and the peers differ.
import { edgePseudonym } from '../common/catchment.js';
import type { Logger } from '../common/log.js';
import type { Registry } from 'prom-client';
import { CacheStore } from './cache-store.js';
import type { EdgeConfig } from './config.js';
import { EdgeMetrics } from './metrics.js';
import { NO_PEERS } from './peers.js';
import type { EdgeState, Peers, StoreOutcome } from './pipeline/context.js';
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

// A class, like DNS's DnsCore and the codebase's other long-lived stateful parts (CacheStore,
// Upstream, the pools): one name for the type and its construction.
export class EdgeCore {
  readonly state: EdgeState;
  readonly cache: CacheStore;
  readonly metrics: EdgeMetrics;
  readonly upstream: Upstream;
  readonly purger: Purger;

  constructor(opts: EdgeCoreOptions) {
    const { config, log, now } = opts;
    const cache = new CacheStore(opts.maxBytes ?? config.maxBytes);
    const metrics = new EdgeMetrics(opts.registry, () => ({
      objects: cache.objects,
      bytes: cache.bytes,
      evictions: cache.evictions,
    }));
    const upstream = new Upstream({
      url: config.upstream,
      connections: config.connections,
      timeouts: config.timeouts,
      now,
      log,
    });
    const keepParam = compileQueryFilter(config.query);
    this.state = {
      config,
      pseudonym: edgePseudonym(config.pop),
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
    this.cache = cache;
    this.metrics = metrics;
    this.upstream = upstream;
    this.purger = new Purger(cache, keepParam, metrics, now);
  }

  stats(): CoreStats {
    return {
      objects: this.cache.objects,
      bytes: this.cache.bytes,
      evictions: this.cache.evictions,
      inflight: this.state.inflight.size,
      downFor: this.upstream.downFor(),
      upstream: this.upstream.status(),
    };
  }

  /** Closes the upstream connections (the listeners belong to the server, closed before this). */
  close(): Promise<void> {
    return this.upstream.close();
  }
}
