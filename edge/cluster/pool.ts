// The primary's side of multi-process serving (edge.workers > 1): forks the serving workers
// (node:cluster; they share the proxy listener), keeps the fetch leases, passes each worker's
// storage changes on to the others, runs purges in every worker, and gathers their counters.
// Workers are restarted with backoff when they die (the new one starts with empty storage).
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { HostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import type { PurgeOp, PurgeResult } from '../purge.js';
import { LeaseTable } from './leases.js';
import type { FromWorker, HealthAnswer, ToWorker, WorkerSetup, WorkerStats } from './messages.js';
import { WORKER_SETUP_ENV } from './messages.js';
import { PurgeLog } from './purge-log.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const ASK_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
const STABLE_AFTER_MS = 30_000;

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

interface Slot {
  worker: Worker;
  startedAt: number;
}

export class EdgePool {
  private readonly slots: Slot[] = [];
  private readonly replies = new Map<number, (body: unknown) => void>();
  private readonly leases: LeaseTable;
  private readonly purges = new PurgeLog();
  private nextId = 1;
  private closing = false;
  private started = false;
  private backoffMs = RESTART_MIN_MS;
  /** Where the workers listen (the port resolved when 0 was asked for). */
  listen: HostPort;

  private constructor(private readonly opts: EdgePoolOptions) {
    this.listen = opts.listen;
    this.leases = new LeaseTable({ maxMs: opts.leaseMs, settle: (id, key, outcome) => this.sendTo(id, { kind: 'settled', key, outcome }) });
  }

  static async start(opts: EdgePoolOptions): Promise<EdgePool> {
    const pool = new EdgePool(opts);
    // Round-robin: the primary accepts and hands each connection to the next worker. Costs one
    // IPC message per *connection* (not per request), and spreads keep-alive clients evenly,
    // which the kernel's shared-socket wake-ups (SCHED_NONE) do not.
    cluster.schedulingPolicy = cluster.SCHED_RR;
    // 'advanced': stored bodies cross as bytes (structured clone), not as JSON arrays.
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], silent: false, serialization: 'advanced' });
    try {
      // The first worker binds (port 0 resolved); the rest join its listener.
      pool.listen = await pool.fork(0);
      await Promise.all(Array.from({ length: opts.count - 1 }, (_, i) => pool.fork(i + 1)));
      pool.started = true;
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Fetches under way across the workers. */
  get inflight(): number {
    return this.leases.size;
  }

  /** Runs `op` in every worker; resolves when all have (or did not answer in time). */
  async purge(op: PurgeOp): Promise<PurgeResult> {
    const seq = this.purges.add(op, Date.now());
    const counts = await Promise.all(this.slots.map(({ worker }) => this.ask<PurgeResult>(worker, (id) => ({ kind: 'apply-purge', id, op, seq }))));
    // Every worker holds a copy of the same objects: the largest count is the number of objects.
    const purged = counts.reduce((max, r) => Math.max(max, r?.purged ?? 0), 0);
    return { purged, soft: op.soft };
  }

  /** Every worker's counters (a worker that does not answer in time is left out). */
  async stats(): Promise<WorkerStats[]> {
    const all = await Promise.all(this.slots.map(({ worker }) => this.ask<WorkerStats>(worker, (id) => ({ kind: 'stats', id }))));
    return all.filter((s) => s !== undefined);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.leases.clear();
    await Promise.all(this.slots.map(({ worker }) => stopWorker(worker)));
    for (const resolve of this.replies.values()) resolve(undefined);
    this.replies.clear();
  }

  private fork(index: number): Promise<HostPort> {
    // Every worker asks for the address as configured (port 0 included): node:cluster shares one
    // listener between requests for the same address, so they all join the first one's port.
    const setup: WorkerSetup = { configFile: this.opts.configFile, pop: this.opts.pop, listen: this.opts.listen, maxBytes: this.opts.maxBytes };
    const worker = cluster.fork({ [WORKER_SETUP_ENV]: JSON.stringify(setup) });
    const slot: Slot = { worker, startedAt: Date.now() };
    this.slots[index] = slot;
    return new Promise<HostPort>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`edge worker ${worker.id} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      worker.on('message', (msg: FromWorker) => {
        if (msg.kind === 'ready') {
          clearTimeout(timer);
          resolve(msg.listen);
        } else if (msg.kind === 'failed') {
          clearTimeout(timer);
          reject(new Error(msg.error));
        } else this.receive(worker, msg);
      });
      worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.leases.forget(worker.id);
        reject(new Error(`edge worker ${worker.id} exited during start-up (${signal ?? `code ${code}`})`));
        if (!this.closing && this.started && this.slots[index] === slot) this.restartLater(index, code, signal);
      });
    });
  }

  private receive(from: Worker, msg: FromWorker): void {
    switch (msg.kind) {
      case 'lease':
        return this.sendTo(from.id, { kind: 'lease', key: msg.key, lead: this.leases.acquire(msg.key, from.id) });
      case 'release':
        return this.leases.release(msg.key, from.id, msg.outcome);
      case 'change': {
        let change = msg.change;
        if (change.kind === 'stored') {
          const entry = this.purges.relayable(change.entry, change.purgeSeq);
          if (!entry) return;
          change = { ...change, entry };
        }
        for (const { worker } of this.slots) if (worker !== from) send(worker, { kind: 'change', change });
        return;
      }
      case 'purge':
        return void this.answer(from, msg.id, this.opts.onPurge(msg.op));
      case 'healthz':
        return void this.answer(from, msg.id, this.opts.onHealthz());
      case 'reply': {
        const resolve = this.replies.get(msg.id);
        this.replies.delete(msg.id);
        resolve?.(msg.body);
        return;
      }
      default:
        return;
    }
  }

  private async answer(to: Worker, id: number, body: Promise<PurgeResult | HealthAnswer>): Promise<void> {
    try {
      send(to, { kind: 'reply', id, body: await body });
    } catch (e) {
      this.opts.log.error({ err: e }, 'answering an edge worker failed');
      send(to, { kind: 'reply', id, body: { error: (e as Error).message } });
    }
  }

  private sendTo(id: number, msg: ToWorker): void {
    const slot = this.slots.find((s) => s.worker.id === id);
    if (slot) send(slot.worker, msg);
  }

  private ask<T>(worker: Worker, build: (id: number) => ToWorker): Promise<T | undefined> {
    if (!worker.isConnected()) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.replies.delete(id);
        resolve(undefined);
      }, ASK_TIMEOUT_MS);
      this.replies.set(id, (body) => {
        clearTimeout(timer);
        resolve(body as T | undefined);
      });
      send(worker, build(id));
    });
  }

  private restartLater(index: number, code: number | null, signal: string | null): void {
    const slot = this.slots[index]!;
    if (Date.now() - slot.startedAt > STABLE_AFTER_MS) this.backoffMs = RESTART_MIN_MS;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(RESTART_MAX_MS, this.backoffMs * 2);
    this.opts.log.error({ worker: slot.worker.id, code, signal, restartInMs: delay }, 'edge worker died; restarting it');
    setTimeout(() => {
      if (this.closing) return;
      this.fork(index).then(
        () => this.opts.log.info({ worker: this.slots[index]!.worker.id }, 'edge worker restarted'),
        (e: Error) => this.opts.log.error({ error: e.message }, 'edge worker restart failed'),
      );
    }, delay).unref();
  }
}

function send(worker: Worker, msg: ToWorker): void {
  if (worker.isConnected()) worker.send(msg);
}

function stopWorker(worker: Worker): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (worker.isConnected()) worker.disconnect();
    else worker.process.kill('SIGTERM');
  });
}
