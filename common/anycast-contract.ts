// The anycast contract between announcers and DNS servers (the twin of health-contract.ts): an
// announcer pushes its per-prefix state to every DNS server each interval, and the reply tells
// it the PoP's admin override (a drained PoP withdraws its routes). The DNS server answers a
// pool with `policy: anycast` from these reports: an anycast address is answered while a fresh
// report says some PoP announces the prefix that holds it.
import { z } from 'zod';

export const ANYCAST_REPORT_PATH = '/v1/anycast/reports';

export const anycastReportSchema = z.strictObject({
  /** The announcer's PoP. */
  pop: z.string().min(1),
  /** The announcer's start time (ms): a restarted announcer starts a new epoch. */
  epoch: z.number().int().min(0),
  /** Increases with every report of an epoch; older or replayed reports are ignored. */
  seq: z.number().int().min(0),
  /** The announcer's report interval (ms), so the DNS server can tell when a report is stale. */
  interval: z.number().int().min(1),
  prefixes: z
    .array(
      z.strictObject({
        prefix: z.string().min(1).max(64),
        /** What the announcer asks BIRD for: true while the route should be announced. */
        announced: z.boolean(),
        /** Why, in words (service down, held down by damping, drained, ...). */
        reason: z.string().max(500),
        penalty: z.number().min(0),
        suppressed: z.boolean(),
        holdDownMs: z.number().min(0),
        flaps: z.number().int().min(0),
        /** The addresses of the prefix this PoP serves. */
        addresses: z
          .array(
            z.strictObject({ address: z.string().min(1).max(64), serves: z.enum(['dns', 'edge']), up: z.boolean() }),
          )
          .max(1000),
      }),
    )
    .max(1000),
});
export type AnycastReport = z.output<typeof anycastReportSchema>;

/** What the DNS server answers an accepted report with. */
export const anycastReplySchema = z.object({
  accepted: z.literal(true),
  /** The PoP's admin override on this DNS server: drain and down both mean withdraw. */
  override: z.enum(['drain', 'down']).nullable(),
});
export type AnycastReply = z.output<typeof anycastReplySchema>;
