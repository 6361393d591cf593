// A Prometheus histogram whose observe() is a few comparisons and adds, for hot paths
// (prom-client's Histogram hashes its labels on every call). At most one label, with values
// fixed up front; the registry reads it through the same get() shape prom-client metrics have.
import type { Registry } from 'prom-client';

type MetricValue = { labels: Record<string, string | number>; value: number; metricName: string };

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly counts: Float64Array[];
  private readonly sums: Float64Array;
  private readonly totals: Float64Array;
  private readonly series: readonly (Record<string, string> | null)[];

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

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    this.series.forEach((labels, s) => {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += this.counts[s]![i]!;
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: '+Inf' }, value: this.totals[s]!, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...labels }, value: this.sums[s]!, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: this.totals[s]!, metricName: `${this.name}_count` });
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const c of this.counts) c.fill(0);
    this.sums.fill(0);
    this.totals.fill(0);
  }
}
