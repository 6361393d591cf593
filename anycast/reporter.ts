// Pushes this announcer's per-prefix state to every DNS server each interval (and at once when
// it changes), as the prober pushes health: the DNS servers answer `policy: anycast` pools from
// it. The reply carries the PoP's admin override, which is how `meridian pop drain` reaches the
// announcer: no extra endpoint to poll, and the drain arrives within one interval.
//
// Several DNS servers may disagree for a moment (an override set on one before the fleet
// shares it): the PoP counts as drained when any server that answered says so, since a planned
// drain must win over a server that has not heard of it yet. When no server answers, the last
// override known holds: a DNS outage must never move routes by itself.
import { Agent, request } from 'undici';
import { ANYCAST_REPORT_PATH, anycastReplySchema, type AnycastReport } from '../common/anycast-contract.js';
import type { Logger } from '../common/log.js';
import type { PrefixStatus } from './announcer.js';
import { describeError } from '../prober/checks/types.js';
import { readHead } from '../prober/read-head.js';

export type Override = 'drain' | 'down' | null;

/** An unreachable DNS server is logged once per this many ms, not every interval. */
const FAILURE_LOG_INTERVAL_MS = 10_000;

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

export interface DestinationStatus {
  readonly url: string;
  readonly lastDeliveredAt: string | null;
  readonly lastError: string | null;
  /** What this server last said of the PoP's override. */
  readonly override: Override | undefined;
}

export interface AnycastReporter {
  /** Sends a report now (a prefix changed state). */
  sendNow(): void;
  readonly override: Override;
  status(): DestinationStatus[];
  stop(): Promise<void>;
}

interface Destination {
  readonly url: string;
  readonly endpoint: string;
  busy: boolean;
  lastDeliveredAt: Date | null;
  lastError: string | null;
  lastLoggedAt: number;
  override: Override | undefined;
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
  const timeout = interval;
  const agent = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout });
  const stopping = new AbortController();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const destinations: Destination[] = opts.reportTo.map((url) => ({
    url,
    endpoint: url.replace(/\/+$/, '') + ANYCAST_REPORT_PATH,
    busy: false,
    lastDeliveredAt: null,
    lastError: null,
    lastLoggedAt: -Infinity,
    override: undefined,
  }));
  let seq = 0;
  let override: Override = null;
  const inFlight = new Set<Promise<void>>();

  // Drained by any server that answered; with none answering, unchanged.
  const settle = (): void => {
    const said = destinations.map((d) => d.override).filter((o): o is Override => o !== undefined);
    if (said.length === 0) return;
    const next: Override = said.includes('drain') ? 'drain' : said.includes('down') ? 'down' : null;
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

  const deliver = async (dest: Destination, body: string): Promise<void> => {
    try {
      const res = await request(dest.endpoint, {
        method: 'POST',
        dispatcher: agent,
        headers,
        body,
        signal: AbortSignal.any([AbortSignal.timeout(timeout), stopping.signal]),
      });
      const text = await readHead(res.body, 4096);
      if (res.statusCode < 200 || res.statusCode > 299)
        throw new Error(`HTTP ${res.statusCode}${text.trim() ? `: ${text.trim().slice(0, 300)}` : ''}`);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const reply = anycastReplySchema.safeParse(json);
      if (!reply.success)
        throw new Error('the reply is not an anycast report reply (is it a Meridian DNS control port?)');
      if (dest.lastError !== null) log.info({ url: dest.url }, 'anycast reports delivered again');
      dest.lastDeliveredAt = new Date();
      dest.lastError = null;
      dest.override = reply.data.override;
      settle();
    } catch (err) {
      if (stopping.signal.aborted) return;
      // Its old word no longer counts; the servers that still answer decide (or, if none, the last override holds).
      dest.override = undefined;
      dest.lastError = describeError(err, timeout);
      const now = performance.now();
      if (now - dest.lastLoggedAt < FAILURE_LOG_INTERVAL_MS) return;
      log.warn({ url: dest.url, error: dest.lastError, seq }, 'anycast report not delivered');
      dest.lastLoggedAt = now;
    }
  };

  const send = (): void => {
    if (stopping.signal.aborted) return;
    const body = JSON.stringify({
      pop: opts.pop,
      epoch: opts.epoch,
      seq: ++seq,
      interval,
      prefixes: opts.prefixes(),
    } satisfies AnycastReport);
    for (const dest of destinations) {
      // A slow server gets the next report, not a queue of them.
      if (dest.busy) continue;
      dest.busy = true;
      const p = deliver(dest, body).finally(() => {
        dest.busy = false;
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
  };

  const timer = setInterval(send, interval);
  send();

  return {
    sendNow: send,
    get override() {
      return override;
    },
    status: () =>
      destinations.map((d) => ({
        url: d.url,
        lastDeliveredAt: d.lastDeliveredAt?.toISOString() ?? null,
        lastError: d.lastError,
        override: d.override,
      })),
    // Lets the reports in flight finish (each bounded by the interval): the last one says every
    // prefix is withdrawn, so the DNS servers stop answering this PoP's anycast at once.
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
      stopping.abort();
      await agent.close();
    },
  };
}
