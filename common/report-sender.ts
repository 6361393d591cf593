// Delivers one kind of report (a prober's health, an announcer's prefixes) to every DNS server's
// control port: the HTTP agent, the bearer token, one delivery in flight per server, and error
// logs limited to one per window. What a report says and what a reply means stay with the
// caller (prober/reporter.ts, anycast/reporter.ts).
//
// One delivery in flight per server: a slow server gets the next report, not a queue of them.
// A change that comes while a delivery is in flight is not dropped: a fresh report goes out the
// moment that delivery ends, not an interval later.
import { Agent, request } from 'undici';
import { describeError } from './describe-error.js';
import type { Logger } from './log.js';
import { readHead } from './read-head.js';

/** An unreachable DNS server is logged once per this many ms, not every interval. */
export const FAILURE_LOG_INTERVAL_MS = 10_000;

/** How much of a reply body is read: a reply is small; a hostile or wrong server's is cut. */
const REPLY_LIMIT = 4096;

export interface ReportSenderOptions<Reply> {
  /** For log lines: "health report not delivered". */
  readonly what: string;
  /** Path on each control URL, e.g. /v1/health/reports. */
  readonly path: string;
  /** Control URLs of the DNS servers. */
  readonly reportTo: readonly string[];
  readonly token?: string | undefined;
  /** A report is worth nothing once the next one is due: this bounds each delivery. */
  readonly timeout: number;
  /** Builds the body to send (called once per send, only when some server will get it). */
  build(): string;
  /** Reads a 2xx reply; throws with a reason when it is not what the caller expects. */
  readReply(text: string): Reply;
  /** After each delivery attempt; must not throw. `reply` is set on success. */
  onResult?(url: string, reply: Reply | undefined): void;
  readonly log: Logger;
}

export interface DestinationStatus {
  readonly url: string;
  readonly lastDeliveredAt: string | null;
  readonly lastError: string | null;
}

export interface ReportSender {
  /** Sends a report to every server; `change` marks news that must not wait for a busy server. */
  send(change?: boolean): void;
  status(): DestinationStatus[];
  /**
   * Stops sending. `finish`: let the deliveries in flight end first (each bounded by the
   * timeout), for a last report that must arrive; otherwise they are abandoned.
   */
  stop(finish?: boolean): Promise<void>;
}

interface Destination {
  readonly url: string;
  readonly endpoint: string;
  busy: Promise<void> | undefined;
  /** A change came while `busy`: send a fresh report as soon as that delivery ends. */
  changed: boolean;
  lastDeliveredAt: Date | null;
  lastError: string | null;
  lastLoggedAt: number;
  notLogged: number;
}

export function startReportSender<Reply>(opts: ReportSenderOptions<Reply>): ReportSender {
  const { timeout, log } = opts;
  const agent = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout });
  const stopping = new AbortController();
  let stopped = false;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const destinations: Destination[] = opts.reportTo.map((url) => ({
    url,
    endpoint: url.replace(/\/+$/, '') + opts.path,
    busy: undefined,
    changed: false,
    lastDeliveredAt: null,
    lastError: null,
    lastLoggedAt: -Infinity,
    notLogged: 0,
  }));

  const deliver = async (dest: Destination, body: string): Promise<void> => {
    try {
      const res = await request(dest.endpoint, {
        method: 'POST',
        dispatcher: agent,
        headers,
        body,
        signal: AbortSignal.any([AbortSignal.timeout(timeout), stopping.signal]),
      });
      const text = await readHead(res.body, REPLY_LIMIT);
      if (res.statusCode < 200 || res.statusCode > 299) {
        const reason = text.trim().slice(0, 300);
        throw new Error(`HTTP ${res.statusCode}${reason ? `: ${reason}` : ''}`);
      }
      const reply = opts.readReply(text);
      if (dest.lastError !== null) log.info({ url: dest.url }, `${opts.what} reports delivered again`);
      dest.lastDeliveredAt = new Date();
      dest.lastError = null;
      opts.onResult?.(dest.url, reply);
    } catch (err) {
      if (stopping.signal.aborted) return;
      dest.lastError = describeError(err, timeout);
      opts.onResult?.(dest.url, undefined);
      const now = performance.now();
      if (now - dest.lastLoggedAt < FAILURE_LOG_INTERVAL_MS) {
        dest.notLogged++;
        return;
      }
      log.warn(
        { url: dest.url, error: dest.lastError, failuresNotLogged: dest.notLogged },
        `${opts.what} report not delivered`,
      );
      dest.lastLoggedAt = now;
      dest.notLogged = 0;
    }
  };

  const push = (dest: Destination, body: string): void => {
    dest.busy = deliver(dest, body).finally(() => {
      dest.busy = undefined;
      // After stop(true) a change still goes out: it may be the last word (every prefix withdrawn).
      if (!dest.changed || stopping.signal.aborted) return;
      dest.changed = false;
      push(dest, opts.build());
    });
  };

  return {
    send(change = false) {
      if (stopped) return;
      let body: string | undefined;
      for (const dest of destinations) {
        if (dest.busy) dest.changed ||= change;
        else push(dest, (body ??= opts.build()));
      }
    },
    status: () =>
      destinations.map((d) => ({
        url: d.url,
        lastDeliveredAt: d.lastDeliveredAt?.toISOString() ?? null,
        lastError: d.lastError,
      })),
    async stop(finish = false) {
      stopped = true;
      if (!finish) stopping.abort();
      // A delivery that ends may start the follow-up for a change: wait until none is in flight.
      while (destinations.some((d) => d.busy)) await Promise.allSettled(destinations.map((d) => d.busy));
      stopping.abort();
      await agent.close();
    },
  };
}
