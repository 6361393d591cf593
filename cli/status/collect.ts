// What `meridian status` shows, gathered in one pass: the DNS server's PoPs (with their edge
// URLs) and health verdicts from its control port, then every edge's /healthz in parallel.
// Only the DNS server is required; an edge that does not answer is reported, not fatal.
import { z } from 'zod';
import { probeEdge, type EdgeView } from './edge.js';
import { getJson } from './http.js';
import { collectAnycast, type AnycastView } from './anycast.js';
import { landingSchema, type LandingRow } from './catchment.js';
import { protectionSchema, type ProtectionView } from './protection.js';

export interface Vote {
  readonly vantage: string;
  /** null: that prober's report has no result for this PoP. */
  readonly up: boolean | null;
  readonly rttMs: number | null;
  /** Stale votes are shown but do not count towards the verdict. */
  readonly fresh: boolean;
  readonly ageMs: number;
}

export interface PopStatus {
  readonly id: string;
  /** A PoP, or a CNAME member with a health check (another CDN: no edge of ours). */
  readonly kind: 'pop' | 'member';
  readonly name: string | null;
  /** false: `enabled: false` in the config, never answered whatever its health. */
  readonly enabled: boolean;
  /** The probers' quorum verdict, before overrides. */
  readonly verdict: 'up' | 'down';
  /** Whether the DNS server answers with it (verdict, then override, then enabled). */
  readonly answered: boolean;
  readonly reason: string;
  readonly override: string | null;
  readonly votes: readonly Vote[];
  /** Median RTT of the fresh votes that measured one. */
  readonly rttMs: number | null;
  /** null when the topology gives the PoP no edge URL. */
  readonly edge: EdgeView | null;
}

export interface StatusReport {
  readonly control: string;
  readonly serverId: string;
  readonly pops: readonly PopStatus[];
  /** Who announces what (the announcers' reports); null when no announcer reports to this server. */
  readonly anycast?: AnycastView | null;
  /** Where each vantage lands on each anycast address; absent from servers before catchment. */
  readonly catchment?: readonly LandingRow[];
  /** Response rate limiting and the TCP caps; absent from servers before them. */
  readonly protection?: ProtectionView;
}

export interface CollectOptions {
  readonly controlTimeoutMs: number;
  readonly edgeTimeoutMs: number;
}

/** The DNS server could not be asked, or what answered is not a Meridian DNS control port. */
export class ControlError extends Error {}

// The parts of GET /v1/status and GET /v1/health that status reads.
const statusSchema = z.object({
  serverId: z.string(),
  // Servers before `meridian status` existed do not list PoPs; edges are then not shown.
  pops: z
    .array(
      z.object({
        id: z.string(),
        name: z.string().nullish(),
        edge: z.string().nullish(),
        enabled: z.boolean().optional(),
      }),
    )
    .optional(),
  // Checked CNAME members (other CDNs); servers before them do not list any.
  members: z.array(z.object({ id: z.string(), cname: z.string() })).optional(),
  catchment: z.array(landingSchema).optional(),
  protection: protectionSchema.optional(),
});
const healthSchema = z.object({
  pops: z.array(
    z.object({
      pop: z.string(),
      kind: z.enum(['pop', 'member']).optional(),
      verdict: z.enum(['up', 'down']),
      eligible: z.boolean(),
      reason: z.string(),
      override: z.string().nullable(),
      votes: z.array(
        z.object({
          vantage: z.string(),
          up: z.boolean().nullable(),
          rttMs: z.number().nullable(),
          fresh: z.boolean(),
          ageMs: z.number(),
        }),
      ),
    }),
  ),
});

export async function collectStatus(control: URL, opts: CollectOptions): Promise<StatusReport> {
  const [status, health, anycast] = await Promise.all([
    controlGet(control, '/v1/status', statusSchema, opts.controlTimeoutMs),
    controlGet(control, '/v1/health', healthSchema, opts.controlTimeoutMs),
    // Optional, like the edges: a failure here is said in the table, not fatal.
    collectAnycast(control, opts.controlTimeoutMs).catch((e: Error) => ({ rows: [], addresses: [], error: e.message })),
  ]);
  const topology = new Map((status.pops ?? []).map((p) => [p.id, p]));
  const members = new Map((status.members ?? []).map((m) => [m.id, m]));
  // Votes in PoP order (the server keeps them in report arrival order), so a vantage point
  // sits in the same place on every row.
  const order = new Map(health.pops.map((h, i) => [h.pop, i]));
  const rank = (vantage: string) => order.get(vantage) ?? order.size;
  const pops = await Promise.all(
    health.pops.map(async (h): Promise<PopStatus> => {
      const t = topology.get(h.pop);
      const member = members.get(h.pop);
      const kind = h.kind ?? (member ? 'member' : 'pop');
      const enabled = t?.enabled ?? true;
      const votes = h.votes
        .map(({ vantage, up, rttMs, fresh, ageMs }) => ({ vantage, up, rttMs, fresh, ageMs }))
        .sort((a, b) => rank(a.vantage) - rank(b.vantage));
      return {
        id: h.pop,
        kind,
        name: kind === 'member' ? (member?.cname ?? null) : (t?.name ?? null),
        enabled,
        verdict: h.verdict,
        answered: h.eligible && enabled,
        reason: enabled ? h.reason : 'disabled in the config (enabled: false)',
        override: h.override,
        votes,
        rttMs: median(votes.filter((v) => v.fresh && v.rttMs !== null).map((v) => v.rttMs!)),
        edge: kind === 'pop' && t?.edge ? await probeEdge(h.pop, t.edge, opts.edgeTimeoutMs) : null,
      };
    }),
  );
  return {
    control: control.href.replace(/\/$/, ''),
    serverId: status.serverId,
    pops,
    anycast,
    ...(status.catchment && { catchment: status.catchment }),
    ...(status.protection && { protection: status.protection }),
  };
}

async function controlGet<T>(control: URL, path: string, schema: z.ZodType<T>, timeoutMs: number): Promise<T> {
  let answer;
  try {
    answer = await getJson(new URL(path, control), timeoutMs);
  } catch (e) {
    throw new ControlError(`cannot reach the DNS server's control port at ${control.href}: ${(e as Error).message}`);
  }
  const error = (answer.body as { error?: unknown } | undefined)?.error;
  if (answer.status !== 200)
    throw new ControlError(
      `GET ${path} on ${control.href}: HTTP ${answer.status}${typeof error === 'string' ? `: ${error}` : ''}`,
    );
  const parsed = schema.safeParse(answer.body);
  if (!parsed.success)
    throw new ControlError(`${control.href} answered GET ${path}, but not as a Meridian DNS control port does`);
  return parsed.data;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
