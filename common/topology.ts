// The topology every service shares: PoPs (where the CDN has edges) and pools (which PoPs may
// answer a routed name, and how to choose among them). The DNS server steers with it, probers
// probe it, edges find their shield in it.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { healthSchema, probeSettingsSchema, type HealthSettings } from './health-contract.js';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'expected an id of lower-case letters, digits, - and _' });

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
  ipv6: z
    .array(z.string().refine((s) => isIPv6(s) && !s.includes('%'), { error: 'expected an IPv6 address' }))
    .default([]),
  edge: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  /** Relative capacity: the share of answers under the weighted policy. */
  weight: z.number().int().min(1).max(10_000).default(100),
  enabled: z.boolean().default(true),
  /** Probe settings for this PoP's edge, over its pool's and the `health` defaults. */
  health: probeSettingsSchema.optional(),
});
export type Pop = z.output<typeof popSchema>;

// The object forms are told apart by their key (`pop` or `cname`), so an error in one is
// reported at its field rather than as "Invalid input" for the whole union.
const memberObjectSchema = z.preprocess(
  (v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...v, kind: 'cname' in v ? 'cname' : 'pop' } : v,
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('pop'), pop: id, weight: z.number().int().min(1).max(10_000).optional() }),
    // Another CDN, answered as a CNAME (the multi-CDN case). With a health check it is probed by
    // every prober like a PoP's edge and named by its `id` (drain, reports, status).
    z.strictObject({
      kind: z.literal('cname'),
      cname: z.string().min(1),
      /** Names the member in overrides, reports and status; required with a health check. */
      id: id.optional(),
      weight: z.number().int().min(1).max(10_000).default(100),
      location: locationSchema.optional(),
      /** `check: { type: http, url }` (the other CDN's health URL); interval, timeout, rise and
       *  fall over the pool's and the `health` defaults. */
      health: probeSettingsSchema.optional(),
    }),
  ]),
);

const memberSchema = z.union([
  id.transform((pop) => ({ kind: 'pop' as const, pop, weight: undefined as number | undefined })),
  memberObjectSchema,
]);
export type PoolMember = z.output<typeof memberSchema>;

export const POLICIES = ['nearest', 'weighted', 'ordered', 'anycast'] as const;
export type Policy = (typeof POLICIES)[number];

/** How a pool ranks its PoPs: `anycast` falls back to nearest PoP steering while no PoP announces. */
export function unicastPolicy(policy: Policy): Exclude<Policy, 'anycast'> {
  return policy === 'anycast' ? 'nearest' : policy;
}

const poolSchema = z.strictObject({
  id,
  members: z.array(memberSchema).min(1),
  /** nearest: by distance (later measured RTT); weighted: by weight, sticky per client network; ordered: first eligible;
   *  anycast: the pool's anycast addresses while some PoP announces them, else as nearest. */
  policy: z.enum(POLICIES).default('nearest'),
  /** With policy anycast: the addresses answered, from the `anycast:` section (default: its edge addresses). */
  anycast: z
    .array(z.string().refine((s) => isIPv4(s) || isIPv6(s), { error: 'expected an IPv4 or IPv6 address' }))
    .min(1)
    .optional(),
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

export type CnameMember = Extract<PoolMember, { kind: 'cname' }>;

/** A CNAME member with a health check: a health subject beside the PoPs. */
export interface CheckedMember {
  readonly id: string;
  readonly cname: string;
  readonly member: CnameMember;
  /** The first pool it is a member of (its probe settings come from there). */
  readonly pool: Pool;
  /** Where it is in the config, for errors: `pools[i].members[j]`. */
  readonly where: string;
}

/** The checked CNAME members, each once (the same id may be a member of several pools). */
export function checkedMembers(t: Pick<Topology, 'pools'>): CheckedMember[] {
  const out = new Map<string, CheckedMember>();
  t.pools.forEach((pool, i) =>
    pool.members.forEach((m, j) => {
      if (m.kind !== 'cname' || m.id === undefined || m.health?.check === undefined || out.has(m.id)) return;
      out.set(m.id, { id: m.id, cname: m.cname, member: m, pool, where: `pools[${i}].members[${j}]` });
    }),
  );
  return [...out.values()];
}

/** Cross-reference checks zod cannot express; returns problems as [path, message]. */
export function topologyProblems(
  t: Topology & { readonly health?: Pick<HealthSettings, 'vantagePoints' | 'quorum' | 'check' | 'catchment'> },
): [string, string][] {
  const problems: [string, string][] = [];
  const popIds = new Set<string>();
  t.pops.forEach((p, i) => {
    if (popIds.has(p.id)) problems.push([`pops[${i}].id`, `PoP id '${p.id}' is used twice`]);
    popIds.add(p.id);
    if (p.ipv4.length === 0 && p.ipv6.length === 0)
      problems.push([`pops[${i}]`, `PoP '${p.id}' has no ipv4 or ipv6 service address`]);
  });
  const poolIds = new Set<string>();
  t.pools.forEach((pool, i) => {
    if (poolIds.has(pool.id)) problems.push([`pools[${i}].id`, `pool id '${pool.id}' is used twice`]);
    poolIds.add(pool.id);
    pool.members.forEach((m, j) => {
      if (m.kind === 'pop' && !popIds.has(m.pop))
        problems.push([`pools[${i}].members[${j}]`, `no PoP with id '${m.pop}'`]);
    });
    if (pool.health?.check?.type === 'http' && pool.health.check.url !== undefined)
      problems.push([`pools[${i}].health.check.url`, URL_ONLY_ON_MEMBERS]);
    if (pool.fallback !== undefined && !pool.members.some((m) => m.kind === 'pop' && m.pop === pool.fallback)) {
      problems.push([`pools[${i}].fallback`, `'${pool.fallback}' is not a PoP member of pool '${pool.id}'`]);
    }
    if (pool.fallback === undefined && !pool.members.some((m) => m.kind === 'pop')) {
      problems.push([`pools[${i}].fallback`, `pool '${pool.id}' has no PoP member to fall back to; set a fallback`]);
    }
  });
  t.pops.forEach((p, i) => {
    if (p.health?.check?.type === 'http' && p.health.check.url !== undefined)
      problems.push([`pops[${i}].health.check.url`, URL_ONLY_ON_MEMBERS]);
  });
  if (t.health?.check?.type === 'http' && t.health.check.url !== undefined)
    problems.push(['health.check.url', URL_ONLY_ON_MEMBERS]);
  problems.push(...memberProblems(t, popIds));
  if (t.health) problems.push(...vantageProblems(t.health, popIds));
  return problems;
}

const URL_ONLY_ON_MEMBERS =
  "a check 'url' is for CNAME members (another CDN's health URL); a PoP's check is a 'path' on its edge";

/**
 * A checked CNAME member is a health subject named by its id: the id must be there, must not be
 * a PoP's, and names one member (the same member may sit in several pools). Its check probes a
 * URL of the other CDN: http with `url` (there is no edge to put a path on).
 */
function memberProblems(t: Topology, popIds: ReadonlySet<string>): [string, string][] {
  const problems: [string, string][] = [];
  const seen = new Map<string, { text: string; where: string }>();
  t.pools.forEach((pool, i) =>
    pool.members.forEach((m, j) => {
      if (m.kind !== 'cname') return;
      const where = `pools[${i}].members[${j}]`;
      if (m.health !== undefined && m.health.check === undefined) {
        problems.push([`${where}.health.check`, "a CNAME member's health needs a check: { type: http, url: ... }"]);
      }
      const check = m.health?.check;
      if (check !== undefined && (check.type !== 'http' || check.url === undefined)) {
        problems.push([
          `${where}.health.check`,
          "a CNAME member is checked by { type: http, url: ... } (the other CDN's health URL)",
        ]);
      }
      if (check !== undefined && m.id === undefined) {
        problems.push([
          `${where}.id`,
          `a CNAME member with a health check needs an id (drain, reports and status name it); e.g. id: ${suggestId(m.cname)}`,
        ]);
      }
      if (m.id === undefined) return;
      if (popIds.has(m.id))
        return void problems.push([`${where}.id`, `'${m.id}' is a PoP id; a CNAME member needs its own`]);
      const text = JSON.stringify([m.cname, m.health ?? null]);
      const before = seen.get(m.id);
      if (before && before.text !== text)
        problems.push([
          `${where}.id`,
          `'${m.id}' already names another member (${before.where}, a different cname or health)`,
        ]);
      else if (!before) seen.set(m.id, { text, where });
    }),
  );
  return problems;
}

/** `edge.other-cdn.example.` → `other-cdn`: a hint in the error, never an implicit id. */
function suggestId(cname: string): string {
  const labels = cname.replace(/\.$/, '').toLowerCase().split('.');
  const pick = labels.length >= 2 ? labels[labels.length - 2]! : labels[0]!;
  return pick.replace(/[^a-z0-9_-]/g, '-').replace(/^[^a-z0-9]+/, '') || 'other-cdn';
}

/** A vantage point that is no PoP would never report, and a quorum above the vantage points
 *  could never be reached: either would silently keep every PoP up. */
function vantageProblems(
  health: Pick<HealthSettings, 'vantagePoints' | 'quorum'> & Partial<Pick<HealthSettings, 'catchment'>>,
  popIds: ReadonlySet<string>,
): [string, string][] {
  const problems: [string, string][] = [];
  // Catchment vantages are probers outside the PoPs: a PoP's name there would let two probers
  // write one vantage's row.
  const outside = health.catchment?.vantages ?? [];
  outside.forEach((v, i) => {
    if (popIds.has(v))
      problems.push([
        `health.catchment.vantages[${i}]`,
        `'${v}' is a PoP: its prober (--pop ${v}) reports catchment already; list only vantages outside the PoPs`,
      ]);
    else if (outside.indexOf(v) !== i) problems.push([`health.catchment.vantages[${i}]`, `'${v}' is listed twice`]);
  });
  const listed = health.vantagePoints;
  listed?.forEach((v, i) => {
    if (!popIds.has(v)) problems.push([`health.vantagePoints[${i}]`, `no PoP with id '${v}'`]);
    else if (listed.indexOf(v) !== i) problems.push([`health.vantagePoints[${i}]`, `'${v}' is listed twice`]);
  });
  const expected = listed?.length ?? popIds.size;
  if (typeof health.quorum === 'number' && expected > 0 && health.quorum > expected) {
    const what = listed ? 'health.vantagePoints lists' : 'the config has';
    problems.push([
      'health.quorum',
      `${health.quorum} can never be reached: ${what} ${expected} vantage point${expected === 1 ? '' : 's'}`,
    ]);
  }
  return problems;
}
