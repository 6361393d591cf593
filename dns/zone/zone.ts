// The compiled, immutable form of the zones a server answers for. Built once per config load
// (compile.ts) and swapped in atomically; the query path only reads it.
import type { Name } from '../wire/name.js';
import type { RRset } from '../wire/rdata.js';

export interface ZoneNode {
  readonly name: Name;
  readonly zone: Zone;
  /** RRsets by type; empty for empty non-terminals (which exist, RFC 4592 §2.2.2). */
  readonly rrsets: ReadonlyMap<number, RRset>;
  /** The delegation point at or above this node (never the apex), if any. */
  readonly delegation: ZoneNode | null;
  /** Routed name: A/AAAA are chosen per query from this pool (dns/answer/steering.ts). */
  readonly route: Route | null;
}

export interface Route {
  readonly pool: string;
  readonly ttl: number;
  readonly answers: number;
}

/** A zone's nodes by lower-cased key (wire/name.ts), as the query path reads them. */
export interface ZoneNodes {
  readonly size: number;
  get(key: string): ZoneNode | undefined;
  has(key: string): boolean;
  /** Every node, parents before children. */
  values(): IterableIterator<ZoneNode>;
  /** The routed nodes only. */
  routed(): IterableIterator<ZoneNode>;
  /** The route of the node at `key`, without building the node. */
  routeOf(key: string): Route | undefined;
  /** Bytes held by the names and records. */
  readonly bytes: number;
}

export interface Zone {
  readonly apex: Name;
  readonly soa: RRset;
  /** TTL of negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 §5). */
  readonly negativeTtl: number;
  /** Every name with data, and the empty non-terminals above them (packed-nodes.ts). */
  readonly nodes: ZoneNodes;
}

/** The deepest zone whose apex is `key` or an ancestor of it. */
export function findZone(zones: ReadonlyMap<string, Zone>, key: string): Zone | undefined {
  for (
    let k: string | undefined = key;
    k !== undefined;
    k = k.length === 0 ? undefined : k.slice(k.charCodeAt(0) + 1)
  ) {
    const zone = zones.get(k);
    if (zone) return zone;
  }
  return undefined;
}
