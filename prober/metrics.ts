// The prober's Prometheus series. Probes happen a few times a second at most, so plain labelled
// prom-client metrics are cheap enough; every series is created at start so rate() and alerts
// see a 0 before the first event rather than no series at all.
import { Counter, Gauge, type Registry } from 'prom-client';

/** ok: first attempt passed; retried: passed on the confirming retry; fail: both failed. */
export type ProbeOutcome = 'ok' | 'retried' | 'fail';
const OUTCOMES: readonly ProbeOutcome[] = ['ok', 'retried', 'fail'];

export class HealthMetrics {
  private readonly probes: Counter<'pop' | 'result'>;
  private readonly changes: Counter<'pop' | 'to'>;
  private readonly rtt: Gauge<'pop'>;
  private readonly upGauge: Gauge<'pop'>;
  private readonly reports: Counter<'url' | 'result'>;
  private readonly resolverProbes: Counter<'result'>;
  private readonly resolverLists: Counter<'url' | 'result'>;
  /** Read at scrape time (counting measured networks is a walk over the list). */
  private resolverCounts: () => { listed: number; measured: number } = () => ({ listed: 0, measured: 0 });

  constructor(registry: Registry, pops: readonly string[], reportTo: readonly string[]) {
    const registers = [registry];
    this.probes = new Counter({
      name: 'meridian_health_probes_total',
      help: 'Probes by target PoP and result (ok, retried: ok on the confirming retry, fail)',
      labelNames: ['pop', 'result'],
      registers,
    });
    this.changes = new Counter({
      name: 'meridian_health_state_changes_total',
      help: 'Up/down state changes by target PoP and new state',
      labelNames: ['pop', 'to'],
      registers,
    });
    this.rtt = new Gauge({
      name: 'meridian_health_rtt_ms',
      help: 'Moving average of successful probe RTTs (ms) by target PoP',
      labelNames: ['pop'],
      registers,
    });
    this.upGauge = new Gauge({
      name: 'meridian_health_up',
      help: '1 when this vantage sees the target PoP up, else 0',
      labelNames: ['pop'],
      registers,
    });
    this.reports = new Counter({
      name: 'meridian_health_reports_total',
      help: 'Report deliveries by DNS server URL and result',
      labelNames: ['url', 'result'],
      registers,
    });
    for (const pop of pops) {
      for (const result of OUTCOMES) this.probes.inc({ pop, result }, 0);
      for (const to of ['up', 'down']) this.changes.inc({ pop, to }, 0);
      this.upGauge.set({ pop }, 1);
    }
    this.resolverProbes = new Counter({
      name: 'meridian_health_resolver_probes_total',
      help: 'RTT probes to resolver networks by result (ok, fail)',
      labelNames: ['result'],
      registers,
    });
    this.resolverLists = new Counter({
      name: 'meridian_health_resolver_list_pulls_total',
      help: 'Resolver list pulls (GET /v1/resolvers) by DNS server URL and result',
      labelNames: ['url', 'result'],
      registers,
    });
    const counts = (): { listed: number; measured: number } => this.resolverCounts();
    new Gauge({
      name: 'meridian_health_resolver_networks',
      help: 'Resolver networks: listed (to measure), measured (with an RTT figure)',
      labelNames: ['state'],
      registers,
      collect() {
        const { listed, measured } = counts();
        this.set({ state: 'listed' }, listed);
        this.set({ state: 'measured' }, measured);
      },
    });
    for (const url of reportTo) {
      for (const result of ['ok', 'fail']) {
        this.reports.inc({ url, result }, 0);
        this.resolverLists.inc({ url, result }, 0);
      }
    }
    for (const result of ['ok', 'fail']) this.resolverProbes.inc({ result }, 0);
  }

  resolverProbed(ok: boolean): void {
    this.resolverProbes.inc({ result: ok ? 'ok' : 'fail' });
  }

  resolverListPulled(url: string, ok: boolean): void {
    this.resolverLists.inc({ url, result: ok ? 'ok' : 'fail' });
  }

  /** Where `meridian_health_resolver_networks` comes from. */
  resolverNetworksFrom(counts: () => { listed: number; measured: number }): void {
    this.resolverCounts = counts;
  }

  probed(pop: string, result: ProbeOutcome, up: boolean, rttMs: number | null): void {
    this.probes.inc({ pop, result });
    this.upGauge.set({ pop }, up ? 1 : 0);
    if (rttMs !== null) this.rtt.set({ pop }, rttMs);
  }

  stateChanged(pop: string, to: 'up' | 'down'): void {
    this.changes.inc({ pop, to });
  }

  reported(url: string, ok: boolean): void {
    this.reports.inc({ url, result: ok ? 'ok' : 'fail' });
  }
}
