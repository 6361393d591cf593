// Fetch leases, kept by the primary: at most one worker fetches a key at a time; the others'
// requests for it wait for its outcome. A lease ends when its holder reports the outcome, when
// the holder dies, or after `maxMs` (a holder that never reports must not hold its waiters
// forever: they are told 'aborted' and go forward themselves).
import type { WireOutcome } from './wire.js';

export interface LeaseTableOptions {
  readonly maxMs: number;
  /** Tells worker `id` the outcome of the fetch it waited on. */
  settle(id: number, key: string, outcome: WireOutcome): void;
}

interface Lease {
  readonly holder: number;
  readonly waiters: Set<number>;
  readonly timer: NodeJS.Timeout;
}

const ABORTED: WireOutcome = { kind: 'aborted' };

export class LeaseTable {
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly opts: LeaseTableOptions) {}

  get size(): number {
    return this.leases.size;
  }

  /** True: `worker` leads the fetch of `key`; false: it waits for the holder's outcome. */
  acquire(key: string, worker: number): boolean {
    const lease = this.leases.get(key);
    if (lease) {
      lease.waiters.add(worker);
      return false;
    }
    const timer = setTimeout(() => this.end(key, ABORTED), this.opts.maxMs);
    timer.unref();
    this.leases.set(key, { holder: worker, waiters: new Set(), timer });
    return true;
  }

  /** The holder's outcome; ignored from anyone else (a lease that already timed out). */
  release(key: string, worker: number, outcome: WireOutcome): void {
    if (this.leases.get(key)?.holder === worker) this.end(key, outcome);
  }

  /** A worker went away: its leases end as aborted, and it waits for nothing any more. */
  forget(worker: number): void {
    for (const [key, lease] of this.leases) {
      lease.waiters.delete(worker);
      if (lease.holder === worker) this.end(key, ABORTED);
    }
  }

  clear(): void {
    for (const key of [...this.leases.keys()]) this.end(key, ABORTED);
  }

  private end(key: string, outcome: WireOutcome): void {
    const lease = this.leases.get(key);
    if (!lease) return;
    this.leases.delete(key);
    clearTimeout(lease.timer);
    for (const id of lease.waiters) if (id !== lease.holder) this.opts.settle(id, key, outcome);
  }
}
