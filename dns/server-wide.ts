// What a DNS server has once, however many processes answer its queries: PoP health (reports,
// quorum, overrides, verdicts), a serving core of its own (for /v1/explain and redirects, and
// for answering when it serves alone), the control port, the redirect listener, reloads and
// status. Who answers is service.ts's choice, passed in as `startAnswering`: this process on its
// core's listeners (service.ts's startSingle) or forked workers (workers/primary.ts).
import { formatHostPort, type HostPort } from '../common/host-port.js';
import type { Logger } from '../common/log.js';
import { createRegistry } from '../common/metrics.js';
import { resolveControlToken } from '../common/control-token.js';
import { startControlServer, type ControlServer } from '../common/control-server.js';
import { checkedMembers } from '../common/topology.js';
import type { DnsConfig } from './config.js';
import { DnsMetrics, type DnsMetricsSnapshot, type ProtectionCounters } from './server/metrics.js';
import { DnsCore, type ReloadResult } from './server/core.js';
import type { Serving } from './server/load-serving.js';
import { controlRoutes } from './server/control-routes.js';
import { explain } from './answer/explain.js';
import { listenRedirect, type RedirectListener } from './server/redirect.js';
import { HealthView } from './pop-health/view.js';
import { AnycastView } from './pop-health/anycast-view.js';
import { CatchmentView, type CatchmentSubjects } from './pop-health/catchment-view.js';
import { withCatchment } from './answer/explain-catchment.js';
import { ResolverTable } from './pop-health/resolvers.js';
import { FileOverrideStore, stateFileFor } from './pop-health/overrides.js';
import { FileVerdictStore, verdictsFileFor } from './pop-health/verdicts.js';
import { wireToText } from './wire/name.js';
import { describeUdpIo } from './server/udp-batch.js';
import type { DnsService, DnsServiceOptions } from './service-contract.js';

/** What service.ts settled before choosing who answers. */
export interface DnsSetup {
  readonly opts: DnsServiceOptions;
  readonly config: DnsConfig;
  /** The config with its zones, loaded: the core serves them without loading them again. */
  readonly loaded: Serving;
  readonly log: Logger;
  /** Where queries are answered (--listen, else dns.listen). */
  readonly listen: readonly HostPort[];
  /** Processes answering queries (1 = this one). */
  readonly workers: number;
}

/** This process's parts, built before anyone answers. */
export interface ServerParts {
  readonly core: DnsCore;
  readonly health: HealthView;
  readonly anycast: AnycastView;
}

/**
 * Whoever answers the queries. The optional parts are what serving workers add; without them
 * this process answers, and its own reload, resolver counts and counters are the whole story.
 */
export interface Answering {
  /** Where queries are answered (ports resolved when 0 was asked for). */
  readonly listeners: readonly HostPort[];
  /** Reloads the workers after this process reloaded; the ones that refused, and why. */
  reload?(): Promise<{ worker: number; error: string }[]>;
  /** The workers' resolver address counts. */
  resolverCounts?(): Promise<[string, number][][]>;
  /** The workers' counters, added to this process's before /metrics is read. */
  metrics?(): Promise<DnsMetricsSnapshot[]>;
  close?(): Promise<void>;
}

export async function startServerWide(
  setup: DnsSetup,
  startAnswering: (parts: ServerParts) => Promise<Answering>,
): Promise<DnsService> {
  const { opts, config, log, workers: workerCount } = setup;
  const settings = config.settings;
  const registry = createRegistry('dns');
  const metrics = new DnsMetrics(registry);
  // Health subjects: the PoPs, and the CNAME members with a health check (another CDN).
  const popIds = (c: DnsConfig) => ({
    pops: c.topology.pops.map((p) => p.id),
    members: checkedMembers(c.topology).map((m) => m.id),
  });
  const udpIo = describeUdpIo(settings.udpBatching);
  // Overrides survive restarts; a state file we cannot understand stops start-up with its name.
  const overrides = new FileOverrideStore(stateFileFor(opts.configFile));
  // Verdicts survive restarts too; a verdict file we cannot use is logged and started without.
  const verdicts = new FileVerdictStore(verdictsFileFor(opts.configFile));
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
  // Who announces the anycast addresses (announcers' reports); a change drops decisions too.
  const anycast = new AnycastView(
    config.health.staleAfterIntervals,
    config.topology.pops.map((p) => p.id),
    log,
    () => core?.clearDecisions(),
  );
  // Where each vantage lands on each anycast address (probers' reports): for status and explain.
  const catchmentSubjects = (c: DnsConfig): CatchmentSubjects => {
    const pops = c.topology.pops.map((p) => p.id);
    return { vantages: [...pops, ...c.health.catchment.vantages], addresses: c.anycastAddresses, pops };
  };
  const catchment = new CatchmentView(config.health.staleAfterIntervals, catchmentSubjects(config));
  const source = {
    healthOf: (pop: string) => health.healthOf(pop),
    measuredRttMs: (pop: string, net: string) => health.measuredRttMs(pop, net),
    anycastOf: (address: string) => anycast.availabilityOf(address),
  };
  const resolvers = new ResolverTable();
  const core: DnsCore = await DnsCore.open({
    configFile: opts.configFile,
    pop: opts.pop,
    log,
    metrics,
    health: source,
    resolvers,
    loaded: setup.loaded,
  });
  health.start();
  anycast.start();
  const loadedAt = { time: new Date(), result: { ok: true } as ReloadResult };

  let answering: Answering | undefined;
  let control: ControlServer | undefined;
  let redirect: RedirectListener | undefined;
  const closeAll = async () => {
    health.stop();
    anycast.stop();
    await answering?.close?.();
    await core.close();
    await control?.close();
    await redirect?.close();
  };

  let listeners: readonly HostPort[];
  try {
    answering = await startAnswering({ core, health, anycast });
    listeners = answering.listeners;
  } catch (e) {
    await closeAll();
    throw e;
  }
  // The same, as a const the closures below can rely on.
  const answerers = answering;

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
      anycast.update(
        next.health.staleAfterIntervals,
        next.topology.pops.map((p) => p.id),
      );
      catchment.update(next.health.staleAfterIntervals, catchmentSubjects(next));
      if (
        !opts.listen &&
        next.settings.listen.map(formatHostPort).join() !== before.settings.listen.map(formatHostPort).join()
      ) {
        log.warn('dns.listen changed: restart to apply new listeners');
      }
      if (next.settings.workers !== before.settings.workers && opts.workers === undefined)
        log.warn('dns.workers changed: restart to apply');
      if (next.settings.udpBatching !== before.settings.udpBatching)
        log.warn('dns.udpBatching changed: restart to apply');
      const refused = (await answerers.reload?.()) ?? [];
      // The file was good a moment ago; a worker can only disagree if it changed in between.
      const final: ReloadResult =
        refused.length === 0
          ? result
          : { ok: false, error: `workers ${refused.map((r) => `${r.worker}: ${r.error}`).join('; ')}` };
      if (final.ok) log.info(final, 'config reloaded');
      else
        log.error(
          { error: final.error },
          'config reloaded here but refused by serving workers; they keep the previous config',
        );
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
      pop: current.settings.pop ?? null,
      nsid: core.state.nsid?.toString('utf8') ?? null,
      configFile: opts.configFile,
      listeners: listeners.map(formatHostPort),
      workers: workerCount,
      udp: udpIo,
      zones: [...core.state.zones.values()].map((z) => ({ name: wireToText(z.apex.wire), nodes: z.nodes.size })),
      pops: current.topology.pops.map((p) => ({ id: p.id, name: p.name, edge: p.edge, enabled: p.enabled })),
      members: checkedMembers(current.topology).map((m) => ({ id: m.id, cname: m.cname })),
      lastReload: { at: loadedAt.time.toISOString(), ...loadedAt.result },
      catchment: catchment.landings(),
      // RRL and the TCP caps, summed over the serving workers as last read.
      protection: protectionStatus(current, metrics.protection()),
    };
  };

  // Resolver volumes: counted where queries are answered, merged when a prober asks.
  const resolverTop = async (limit: number) => {
    if (!answerers.resolverCounts) return resolvers.top(limit);
    const merged = new ResolverTable().addAll(resolvers.entries());
    for (const counts of await answerers.resolverCounts()) merged.addAll(counts);
    return merged.top(limit);
  };

  try {
    control = await startControlServer({
      ...(opts.controlListen ?? settings.control.listen),
      token: resolveControlToken({ token: settings.control.token, tokenFile: settings.control.tokenFile }),
      routes: controlRoutes({
        reload,
        // The workers' counters read first, so status shows them as of now.
        status: async () => {
          if (answerers.metrics) metrics.setRemote(await answerers.metrics());
          return status();
        },
        explain: (name, client, type) =>
          withCatchment(explain(core.state.zones, core.state.steering, name, client, type), (address) =>
            catchment.landingsOf(address),
          ),
        health,
        catchment,
        anycast,
        resolvers: resolverTop,
        knownPop: (pop) => core.config.topology.pops.some((p) => p.id === pop),
      }),
      registry,
      // Read at start-up, like the address itself.
      allowedHosts: settings.control.allowedHosts,
      allowedHostsSetting: 'dns.control.allowedHosts',
      settings: { listen: 'dns.control.listen', tokenFile: 'dns.control.tokenFile' },
      ...(answerers.metrics ? { beforeScrape: async () => metrics.setRemote(await answerers.metrics!()) } : {}),
      log,
    });
    if (settings.redirect) {
      // The pool and TTL follow reloads; the listen address is fixed at start-up.
      redirect = await listenRedirect(
        settings.redirect.listen,
        () => ({ steering: core.state.steering, target: core.config.settings.redirect ?? settings.redirect! }),
        log,
      );
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

function protectionStatus(config: DnsConfig, counters: ProtectionCounters) {
  const { enabled, logOnly } = config.settings.rrl;
  return { rrl: { enabled, logOnly, ...counters.rrl }, tcp: counters.tcp };
}
