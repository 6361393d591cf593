// Messages to one IPC peer, in batches under load. Each message on a node:cluster channel is a
// write() and a wake-up of the process at the other end; a busy edge worker sends several per
// miss (the fetch lease, its release, the stored object), and its primary passes them on. Here
// the first message of an event-loop turn goes at once, so a lone message (an idle process's)
// waits for nothing; the others sent in the same turn go together, in order, as one
// { kind: 'batch' } once the turn's I/O callbacks have run (setImmediate). The receiver takes a
// batch apart with `unbatch` and handles each message as if it had come alone.

export const BATCH = 'batch';

export interface Batch<M> {
  readonly kind: typeof BATCH;
  readonly msgs: M[];
}

export class BatchedSender<M> {
  /** Messages waiting for the end of this turn; undefined while nothing was sent this turn. */
  private queue: M[] | undefined;

  /** `write` puts one message (or one batch) on the channel. */
  constructor(private readonly write: (msg: M | Batch<M>) => void) {}

  send(msg: M): void {
    if (this.queue) {
      this.queue.push(msg);
      return;
    }
    const queue: M[] = (this.queue = []);
    this.write(msg);
    setImmediate(() => {
      this.queue = undefined;
      if (queue.length === 1) this.write(queue[0]!);
      else if (queue.length > 1) this.write({ kind: BATCH, msgs: queue });
    });
  }
}

/** Hands `msg` to `each`, or each message of a batch in the order sent. */
export function unbatch<M>(msg: M | Batch<M>, each: (m: M) => void): void {
  if (isBatch(msg)) for (const m of msg.msgs) each(m);
  else each(msg);
}

function isBatch<M>(msg: M | Batch<M>): msg is Batch<M> {
  return (msg as { kind?: unknown } | null)?.kind === BATCH && Array.isArray((msg as Batch<M>).msgs);
}
