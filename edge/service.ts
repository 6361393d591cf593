// The edge cache of one PoP as a whole: load the config, then serve from this process
// (edge.workers = 1: startSingle below) or from forked workers that this process coordinates as
// their primary (workers/primary.ts). dns/service.ts makes the same choice the same way. In one
// process: build the state (EdgeCore: storage, upstream pool, metrics), start the proxy
// listener and, when asked, the control listener.
import { dirname, resolve as resolvePath } from 'node:path';
import { startControlServer, type ControlServer } from '../common/control-server.js';
import { coresLessOne } from '../common/cores.js';
import { resolveControlToken } from '../common/control-token.js';
import { createLogger, type Logger } from '../common/log.js';
import { createRegistry } from '../common/metrics.js';
import { startEdgePrimary } from './workers/primary.js';
import { loadEdgeConfig, type EdgeConfig } from './config.js';
import { controlRoutes } from './control-routes.js';
import { EdgeCore } from './core.js';
import type { EdgeServiceOptions, EdgeService } from './service-contract.js';
import { healthAnswer, roundRatio, type EdgeStats } from './status-view.js';
import { startEdgeServer, type EdgeServer } from './server.js';
import { warmUp } from './warm-up.js';

export type { EdgeStats } from './status-view.js';
export type { EdgeServiceOptions, EdgeService } from './service-contract.js';

export async function startEdgeService(opts: EdgeServiceOptions): Promise<EdgeService> {
  const config = await loadEdgeConfig(opts.configFile, opts.pop, {
    ...(opts.listen && { listen: opts.listen }),
    ...(opts.controlListen && { control: opts.controlListen }),
  });
  const log = opts.log ?? createLogger({ service: 'edge', level: config.logLevel });
  const token = resolveControlToken({
    token: config.control.token,
    ...(config.control.tokenFile !== undefined && {
      tokenFile: resolvePath(dirname(config.file), config.control.tokenFile),
    }),
  });
  const setting = opts.workers ?? config.workers;
  const workers = setting === 'auto' ? autoEdgeWorkers() : setting;
  if (workers > 1) {
    if (opts.now) throw new Error('a test clock (now) works with one serving process only');
    return startEdgePrimary({ config, log, token, workers });
  }
  return startSingle(config, log, token, opts.now ?? Date.now);
}

async function startSingle(
  config: EdgeConfig,
  log: Logger,
  token: string | undefined,
  now: () => number,
): Promise<EdgeService> {
  await warmUp(config, log);
  const registry = createRegistry('edge');
  const core = new EdgeCore({ config, log, now, registry });
  const { cache, metrics, upstream, purger, state } = core;

  let draining = false;
  const stats = (): EdgeStats => ({
    objects: cache.objects,
    bytes: cache.bytes,
    hitRatio: roundRatio(metrics.hitRatio()),
  });
  const healthz = () =>
    healthAnswer({
      pop: config.pop,
      draining,
      originDownAfter: config.originDownAfter,
      stats: stats(),
      cores: [core.stats()],
    });
  const setDraining = (on: boolean): void => {
    if (on !== draining)
      log.info({ pop: config.pop, draining: on }, on ? 'draining: /healthz answers 503' : 'undrained');
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
    workers: 1,
  });

  let server: EdgeServer | undefined;
  let control: ControlServer | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await control?.close();
      await server?.close();
      await core.close();
    })());

  try {
    server = await startEdgeServer(
      state,
      { healthz, purge: ({ key, soft }) => purger.apply({ kind: 'url', key, soft }), token },
      config.listen,
    );
    const controlAt = config.control.listen;
    if (controlAt) {
      const routes = controlRoutes({ purge: (p) => purger.run(p), healthz, status, setDraining });
      control = await startControlServer({
        ...controlAt,
        token,
        routes,
        registry,
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
  log.info(
    {
      pop: config.pop,
      url: server.url,
      accept: server.accept,
      upstream: config.upstream.href,
      shield: config.shield,
      workers: 1,
      ...(control && { control: control.url }),
    },
    'meridian edge serving',
  );
  return {
    config,
    url: server.url,
    control,
    workers: 1,
    stats: async () => stats(),
    healthz: async () => healthz(),
    setDraining,
    close,
  };
}

/**
 * `edge.workers: auto`. With hits answered by the raw front (front/), one process matched
 * Varnish's hit throughput on this 2-core machine under wrk with a lower p99; two workers gave
 * ~1.2x the throughput and a ~1.3-1.5x worse p99, and halve the distinct bytes cached (each
 * worker holds a copy of every object). Figures: bench/RESULTS.md.
 */
export function autoEdgeWorkers(): number {
  return coresLessOne();
}
