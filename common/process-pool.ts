// Serving workers forked with node:cluster, for a service that answers from several processes
// sharing its listeners (the DNS server and the edge). One process's JavaScript runs on one
// core; the primary keeps what must be one per service and talks to the workers over IPC.
//
// This holds what both services need of their workers: fork, give each its setup when it asks
// (over IPC, worker-setup.ts), wait until a worker says it serves (or why it cannot), restart a
// worker that dies with backoff, ask a worker a question and wait (bounded) for the answer, and
// stop them all.
//
// Messages: a worker asks { kind: 'setup-request' } and is answered { kind: 'setup', setup }; it
// says { kind: 'ready', ... } once it serves, { kind: 'failed', error } when it cannot start,
// and { kind: 'reply', id, body } to answer a question; anything else goes to the service's
// onMessage. What the service sends a worker that has not said ready yet is held and delivered,
// in order, when it does: a starting worker attaches its message handler only when it is about
// to serve, and would otherwise lose what changed meanwhile (a health push, a sibling's stored
// object, a purge).
import cluster, { type Worker } from 'node:cluster';
import { Backoff } from './backoff.js';
import { BatchedSender, unbatch, type Batch } from './ipc-batch.js';
import { SETUP, SETUP_REQUEST } from './worker-setup.js';
import type { Logger } from './log.js';

const START_TIMEOUT_MS = 30_000;
const ASK_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;
/** Restart delays: 0.5 s doubling to 30 s, reset by a worker that stayed up 30 s. */
const RESTART_BACKOFF = { initialMs: 500, maxMs: 30_000, resetAfterMs: 30_000 };

export type WorkerMessage = { readonly kind: string; readonly [field: string]: unknown };

export interface ProcessPoolOptions {
  /** For log lines: 'DNS worker', 'edge worker'. */
  readonly label: string;
  /** The worker's entry script (a built .js file). */
  readonly entry: string;
  readonly count: number;
  /** The setup for a worker that asks for it (called again for restarts). */
  setup(): unknown;
  /**
   * 'none': workers share the listening sockets and the kernel wakes one (UDP must use this);
   * 'rr': the primary accepts TCP connections and hands them out in turn (evens out keep-alive
   * clients, one IPC message per connection).
   */
  readonly scheduling: 'none' | 'rr';
  /** 'advanced' lets Buffers cross as bytes (structured clone) instead of JSON arrays. */
  readonly serialization?: 'json' | 'advanced';
  /**
   * Messages to each worker after the first of an event-loop turn go together at the turn's end
   * (ipc-batch.ts); the workers take batches apart with `unbatch`. For services that send many
   * per turn under load (the edge's leases and stored objects).
   */
  readonly batch?: boolean;
  readonly log: Logger;
  /** Messages other than ready, failed and reply. */
  onMessage?(from: Worker, msg: WorkerMessage): void;
  /** A worker exited (before a restart, if one follows). */
  onExit?(worker: Worker): void;
}

interface Slot {
  worker: Worker;
  startedAt: number;
  /** Messages for the worker while it starts; undefined once it said ready. */
  held: WorkerMessage[] | undefined;
  /** Sends the service's messages to the worker (batched per turn when opts.batch). */
  readonly out: (msg: WorkerMessage) => void;
}

export class ProcessPool {
  private readonly slots: Slot[] = [];
  private readonly replies = new Map<number, (body: unknown) => void>();
  private nextId = 1;
  private closing = false;
  /** Set once every worker is up: from then on a dead worker is restarted, not a failed start. */
  private started = false;
  private readonly backoff = new Backoff(RESTART_BACKOFF);

  constructor(private readonly opts: ProcessPoolOptions) {}

  /** Forks the workers; resolves with the first one's ready message once all serve. */
  async start(): Promise<WorkerMessage> {
    const { opts } = this;
    // Both must be set before the first fork.
    cluster.schedulingPolicy = opts.scheduling === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: opts.entry, args: [], silent: false, serialization: opts.serialization ?? 'json' });
    try {
      // All at once: node:cluster gives every request for the same address the one listener
      // (port 0 included), and the first worker ready serves at once. A worker forked only then
      // would never be sent what its siblings did before (the edge's stored objects): forked
      // together, each is sent everything from the start, held until it is ready.
      const [ready] = await Promise.all(Array.from({ length: opts.count }, (_, i) => this.fork(i)));
      this.started = true;
      return ready!;
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  get size(): number {
    return this.slots.length;
  }

  get workers(): Worker[] {
    return this.slots.map((s) => s.worker);
  }

  send(worker: Worker, msg: WorkerMessage): void {
    const slot = this.slots.find((s) => s.worker === worker);
    if (!slot) deliver(worker, msg);
    else if (slot.held) slot.held.push(msg);
    else slot.out(msg);
  }

  sendTo(workerId: number, msg: WorkerMessage): void {
    const slot = this.slots.find((s) => s.worker.id === workerId);
    if (slot) this.send(slot.worker, msg);
  }

  broadcast(msg: WorkerMessage, except?: Worker): void {
    for (const { worker } of this.slots) if (worker !== except) this.send(worker, msg);
  }

  /** Sends a question built around a fresh id; undefined when no answer comes in time. */
  ask<T>(worker: Worker, build: (id: number) => WorkerMessage): Promise<T | undefined> {
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
      this.send(worker, build(id));
    });
  }

  /** The same question to every worker, answers in worker order. */
  askAll<T>(build: (id: number) => WorkerMessage): Promise<(T | undefined)[]> {
    return Promise.all(this.slots.map(({ worker }) => this.ask<T>(worker, build)));
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map(({ worker }) => stopWorker(worker)));
    for (const resolve of this.replies.values()) resolve(undefined);
    this.replies.clear();
  }

  private fork(index: number): Promise<WorkerMessage> {
    const { label } = this.opts;
    const worker = cluster.fork();
    const batched = this.opts.batch ? new BatchedSender<WorkerMessage>((m) => deliver(worker, m)) : undefined;
    const out = batched ? (m: WorkerMessage) => batched.send(m) : (m: WorkerMessage) => deliver(worker, m);
    const slot: Slot = { worker, startedAt: Date.now(), held: [], out };
    this.slots[index] = slot;
    return new Promise<WorkerMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${label} ${worker.id} did not start within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
      const onMessage = (msg: WorkerMessage): void => {
        if (msg.kind === SETUP_REQUEST) deliver(worker, { kind: SETUP, setup: this.opts.setup() });
        else if (msg.kind === 'ready') {
          clearTimeout(timer);
          // It listens for messages now: what was held goes first, before anything sent later.
          const held = slot.held ?? [];
          slot.held = undefined;
          for (const m of held) slot.out(m);
          resolve(msg);
        } else if (msg.kind === 'failed') {
          clearTimeout(timer);
          reject(new Error(String(msg.error)));
        } else if (msg.kind === 'reply') {
          const id = msg.id as number;
          const answer = this.replies.get(id);
          this.replies.delete(id);
          answer?.(msg.body);
        } else this.opts.onMessage?.(worker, msg);
      };
      worker.on('message', (msg: WorkerMessage) => unbatch(msg, onMessage));
      worker.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.opts.onExit?.(worker);
        reject(new Error(`${label} ${worker.id} exited during start-up (${signal ?? `code ${code}`})`));
        if (!this.closing && this.started && this.slots[index] === slot) this.restartLater(index, code, signal);
      });
    });
  }

  private restartLater(index: number, code: number | null, signal: string | null): void {
    const { label, log } = this.opts;
    const slot = this.slots[index]!;
    const delay = this.backoff.next(Date.now() - slot.startedAt);
    log.error({ worker: slot.worker.id, code, signal, restartInMs: delay }, `${label} died; restarting it`);
    setTimeout(() => {
      if (this.closing) return;
      this.fork(index).then(
        () => log.info({ worker: this.slots[index]!.worker.id }, `${label} restarted`),
        (e: Error) => log.error({ error: e.message }, `${label} restart failed`),
      );
    }, delay).unref();
  }
}

function deliver(worker: Worker, msg: WorkerMessage | Batch<WorkerMessage>): void {
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
    // Disconnecting closes the worker's shared listeners and lets it exit by itself.
    if (worker.isConnected()) worker.disconnect();
    else worker.process.kill('SIGTERM');
  });
}
