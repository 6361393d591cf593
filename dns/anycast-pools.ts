// The DNS server's reading of the `anycast:` section: only which addresses exist and what they
// serve, for pools with `policy: anycast` (the announcer, anycast/config.ts, checks the rest:
// prefixes, BGP, damping). A pool answers the addresses it lists in `anycast:`, by default every
// edge address of the section; each must be one of the section's addresses, or the pool would
// answer an address no announcer ever reports (and always fall back to unicast, silently).
import { z } from 'zod';
import type { Pool } from '../common/topology.js';

/** Loose: the shape beyond what is read here is the announcer's to check. */
export const anycastAddressesSchema = z.looseObject({
  prefixes: z.array(
    z.looseObject({
      prefix: z.string(),
      addresses: z.array(z.looseObject({ address: z.string(), serves: z.enum(['dns', 'edge']) })),
    }),
  ),
});
export type AnycastAddresses = z.output<typeof anycastAddressesSchema>;

/** Problems as [path, message], like topologyProblems. */
export function anycastPoolProblems(pools: readonly Pool[], section: AnycastAddresses | undefined): [string, string][] {
  const problems: [string, string][] = [];
  const known = new Map(
    (section?.prefixes ?? []).flatMap((p) => p.addresses.map((a) => [a.address, a.serves] as const)),
  );
  pools.forEach((pool, i) => {
    if (pool.policy !== 'anycast') {
      if (pool.anycast !== undefined)
        problems.push([
          `pools[${i}].anycast`,
          `anycast addresses are answered only with policy: anycast (pool '${pool.id}' has policy ${pool.policy})`,
        ]);
      return;
    }
    if (section === undefined) {
      return void problems.push([
        `pools[${i}].policy`,
        `pool '${pool.id}' has policy anycast, but the file has no anycast: section with an address to answer`,
      ]);
    }
    if (pool.anycast === undefined) {
      if (![...known.values()].includes('edge')) {
        problems.push([
          `pools[${i}].anycast`,
          `pool '${pool.id}' has policy anycast, but anycast.prefixes has no edge address to answer; list the addresses (e.g. a DNS one) in pools[${i}].anycast`,
        ]);
      }
      return;
    }
    pool.anycast.forEach((address, j) => {
      if (!known.has(address))
        problems.push([
          `pools[${i}].anycast[${j}]`,
          `${address} is not an address of anycast.prefixes (known: ${[...known.keys()].join(', ') || 'none'})`,
        ]);
    });
  });
  return problems;
}

/** The pools with each anycast pool's addresses filled in (the default: every edge address). */
export function withAnycastAddresses(pools: readonly Pool[], section: AnycastAddresses | undefined): Pool[] {
  const edges = (section?.prefixes ?? []).flatMap((p) =>
    p.addresses.filter((a) => a.serves === 'edge').map((a) => a.address),
  );
  return pools.map((pool) =>
    pool.policy === 'anycast' && pool.anycast === undefined ? { ...pool, anycast: edges } : pool,
  );
}
