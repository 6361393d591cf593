// Config → ServingState: everything the query path reads, built off the hot path and swapped in
// whole. Building throws on a bad config, so the caller keeps serving the previous state.
import { randomBytes } from 'node:crypto';
import { buildChaosTable } from '../answer/chaos.js';
import { nsidText } from '../../common/catchment.js';
import { buildRouteIndex, newTemplateCache, StaticAnswers, type TemplatesByType } from '../answer/templates.js';
import type { GenerationalCache } from '../answer/generational-cache.js';
import type { DnsConfig } from '../config.js';
import { compileZones } from '../zone/compile.js';
import { newDecisionCache, Steering, type Decision } from '../answer/steering.js';
import type { PopHealth } from '../policy/types.js';
import type { ResolverTable } from '../pop-health/resolvers.js';
import type { AnycastAvailability } from '../pop-health/anycast-view.js';
import type { Route, Zone } from '../zone/zone.js';
import { GeoLocator, type NamedReader } from '../../geo-data/locator.js';
import type { ServingState } from './handle-query.js';
import { ServerCookies } from '../answer/cookies.js';

export interface BuiltState extends ServingState {
  readonly zoneCount: number;
  readonly recordCount: number;
}

export interface CompiledZones {
  readonly zones: ReadonlyMap<string, Zone>;
  /** Records in the source, as loaded (the zones hold them deduplicated). */
  readonly recordCount: number;
  /** The routed names answered by their own name, if worked out already (load-serving.ts). */
  readonly routeIndex?: ReadonlyMap<string, Route>;
}

/** Made once per server (DnsCore): made per reload, they cost the serving thread ~30 ms each time. */
export interface ServingCaches {
  readonly decisions: GenerationalCache<Decision>;
  readonly templates: GenerationalCache<TemplatesByType>;
}

export function newServingCaches(): ServingCaches {
  return { decisions: newDecisionCache(), templates: newTemplateCache() };
}

function compileNow(config: DnsConfig): CompiledZones {
  return { zones: compileZones(config.zones), recordCount: config.zones.reduce((n, z) => n + z.records.length, 0) };
}

export function buildServingState(
  config: DnsConfig,
  geoReaders: readonly NamedReader[] = [],
  healthOf: (pop: string) => PopHealth | undefined = () => undefined,
  measuredRtt: (pop: string, resolverNetwork: string) => number | undefined = () => undefined,
  resolvers: ResolverTable | null = null,
  anycastOf?: (address: string) => AnycastAvailability,
  /** Compiled already (by DnsCore, off the serving path); else compiled here in one go. */
  compiled: CompiledZones = compileNow(config),
  /**
   * What this server's cookie secrets derive from when `dns.cookies.secretFile` is not set: one
   * per server, the same for all its workers and across reloads (DnsCore, the primary).
   */
  cookieMaster: Buffer | null = null,
  /** The caches a server keeps for its life; each state built takes its own generation in them. */
  caches: ServingCaches = newServingCaches(),
): BuiltState {
  const { zones } = compiled;
  const locator = new GeoLocator(geoReaders, config.geo.nets);
  const { serverId, pop, version, maxUdpPayload } = config.settings;
  // Who answered, and in which PoP (common/catchment.ts): built here, so a query pays nothing.
  const identity = nsidText(serverId, pop);
  const { cookies } = config.settings;
  return {
    zones,
    templates: new StaticAnswers(zones, caches.templates),
    routes: compiled.routeIndex ?? buildRouteIndex(zones),
    chaos: buildChaosTable(identity, version),
    nsid: Buffer.from(identity, 'utf8'),
    maxUdpPayload,
    cookies: !cookies.enabled
      ? null
      : cookies.secret
        ? new ServerCookies({ kind: 'fixed', key: cookies.secret })
        : new ServerCookies({ kind: 'rotating', master: cookieMaster ?? randomBytes(32) }),
    steering: new Steering(
      config.topology.pops,
      config.topology.pools,
      locator,
      healthOf,
      measuredRtt,
      resolvers,
      anycastOf,
      caches.decisions,
    ),
    zoneCount: zones.size,
    recordCount: compiled.recordCount,
  };
}
