// The primary's side of multi-process DNS serving (`dns.workers` > 1). Node cannot spread one
// socket's datagrams over threads, and one process tops out well below what the machine can
// send (see bench/): workers share the listening sockets (common/process-pool.ts, SCHED_NONE:
// UDP needs it, and TCP then avoids the primary accepting and passing connections around), and
// the kernel hands each datagram to whichever worker is free. This file is what is DNS about it:
// health snapshots pushed when they change, reloads, and the workers' counters.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { HostPort } from '../../common/host-port.js';
import type { Logger } from '../../common/log.js';
import { ProcessPool } from '../../common/process-pool.js';
import type { HealthSnapshot } from '../pop-health/snapshot.js';
import { resolveAnyPorts } from '../server/any-port.js';
import { type FromWorker, type Replies, type ToWorker, type WorkerSetup } from './messages.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.js', import.meta.url));

export interface DnsPoolOptions {
  configFile: string;
  pop?: string | undefined;
  listen: readonly HostPort[];
  count: number;
  log: Logger;
  /** The current health snapshot (given to workers at fork, including restarts). */
  health(): HealthSnapshot;
}

/** One per pool: a restarted worker gets the same, so the cookies it validates stay good. */
const newCookieMaster = (): string => randomBytes(32).toString('hex');

export class DnsPool {
  private lastHealth = '';

  private constructor(
    private readonly pool: ProcessPool,
    /** Where the workers listen (ports resolved when port 0 was asked for). */
    readonly listeners: readonly HostPort[],
  ) {}

  static async start(opts: DnsPoolOptions): Promise<DnsPool> {
    // Workers must all ask for the same addresses: "any port" is settled here first.
    const listen = await resolveAnyPorts(opts.listen);
    const cookieMaster = newCookieMaster();
    const pool = new ProcessPool({
      label: 'DNS worker',
      entry: WORKER_ENTRY,
      count: opts.count,
      setup: (): WorkerSetup => ({
        configFile: opts.configFile,
        pop: opts.pop,
        listen,
        workers: opts.count,
        health: opts.health(),
        cookieMaster,
      }),
      scheduling: 'none',
      log: opts.log,
    });
    const ready = await pool.start();
    return new DnsPool(pool, (ready as Extract<FromWorker, { kind: 'ready' }>).listeners);
  }

  get size(): number {
    return this.pool.size;
  }

  /** Sends the health snapshot to every worker when it differs from the last one sent. */
  pushHealth(snapshot: HealthSnapshot): void {
    const text = JSON.stringify(snapshot);
    if (text === this.lastHealth) return;
    this.lastHealth = text;
    this.pool.broadcast({ kind: 'health', snapshot } satisfies ToWorker);
  }

  /** Asks every worker to reload; returns the workers that refused and why. */
  async reload(): Promise<{ worker: number; error: string }[]> {
    const results = await this.askAll('reload');
    const refused: { worker: number; error: string }[] = [];
    results.forEach((r, i) => {
      if (!r?.ok) refused.push({ worker: this.pool.workers[i]!.id, error: r?.error ?? 'no answer in time' });
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

  close(): Promise<void> {
    return this.pool.close();
  }

  private askAll<K extends keyof Replies>(kind: K): Promise<(Replies[K] | undefined)[]> {
    return this.pool.askAll<Replies[K]>((id) => ({ kind, id }) satisfies ToWorker);
  }
}
