// The primary's side of multi-process serving (`dns.workers` > 1). Node cannot spread one
// socket's datagrams over threads, and one process tops out well below what the machine can
// send (see bench/): node:cluster forks workers that share the listening sockets, and the
// kernel hands each datagram to whichever worker is free. TCP uses the same sharing
// (SCHED_NONE) instead of the primary accepting and passing connections around.
//
// Workers are restarted with backoff when they die; a worker that cannot listen at start-up
// fails the whole start with its error.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { HostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import type { HealthSnapshot } from '../health/snapshot.js';
import { resolveAnyPorts } from './any-port.js';
import { WORKER_SETUP_ENV, type FromWorker, type Replies, type ToWorker, type WorkerSetup } from './worker-messages.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 3_000;
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
/** A worker that stayed up this long resets the restart backoff. */
const STABLE_AFTER_MS = 30_000;

export interface WorkerPoolOptions {
  configFile: string;
  listen: readonly HostPort[];
  count: number;
  log: Logger;
  /** The current health snapshot (given to workers at fork, including restarts). */
  health(): HealthSnapshot;
}

interface Slot {
  worker: Worker;
  startedAt: number;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, (body: unknown) => void>();
  private nextId = 1;
  private closing = false;
  /** Set once every worker is up: from then on a dead worker is restarted, not a failed start. */
  private started = false;
  private backoffMs = RESTART_MIN_MS;
  private lastHealth = '';
  /** Where the workers listen (ports resolved when port 0 was asked for). */
  listeners: readonly HostPort[] = [];

  private constructor(private readonly opts: WorkerPoolOptions) {}

  static async start(opts: WorkerPoolOptions): Promise<WorkerPool> {
    // Workers must all ask for the same addresses; "any port" is settled here first.
    const pool = new WorkerPool({ ...opts, listen: await resolveAnyPorts(opts.listen) });
    // Must be set before the first fork: workers share listening sockets instead of the
    // primary accepting TCP connections and passing each one over IPC.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], silent: false });
    try {
      // The first worker binds; the rest join its sockets (node:cluster shares a socket
      // between requests for the same address).
      pool.listeners = await pool.fork(0);
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

  /** Sends the health snapshot to every worker when it differs from the last one sent. */
  pushHealth(snapshot: HealthSnapshot): void {
    const text = JSON.stringify(snapshot);
    if (text === this.lastHealth) return;
    this.lastHealth = text;
    this.broadcast({ kind: 'health', snapshot });
  }

  /** Asks every worker to reload; returns the workers that refused and why. */
  async reload(): Promise<{ worker: number; error: string }[]> {
    const results = await this.askAll('reload');
    const refused: { worker: number; error: string }[] = [];
    results.forEach((r, i) => {
      if (!r?.ok) refused.push({ worker: this.slots[i]!.worker.id, error: r?.error ?? 'no answer in time' });
    });
    return refused;
  }

  /** Every worker's counters (a worker that does not answer in time is left out). */
  async metrics(): Promise<Replies['metrics'][]> {
    return (await this.askAll('metrics')).filter((m) => m !== undefined);
  }

  async resolverCounts(): Promise<Replies['resolvers'][]> {
    return (await this.askAll('resolvers')).filter((m) => m !== undefined);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map(({ worker }) => stopWorker(worker)));
    for (const resolve of this.pending.values()) resolve(undefined);
    this.pending.clear();
  }

  private fork(index: number): Promise<HostPort[]> {
    const setup: WorkerSetup = { configFile: this.opts.configFile, listen: this.opts.listen, workers: this.opts.count, health: this.opts.health() };
    const worker = cluster.fork({ [WORKER_SETUP_ENV]: JSON.stringify(setup) });
    const slot: Slot = { worker, startedAt: Date.now() };
    this.slots[index] = slot;
    const ready = new Promise<HostPort[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`DNS worker ${worker.id} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      worker.on('message', (msg: FromWorker) => {
        if (msg.kind === 'ready') {
          clearTimeout(timer);
          resolve([...msg.listeners]);
        } else if (msg.kind === 'failed') {
          clearTimeout(timer);
          reject(new Error(msg.error));
        } else if (msg.kind === 'reply') {
          this.pending.get(msg.id)?.(msg.body);
          this.pending.delete(msg.id);
        }
      });
      worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`DNS worker ${worker.id} exited during start-up (${signal ?? `code ${code}`})`));
        if (!this.closing && this.started && this.slots[index] === slot) this.restartLater(index, code, signal);
      });
    });
    return ready;
  }

  private restartLater(index: number, code: number | null, signal: string | null): void {
    const slot = this.slots[index]!;
    if (Date.now() - slot.startedAt > STABLE_AFTER_MS) this.backoffMs = RESTART_MIN_MS;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(RESTART_MAX_MS, this.backoffMs * 2);
    this.opts.log.error({ worker: slot.worker.id, code, signal, restartInMs: delay }, 'DNS worker died; restarting it');
    setTimeout(() => {
      if (this.closing) return;
      this.fork(index).then(
        () => this.opts.log.info({ worker: this.slots[index]!.worker.id }, 'DNS worker restarted'),
        (e: Error) => this.opts.log.error({ error: e.message }, 'DNS worker restart failed'),
      );
    }, delay).unref();
  }

  private broadcast(msg: ToWorker): void {
    for (const { worker } of this.slots) if (worker.isConnected()) worker.send(msg);
  }

  private askAll<K extends keyof Replies>(kind: K): Promise<(Replies[K] | undefined)[]> {
    return Promise.all(this.slots.map(({ worker }) => this.ask(worker, kind)));
  }

  private ask<K extends keyof Replies>(worker: Worker, kind: K): Promise<Replies[K] | undefined> {
    if (!worker.isConnected()) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, (body) => {
        clearTimeout(timer);
        resolve(body as Replies[K] | undefined);
      });
      worker.send({ kind, id } as ToWorker);
    });
  }
}

function stopWorker(worker: Worker): Promise<void> {
  if (worker.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // Disconnecting closes the worker's shared sockets and lets it exit by itself.
    if (worker.isConnected()) worker.disconnect();
    else worker.process.kill('SIGTERM');
  });
}
