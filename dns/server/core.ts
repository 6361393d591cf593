// One process's serving state (the DNS twin of edge/core.ts): the config, the GeoIP databases,
// the state built from them, the query handler and (when asked) the UDP/TCP listeners. One
// process serving alone has one; with `dns.workers` > 1 every worker process has one with
// listeners, and the primary has one without listeners for /v1/explain and redirects. A reload
// builds the new state completely before swapping one reference, so a bad file changes nothing
// and queries in flight (each handled synchronously) never see half a config.
import { randomBytes } from 'node:crypto';
import type { HostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import { GeoDatabases } from '../../geo-data/databases.js';
import type { DnsConfig } from '../config.js';
import { loadServing, type Serving } from './load-serving.js';
import type { PopHealth } from '../policy/types.js';
import type { ResolverTable } from '../pop-health/resolvers.js';
import type { AnycastAvailability } from '../pop-health/anycast-view.js';
import { QueryHandler } from './handle-query.js';
import type { DnsMetrics } from './metrics.js';
import { QueryLog } from './query-log.js';
import { ResponseLimiter } from '../rrl/limiter.js';
import { LimitLog } from '../rrl/limit-log.js';
import {
  buildServingState,
  newServingCaches,
  type BuiltState,
  type CompiledZones,
  type ServingCaches,
} from './state.js';
import { listenTcp, type TcpLimits, type TcpListener } from './tcp.js';
import { listenUdp, type UdpListener } from './udp.js';

/** Tries at finding a port free for both UDP and TCP when any port (0) is asked for. */
export const PORT_ATTEMPTS = 10;

export interface ReloadResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly zones?: number;
  readonly records?: number;
  readonly ms?: number;
}

/** Where routed answers get PoP health and measured RTTs from. */
export interface HealthSource {
  healthOf(pop: string): PopHealth | undefined;
  measuredRttMs(pop: string, resolverNetwork: string): number | undefined;
  /** Who announces an anycast address (pools with `policy: anycast`); none without announcers. */
  anycastOf?(address: string): AnycastAvailability;
}

export interface DnsCoreOptions {
  configFile: string;
  log: Logger;
  metrics: DnsMetrics;
  health: HealthSource;
  resolvers: ResolverTable | null;
  /** `meridian dns --pop`: over `dns.pop`, at start and on every reload. */
  pop?: string | undefined;
  /**
   * Serving processes on the same addresses (default 1). Each enforces 1/N of
   * `dns.tcp.maxConnections`; with more than one, batched UDP binds with SO_REUSEPORT.
   */
  servingWorkers?: number;
  /**
   * What DNS cookie secrets derive from without `dns.cookies.secretFile`: the primary gives its
   * workers one, so a cookie made by one worker is good at the others; else made here.
   */
  cookieMaster?: Buffer;
  /** The config and zones as the caller loaded them already (loadServing): not loaded again. */
  loaded?: Serving;
  /** Made by open(), kept across reloads. */
  caches?: ServingCaches;
}

// A class, like the edge's EdgeCore and the codebase's other long-lived stateful parts (HealthView,
// Upstream, the pools); `open` is static because opening the GeoIP databases is asynchronous.
export class DnsCore {
  readonly handler: QueryHandler;
  readonly udp: UdpListener[] = [];
  readonly tcp: TcpListener[] = [];
  private readonly queryLog: QueryLog;
  /** Kept across reloads, so a reload does not reopen the log to a flood. */
  private readonly limitLog: LimitLog;
  private reloading: Promise<ReloadResult> = Promise.resolve({ ok: true });

  private constructor(
    private readonly opts: DnsCoreOptions,
    private current: DnsConfig,
    private geo: GeoDatabases,
    private built: BuiltState,
  ) {
    this.handler = new QueryHandler(built, opts.metrics);
    this.queryLog = new QueryLog(opts.log, current.settings.log.querySampleRate);
    this.limitLog = new LimitLog(opts.log);
    opts.metrics.rrlLimitedNetworks = () => this.handler.rrl?.limitedNetworks() ?? 0;
    this.watchGeo(geo);
  }

  /** Loads the config and its zones (load-serving.ts) and builds the first serving state. */
  static async open(options: DnsCoreOptions): Promise<DnsCore> {
    // One master for the life of this core: a reload keeps the cookies it gave out good.
    const opts = {
      ...options,
      cookieMaster: options.cookieMaster ?? randomBytes(32),
      caches: options.caches ?? newServingCaches(),
    };
    const { config, ...compiled } = opts.loaded ?? (await loadServing(opts.configFile, { pop: opts.pop }));
    const geo = await openGeo(config.geo.databases, opts.log);
    try {
      return new DnsCore(opts, config, geo, build(config, compiled, geo, opts));
    } catch (e) {
      geo.close();
      throw e;
    }
  }

  get config(): DnsConfig {
    return this.current;
  }

  get state(): BuiltState {
    return this.built;
  }

  /** Drops every cached routing decision (health or data changed under them). */
  clearDecisions(): void {
    this.built.steering.clearCache();
  }

  /** Opens UDP and TCP on each address; port 0 takes any port, the same one for both. */
  async listen(addresses: readonly HostPort[]): Promise<void> {
    const { metrics, log } = this.opts;
    // Only a core that answers queries needs the limiter's table.
    this.handler.rrl ??= this.limiterFor(this.current);
    for (const at of addresses) {
      // With port 0 the kernel picks a UDP port whose TCP twin may be taken by someone else:
      // then try another one rather than fail.
      for (let attempt = 1; ; attempt++) {
        const udp = await listenUdp(at, this.handler, metrics, log, this.queryLog, {
          batching: this.current.settings.udpBatching === 'auto',
          reusePort: (this.opts.servingWorkers ?? 1) > 1,
        });
        try {
          this.tcp.push(
            await listenTcp(
              { host: at.host, port: udp.address.port },
              this.handler,
              metrics,
              log,
              this.queryLog,
              this.tcpLimits(this.current),
            ),
          );
          this.udp.push(udp);
          break;
        } catch (e) {
          await udp.close();
          if (at.port !== 0 || attempt === PORT_ATTEMPTS) throw e;
        }
      }
    }
  }

  /** Re-reads the config file; on any error keeps serving what it had. Reloads run in order. */
  reload(): Promise<ReloadResult> {
    this.reloading = this.reloading.then(() => this.reloadNow());
    return this.reloading;
  }

  async close(): Promise<void> {
    this.geo.close();
    await Promise.all([...this.udp, ...this.tcp].map((l) => l.close()));
  }

  private async reloadNow(): Promise<ReloadResult> {
    const started = performance.now();
    const { log } = this.opts;
    try {
      const { config: next, ...compiled } = await loadServing(this.opts.configFile, { pop: this.opts.pop });
      const sameGeo = next.geo.databases.join('\n') === this.current.geo.databases.join('\n');
      const nextGeo = sameGeo ? this.geo : await openGeo(next.geo.databases, log);
      let built: BuiltState;
      try {
        built = build(next, compiled, nextGeo, this.opts);
      } catch (e) {
        if (nextGeo !== this.geo) nextGeo.close();
        throw e;
      }
      this.handler.state = built;
      this.built = built;
      if (nextGeo !== this.geo) {
        this.geo.close();
        this.geo = nextGeo;
        this.watchGeo(nextGeo);
      }
      if (this.udp.length > 0 && rrlKey(next) !== rrlKey(this.current)) this.handler.rrl = this.limiterFor(next);
      this.current = next;
      for (const t of this.tcp) t.setLimits(this.tcpLimits(next));
      this.queryLog.sampleRate = next.settings.log.querySampleRate;
      log.level = next.settings.log.level;
      return {
        ok: true,
        zones: built.zoneCount,
        records: built.recordCount,
        ms: Math.round(performance.now() - started),
      };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  /** `dns.rrl` as a limiter for this process (a new table: the buckets start afresh), or null when off. */
  private limiterFor(config: DnsConfig): ResponseLimiter | null {
    const settings = config.settings.rrl;
    if (!settings.enabled) return null;
    const { metrics, servingWorkers } = this.opts;
    return new ResponseLimiter(settings, { counters: metrics, log: this.limitLog, share: servingWorkers ?? 1 });
  }

  private tcpLimits(config: DnsConfig): TcpLimits {
    const { maxConnections, maxConnectionsPerNetwork, ...perConnection } = config.settings.tcp;
    // The caps are for the server as a whole; each serving worker holds its share.
    const share = (n: number) => Math.max(1, Math.ceil(n / (this.opts.servingWorkers ?? 1)));
    return {
      ...perConnection,
      maxConnections: share(maxConnections),
      maxConnectionsPerNetwork: share(maxConnectionsPerNetwork),
    };
  }

  private watchGeo(dbs: GeoDatabases): void {
    dbs.watch((file) => {
      // Decisions were made with the old data: drop them all.
      this.clearDecisions();
      this.opts.log.info({ file }, 'GeoIP database reloaded');
    });
  }
}

/** A reload with the same `dns.rrl` keeps the limiter and its buckets. */
function rrlKey(config: DnsConfig): string {
  const { exempt, ...rest } = config.settings.rrl;
  return JSON.stringify({ ...rest, exempt: exempt.map((e) => e.text) });
}

const NO_ANNOUNCER: AnycastAvailability = { announcedBy: [], reason: 'no announcer reports to this server' };

function openGeo(files: readonly string[], log: Logger): Promise<GeoDatabases> {
  return GeoDatabases.open(files, (file, err) =>
    log.error({ file, error: err.message }, 'GeoIP database update refused; keeping the previous data'),
  );
}

/** The serving state for `config` and its zones (compiled by loadServing, off the serving path). */
function build(config: DnsConfig, compiled: CompiledZones, geo: GeoDatabases, opts: DnsCoreOptions): BuiltState {
  const { health } = opts;
  return buildServingState(
    config,
    geo.readers,
    (pop) => health.healthOf(pop),
    (pop, net) => health.measuredRttMs(pop, net),
    opts.resolvers,
    (address) => health.anycastOf?.(address) ?? NO_ANNOUNCER,
    compiled,
    opts.cookieMaster ?? null,
    opts.caches,
  );
}
