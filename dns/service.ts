// The DNS service as a whole: the serving core (config → state → query handler), PoP health
// (reports, quorum, overrides), the HTTP control port and the redirect listener. With
// `dns.workers` = 1 this process also answers queries; with more, forked workers do (see
// workers/pool.ts) and this process keeps the one-per-server parts, telling workers of health
// changes and reloads and gathering their counters.
import { availableParallelism } from 'node:os';
import { coresLessOne } from '../common/cores.js';
import { formatHostPort, type HostPort } from '../common/host-port.js';
import { createLogger, type Logger } from '../common/log.js';
import { createRegistry } from '../common/metrics.js';
import { resolveControlToken } from '../common/control-token.js';
import { startControlServer, type ControlServer } from '../common/control-server.js';
import { checkedMembers } from '../common/topology.js';
import { loadDnsConfig, type DnsConfig } from './config.js';
import { DnsMetrics } from './server/metrics.js';
import { DnsCore, type ReloadResult } from './server/core.js';
import { controlRoutes } from './server/control-routes.js';
import { explain } from './answer/explain.js';
import { listenRedirect, type RedirectListener } from './server/redirect.js';
import { HealthView } from './pop-health/view.js';
import { ResolverTable } from './pop-health/resolvers.js';
import { FileOverrideStore, stateFileFor } from './pop-health/overrides.js';
import { FileVerdictStore, verdictsFileFor } from './pop-health/verdicts.js';
import { wireToText } from './wire/name.js';
import { DnsPool } from './workers/pool.js';
import { describeUdpIo, loadUdpBatch } from './server/udp-batch.js';

export type { ReloadResult } from './server/core.js';

export interface DnsServiceOptions {
  configFile: string;
  /** Overrides `dns.listen` from the config (the CLI's --listen). */
  listen?: HostPort[];
  /** Overrides `dns.http` (the CLI's --http). */
  http?: HostPort;
  /** Overrides `dns.workers` (the CLI's --workers). */
  workers?: number | 'auto';
  /** For tests: where logs go (default stdout). */
  log?: Logger;
}

export interface DnsService {
  /** Where DNS is served, UDP and TCP on each. */
  readonly listeners: readonly HostPort[];
  /** Processes answering queries (1 = this one). */
  readonly workers: number;
  readonly control: ControlServer;
  readonly serverId: string;
  readonly configFile: string;
  status(): Record<string, unknown>;
  reload(): Promise<ReloadResult>;
  close(): Promise<void>;
}

export async function startDnsService(opts: DnsServiceOptions): Promise<DnsService> {
  const config = await loadDnsConfig(opts.configFile);
  const settings = config.settings;
  const log = opts.log ?? createLogger({ service: 'dns', level: settings.log.level });
  const registry = createRegistry('dns');
  const metrics = new DnsMetrics(registry);
  // Health subjects: the PoPs, and the CNAME members with a health check (another CDN).
  const popIds = (c: DnsConfig) => ({ pops: c.topology.pops.map((p) => p.id), members: checkedMembers(c.topology).map((m) => m.id) });
  const workerSetting = opts.workers ?? settings.workers;
  const batching = settings.udpBatching === 'auto' && loadUdpBatch() !== null;
  const workerCount = workerSetting === 'auto' ? autoDnsWorkers(batching) : workerSetting;
  const udpIo = describeUdpIo(settings.udpBatching);
  // Overrides survive restarts; a state file we cannot understand stops start-up with its name.
  const overrides = new FileOverrideStore(stateFileFor(opts.configFile));
  // Verdicts survive restarts too; a verdict file we cannot use is logged and started without.
  const verdicts = new FileVerdictStore(verdictsFileFor(opts.configFile));
  let pool: DnsPool | undefined;
  const health = new HealthView(
    config.health,
    popIds(config),
    overrides,
    log,
    // Decisions rest on health: any eligibility change drops them all.
    () => core?.clearDecisions(),
    Date.now,
    (pop, to) => metrics.popTransition(pop, to),
    verdicts,
  );
  health.onUpdate = () => pool?.pushHealth(health.snapshot());
  const resolvers = new ResolverTable();
  const core: DnsCore = await DnsCore.open({ configFile: opts.configFile, log, metrics, health, resolvers }, config);
  health.start();
  const loadedAt = { time: new Date(), result: { ok: true } as ReloadResult };

  const listenAt = opts.listen ?? settings.listen;
  let control: ControlServer | undefined;
  let redirect: RedirectListener | undefined;
  const closeAll = async () => {
    health.stop();
    await pool?.close();
    await core.close();
    await control?.close();
    await redirect?.close();
  };

  let listeners: readonly HostPort[];
  try {
    if (workerCount > 1) {
      pool = await DnsPool.start({ configFile: opts.configFile, listen: listenAt, count: workerCount, log, health: () => health.snapshot() });
      listeners = pool.listeners;
    } else {
      await core.listen(listenAt);
      listeners = core.udp.map((l) => l.address);
    }
  } catch (e) {
    await closeAll();
    throw e;
  }

  // One reload at a time: this process first (it validates the file), then the workers.
  let reloading: Promise<ReloadResult> = Promise.resolve({ ok: true });
  const reload = (): Promise<ReloadResult> => {
    reloading = reloading.then(async () => {
      const before = core.config;
      const result = await core.reload();
      if (!result.ok) {
        log.error({ error: result.error }, 'config reload refused; still serving the previous config');
        loadedAt.result = result;
        return result;
      }
      const next = core.config;
      health.update(next.health, popIds(next));
      if (!opts.listen && next.settings.listen.map(formatHostPort).join() !== before.settings.listen.map(formatHostPort).join()) {
        log.warn('dns.listen changed: restart to apply new listeners');
      }
      if (next.settings.workers !== before.settings.workers && opts.workers === undefined) log.warn('dns.workers changed: restart to apply');
      if (next.settings.udpBatching !== before.settings.udpBatching) log.warn('dns.udpBatching changed: restart to apply');
      const refused = (await pool?.reload()) ?? [];
      // The file was good a moment ago; a worker can only disagree if it changed in between.
      const final: ReloadResult = refused.length === 0 ? result : { ok: false, error: `workers ${refused.map((r) => `${r.worker}: ${r.error}`).join('; ')}` };
      if (final.ok) log.info(final, 'config reloaded');
      else log.error({ error: final.error }, 'config reloaded here but refused by serving workers; they keep the previous config');
      loadedAt.time = new Date();
      loadedAt.result = final;
      return final;
    });
    return reloading;
  };

  const status = () => {
    const current = core.config;
    return {
      serverId: current.settings.serverId,
      configFile: opts.configFile,
      listeners: listeners.map(formatHostPort),
      workers: workerCount,
      udp: udpIo,
      zones: [...core.state.zones.values()].map((z) => ({ name: wireToText(z.apex.wire), nodes: z.nodes.size })),
      pops: current.topology.pops.map((p) => ({ id: p.id, name: p.name, edge: p.edge, enabled: p.enabled })),
      members: checkedMembers(current.topology).map((m) => ({ id: m.id, cname: m.cname })),
      lastReload: { at: loadedAt.time.toISOString(), ...loadedAt.result },
    };
  };

  // Resolver volumes: counted where queries are answered, merged when a prober asks.
  const resolverTop = async (limit: number) => {
    if (!pool) return resolvers.top(limit);
    const merged = new ResolverTable().addAll(resolvers.entries());
    for (const counts of await pool.resolverCounts()) merged.addAll(counts);
    return merged.top(limit);
  };

  try {
    control = await startControlServer({
      ...(opts.http ?? settings.http),
      token: resolveControlToken({ token: settings.control.token, tokenFile: settings.control.tokenFile }),
      routes: controlRoutes({
        reload,
        status,
        explain: (name, client, type) => explain(core.state.zones, core.state.steering, name, client, type),
        health,
        resolvers: resolverTop,
        knownPop: (pop) => core.config.topology.pops.some((p) => p.id === pop),
      }),
      registry,
      // Read at start-up, like the address itself.
      allowedHosts: settings.control.allowedHosts,
      allowedHostsSetting: 'dns.control.allowedHosts',
      ...(pool ? { beforeScrape: async () => metrics.setRemote(await pool!.metrics()) } : {}),
      log,
    });
    if (settings.redirect) {
      // The pool and TTL follow reloads; the listen address is fixed at start-up.
      redirect = await listenRedirect(settings.redirect.listen, () => ({ steering: core.state.steering, target: core.config.settings.redirect ?? settings.redirect! }), log);
    }
  } catch (e) {
    await closeAll();
    throw e;
  }

  log.info(
    {
      serverId: settings.serverId,
      dns: listeners.map((l) => `${formatHostPort(l)} (udp+tcp)`),
      workers: workerCount,
      udp: udpIo,
      control: control.url,
      ...(redirect ? { redirect: `http://${formatHostPort(redirect.address)}/r/` } : {}),
      zones: core.state.zoneCount,
      records: core.state.recordCount,
    },
    'meridian dns serving',
  );

  return {
    listeners,
    workers: workerCount,
    control,
    serverId: settings.serverId,
    configFile: opts.configFile,
    status,
    reload,
    close: closeAll,
  };
}

/**
 * `dns.workers: auto`. With batched UDP one process answers ~145k static QPS on this 2-core
 * machine, and every extra process raises the CPU per query (each wakes for fewer datagrams)
 * while taking a core from the kernel's own network work, so one core is left to it. Through
 * node:dgram (no batching) it takes every core to pass 75k. Figures: bench/README.md.
 */
export function autoDnsWorkers(batching: boolean): number {
  return batching ? coresLessOne() : availableParallelism();
}
