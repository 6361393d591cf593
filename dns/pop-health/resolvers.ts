// The resolver networks that query us for routed names, by volume: what the probers measure RTT
// to (Akamai-style mapping in small). The query path only counts the raw address (one map
// lookup); grouping into networks happens when a prober asks. The table is bounded so a flood
// of spoofed sources cannot grow it without limit.

const MAX_ADDRESSES = 10_000;

export interface ResolverNetwork {
  /** `198.51.100.0/24` or `2001:db8:1::/48` */
  readonly network: string;
  /** The last resolver address seen in it: what a prober probes. */
  readonly sample: string;
  readonly queries: number;
}

export class ResolverTable {
  /** Queries per resolver address; insertion order doubles as "seen last" within a network. */
  private readonly counts = new Map<string, number>();

  /** Counts one routed query from `resolverIp`. */
  record(resolverIp: string): void {
    const n = this.counts.get(resolverIp);
    if (n !== undefined) this.counts.set(resolverIp, n + 1);
    else if (this.counts.size < MAX_ADDRESSES) this.counts.set(resolverIp, 1);
  }

  /** Raw counts, for a primary merging its workers' tables. */
  entries(): [string, number][] {
    return [...this.counts];
  }

  /** Adds another table's counts (bounded like record()). */
  addAll(entries: Iterable<readonly [string, number]>): this {
    for (const [ip, n] of entries) {
      const have = this.counts.get(ip);
      if (have !== undefined) this.counts.set(ip, have + n);
      else if (this.counts.size < MAX_ADDRESSES) this.counts.set(ip, n);
    }
    return this;
  }

  /** The busiest networks first; each with its busiest address as the one to probe. */
  top(limit: number): ResolverNetwork[] {
    const networks = new Map<string, { sample: string; sampleQueries: number; queries: number }>();
    for (const [ip, n] of this.counts) {
      const network = resolverNetwork(ip);
      if (network === null) continue;
      const e = networks.get(network);
      if (!e) networks.set(network, { sample: ip, sampleQueries: n, queries: n });
      else {
        e.queries += n;
        if (n >= e.sampleQueries) Object.assign(e, { sample: ip, sampleQueries: n });
      }
    }
    return [...networks]
      .sort((a, b) => b[1].queries - a[1].queries)
      .slice(0, limit)
      .map(([network, e]) => ({ network, sample: e.sample, queries: e.queries }));
  }
}

/** IPv4 → its /24, IPv6 → its /48 (the usual granularity of resolver farms); null otherwise. */
export function resolverNetwork(ip: string): string | null {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  const dot = v4.lastIndexOf('.');
  if (dot > 0 && !v4.includes(':')) return `${v4.slice(0, dot)}.0/24`;
  if (!ip.includes(':')) return null;
  const [head = '', tail] = ip.split('::');
  const groups = head === '' ? [] : head.split(':');
  // Fewer than three groups before '::' means the rest of the /48 is zeros.
  const first3 =
    tail === undefined || groups.length >= 3
      ? groups.slice(0, 3)
      : [...groups, ...new Array(3 - groups.length).fill('0')];
  if (first3.length < 3) return null;
  return `${first3.map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/48`;
}
