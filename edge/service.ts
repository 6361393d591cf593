// The edge cache of one PoP as a whole: load the config, build the shared state (storage,
// upstream pool, metrics), start the proxy listener and, when asked, the control listener.
import { dirname, resolve as resolvePath } from 'node:path';
import { startControlServer, type ControlServer } from '../common/control-server.js';
import { resolveControlToken } from '../common/control-token.js';
import type { HostPort } from '../common/host-port.js';
import { createLogger, type Logger } from '../common/log.js';
import { createRegistry } from '../common/metrics.js';
import { CacheStore } from './cache-store.js';
import { loadEdgeConfig, type EdgeConfig } from './config.js';
import { controlRoutes } from './control-routes.js';
import { EdgeMetrics } from './metrics.js';
import type { EdgeState, StoreOutcome } from './pipeline/context.js';
import { HitForMiss } from './pipeline/hit-for-miss.js';
import { refreshInBackground } from './pipeline/index.js';
import { compileQueryFilter } from './pipeline/key.js';
import { policyClass } from './pipeline/policy.js';
import { Purger } from './purge.js';
import { startEdgeServer, type EdgeServer } from './server.js';
import { Upstream } from './upstream.js';

export interface EdgeOptions {
  configFile: string;
  pop: string;
  /** Overrides the PoP's edge URL host:port. */
  listen?: HostPort;
  /** Serve the control port here (overrides edge.control.listen). */
  control?: HostPort;
  /** For tests: where logs go (default stdout at the configured level). */
  log?: Logger;
  /** For tests: the clock the cache reads (ms since the epoch). */
  now?: () => number;
}

export interface EdgeStats {
  readonly objects: number;
  readonly bytes: number;
  readonly hitRatio: number;
}

export interface EdgeService {
  readonly config: EdgeConfig;
  /** The proxy listener, e.g. 'http://127.0.0.1:8080'. */
  readonly url: string;
  readonly control: ControlServer | undefined;
  stats(): EdgeStats;
  healthz(): { status: number; body: unknown };
  setDraining(draining: boolean): void;
  close(): Promise<void>;
}

export async function startEdge(opts: EdgeOptions): Promise<EdgeService> {
  const config = await loadEdgeConfig(opts.configFile, opts.pop, {
    ...(opts.listen && { listen: opts.listen }),
    ...(opts.control && { control: opts.control }),
  });
  const log = opts.log ?? createLogger({ service: 'edge', level: config.logLevel });
  const now = opts.now ?? Date.now;
  const token = resolveControlToken({
    token: config.control.token,
    ...(config.control.tokenFile !== undefined && { tokenFile: resolvePath(dirname(config.file), config.control.tokenFile) }),
  });
  const cache = new CacheStore(config.maxBytes);
  const registry = createRegistry('edge');
  const metrics = new EdgeMetrics(registry, () => ({ objects: cache.objects, bytes: cache.bytes, evictions: cache.evictions }));
  const upstream = new Upstream({ url: config.upstream, connections: config.connections, timeouts: config.timeouts, now, log });
  const keepParam = compileQueryFilter(config.query);
  const state: EdgeState = {
    config,
    pseudonym: `meridian-${config.pop}`,
    keepParam,
    cache,
    inflight: new Map<string, Promise<StoreOutcome>>(),
    hitForMiss: new HitForMiss(config.hitForMiss, now),
    upstream,
    metrics,
    Policy: policyClass(now),
    now,
    log,
    refresh: (c, entry) => void refreshInBackground(c, entry),
  };
  const purger = new Purger(cache, keepParam, metrics, now);

  let draining = false;
  const stats = (): EdgeStats => ({ objects: cache.objects, bytes: cache.bytes, hitRatio: Math.round(metrics.hitRatio() * 10_000) / 10_000 });
  const healthz = (): { status: number; body: unknown } => {
    const downFor = upstream.downFor();
    const originDown = downFor > config.originDownAfter;
    const state = draining ? 'draining' : originDown ? 'origin-down' : 'serving';
    return { status: state === 'serving' ? 200 : 503, body: { ok: state === 'serving', state, pop: config.pop, ...stats(), upstream: upstream.status() } };
  };
  const setDraining = (on: boolean): void => {
    if (on !== draining) log.info({ pop: config.pop, draining: on }, on ? 'draining: /healthz answers 503' : 'undrained');
    draining = on;
  };
  const status = () => ({
    pop: config.pop,
    configFile: config.file,
    upstream: upstream.status(),
    shield: config.shield ?? null,
    draining,
    ...stats(),
    maxBytes: config.maxBytes,
    maxObjectBytes: config.maxObjectBytes,
    inflight: state.inflight.size,
  });

  let server: EdgeServer | undefined;
  let control: ControlServer | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await control?.close();
      await server?.close();
      await upstream.close();
    })());

  try {
    server = await startEdgeServer(state, { healthz, purger, token }, config.listen);
    const controlAt = config.control.listen;
    if (controlAt) {
      control = await startControlServer({ ...controlAt, token, routes: controlRoutes({ purger, healthz, status, setDraining }), registry, log });
    }
  } catch (e) {
    await close();
    throw e;
  }
  log.info({ pop: config.pop, url: server.url, upstream: config.upstream.href, shield: config.shield, ...(control && { control: control.url }) }, 'meridian edge serving');
  return { config, url: server.url, control, stats, healthz, setDraining, close };
}
