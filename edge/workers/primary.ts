// The edge with serving workers: this process serves no requests. It forks the workers
// (pool.ts), keeps what must be one per PoP — fetch leases, the order of purges, draining, the
// control port — and answers /healthz, /v1/status and /metrics from the workers' reports
// summed (stored objects: the largest worker's count, since every worker holds a copy).
import { startControlServer, type ControlServer } from '../../common/control-server.js';
import { formatHostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import { createRegistry } from '../../common/metrics.js';
import type { EdgeConfig } from '../config.js';
import { controlRoutes } from '../control-routes.js';
import type { CoreStats } from '../core.js';
import { healthAnswer, roundRatio, worstUpstream, type EdgeStats } from '../status-view.js';
import { EdgeMetrics, type StorageStats } from '../metrics.js';
import { compileQueryFilter } from '../pipeline/key.js';
import { purgeLabel, resolvePurge, type PurgeOp, type PurgeResult } from '../purge.js';
import type { EdgeService } from '../service-contract.js';
import { EdgePool } from './pool.js';

export interface EdgePrimaryOptions {
  readonly config: EdgeConfig;
  readonly log: Logger;
  readonly token: string | undefined;
  readonly workers: number;
}

/** Extra time a fetch lease gets beyond the upstream timeouts before its waiters are let go. */
const LEASE_SLACK_MS = 10_000;

export async function startEdgePrimary(opts: EdgePrimaryOptions): Promise<EdgeService> {
  const { config, log, token, workers } = opts;
  const registry = createRegistry('edge');
  let storage: StorageStats = { objects: 0, bytes: 0, evictions: 0 };
  // The primary's own counters stay zero except purges; the workers' are added when read.
  const metrics = new EdgeMetrics(registry, () => storage);
  const keep = compileQueryFilter(config.query);
  let draining = false;
  let pool: EdgePool | undefined;

  /** Asks every worker for its figures and folds them into `metrics` and `storage`. */
  const gather = async (): Promise<CoreStats[]> => {
    const all = (await pool?.stats()) ?? [];
    metrics.setRemote(all.map((s) => s.metrics));
    storage = {
      objects: all.reduce((max, s) => Math.max(max, s.core.objects), 0),
      bytes: all.reduce((n, s) => n + s.core.bytes, 0),
      evictions: all.reduce((n, s) => n + s.core.evictions, 0),
    };
    return all.map((s) => s.core);
  };
  const statsNow = (): EdgeStats => ({
    objects: storage.objects,
    bytes: storage.bytes,
    hitRatio: roundRatio(metrics.hitRatio()),
  });
  const healthz = async () => {
    const cores = await gather();
    return healthAnswer({
      pop: config.pop,
      draining,
      originDownAfter: config.originDownAfter,
      stats: statsNow(),
      cores,
    });
  };
  const purge = async (op: PurgeOp): Promise<PurgeResult> => {
    const result = await pool!.purge(op);
    metrics.purged(purgeLabel(op), result.purged);
    return result;
  };
  const setDraining = (on: boolean): void => {
    if (on !== draining)
      log.info({ pop: config.pop, draining: on }, on ? 'draining: /healthz answers 503' : 'undrained');
    draining = on;
  };
  const status = async () => {
    const cores = await gather();
    return {
      pop: config.pop,
      configFile: config.file,
      upstream: worstUpstream(cores).upstream ?? null,
      shield: config.shield ?? null,
      draining,
      ...statsNow(),
      maxBytes: config.maxBytes,
      maxObjectBytes: config.maxObjectBytes,
      inflight: pool?.inflight ?? 0,
      workers,
    };
  };

  let control: ControlServer | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await control?.close();
      await pool?.close();
    })());

  try {
    const { connect, headers, body } = config.timeouts;
    pool = await EdgePool.start({
      configFile: config.file,
      pop: config.pop,
      listen: config.listen,
      count: workers,
      // Every worker holds a copy of what it serves, so the budget is split: the total stays
      // edge.maxBytes.
      maxBytes: Math.floor(config.maxBytes / workers),
      leaseMs: connect + headers + body + LEASE_SLACK_MS,
      log,
      onPurge: purge,
      onHealthz: healthz,
    });
    const controlAt = config.control.listen;
    if (controlAt) {
      const routes = controlRoutes({ purge: (p) => purge(resolvePurge(p, keep)), healthz, status, setDraining });
      control = await startControlServer({
        ...controlAt,
        token,
        routes,
        registry,
        beforeScrape: async () => void (await gather()),
        allowedHosts: config.control.allowedHosts,
        allowedHostsSetting: 'edge.control.allowedHosts',
        settings: { listen: 'edge.control.listen', tokenFile: 'edge.control.tokenFile' },
        log,
      });
    }
  } catch (e) {
    await close();
    throw e;
  }
  const url = `http://${formatHostPort(pool.listen)}`;
  if (config.maxObjectBytes > config.maxBytes / workers) {
    log.warn(
      { maxObjectBytes: config.maxObjectBytes, perWorker: Math.floor(config.maxBytes / workers) },
      "edge.maxObjectBytes exceeds each worker's share of edge.maxBytes: larger objects are streamed, not stored",
    );
  }
  log.info(
    {
      pop: config.pop,
      url,
      upstream: config.upstream.href,
      shield: config.shield,
      workers,
      ...(control && { control: control.url }),
    },
    'meridian edge serving',
  );
  return {
    config,
    url,
    control,
    workers,
    stats: async () => (await gather(), statsNow()),
    healthz,
    setDraining,
    close,
  };
}
