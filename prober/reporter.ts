// Pushes this prober's view to every DNS server each interval. Push, not pull, so a DNS server
// needs no list of probers and a report's age alone tells it whether the view is fresh. The
// first report goes out as soon as every target has been probed once, so a DNS server that
// restarts (and holds no state) has ours within one interval.
import type { z } from 'zod';
import type { HealthReport, healthReportSchema } from '../common/health-contract.js';
import type { Logger } from '../common/log.js';
import { startReportSender, type DestinationStatus } from '../common/report-sender.js';

export const REPORT_PATH = '/v1/health/reports';

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

export function startReporter(opts: ReporterOptions): Reporter {
  const { interval } = opts;
  let seq = 0;

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

  const sender = startReportSender({
    what: 'health',
    path: REPORT_PATH,
    reportTo: opts.reportTo,
    token: opts.token,
    // A report is worth nothing after its interval: the next one supersedes it.
    timeout: interval,
    build,
    // The DNS server's reply says nothing the prober acts on.
    readReply: () => undefined,
    onResult: (url, reply) => opts.onResult?.(url, reply !== undefined),
    log: opts.log,
  });

  let firstTimer: NodeJS.Timeout | undefined = setTimeout(() => begin(), interval);
  let everyInterval: NodeJS.Timeout | undefined;
  let stopped = false;
  const begin = (): void => {
    if (firstTimer === undefined || stopped) return;
    clearTimeout(firstTimer);
    firstTimer = undefined;
    sender.send();
    everyInterval = setInterval(() => sender.send(), interval);
  };

  return {
    get seq() {
      return seq;
    },
    ready: begin,
    // A state change is news: send it now rather than up to an interval later.
    sendNow: () => {
      if (everyInterval !== undefined) sender.send(true);
    },
    status: () => sender.status(),
    async stop() {
      stopped = true;
      clearTimeout(firstTimer);
      clearInterval(everyInterval);
      await sender.stop();
    },
  };
}
