// The prober as a whole: load the config, probe every target on the scheduler (each failure
// confirmed by a retry, then through rise/fall), measure RTT to the busiest resolver networks
// (on their own timers, beside the scheduler), report to the DNS servers, and serve status and
// metrics on the control port when asked to.
import { startControlServer, type ControlServer } from '../common/control-server.js';
import { resolveControlToken } from '../common/control-token.js';
import type { HealthReport } from '../common/health-contract.js';
import type { HostPort } from '../common/host-port.js';
import { createLogger, type Logger } from '../common/log.js';
import { createRegistry } from '../common/metrics.js';
import { createChecks } from './checks/index.js';
import { loadProberConfig, type Target } from './config.js';
import { confirmed, hedgeDelay } from './confirm.js';
import { Hysteresis } from './hysteresis.js';
import { HealthMetrics } from './metrics.js';
import type { DestinationStatus } from '../common/report-sender.js';
import { startReporter } from './reporter.js';
import { startResolverList, type ResolverList, type ResolverSourceStatus } from './resolver-list.js';
import { startResolverRtt, type ResolverRtt, type ResolverRttStatus } from './resolver-rtt.js';
import { startScheduler } from './scheduler.js';
import { startCatchment, type Catchment } from './catchment.js';

export interface ProberOptions {
  configFile: string;
  /** This prober's PoP id (the vantage point). */
  pop?: string;
  /** Instead of `pop`: the vantage name of a prober outside the PoPs (health.catchment.vantages),
   *  which measures catchment only; a PoP's id here is the same as `pop`. */
  vantage?: string;
  /** Serve GET /v1/status and /metrics here (overrides health.control.listen; the CLI's --control-listen). */
  controlListen?: HostPort;
  /** For tests: where logs go (default stdout). */
  log?: Logger;
}

export interface TargetStatus {
  /** A PoP's id, or a checked CNAME member's (another CDN). */
  readonly pop: string;
  readonly kind: 'pop' | 'member';
  /** The PoP's edge URL, or the member's check URL. */
  readonly edge: string;
  readonly check: string;
  readonly enabled: boolean;
  readonly up: boolean;
  readonly rttMs: number | null;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
  readonly lastDetail: string | null;
  readonly lastProbeAt: string | null;
}

export interface ProberStatus {
  readonly vantage: string;
  readonly epoch: number;
  readonly configFile: string;
  readonly interval: number;
  readonly seq: number;
  readonly reportTo: readonly DestinationStatus[];
  readonly skipped: readonly string[];
  readonly targets: readonly TargetStatus[];
  /** RTT measurement to resolver networks; null when off (`latency.resolvers: 0` or no reportTo). */
  readonly latency: LatencyStatus | null;
  /** Which PoP answers each anycast address from here; null when the config has none. */
  readonly catchment: ReturnType<Catchment['status']> | null;
}

export interface LatencyStatus {
  readonly method: 'dns' | 'tcp';
  /** Time between probe starts (ms) for the current list. */
  readonly gapMs: number | null;
  /** Per DNS server: the last list pulled from it. */
  readonly sources: readonly ResolverSourceStatus[];
  /** The networks being measured, busiest first. */
  readonly resolvers: readonly ResolverRttStatus[];
}

export interface Prober {
  /** The control server, when `controlListen` or health.control.listen was given. */
  readonly control: ControlServer | undefined;
  status(): ProberStatus;
  close(): Promise<void>;
}

interface TargetState {
  readonly target: Target;
  readonly hysteresis: Hysteresis;
  lastDetail: string | undefined;
  lastProbeAt: Date | undefined;
}

export async function startProber(opts: ProberOptions): Promise<Prober> {
  if ((opts.pop === undefined) === (opts.vantage === undefined))
    throw new Error('startProber: give exactly one of pop and vantage');
  const config = await loadProberConfig(
    opts.configFile,
    opts.pop !== undefined ? { pop: opts.pop } : { vantage: opts.vantage! },
  );
  const log = opts.log ?? createLogger({ service: 'health' });
  const vantage = config.vantage;
  // Per prober rather than per process, so a prober restarted in-process starts a new epoch too.
  const epoch = Date.now();
  const token = resolveControlToken({ env: process.env, tokenFile: config.tokenFile });
  const registry = createRegistry('health');
  const metrics = new HealthMetrics(
    registry,
    config.targets.map((t) => t.pop),
    config.reportTo,
  );
  const checks = createChecks();
  const probe = confirmed(checks.probe);

  if (config.skipped.length > 0) log.warn({ vantage, pops: config.skipped }, 'PoPs without an edge URL are not probed');
  if (config.reportTo.length === 0)
    log.warn({ vantage }, 'health.reportTo is empty: probing without reporting to any DNS server');

  const states: TargetState[] = config.targets.map((target) => ({
    target,
    hysteresis: new Hysteresis(target.settings.rise, target.settings.fall),
    lastDetail: undefined,
    lastProbeAt: undefined,
  }));

  const reportTargets = (): HealthReport['targets'] =>
    states.map(({ target, hysteresis, lastDetail }) => ({
      pop: target.pop,
      up: hysteresis.up,
      rttMs: roundRtt(hysteresis.rttMs),
      ...(lastDetail !== undefined && { detail: lastDetail }),
    }));

  // Latency measurement runs beside the edge probes, on its own timers and sockets.
  const { latency } = config;
  let resolverList: ResolverList | undefined;
  let resolverRtt: ResolverRtt | undefined;
  if (latency.resolvers > 0 && config.reportTo.length > 0) {
    const rtt = startResolverRtt({
      ...latency,
      interval: config.interval,
      onProbe: (ok) => metrics.resolverProbed(ok),
    });
    metrics.resolverNetworksFrom(() => rtt.counts());
    resolverRtt = rtt;
    resolverList = startResolverList({
      reportTo: config.reportTo,
      limit: latency.resolvers,
      refresh: latency.refresh,
      token,
      log,
      onList: (list) => rtt.setTargets(list),
      onResult: (url, ok) => metrics.resolverListPulled(url, ok),
    });
  }

  // Who answers each anycast address from here: its own timer, sockets and connections.
  const catchment =
    config.catchment.addresses.length > 0
      ? startCatchment({
          addresses: config.catchment.addresses,
          pops: config.catchment.pops,
          interval: config.catchment.interval,
          timeout: config.catchment.timeout,
        })
      : undefined;

  const reporter = startReporter({
    vantage,
    epoch,
    interval: config.interval,
    reportTo: config.reportTo,
    token,
    targets: reportTargets,
    ...(resolverRtt && { resolvers: () => resolverRtt.figures() }),
    ...(catchment && { catchment: () => catchment.report() }),
    log,
    onResult: (url, ok) => metrics.reported(url, ok),
  });

  let unprobed = states.length;
  const probeOnce = async (state: TargetState, signal: AbortSignal): Promise<void> => {
    const { target, hysteresis } = state;
    const result = await probe(target, target.settings, signal, hedgeDelay(target.settings.timeout, hysteresis.rttMs));
    // Stopping aborts probes; that says nothing about the edge.
    if (signal.aborted) return;
    const first = state.lastProbeAt === undefined;
    const from = hysteresis.up ? 'up' : 'down';
    const changed = hysteresis.record(result.ok, result.rttMs);
    state.lastDetail = result.detail;
    state.lastProbeAt = new Date();
    metrics.probed(
      target.pop,
      result.ok ? (result.attempts === 1 ? 'ok' : 'retried') : 'fail',
      hysteresis.up,
      hysteresis.rttMs,
    );
    if (changed) {
      const to = hysteresis.up ? 'up' : 'down';
      metrics.stateChanged(target.pop, to);
      const line = { vantage, pop: target.pop, from, to, detail: result.detail };
      if (to === 'down') log.warn(line, 'health state change');
      else log.info(line, 'health state change');
      reporter.sendNow();
    }
    if (first && --unprobed === 0) reporter.ready();
  };

  const scheduler = startScheduler(
    states.map((state) => ({
      id: state.target.pop,
      interval: state.target.settings.interval,
      // A target in transition is probed at fastInterval until rise/fall decides (see confirm.ts).
      nextInterval: () =>
        state.hysteresis.inTransition ? state.target.settings.fastInterval : state.target.settings.interval,
      run: (signal) => probeOnce(state, signal),
    })),
    {
      concurrency: config.concurrency,
      onError: (task, err) => log.error({ err, pop: task.id }, 'probe failed unexpectedly'),
    },
  );
  if (states.length === 0) reporter.ready();

  const status = (): ProberStatus => ({
    vantage,
    epoch,
    configFile: config.file,
    interval: config.interval,
    seq: reporter.seq,
    reportTo: reporter.status(),
    skipped: config.skipped,
    targets: states.map(({ target, hysteresis, lastDetail, lastProbeAt }) => ({
      pop: target.pop,
      kind: target.kind,
      edge: target.edge.href,
      check: target.settings.check.type,
      enabled: target.enabled,
      ...hysteresis.snapshot(),
      rttMs: roundRtt(hysteresis.rttMs),
      lastDetail: lastDetail ?? null,
      lastProbeAt: lastProbeAt?.toISOString() ?? null,
    })),
    latency:
      resolverList && resolverRtt
        ? {
            method: latency.method,
            gapMs: Number.isFinite(resolverRtt.gapMs) ? Math.round(resolverRtt.gapMs * 100) / 100 : null,
            sources: resolverList.status(),
            resolvers: resolverRtt.status(),
          }
        : null,
    catchment: catchment?.status() ?? null,
  });

  let control: ControlServer | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await Promise.all([resolverList?.stop(), resolverRtt?.stop(), catchment?.stop()]);
      await scheduler.stop();
      await reporter.stop();
      await checks.close();
      await control?.close();
    })());

  const controlListen = opts.controlListen ?? config.controlListen;
  if (controlListen) {
    try {
      control = await startControlServer({
        ...controlListen,
        token,
        routes: [
          { method: 'GET', path: '/v1/status', handle: () => ({ status: 200, body: status() }) },
          { method: 'GET', path: '/healthz', handle: () => ({ status: 200, body: { ok: true } }) },
        ],
        registry,
        log,
      });
    } catch (e) {
      await close();
      throw e;
    }
  }

  log.info(
    {
      vantage,
      ...(!config.inPop && { outsidePops: true }),
      targets: states.length,
      ...(catchment && { catchment: config.catchment.addresses.map((a) => `${a.address} (${a.serves})`) }),
      reportTo: config.reportTo,
      ...(resolverRtt && {
        latency: { resolvers: latency.resolvers, method: latency.method, port: latency.port, rate: latency.rate },
      }),
      ...(control && { control: control.url }),
    },
    'meridian health probing',
  );
  return { control, status, close };
}

/** Hundredths of a millisecond: more digits are noise from the moving average. */
function roundRtt(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 100) / 100;
}
