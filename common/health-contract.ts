// The health contract between probers and DNS servers: how probing is configured (the
// `health:` section, with per-pool and per-PoP overrides) and what a report carries.
import { z } from 'zod';
import { duration, hostPort } from './config-types.js';

export const checkSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('http'),
    /** Path on the PoP's edge URL. */
    path: z.string().startsWith('/').default('/healthz'),
    expectStatus: z.number().int().min(100).max(599).default(200),
    /** A regular expression the body must match (first 64 KiB). */
    bodyMatch: z.string().optional(),
    /** Host header, when the edge serves several names. */
    host: z.string().optional(),
    /** A whole URL instead of edge + path: CNAME members only (another CDN's health URL). */
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  }),
  z.strictObject({ type: z.literal('tcp'), port: z.number().int().min(1).max(65535).optional() }),
  z.strictObject({
    type: z.literal('dns'),
    name: z.string().min(1),
    qtype: z.enum(['A', 'AAAA', 'TXT', 'SOA']).default('A'),
    port: z.number().int().min(1).max(65535).default(53),
  }),
]);
export type Check = z.output<typeof checkSchema>;

/** What may be set per PoP or per pool, over the defaults. */
export const probeSettingsSchema = z.strictObject({
  check: checkSchema.optional(),
  interval: duration.optional(),
  /** Probe interval while a target's state is in transition (default: interval / 4). */
  fastInterval: duration.optional(),
  timeout: duration.optional(),
  rise: z.number().int().min(1).max(100).optional(),
  fall: z.number().int().min(1).max(100).optional(),
});
export type ProbeSettingsInput = z.output<typeof probeSettingsSchema>;

export interface ProbeSettings {
  readonly check: Check;
  readonly interval: number;
  /** While a failure follows successes, or a success failures: HAProxy's `fastinter`. */
  readonly fastInterval: number;
  readonly timeout: number;
  readonly rise: number;
  readonly fall: number;
}

export const DEFAULT_PROBE: ProbeSettings = {
  check: { type: 'http', path: '/healthz', expectStatus: 200 },
  interval: 1000,
  fastInterval: 250,
  timeout: 500,
  rise: 2,
  fall: 3,
};

/**
 * Latency measurement (Akamai-style mapping in small): each prober pulls the busiest resolver
 * networks from the DNS servers (GET /v1/resolvers) and measures RTT from its PoP to each.
 */
export const latencySchema = z.strictObject({
  /** How many resolver networks to measure (the busiest first); 0 turns measuring off. */
  resolvers: z.number().int().min(0).max(10_000).default(100),
  /** How often the list is pulled from the DNS servers. */
  refresh: duration.pipe(z.number().min(1, { error: 'must be at least 1 ms' })).default(30_000),
  /** dns: one UDP query (`. NS`, RD=0), any response counts; tcp: a connect to sample:port. */
  method: z.enum(['dns', 'tcp']).default('dns'),
  port: z.number().int().min(1).max(65535).default(53),
  /** Probes per second at most (may be fractional: 0.5 = one every 2 s). */
  rate: z.number().positive().max(10_000).default(20),
  /** Per probe; a probe without a response in time gives no figure. */
  timeout: duration.pipe(z.number().min(1, { error: 'must be at least 1 ms' })).default(1000),
});
export type LatencySettings = z.output<typeof latencySchema>;

/**
 * Catchment measurement: each prober asks every anycast address "who answers from here" (a DNS
 * query with NSID, an HTTP GET of /healthz read for its served-by) and reports the PoP.
 */
export const catchmentSchema = z.strictObject({
  /** How often every anycast address is asked (modest: catchment changes with routing, rarely). */
  interval: duration.pipe(z.number().min(100, { error: 'must be at least 100 ms' })).default(5000),
  /** Per question; no answer in time is reported as "no answer". */
  timeout: duration.pipe(z.number().min(1, { error: 'must be at least 1 ms' })).default(1000),
  /** Vantage names of probers placed outside the PoPs (`meridian health --vantage NAME`): they
   *  report catchment only, and the DNS servers refuse vantage names that are neither these nor PoPs. */
  vantages: z.array(z.string().min(1).max(100)).default([]),
});
export type CatchmentSettings = z.output<typeof catchmentSchema>;

export const healthSchema = z.strictObject({
  ...probeSettingsSchema.shape,
  /** Probes in flight at once per prober. */
  concurrency: z.number().int().min(1).max(1000).default(32),
  /** Control URLs of every DNS server probers report to. */
  reportTo: z.array(z.url({ protocol: /^https?$/ })).default([]),
  /** File holding the bearer token reports are sent with (relative to the config file);
   *  MERIDIAN_CONTROL_TOKEN in the environment takes precedence. */
  tokenFile: z.string().min(1).optional(),
  /** The prober's HTTP control port (status, /healthz, metrics): off unless set here or by
   *  `meridian health --control-listen`. One prober per PoP, so usually given per process. */
  control: z.strictObject({ listen: hostPort.optional() }).optional(),
  /** The PoPs that run a prober (default: every PoP). Quorum counts against these, not
   *  against the reports that happen to have arrived (see dns/pop-health/quorum.ts). */
  vantagePoints: z.array(z.string().min(1)).min(1).optional(),
  /** Down votes needed among the expected vantage points: 'majority' (more than half) or a number. */
  quorum: z.union([z.literal('majority'), z.number().int().min(1)]).default('majority'),
  /** A report older than this many of its prober's intervals is stale and does not vote. */
  staleAfterIntervals: z.number().int().min(1).max(100).default(3),
  /** While the fresh reports decide nothing (no quorum either way), the last verdict holds this
   *  long from the last decision, then the PoP counts as up (fail open). */
  grace: duration.default(30_000),
  /** RTT measurement to resolver networks (probers only; the DNS servers ignore it). */
  latency: latencySchema.default(latencySchema.parse({})),
  /** Which PoP answers each anycast address from each vantage (probers; the DNS servers read `vantages`). */
  catchment: catchmentSchema.default(catchmentSchema.parse({})),
});
export type HealthSettings = z.output<typeof healthSchema>;

/** One prober's view of every PoP, pushed to every DNS server each interval. */
export const healthReportSchema = z.strictObject({
  /** The prober's own PoP: the vantage point. */
  vantage: z.string().min(1),
  /** The prober's start time (ms): a restarted prober starts a new epoch. */
  epoch: z.number().int().min(0),
  /** Increases with every report of an epoch; older or replayed reports are ignored. */
  seq: z.number().int().min(0),
  /** The prober's interval (ms), so the DNS server can tell when a report is stale. */
  interval: z.number().int().min(1),
  targets: z
    .array(
      z.strictObject({
        pop: z.string().min(1),
        up: z.boolean(),
        /** Moving average of successful probe RTTs; null before the first success. */
        rttMs: z.number().min(0).nullable(),
        /** Why the last probe failed, if it did. */
        detail: z.string().max(500).optional(),
      }),
    )
    .max(10_000),
  /** RTT from this vantage PoP to the busiest resolver networks (pulled from GET /v1/resolvers). */
  resolvers: z
    .array(z.strictObject({ network: z.string().min(1).max(64), rttMs: z.number().min(0) }))
    .max(10_000)
    .default([]),
  /** Which PoP answers each anycast address from this vantage; left out until first measured
   *  (and by probers from before catchment). The vantage is the report's: no other can be named. */
  catchment: z
    .strictObject({
      /** The prober's catchment interval (ms): an observation older than staleAfterIntervals × it is stale. */
      interval: z.number().int().min(1).max(3_600_000),
      observations: z
        .array(
          z.strictObject({
            address: z.string().min(1).max(64),
            /** The PoP that answered, or null: no answer, or one that names no PoP (see detail). */
            pop: z.string().min(1).max(100).nullable(),
            /** How long before this report the question was answered (ms). */
            ageMs: z.number().int().min(0).max(86_400_000),
            detail: z.string().max(500).optional(),
          }),
        )
        .max(1000),
    })
    .optional(),
});
export type HealthReport = z.output<typeof healthReportSchema>;

/** Effective probe settings for a PoP: PoP over (first) pool over `health` defaults. */
export function probeSettingsFor(
  health: ProbeSettingsInput,
  pool: ProbeSettingsInput | undefined,
  pop: ProbeSettingsInput | undefined,
): ProbeSettings {
  const pick = <K extends keyof ProbeSettings>(k: K): ProbeSettings[K] =>
    (pop?.[k] ?? pool?.[k] ?? health[k] ?? DEFAULT_PROBE[k]) as ProbeSettings[K];
  const interval = pick('interval');
  // Unset, it follows the interval in effect (a pool's 2 s gets 500 ms); never above it.
  const fast = pop?.fastInterval ?? pool?.fastInterval ?? health.fastInterval ?? Math.max(1, Math.round(interval / 4));
  return {
    check: pick('check'),
    interval,
    fastInterval: Math.min(fast, interval),
    timeout: pick('timeout'),
    rise: pick('rise'),
    fall: pick('fall'),
  };
}
