// `dns.rrl:` — response rate limiting, with BIND's names and semantics (its `rate-limit { … }`
// block, camel-cased) so an operator who knows BIND reads it at once; `tableSize` is Knot's
// `table-size` (BIND sizes its table on its own, up to `max-table-size`). The defaults and why
// they are what they are: README "Protocol behaviour" and dns/README.md.
import { z } from 'zod';
import { parseCidr } from '../../geo-data/locator.js';

const perSecond = z.number().int().min(0).max(1_000_000);

/** A CIDR network, or one address (a /32 or /128). */
const exemptNetwork = z.string().transform((s, ctx) => {
  const text = s.includes('/') ? s : `${s}/${s.includes(':') ? 128 : 32}`;
  try {
    return { text: s, ...parseCidr(text) };
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

export const RRL_DEFAULTS = {
  enabled: true,
  responsesPerSecond: 100,
  window: 15,
  slip: 2,
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 56,
  tableSize: 65_536,
  logOnly: false,
} as const;

export const rrlSchema = z
  .strictObject({
    enabled: z.boolean().default(RRL_DEFAULTS.enabled),
    /** Identical positive answers (one name and type) per second to one client network; 0 = no limit. */
    responsesPerSecond: perSecond.default(RRL_DEFAULTS.responsesPerSecond),
    /** NXDOMAIN answers per zone per second to one network; default responsesPerSecond. */
    nxdomainsPerSecond: perSecond.optional(),
    /** Empty (NODATA) answers per zone per second to one network; default responsesPerSecond. */
    nodataPerSecond: perSecond.optional(),
    /** Referrals per delegation per second to one network; default responsesPerSecond. */
    referralsPerSecond: perSecond.optional(),
    /** Errors (REFUSED, FORMERR, SERVFAIL, NOTIMP, …) per second to one network, whatever was asked; default responsesPerSecond. */
    errorsPerSecond: perSecond.optional(),
    /** Seconds a network must stay under its rate to be answered again: its debt is at most window × rate. */
    window: z.number().int().min(1).max(3600).default(RRL_DEFAULTS.window),
    /** Every slip-th suppressed answer goes out truncated (TC) instead: 0 never, 1 always. */
    slip: z.number().int().min(0).max(10).default(RRL_DEFAULTS.slip),
    ipv4PrefixLength: z.number().int().min(0).max(32).default(RRL_DEFAULTS.ipv4PrefixLength),
    ipv6PrefixLength: z.number().int().min(0).max(128).default(RRL_DEFAULTS.ipv6PrefixLength),
    /** Buckets kept (rounded up to a power of two): the memory is fixed at 30 bytes a bucket. */
    tableSize: z
      .number()
      .int()
      .min(1024)
      .max(1 << 24)
      .default(RRL_DEFAULTS.tableSize),
    /** Client networks never limited (CIDR, or one address). */
    exempt: z.array(exemptNetwork).default([]),
    /** Count and log what would be limited, but answer everything. */
    logOnly: z.boolean().default(RRL_DEFAULTS.logOnly),
  })
  .default({ ...RRL_DEFAULTS, exempt: [] });

export interface ExemptNetwork {
  readonly text: string;
  readonly family: 4 | 6;
  readonly bytes: Buffer;
  readonly prefixLength: number;
}

/** The parsed `dns.rrl`, every rate filled in. */
export interface RrlSettings {
  readonly enabled: boolean;
  readonly responsesPerSecond: number;
  readonly nxdomainsPerSecond: number;
  readonly nodataPerSecond: number;
  readonly referralsPerSecond: number;
  readonly errorsPerSecond: number;
  readonly window: number;
  readonly slip: number;
  readonly ipv4PrefixLength: number;
  readonly ipv6PrefixLength: number;
  readonly tableSize: number;
  readonly exempt: readonly ExemptNetwork[];
  readonly logOnly: boolean;
}

/** BIND: every other rate defaults to responses-per-second. */
export function rrlSettings(parsed: z.output<typeof rrlSchema>): RrlSettings {
  const rate = parsed.responsesPerSecond;
  return {
    ...parsed,
    nxdomainsPerSecond: parsed.nxdomainsPerSecond ?? rate,
    nodataPerSecond: parsed.nodataPerSecond ?? rate,
    referralsPerSecond: parsed.referralsPerSecond ?? rate,
    errorsPerSecond: parsed.errorsPerSecond ?? rate,
  };
}
