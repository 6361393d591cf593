// A Prometheus histogram whose observe() is a few comparisons and adds, for hot paths
// (prom-client's Histogram hashes its labels on every call). At most one label, with values
// fixed up front; the registry reads it through the same get() shape prom-client metrics have.
import type { Registry } from 'prom-client';

type MetricValue = { labels: Record<string, string | number>; value: number; metricName: string };

/** A histogram's state as plain data (per series: bucket counts, sum, total). */
export interface HistogramSnapshot {
  readonly counts: number[][];
  readonly sums: number[];
  readonly totals: number[];
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: Float64Array[];
  private readonly sums: Float64Array;
  private readonly totals: Float64Array;
  private readonly series: readonly (Record<string, string> | null)[];
  /** Other processes' observations of the same histogram, added in when read. */
  remote: readonly HistogramSnapshot[] = [];

  /** Without `label`, one unlabelled series: observe(0, seconds). */
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    label?: { name: string; values: readonly string[] },
  ) {
    this.series = label ? label.values.map((v) => ({ [label.name]: v })) : [null];
    this.counts = this.series.map(() => new Float64Array(bounds.length + 1));
    this.sums = new Float64Array(this.series.length);
    this.totals = new Float64Array(this.series.length);
  }

  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
    return this;
  }

  /** `series` is the index of the label value (0 when unlabelled). */
  observe(series: number, seconds: number): void {
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    this.counts[series]![i]!++;
    this.sums[series]! += seconds;
    this.totals[series]!++;
  }

  snapshot(): HistogramSnapshot {
    return { counts: this.counts.map((c) => [...c]), sums: [...this.sums], totals: [...this.totals] };
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    const all = [this.snapshot(), ...this.remote];
    this.series.forEach((labels, s) => {
      let cumulative = 0;
      const total = all.reduce((n, h) => n + (h.totals[s] ?? 0), 0);
      const sum = all.reduce((n, h) => n + (h.sums[s] ?? 0), 0);
      this.bounds.forEach((le, i) => {
        cumulative += all.reduce((n, h) => n + (h.counts[s]?.[i] ?? 0), 0);
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: total, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...labels }, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: total, metricName: `${this.name}_count` });
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const c of this.counts) c.fill(0);
    this.sums.fill(0);
    this.totals.fill(0);
  }
}
