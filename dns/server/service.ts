// The DNS service as a whole: load the config, build the serving state, open the UDP/TCP
// listeners and the HTTP control port, and reload on request. A reload builds the new state
// completely before swapping one reference, so a bad file changes nothing and queries in
// flight (each handled synchronously) never see half a config.
import { formatHostPort, type HostPort } from '../../common/host-port.js';
import { createLogger, type Logger } from '../../common/log.js';
import { createRegistry } from '../../common/metrics.js';
import { resolveControlToken } from '../../common/control-token.js';
import { startControlServer, type ControlServer } from '../../common/control-server.js';
import { loadDnsConfig, type DnsConfig } from '../config.js';
import { QueryHandler } from './handle-query.js';
import { DnsMetrics } from './metrics.js';
import { QueryLog } from './query-log.js';
import { buildServingState, type BuiltState } from './state.js';
import { listenTcp, type TcpListener } from './tcp.js';
import { listenUdp, type Listener } from './udp.js';
import { controlRoutes } from './control-routes.js';
import { GeoDatabases } from '../../geo-data/databases.js';
import { explain } from '../answer/explain.js';
import { listenRedirect, type RedirectListener } from './redirect.js';
import { HealthView } from '../health/view.js';
import { ResolverTable } from '../health/resolvers.js';
import { FileOverrideStore, stateFileFor } from '../health/overrides.js';
import { wireToText } from '../wire/name.js';

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

export interface ReloadResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly zones?: number;
  readonly records?: number;
  readonly ms?: number;
}

export interface DnsService {
  readonly udp: readonly Listener[];
  readonly tcp: readonly TcpListener[];
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
  const popIds = (c: DnsConfig) => c.topology.pops.map((p) => p.id);
  // Overrides survive restarts; a state file we cannot understand stops start-up with its name.
  const overrides = new FileOverrideStore(stateFileFor(opts.configFile));
  const health = new HealthView(
    config.health,
    popIds(config),
    overrides,
    log,
    // Decisions rest on health: any eligibility change drops them all.
    () => handler?.state.steering.clearCache(),
    Date.now,
    (pop, to) => metrics.popTransition(pop, to),
  );
  const healthOf = (pop: string) => health.healthOf(pop);
  const measuredRtt = (pop: string, net: string) => health.measuredRttMs(pop, net);
  const resolvers = new ResolverTable();
  let geo = await openGeo(config.geo.databases);
  let state: BuiltState = buildServingState(config, geo.readers, healthOf, measuredRtt, resolvers);
  let current: DnsConfig = config;
  const handler: QueryHandler = new QueryHandler(state, metrics);
  health.start();
  const queryLog = new QueryLog(log, settings.log.querySampleRate);
  const loadedAt = { time: new Date(), result: { ok: true } as ReloadResult };

  const listenAt = opts.listen ?? settings.listen;
  const udp: Listener[] = [];
  const tcp: TcpListener[] = [];
  let control: ControlServer | undefined;
  let redirect: RedirectListener | undefined;
  const closeAll = async () => {
    health.stop();
    geo.close();
    await Promise.all([...udp, ...tcp].map((l) => l.close()));
    await control?.close();
    await redirect?.close();
  };

  function openGeo(files: readonly string[]): Promise<GeoDatabases> {
    return GeoDatabases.open(files, (file, err) => log.error({ file, error: err.message }, 'GeoIP database update refused; keeping the previous data'));
  }
  function watchGeo(dbs: GeoDatabases): void {
    dbs.watch((file) => {
      // Decisions were made with the old data: drop them all.
      handler.state.steering.clearCache();
      log.info({ file }, 'GeoIP database reloaded');
    });
  }
  watchGeo(geo);
  try {
    for (const at of listenAt) {
      udp.push(await listenUdp(at, handler, metrics, log, queryLog));
      // Port 0 means "any": TCP takes the port UDP got, so both serve one address.
      tcp.push(await listenTcp({ host: at.host, port: udp[udp.length - 1]!.address.port }, handler, metrics, log, queryLog, settings.tcp));
    }
  } catch (e) {
    await closeAll();
    throw e;
  }

  // Reloads run one at a time, in order.
  let reloading: Promise<ReloadResult> = Promise.resolve({ ok: true });
  const reload = (): Promise<ReloadResult> => {
    reloading = reloading.then(async () => {
      const started = performance.now();
      try {
        const next = await loadDnsConfig(opts.configFile);
        const sameGeo = next.geo.databases.join('\n') === current.geo.databases.join('\n');
        const nextGeo = sameGeo ? geo : await openGeo(next.geo.databases);
        let built: BuiltState;
        try {
          built = buildServingState(next, nextGeo.readers, healthOf, measuredRtt, resolvers);
        } catch (e) {
          if (nextGeo !== geo) nextGeo.close();
          throw e;
        }
        handler.state = built;
        state = built;
        health.update(next.health, popIds(next));
        if (nextGeo !== geo) {
          geo.close();
          geo = nextGeo;
          watchGeo(geo);
        }
        if (next.settings.listen.map(formatHostPort).join() !== current.settings.listen.map(formatHostPort).join() && !opts.listen) {
          log.warn('dns.listen changed: restart to apply new listeners');
        }
        current = next;
        for (const t of tcp) t.setLimits(next.settings.tcp);
        queryLog.sampleRate = next.settings.log.querySampleRate;
        log.level = next.settings.log.level;
        const result = { ok: true, zones: built.zoneCount, records: built.recordCount, ms: Math.round(performance.now() - started) };
        log.info(result, 'config reloaded');
        loadedAt.time = new Date();
        loadedAt.result = result;
        return result;
      } catch (e) {
        const error = (e as Error).message;
        log.error({ error }, 'config reload refused; still serving the previous config');
        loadedAt.result = { ok: false, error };
        return { ok: false, error };
      }
    });
    return reloading;
  };

  const status = () => ({
    serverId: current.settings.serverId,
    configFile: opts.configFile,
    listeners: udp.map((l) => formatHostPort(l.address)),
    zones: [...state.zones.values()].map((z) => ({ name: wireToText(z.apex.wire), nodes: z.nodes.size })),
    lastReload: { at: loadedAt.time.toISOString(), ...loadedAt.result },
  });

  try {
    control = await startControlServer({
      ...(opts.http ?? settings.http),
      token: resolveControlToken({ token: settings.control.token, tokenFile: settings.control.tokenFile }),
      routes: controlRoutes({
        reload,
        status,
        explain: (name, client, type) => explain(state.zones, state.steering, name, client, type),
        health,
        resolvers,
        knownPop: (pop) => current.topology.pops.some((p) => p.id === pop),
      }),
      registry,
      log,
    });
    if (settings.redirect) {
      // The pool and TTL follow reloads; the listen address is fixed at start-up.
      redirect = await listenRedirect(settings.redirect.listen, () => ({ steering: state.steering, target: current.settings.redirect ?? settings.redirect! }), log);
    }
  } catch (e) {
    await closeAll();
    throw e;
  }

  log.info(
    {
      serverId: settings.serverId,
      dns: udp.map((l) => `${formatHostPort(l.address)} (udp+tcp)`),
      control: control.url,
      ...(redirect ? { redirect: `http://${formatHostPort(redirect.address)}/r/` } : {}),
      zones: state.zoneCount,
      records: state.recordCount,
    },
    'meridian dns serving',
  );

  return {
    udp,
    tcp,
    control,
    serverId: settings.serverId,
    configFile: opts.configFile,
    status,
    reload,
    close: closeAll,
  };
}


