// The topology every service shares: PoPs (where the CDN has edges) and pools (which PoPs may
// answer a routed name, and how to choose among them). The DNS server steers with it, probers
// probe it, edges find their shield in it.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { healthSchema, probeSettingsSchema, type HealthSettings } from './health.js';

const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'expected an id of lower-case letters, digits, - and _' });

export const locationSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});
export type Location = z.output<typeof locationSchema>;

const popSchema = z.strictObject({
  id,
  name: z.string().optional(),
  location: locationSchema,
  ipv4: z.array(z.string().refine(isIPv4, { error: 'expected an IPv4 address' })).default([]),
  ipv6: z.array(z.string().refine((s) => isIPv6(s) && !s.includes('%'), { error: 'expected an IPv6 address' })).default([]),
  edge: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  /** Relative capacity: the share of answers under the weighted policy. */
  weight: z.number().int().min(1).max(10_000).default(100),
  enabled: z.boolean().default(true),
  /** Probe settings for this PoP's edge, over its pool's and the `health` defaults. */
  health: probeSettingsSchema.optional(),
});
export type Pop = z.output<typeof popSchema>;

const memberSchema = z.union([
  id.transform((pop) => ({ kind: 'pop' as const, pop, weight: undefined as number | undefined })),
  z.strictObject({ pop: id, weight: z.number().int().min(1).max(10_000).optional() }).transform((m) => ({ kind: 'pop' as const, ...m })),
  // Another CDN, answered as a CNAME (the multi-CDN case).
  z
    .strictObject({ cname: z.string().min(1), weight: z.number().int().min(1).max(10_000).default(100), location: locationSchema.optional() })
    .transform((m) => ({ kind: 'cname' as const, ...m })),
]);
export type PoolMember = z.output<typeof memberSchema>;

export const POLICIES = ['nearest', 'weighted', 'ordered'] as const;
export type Policy = (typeof POLICIES)[number];

const poolSchema = z.strictObject({
  id,
  members: z.array(memberSchema).min(1),
  /** nearest: by distance (later measured RTT); weighted: by weight, sticky per client network; ordered: first eligible. */
  policy: z.enum(POLICIES).default('nearest'),
  /** Answered when no member is eligible or the client cannot be located (default: first PoP member). */
  fallback: id.optional(),
  /** Probe settings for this pool's PoPs, over the `health` defaults. */
  health: probeSettingsSchema.optional(),
});
export type Pool = z.output<typeof poolSchema>;

export const topologySchema = {
  pops: z.array(popSchema).default([]),
  pools: z.array(poolSchema).default([]),
  health: healthSchema.default(healthSchema.parse({})),
};

export interface Topology {
  readonly pops: readonly Pop[];
  readonly pools: readonly Pool[];
}

/** Cross-reference checks zod cannot express; returns problems as [path, message]. */
export function topologyProblems(t: Topology & { readonly health?: Pick<HealthSettings, 'vantagePoints' | 'quorum'> }): [string, string][] {
  const problems: [string, string][] = [];
  const popIds = new Set<string>();
  t.pops.forEach((p, i) => {
    if (popIds.has(p.id)) problems.push([`pops[${i}].id`, `PoP id '${p.id}' is used twice`]);
    popIds.add(p.id);
    if (p.ipv4.length === 0 && p.ipv6.length === 0) problems.push([`pops[${i}]`, `PoP '${p.id}' has no ipv4 or ipv6 service address`]);
  });
  const poolIds = new Set<string>();
  t.pools.forEach((pool, i) => {
    if (poolIds.has(pool.id)) problems.push([`pools[${i}].id`, `pool id '${pool.id}' is used twice`]);
    poolIds.add(pool.id);
    pool.members.forEach((m, j) => {
      if (m.kind === 'pop' && !popIds.has(m.pop)) problems.push([`pools[${i}].members[${j}]`, `no PoP with id '${m.pop}'`]);
    });
    if (pool.fallback !== undefined && !pool.members.some((m) => m.kind === 'pop' && m.pop === pool.fallback)) {
      problems.push([`pools[${i}].fallback`, `'${pool.fallback}' is not a PoP member of pool '${pool.id}'`]);
    }
    if (pool.fallback === undefined && !pool.members.some((m) => m.kind === 'pop')) {
      problems.push([`pools[${i}].fallback`, `pool '${pool.id}' has no PoP member to fall back to; set a fallback`]);
    }
  });
  if (t.health) problems.push(...vantageProblems(t.health, popIds));
  return problems;
}

/** A vantage point that is no PoP would never report, and a quorum above the vantage points
 *  could never be reached: either would silently keep every PoP up. */
function vantageProblems(health: Pick<HealthSettings, 'vantagePoints' | 'quorum'>, popIds: ReadonlySet<string>): [string, string][] {
  const problems: [string, string][] = [];
  const listed = health.vantagePoints;
  listed?.forEach((v, i) => {
    if (!popIds.has(v)) problems.push([`health.vantagePoints[${i}]`, `no PoP with id '${v}'`]);
    else if (listed.indexOf(v) !== i) problems.push([`health.vantagePoints[${i}]`, `'${v}' is listed twice`]);
  });
  const expected = listed?.length ?? popIds.size;
  if (typeof health.quorum === 'number' && expected > 0 && health.quorum > expected) {
    const what = listed ? 'health.vantagePoints lists' : 'the config has';
    problems.push(['health.quorum', `${health.quorum} can never be reached: ${what} ${expected} vantage point${expected === 1 ? '' : 's'}`]);
  }
  return problems;
}
