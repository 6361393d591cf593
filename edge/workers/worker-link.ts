// A serving worker's side of the IPC protocol: the pipeline's Peers (lease requests, storage
// changes sent to the primary) and what the primary tells the worker (leases granted, outcomes
// of fetches other workers led, their storage changes, purges, questions about its counters).
import type { EdgeCore } from '../core.js';
import { EdgeError } from '../errors.js';
import type { Peers, StoreOutcome } from '../pipeline/context.js';
import { applyPurge, type PurgeOp, type PurgeResult } from '../purge.js';
import type { Change, FromWorker, HealthAnswer, ToWorker, WorkerStats } from './messages.js';
import { entryFromWire, entryToWire, outcomeFromWire, outcomeToWire } from './wire.js';

// The primary answers from memory; silence this long means it is stuck or gone.
const ASK_TIMEOUT_MS = 10_000;

interface LeaseAsk {
  readonly granted: (lead: boolean) => void;
  readonly settle: (outcome: StoreOutcome) => void;
}

export class WorkerLink implements Peers {
  /** Lease questions per key, answered in the order asked. */
  private readonly asked = new Map<string, LeaseAsk[]>();
  /** Fetches another worker leads, by key: settled when the primary passes on the outcome. */
  private readonly waiting = new Map<string, (outcome: StoreOutcome) => void>();
  private readonly replies = new Map<number, (body: unknown) => void>();
  private nextId = 1;
  /** The last purge applied here (see Change 'stored'). */
  private purgeSeq = 0;
  private core: EdgeCore | undefined;

  constructor(private readonly send: (msg: FromWorker) => void) {}

  /** The core is built with this link as its peers, then handed back here. */
  attach(core: EdgeCore): void {
    this.core = core;
  }

  lease(key: string, settle: (outcome: StoreOutcome) => void): Promise<boolean> {
    return new Promise((granted) => {
      const queue = this.asked.get(key);
      if (queue) queue.push({ granted, settle });
      else this.asked.set(key, [{ granted, settle }]);
      this.send({ kind: 'lease', key });
    });
  }

  release(key: string, outcome: StoreOutcome): void {
    this.send({ kind: 'release', key, outcome: outcomeToWire(outcome) });
  }

  stored(entry: Parameters<Peers['stored']>[0]): void {
    this.change({ kind: 'stored', entry: entryToWire(entry), purgeSeq: this.purgeSeq });
  }

  removedUrl(primary: string): void {
    this.change({ kind: 'removed-url', primary });
  }

  removed(key: string): void {
    this.change({ kind: 'removed', key });
  }

  hitForMiss(key: string, marked: boolean): void {
    this.change({ kind: 'hit-for-miss', key, marked });
  }

  /** PURGE on the proxy port: every worker purges before the client is answered. */
  purge(op: PurgeOp): Promise<PurgeResult> {
    return this.ask((id) => ({ kind: 'purge', id, op })) as Promise<PurgeResult>;
  }

  /** /healthz on the proxy port: the primary's one view of all workers. */
  healthz(): Promise<HealthAnswer> {
    return this.ask((id) => ({ kind: 'healthz', id })) as Promise<HealthAnswer>;
  }

  /** Handles one message from the primary. */
  receive(msg: ToWorker): void {
    const core = this.core;
    if (!core) return;
    switch (msg.kind) {
      case 'lease': {
        const queue = this.asked.get(msg.key);
        const ask = queue?.shift();
        if (queue?.length === 0) this.asked.delete(msg.key);
        if (!ask) return;
        if (!msg.lead) this.waiting.set(msg.key, ask.settle);
        ask.granted(msg.lead);
        return;
      }
      case 'settled': {
        const settle = this.waiting.get(msg.key);
        this.waiting.delete(msg.key);
        settle?.(outcomeFromWire(msg.outcome));
        return;
      }
      case 'change':
        return this.apply(core, msg.change);
      case 'apply-purge': {
        this.purgeSeq = msg.seq;
        const purged = applyPurge(core.cache, msg.op, core.state.now());
        return this.send({ kind: 'reply', id: msg.id, body: { purged, soft: msg.op.soft } });
      }
      case 'stats': {
        const body: WorkerStats = { core: core.stats(), metrics: core.metrics.snapshot() };
        return this.send({ kind: 'reply', id: msg.id, body });
      }
      case 'reply': {
        const resolve = this.replies.get(msg.id);
        this.replies.delete(msg.id);
        resolve?.(msg.body);
        return;
      }
    }
  }

  private apply(core: EdgeCore, change: Change): void {
    const { cache, state } = core;
    switch (change.kind) {
      case 'stored':
        cache.put(entryFromWire(change.entry, state.now, `1.1 ${state.pseudonym}`));
        return;
      case 'removed':
        cache.delete(change.key);
        return;
      case 'removed-url':
        cache.purgeUrl(change.primary, false, state.now());
        return;
      case 'hit-for-miss':
        if (change.marked) state.hitForMiss.mark(change.key);
        else state.hitForMiss.clear(change.key);
        return;
    }
  }

  private change(change: Change): void {
    this.send({ kind: 'change', change });
  }

  private ask(build: (id: number) => FromWorker): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.replies.delete(id);
        reject(new EdgeError('internal', 'the edge primary process did not answer'));
      }, ASK_TIMEOUT_MS);
      this.replies.set(id, (body) => {
        clearTimeout(timer);
        const error = (body as { error?: unknown } | undefined)?.error;
        if (typeof error === 'string') reject(new EdgeError('internal', error));
        else resolve(body);
      });
      this.send(build(id));
    });
  }
}
