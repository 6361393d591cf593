// Routed names: which PoPs answer this client. Locates the client (ECS subnet, else the
// resolver's address), runs the policy chain over the route's pool, and caches the decision per
// client network until the config, a database or (later) health changes — a new Steering is
// built then, so a stale decision can never outlive what it was based on. The cache is the only
// state: a decision is returned whole (records, ECS scope, pre-encoded answer), never left behind
// in a field for the caller to read afterwards.
import type { Pool, Pop } from '../../common/topology.js';
import { ipBytes } from '../../common/ip.js';
import { addressText, truncate, type GeoLocator, type Located } from '../../geo-data/locator.js';
import { Type } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import type { RData, RRset } from '../wire/rdata.js';
import type { ClientSubnet } from '../wire/query.js';
import { MessageWriter } from '../wire/writer.js';
import { parseName } from '../zone/name-text.js';
import type { Route } from '../zone/zone.js';
import { steer, type Steered } from '../policy/chain.js';
import { chooseAnycast, type AnycastChoice } from '../policy/anycast.js';
import type { AnycastAvailability } from '../pop-health/anycast-view.js';
import type { PopHealth } from '../policy/types.js';
import { resolverNetwork, type ResolverTable } from '../pop-health/resolvers.js';
import { encodeOwnAnswer } from './encode.js';
import { GenerationalCache } from './generational-cache.js';
import type { AnswerTemplate } from './types.js';

export interface Decision {
  readonly a: RRset | null;
  readonly aaaa: RRset | null;
  readonly cname: RRset | null;
  /** ECS scope this decision holds for (RFC 7871 §7.2.1). */
  readonly scope: number;
  /** The scope of its A / AAAA answer when it differs from `scope` (an anycast answer holds for everyone: 0). */
  readonly aScope?: number;
  readonly aaaaScope?: number;
  readonly located: Located;
  readonly network: string;
  readonly pool: Pool;
  readonly steered: Steered;
  /** A `policy: anycast` pool: per family whether its anycast addresses were answered, and why; else null. */
  readonly anycast: AnycastChoice | null;
  /** The A / AAAA answer pre-encoded (encode.ts) for a question naming the route itself (see templates.ts). */
  readonly aTemplate: AnswerTemplate | null;
  readonly aaaaTemplate: AnswerTemplate | null;
}

/** Decides routed names for `resolve`: Steering on the query path, a recording stand-in in explain. */
export interface Router {
  /** The decision for `route` and a client: the resolver at `clientIp`, or its ECS subnet when given. */
  decide(route: Route, clientIp: string, ecs: ClientSubnet | null): Decision;
}

/** Decisions kept, for all routed names together: a bound whatever the number of names. */
const DECISION_CACHE_SIZE = 100_000;
/** Decisions are re-made at least this often, so fresh RTT measurements take effect. */
const DECISION_MAX_AGE_MS = 5000;

/** The decision cache a server keeps for its life (one Steering per reload shares it). */
export function newDecisionCache(): GenerationalCache<Decision> {
  return new GenerationalCache<Decision>(DECISION_CACHE_SIZE, DECISION_MAX_AGE_MS);
}
const placeholderOwner: Name = parseName('.', null);

export class Steering implements Router {
  /** This Steering's decisions in the server's cache: a new generation forgets them all. */
  private generation: number;
  /** Each route's key prefix (routes are stable objects of one config). Routes of one pool with
   * the same TTL and answer count decide alike, so 10,000 names over 100 pools share decisions. */
  private readonly routeKeys = new Map<Route, string>();
  private readonly shapeKeys = new Map<string, string>();
  private readonly pops: ReadonlyMap<string, Pop>;
  private readonly pools: ReadonlyMap<string, Pool>;
  private readonly rdata = new Map<string, { a: RData[]; aaaa: RData[] }>();
  /** Scratch for pre-encoding each new decision's answers (used synchronously, then copied out). */
  private readonly writer = new MessageWriter();

  constructor(
    pops: readonly Pop[],
    pools: readonly Pool[],
    private readonly locator: GeoLocator,
    private readonly healthOf: (popId: string) => PopHealth | undefined = () => undefined,
    /** RTT measured from a PoP to a resolver network (latency steering); undefined when unknown. */
    private readonly measuredRtt: (popId: string, resolverNetwork: string) => number | undefined = () => undefined,
    /** Counts the resolvers that query routed names, for the probers to measure. */
    private readonly resolvers: ResolverTable | null = null,
    /** Who announces an anycast address (policy: anycast); nobody without announcer reports. */
    private readonly anycastOf: (address: string) => AnycastAvailability = () => NO_ANNOUNCER,
    /** Keyed by the route's shape (routeKey) and the client network: one bound for every routed name. */
    private readonly cache: GenerationalCache<Decision> = newDecisionCache(),
  ) {
    this.generation = cache.newGeneration();
    this.pops = new Map(pops.map((p) => [p.id, p]));
    this.pools = new Map(pools.map((p) => [p.id, p]));
    for (const p of pops) {
      this.rdata.set(p.id, {
        a: p.ipv4.map((ip) => [ipBytes(ip)!]),
        aaaa: p.ipv6.map((ip) => [ipBytes(ip)!]),
      });
    }
  }

  /** Forget every decision (a GeoIP database, PoP health or who announces anycast changed). */
  clearCache(): void {
    this.generation = this.cache.newGeneration();
  }

  /** How many decisions are cached now (at most DECISION_CACHE_SIZE). */
  get cachedDecisions(): number {
    return this.cache.count(this.generation);
  }

  /** Counts one routed query's resolver, for the probers to measure (once per query, by the caller). */
  recordResolver(clientIp: string): void {
    this.resolvers?.record(clientIp);
  }

  decide(route: Route, clientIp: string, ecs: ClientSubnet | null): Decision {
    // ECS with source prefix 0 means "do not use my client's address" (RFC 7871 §7.1.2).
    const useEcs = ecs !== null && ecs.sourcePrefix > 0;
    // After the route's two-char prefix, ECS keys start with NUL, which no address string does, so
    // a crafted subnet cannot share a resolver's entry; the source prefix as one char keeps a /24
    // and a /25 of one address apart.
    const key = useEcs
      ? `${this.routeKey(route)}\0${ecs.family}${String.fromCharCode(ecs.sourcePrefix)}${ecs.address.toString('latin1')}`
      : `${this.routeKey(route)}${clientIp}`;
    let d = this.cache.get(this.generation, key);
    if (!d) {
      const client = useEcs ? ecsAddress(ecs) : resolverAddress(clientIp);
      // Measured RTTs are to resolvers: they describe the client only when it is the resolver.
      d = this.decideFor(
        route,
        client.bytes,
        client.prefix,
        useEcs ? ecs.sourcePrefix : 0,
        useEcs ? null : resolverNetwork(clientIp),
      );
      this.cache.set(this.generation, key, d);
    }
    return d;
  }

  /** Two chars naming the route's shape (pool, TTL, answers): the start of its decisions' keys. */
  private routeKey(route: Route): string {
    let key = this.routeKeys.get(route);
    if (key === undefined) {
      const shape = `${route.pool}\0${route.ttl}\0${route.answers}`;
      key = this.shapeKeys.get(shape);
      if (key === undefined) {
        const n = this.shapeKeys.size;
        key = String.fromCharCode(n & 0xffff, n >>> 16);
        this.shapeKeys.set(shape, key);
      }
      this.routeKeys.set(route, key);
    }
    return key;
  }

  /** The full decision for a client network, uncached (also what explain shows). */
  decideFor(
    route: Route,
    address: Buffer | null,
    sourcePrefix: number,
    scopeCap: number,
    resolverNet: string | null = null,
  ): Decision {
    const located: Located = address
      ? this.locator.locate(address, sourcePrefix)
      : { location: null, country: null, continent: null, source: 'none', prefixLength: 0, pool: null, database: null };
    const pool = (located.pool !== null ? this.pools.get(located.pool) : undefined) ?? this.pools.get(route.pool)!;
    const network = address
      ? `${addressText(truncate(address, located.prefixLength))}/${located.prefixLength}`
      : 'unknown';
    const steered = steer(
      {
        pool,
        client: { ...located, network, prefixLength: located.prefixLength },
        clientKey: network,
        answers: route.answers,
        healthOf: this.healthOf,
        measuredRttMs: (pop) => (resolverNet === null ? undefined : this.measuredRtt(pop, resolverNet)),
      },
      this.pops,
    );
    const scope = Math.min(located.prefixLength, scopeCap);
    const chosenPops = steered.chosen.filter((c) => c.pop).map((c) => c.pop!.id);
    const cnameMember = steered.chosen.find((c) => c.member.kind === 'cname');
    const rrset = (type: number, rdata: RData[]): RRset | null =>
      rdata.length ? { owner: placeholderOwner, type, ttl: route.ttl, rdata } : null;
    // An anycast pool answers its announced anycast addresses; per family, unicast otherwise.
    const anycast = chooseAnycast(pool, this.anycastOf);
    const anycastRdata = (answered: readonly string[] | undefined): RData[] | null =>
      answered?.length ? answered.map((ip) => [ipBytes(ip)!]) : null;
    const a = rrset(Type.A, anycastRdata(anycast?.a.answered) ?? chosenPops.flatMap((id) => this.rdata.get(id)!.a));
    const aaaa = rrset(
      Type.AAAA,
      anycastRdata(anycast?.aaaa.answered) ?? chosenPops.flatMap((id) => this.rdata.get(id)!.aaaa),
    );
    // An anycast answer is the same for every client: ECS scope 0 lets resolvers share it (RFC 7871 §7.2.1).
    const aScope = anycast?.a.answered.length ? 0 : scope;
    const aaaaScope = anycast?.aaaa.answered.length ? 0 : scope;
    return {
      a,
      aaaa,
      aTemplate: a && encodeOwnAnswer(this.writer, a, aScope),
      aaaaTemplate: aaaa && encodeOwnAnswer(this.writer, aaaa, aaaaScope),
      // A name answered with anycast addresses cannot also be a CNAME (RFC 1034 §3.6.2).
      cname:
        cnameMember && !anycast?.a.answered.length && !anycast?.aaaa.answered.length
          ? rrset(Type.CNAME, [[{ name: parseName(absolute(cnameMember.id), null), compress: true }]])
          : null,
      scope: Math.max(aScope, aaaaScope),
      aScope,
      aaaaScope,
      located,
      network,
      pool,
      steered,
      anycast,
    };
  }
}

const NO_ANNOUNCER: AnycastAvailability = { announcedBy: [], reason: 'no announcer reports to this server' };

function absolute(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

function ecsAddress(ecs: ClientSubnet): { bytes: Buffer; prefix: number } {
  const bytes = Buffer.alloc(ecs.family === 1 ? 4 : 16);
  ecs.address.copy(bytes);
  return { bytes, prefix: ecs.sourcePrefix };
}

function resolverAddress(ip: string): { bytes: Buffer | null; prefix: number } {
  // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const bytes = ipBytes(v4 ? v4[1]! : ip) ?? null;
  return { bytes, prefix: bytes ? bytes.length * 8 : 0 };
}
