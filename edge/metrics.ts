// Edge counters in typed arrays on the hot path (an index and an add) and turned into
// Prometheus series only when /metrics is scraped, like dns/server/metrics.ts. With serving
// workers, the primary's series are its own counters plus the workers' snapshots (setRemote).
import { FastHistogram, type HistogramSnapshot } from '../common/histogram.js';
import { Counter, Gauge, type Registry } from 'prom-client';

/** How a response was produced; the `cache` label. */
export const OUTCOMES = [
  'hit',
  'stale',
  'collapsed',
  'revalidated',
  'miss',
  'pass',
  'bypass',
  'error',
  'local',
] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const Outcome = Object.fromEntries(OUTCOMES.map((o, i) => [o, i])) as { readonly [K in Outcome]: number };

/** Answered from storage without waiting for the upstream. */
const HITS = [Outcome.hit, Outcome.stale, Outcome.collapsed];
/** Could have been answered from storage (bypass and local answers are not cache traffic). */
const LOOKUPS = [...HITS, Outcome.revalidated, Outcome.miss, Outcome.pass];

export const FETCH_RESULTS = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export const ORIGIN_ERRORS = ['unreachable', 'timeout', 'error'] as const;
export type OriginErrorKind = (typeof ORIGIN_ERRORS)[number];

const RESPONSE_BOUNDS = [1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface StorageStats {
  readonly objects: number;
  readonly bytes: number;
  readonly evictions: number;
}

/** One process's counters as plain data (sent from a serving worker to the primary). */
export interface EdgeMetricsSnapshot {
  readonly requests: number[];
  readonly bytes: number[];
  readonly fetches: number[];
  readonly originErrors: number[];
  readonly responseSeconds: HistogramSnapshot;
  readonly originSeconds: HistogramSnapshot;
}

type CounterField = 'requests' | 'bytes' | 'fetches' | 'originErrors';

export class EdgeMetrics {
  private readonly requests = new Float64Array(OUTCOMES.length);
  private readonly bytes = new Float64Array(OUTCOMES.length);
  private readonly fetches = new Float64Array(FETCH_RESULTS.length);
  private readonly originErrors = new Float64Array(ORIGIN_ERRORS.length);
  private readonly purges = new Map<string, number>();
  private remote: readonly EdgeMetricsSnapshot[] = [];
  /** Time to the response head, split by whether the upstream was waited on. */
  readonly responseSeconds = new FastHistogram(
    'meridian_edge_response_seconds',
    'Time from a request to its response head, by whether it waited on the upstream',
    RESPONSE_BOUNDS,
    { name: 'upstream', values: ['no', 'yes'] },
  );
  readonly originSeconds = new FastHistogram(
    'meridian_edge_origin_seconds',
    'Time from sending an upstream request to its response head',
    RESPONSE_BOUNDS,
    { name: 'upstream', values: ['origin'] },
  );

  constructor(registry: Registry, storage: () => StorageStats) {
    const self = this;
    const registers = [registry];
    new Counter({
      name: 'meridian_edge_requests_total',
      help: 'Client requests by how the cache answered (hit, stale, collapsed, revalidated, miss, pass, bypass, error, local)',
      labelNames: ['cache'],
      registers,
      collect() {
        this.reset();
        OUTCOMES.forEach((cache, i) => this.inc({ cache }, self.total('requests', i)));
      },
    });
    new Counter({
      name: 'meridian_edge_response_bytes_total',
      help: 'Response body bytes sent to clients by how the cache answered',
      labelNames: ['cache'],
      registers,
      collect() {
        this.reset();
        OUTCOMES.forEach((cache, i) => this.inc({ cache }, self.total('bytes', i)));
      },
    });
    new Gauge({
      name: 'meridian_edge_hit_ratio',
      help: 'Share of cacheable requests answered from storage since start (hit, stale, collapsed)',
      registers,
      collect() {
        this.set(self.hitRatio());
      },
    });
    new Counter({
      name: 'meridian_edge_origin_fetches_total',
      help: 'Upstream (origin or shield) responses by status class',
      labelNames: ['status'],
      registers,
      collect() {
        this.reset();
        FETCH_RESULTS.forEach((status, i) => this.inc({ status }, self.total('fetches', i)));
      },
    });
    new Counter({
      name: 'meridian_edge_origin_errors_total',
      help: 'Upstream requests that got no response, by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        ORIGIN_ERRORS.forEach((kind, i) => this.inc({ kind }, self.total('originErrors', i)));
      },
    });
    new Counter({
      name: 'meridian_edge_purges_total',
      help: 'Objects purged, by purge kind (url, prefix, tag, all; soft_ prefixed when marked stale)',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        for (const [kind, v] of self.purges) this.inc({ kind }, v);
      },
    });
    new Gauge({
      name: 'meridian_edge_stored_bytes',
      help: 'Bytes held by the cache (bodies and headers)',
      registers,
      collect() {
        this.set(storage().bytes);
      },
    });
    new Gauge({
      name: 'meridian_edge_stored_objects',
      help: 'Objects held by the cache',
      registers,
      collect() {
        this.set(storage().objects);
      },
    });
    new Counter({
      name: 'meridian_edge_evictions_total',
      help: 'Objects evicted to stay within the byte budget',
      registers,
      collect() {
        this.reset();
        this.inc(storage().evictions);
      },
    });
    for (const h of [this.responseSeconds, this.originSeconds]) h.register(registry);
  }

  request(outcome: number, bodyBytes: number): void {
    this.requests[outcome]! += 1;
    this.bytes[outcome]! += bodyBytes;
  }

  /** Bytes counted after the response started (streamed bodies). */
  sent(outcome: number, bodyBytes: number): void {
    this.bytes[outcome]! += bodyBytes;
  }

  fetched(status: number, seconds: number): void {
    const i = Math.floor(status / 100) - 1;
    if (i >= 0 && i < FETCH_RESULTS.length) this.fetches[i]! += 1;
    this.originSeconds.observe(0, seconds);
  }

  originError(kind: OriginErrorKind): void {
    this.originErrors[ORIGIN_ERRORS.indexOf(kind)]! += 1;
  }

  purged(kind: string, n: number): void {
    this.purges.set(kind, (this.purges.get(kind) ?? 0) + n);
  }

  hitRatio(): number {
    let hits = 0;
    let all = 0;
    for (const i of HITS) hits += this.total('requests', i);
    for (const i of LOOKUPS) all += this.total('requests', i);
    return all === 0 ? 0 : hits / all;
  }

  /** Requests with this outcome, the workers' included. */
  count(outcome: Outcome): number {
    return this.total('requests', Outcome[outcome]);
  }

  snapshot(): EdgeMetricsSnapshot {
    return {
      requests: [...this.requests],
      bytes: [...this.bytes],
      fetches: [...this.fetches],
      originErrors: [...this.originErrors],
      responseSeconds: this.responseSeconds.snapshot(),
      originSeconds: this.originSeconds.snapshot(),
    };
  }

  /** The serving workers' counters, reported summed with this process's own. */
  setRemote(snapshots: readonly EdgeMetricsSnapshot[]): void {
    this.remote = snapshots;
    this.responseSeconds.remote = snapshots.map((s) => s.responseSeconds);
    this.originSeconds.remote = snapshots.map((s) => s.originSeconds);
  }

  private total(field: CounterField, i: number): number {
    let n = this[field][i]!;
    for (const r of this.remote) n += r[field][i] ?? 0;
    return n;
  }
}
