// Pushes this prober's view to every DNS server each interval. Push, not pull, so a DNS server
// needs no list of probers and a report's age alone tells it whether the view is fresh. The
// first report goes out as soon as every target has been probed once, so a DNS server that
// restarts (and holds no state) has ours within one interval.
import { Agent, request } from 'undici';
import type { z } from 'zod';
import type { HealthReport, healthReportSchema } from '../common/health-contract.js';
import type { Logger } from '../common/log.js';
import { describeError } from './checks/types.js';
import { readHead } from './read-head.js';

export const REPORT_PATH = '/v1/health/reports';

/** A DNS server that stays unreachable is logged once per this many ms, not every interval. */
export const FAILURE_LOG_INTERVAL_MS = 10_000;

export interface ReporterOptions {
  readonly vantage: string;
  /** The prober's start time (ms); a new epoch tells DNS servers to reset our sequence. */
  readonly epoch: number;
  readonly interval: number;
  /** Control URLs of the DNS servers. */
  readonly reportTo: readonly string[];
  readonly token?: string | undefined;
  /** The current state of every target, read when a report is built. */
  targets(): HealthReport['targets'];
  /** RTTs to resolver networks, read when a report is built (see resolver-rtt.ts). */
  resolvers?(): HealthReport['resolvers'];
  /** Which PoP answers each anycast address from here, read when a report is built (see catchment.ts). */
  catchment?(): HealthReport['catchment'];
  readonly log: Logger;
  /** Called once per delivery attempt (for metrics); must not throw. */
  onResult?(url: string, ok: boolean): void;
}

export interface DestinationStatus {
  readonly url: string;
  readonly lastDeliveredAt: string | null;
  readonly lastError: string | null;
}

export interface Reporter {
  /** Sequence number of the last report built (0 before the first). */
  readonly seq: number;
  /** Every target has been probed once: send the first report now if it has not gone out yet. */
  ready(): void;
  status(): DestinationStatus[];
  /** Stops reporting and abandons deliveries in flight. */
  stop(): Promise<void>;
  /** Sends a report at once (a target changed state); no-op before the first report. */
  sendNow(): void;
}

interface Destination {
  readonly url: string;
  readonly endpoint: string;
  /** The delivery in flight; a DNS server that is slow gets the next report, not a queue of them. */
  busy: Promise<void> | undefined;
  /** A state change came while `busy`: send a fresh report as soon as that delivery ends. */
  changed: boolean;
  lastDeliveredAt: Date | null;
  lastError: string | null;
  lastLoggedAt: number;
  notLogged: number;
}

export function startReporter(opts: ReporterOptions): Reporter {
  const { interval, log } = opts;
  // A report is worth nothing after its interval: the next one supersedes it.
  const timeout = interval;
  const agent = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout });
  const stopping = new AbortController();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const destinations: Destination[] = opts.reportTo.map((url) => ({
    url,
    endpoint: url.replace(/\/+$/, '') + REPORT_PATH,
    busy: undefined,
    changed: false,
    lastDeliveredAt: null,
    lastError: null,
    lastLoggedAt: -Infinity,
    notLogged: 0,
  }));
  let seq = 0;

  const deliver = async (dest: Destination, body: string): Promise<void> => {
    try {
      const res = await request(dest.endpoint, {
        method: 'POST',
        dispatcher: agent,
        headers,
        body,
        signal: AbortSignal.any([AbortSignal.timeout(timeout), stopping.signal]),
      });
      if (res.statusCode < 200 || res.statusCode > 299) {
        const text = (await readHead(res.body, 300)).trim();
        throw new Error(`HTTP ${res.statusCode}${text ? `: ${text}` : ''}`);
      }
      await res.body.dump();
      if (dest.lastError !== null) log.info({ url: dest.url }, 'health reports delivered again');
      dest.lastDeliveredAt = new Date();
      dest.lastError = null;
      opts.onResult?.(dest.url, true);
    } catch (err) {
      if (stopping.signal.aborted) return;
      dest.lastError = describeError(err, timeout);
      opts.onResult?.(dest.url, false);
      const now = performance.now();
      if (now - dest.lastLoggedAt < FAILURE_LOG_INTERVAL_MS) {
        dest.notLogged++;
        return;
      }
      log.warn(
        { url: dest.url, error: dest.lastError, seq, failuresNotLogged: dest.notLogged },
        'health report not delivered',
      );
      dest.lastLoggedAt = now;
      dest.notLogged = 0;
    }
  };

  const build = (): string => {
    const report: z.input<typeof healthReportSchema> = {
      vantage: opts.vantage,
      epoch: opts.epoch,
      seq: ++seq,
      interval,
      targets: opts.targets(),
    };
    // `resolvers` is optional: left out while nothing is measured (or measuring is off), which
    // also keeps those reports acceptable to DNS servers that predate the field.
    const resolvers = opts.resolvers?.() ?? [];
    if (resolvers.length > 0) report.resolvers = resolvers;
    // Likewise left out until the first catchment round, or when there is no anycast address.
    const catchment = opts.catchment?.();
    if (catchment !== undefined) report.catchment = catchment;
    return JSON.stringify(report);
  };

  // A periodic report to a busy server is skipped (the next one supersedes it). A state change
  // is not: it goes out the moment the delivery in flight ends, not an interval later.
  const push = (dest: Destination, body: string): void => {
    dest.busy = deliver(dest, body).finally(() => {
      dest.busy = undefined;
      if (!dest.changed || stopping.signal.aborted) return;
      dest.changed = false;
      push(dest, build());
    });
  };

  const send = (change = false): void => {
    let body: string | undefined;
    for (const dest of destinations) {
      if (dest.busy) dest.changed ||= change;
      else push(dest, (body ??= build()));
    }
  };

  let firstTimer: NodeJS.Timeout | undefined = setTimeout(() => begin(), interval);
  let everyInterval: NodeJS.Timeout | undefined;
  const begin = (): void => {
    if (firstTimer === undefined || stopping.signal.aborted) return;
    clearTimeout(firstTimer);
    firstTimer = undefined;
    send();
    everyInterval = setInterval(() => send(), interval);
  };

  return {
    get seq() {
      return seq;
    },
    ready: begin,
    // A state change is news: send it now rather than up to an interval later.
    sendNow: () => {
      if (everyInterval !== undefined) send(true);
    },
    status: () =>
      destinations.map((d) => ({
        url: d.url,
        lastDeliveredAt: d.lastDeliveredAt?.toISOString() ?? null,
        lastError: d.lastError,
      })),
    async stop() {
      stopping.abort();
      clearTimeout(firstTimer);
      clearInterval(everyInterval);
      await Promise.allSettled(destinations.map((d) => d.busy));
      await agent.close();
    },
  };
}
