// The steering policy chain's contract: each step takes the candidate list and returns it,
// annotated, reordered or filtered. A step that cannot decide passes the list on unchanged.
import type { Location, Pool, PoolMember, Pop } from '../../common/topology.js';

/** What the health view says of a PoP or a checked CNAME member (dns/pop-health/view.ts). */
export interface PopHealth {
  readonly eligible: boolean;
  readonly reason: string;
}

/** Where the client is, and how we know (for explain). */
export interface ClientLocation {
  readonly location: Location | null;
  readonly country: string | null;
  readonly continent: string | null;
  /** Which source decided: a `nets` override, the GeoIP database, a centroid, or nothing. */
  readonly source: 'nets' | 'database' | 'country-centroid' | 'continent-centroid' | 'none';
  /** The network the decision holds for (CIDR); its prefix is the ECS scope. */
  readonly network: string;
  readonly prefixLength: number;
  /** A `nets` override may name a pool to use instead of the record's. */
  readonly pool: string | null;
}

export interface Candidate {
  /** PoP id, or the CNAME target for an external CDN member. */
  readonly id: string;
  readonly member: PoolMember;
  readonly pop: Pop | null;
  eligible: boolean;
  /** Why it is (in)eligible or where it ranked; shown by explain. */
  notes: string[];
  distanceKm?: number;
  estimatedRttMs?: number;
  /** RTT measured by this PoP's prober to the querying resolver's network. */
  measuredRttMs?: number;
}

export interface SteeringContext {
  readonly pool: Pool;
  readonly client: ClientLocation;
  /** Stable per client network, so weighted choices stick to a network. */
  readonly clientKey: string;
  /** How many PoPs to answer with. */
  readonly answers: number;
  /**
   * Measured RTT from a PoP to the client, when the client is a resolver whose network the
   * probers measure (no ECS); undefined otherwise.
   */
  readonly measuredRttMs: (popId: string) => number | undefined;
  /** Health view (quorum of probers, admin overrides) by PoP or CNAME member id; undefined = no opinion. */
  readonly healthOf: (id: string) => PopHealth | undefined;
}

export interface PolicyStep {
  readonly name: string;
  run(ctx: SteeringContext, candidates: Candidate[]): Candidate[];
}
