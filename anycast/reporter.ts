// Pushes this announcer's per-prefix state to every DNS server each interval (and at once when
// it changes), as the prober pushes health: the DNS servers answer `policy: anycast` pools from
// it. The reply carries the PoP's admin override, which is how `meridian pop drain` reaches the
// announcer: no extra endpoint to poll, and the drain arrives within one interval.
//
// Several DNS servers may disagree for a moment (an override set on one before the fleet
// shares it): the PoP counts as drained when any server that answered says so, since a planned
// drain must win over a server that has not heard of it yet. When no server answers, the last
// override known holds: a DNS outage must never move routes by itself.
import {
  ANYCAST_REPORT_PATH,
  anycastReplySchema,
  type AnycastReply,
  type AnycastReport,
} from '../common/anycast-contract.js';
import type { Logger } from '../common/log.js';
import { startReportSender, type DestinationStatus } from '../common/report-sender.js';
import type { PrefixStatus } from './announcer.js';

export type Override = 'drain' | 'down' | null;

export interface AnycastReporterOptions {
  readonly pop: string;
  readonly epoch: number;
  readonly interval: number;
  /** Control URLs of the DNS servers. */
  readonly reportTo: readonly string[];
  readonly token?: string | undefined;
  /** The current state of every prefix, read when a report is built. */
  prefixes(): AnycastReport['prefixes'];
  /** Called when the override the DNS servers give this PoP changes. */
  onOverride(override: Override): void;
  readonly log: Logger;
}

export interface AnycastDestinationStatus extends DestinationStatus {
  /** What this server last said of the PoP's override. */
  readonly override: Override | undefined;
}

export interface AnycastReporter {
  /** Sends a report now (a prefix changed state). */
  sendNow(): void;
  readonly override: Override;
  status(): AnycastDestinationStatus[];
  /** Stops, letting the reports in flight arrive (each bounded by the interval). */
  stop(): Promise<void>;
}

/** The announcer's status as the contract carries it (reasons cut to the contract's 500 characters). */
export function reportedPrefixes(status: readonly PrefixStatus[]): AnycastReport['prefixes'] {
  return status.map(({ prefix, announced, reason, damping, addresses }) => ({
    prefix,
    announced,
    reason: reason.slice(0, 500),
    penalty: Math.round(damping.penalty),
    suppressed: damping.suppressed,
    holdDownMs: damping.holdDownMs,
    flaps: damping.flaps,
    addresses: addresses.map(({ address, serves, up }) => ({ address, serves, up })),
  }));
}

export function startAnycastReporter(opts: AnycastReporterOptions): AnycastReporter {
  const { interval, log } = opts;
  let seq = 0;
  let override: Override = null;
  /** What each server last said of the override; a server that stopped answering says nothing. */
  const said = new Map<string, Override>();

  // Drained by any server that answered; with none answering, unchanged.
  const settle = (): void => {
    if (said.size === 0) return;
    const words = [...said.values()];
    const next: Override = words.includes('drain') ? 'drain' : words.includes('down') ? 'down' : null;
    if (next === override) return;
    override = next;
    log.info(
      { pop: opts.pop, override: next ?? 'none' },
      next
        ? 'the DNS servers say this PoP is drained: withdrawing its anycast routes'
        : 'the DNS servers lifted the drain',
    );
    opts.onOverride(next);
  };

  const sender = startReportSender<AnycastReply>({
    what: 'anycast',
    path: ANYCAST_REPORT_PATH,
    reportTo: opts.reportTo,
    token: opts.token,
    timeout: interval,
    build: () =>
      JSON.stringify({
        pop: opts.pop,
        epoch: opts.epoch,
        seq: ++seq,
        interval,
        prefixes: opts.prefixes(),
      } satisfies AnycastReport),
    readReply: (text) => {
      const reply = anycastReplySchema.safeParse(parseJson(text));
      if (!reply.success)
        throw new Error('the reply is not an anycast report reply (is it a Meridian DNS control port?)');
      return reply.data;
    },
    onResult: (url, reply) => {
      // A server that failed loses its word: the servers that still answer decide (or, if
      // none, the last override holds).
      if (reply === undefined) said.delete(url);
      else said.set(url, reply.override);
      settle();
    },
    log,
  });

  const timer = setInterval(() => sender.send(), interval);
  sender.send();

  return {
    sendNow: () => sender.send(true),
    get override() {
      return override;
    },
    status: () => sender.status().map((d) => ({ ...d, override: said.get(d.url) })),
    // Lets the reports in flight finish: the last one says every prefix is withdrawn, so the
    // DNS servers stop answering this PoP's anycast at once.
    async stop() {
      clearInterval(timer);
      await sender.stop(true);
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
