// The primary's side of multi-process edge serving (edge.workers > 1): the workers (forked and
// restarted by common/process-pool.ts) share the proxy listener; this keeps the fetch leases,
// passes each worker's storage changes on to the others, runs purges in every worker, and
// gathers their counters. A restarted worker starts with empty storage.
import type { Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { HostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import { ProcessPool } from '../../common/process-pool.js';
import type { PurgeOp, PurgeResult } from '../purge.js';
import { LeaseTable } from './leases.js';
import type { FromWorker, HealthAnswer, ToWorker, WorkerSetup, WorkerStats } from './messages.js';
import { PurgeLog } from './purge-log.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.js', import.meta.url));

export interface EdgePoolOptions {
  readonly configFile: string;
  readonly pop: string;
  readonly listen: HostPort;
  readonly count: number;
  /** Each worker's byte budget. */
  readonly maxBytes: number;
  /** How long a fetch lease may last before its waiters are let go. */
  readonly leaseMs: number;
  readonly log: Logger;
  /** Questions from workers' clients (PURGE, /healthz on the proxy port). */
  onPurge(op: PurgeOp): Promise<PurgeResult>;
  onHealthz(): Promise<HealthAnswer>;
}

export class EdgePool {
  private readonly leases: LeaseTable;
  private readonly purges = new PurgeLog();
  private readonly pool: ProcessPool;
  /** Where the workers listen (the port resolved when 0 was asked for). */
  listen: HostPort;

  private constructor(private readonly opts: EdgePoolOptions) {
    this.listen = opts.listen;
    this.leases = new LeaseTable({
      maxMs: opts.leaseMs,
      settle: (id, key, outcome) => this.pool.sendTo(id, { kind: 'settled', key, outcome } satisfies ToWorker),
    });
    // Every worker asks for the address as configured (port 0 included): node:cluster shares one
    // listener between requests for the same address, so they all join the first one's port.
    const setup: WorkerSetup = {
      configFile: opts.configFile,
      pop: opts.pop,
      listen: opts.listen,
      maxBytes: opts.maxBytes,
    };
    this.pool = new ProcessPool({
      label: 'edge worker',
      entry: WORKER_ENTRY,
      count: opts.count,
      setup: () => setup,
      // Round-robin: the primary accepts and hands each connection to the next worker. Costs one
      // IPC message per *connection* (not per request), and spreads keep-alive clients evenly,
      // which the kernel's shared-socket wake-ups (SCHED_NONE) do not.
      scheduling: 'rr',
      // Stored bodies cross as bytes (structured clone), not as JSON arrays.
      serialization: 'advanced',
      // Several messages per miss under load (lease, release, stored object): batched per turn.
      batch: true,
      log: opts.log,
      onMessage: (from, msg) => this.receive(from, msg as FromWorker),
      onExit: (worker) => this.leases.forget(worker.id),
    });
  }

  static async start(opts: EdgePoolOptions): Promise<EdgePool> {
    const edge = new EdgePool(opts);
    const ready = await edge.pool.start();
    edge.listen = (ready as Extract<FromWorker, { kind: 'ready' }>).listen;
    return edge;
  }

  get size(): number {
    return this.pool.size;
  }

  /** Fetches under way across the workers. */
  get inflight(): number {
    return this.leases.size;
  }

  /** Runs `op` in every worker; resolves when all have (or did not answer in time). */
  async purge(op: PurgeOp): Promise<PurgeResult> {
    const seq = this.purges.add(op, Date.now());
    const counts = await this.pool.askAll<PurgeResult>(
      (id) => ({ kind: 'apply-purge', id, op, seq }) satisfies ToWorker,
    );
    // Every worker holds a copy of the same objects: the largest count is the number of objects.
    const purged = counts.reduce((max, r) => Math.max(max, r?.purged ?? 0), 0);
    return { purged, soft: op.soft };
  }

  /** Every worker's counters (a worker that does not answer in time is left out). */
  async stats(): Promise<WorkerStats[]> {
    const all = await this.pool.askAll<WorkerStats>((id) => ({ kind: 'stats', id }) satisfies ToWorker);
    return all.filter((s) => s !== undefined);
  }

  async close(): Promise<void> {
    this.leases.clear();
    await this.pool.close();
  }

  private receive(from: Worker, msg: FromWorker): void {
    switch (msg.kind) {
      case 'lease':
        return this.pool.sendTo(from.id, {
          kind: 'lease',
          key: msg.key,
          lead: this.leases.acquire(msg.key, from.id),
        } satisfies ToWorker);
      case 'release':
        return this.leases.release(msg.key, from.id, msg.outcome);
      case 'change': {
        let change = msg.change;
        if (change.kind === 'stored') {
          const entry = this.purges.relayable(change.entry, change.purgeSeq);
          if (!entry) return;
          change = { ...change, entry };
        }
        return this.pool.broadcast({ kind: 'change', change } satisfies ToWorker, from);
      }
      case 'purge':
        return void this.answer(from, msg.id, this.opts.onPurge(msg.op));
      case 'healthz':
        return void this.answer(from, msg.id, this.opts.onHealthz());
      default:
        return;
    }
  }

  private async answer(to: Worker, id: number, body: Promise<PurgeResult | HealthAnswer>): Promise<void> {
    try {
      this.pool.send(to, { kind: 'reply', id, body: await body } satisfies ToWorker);
    } catch (e) {
      this.opts.log.error({ err: e }, 'answering an edge worker failed');
      this.pool.send(to, { kind: 'reply', id, body: { error: (e as Error).message } } satisfies ToWorker);
    }
  }
}
