// Recent purges, numbered, so the primary can order them against stored objects it relays. A
// worker stamps each object it stores with the last purge it had applied; purges it had not
// seen yet reached it after the store and removed its own copy, so the relayed copies must get
// the same treatment: dropped (hard) or marked stale (soft). The other workers have already
// applied those purges, so a copy relayed as-is would survive them.
import { surrogateKeys } from '../cache-store.js';
import { purgeMatches, type PurgeOp } from '../purge.js';
import type { WireEntry } from './wire.js';

const KEEP = 1024;

interface Logged {
  readonly seq: number;
  readonly op: PurgeOp;
  readonly at: number;
}

export class PurgeLog {
  private readonly recent: Logged[] = [];
  private seq = 0;

  /** Numbers a purge about to be sent to the workers. */
  add(op: PurgeOp, at: number): number {
    this.seq++;
    this.recent.push({ seq: this.seq, op, at });
    if (this.recent.length > KEEP) this.recent.shift();
    return this.seq;
  }

  /**
   * `entry` (stored by a worker that had applied purges up to `seenSeq`) as the other workers
   * should hold it, or undefined when a later purge removed it. Too old to tell: undefined (a
   * worker that misses it fetches it again).
   */
  relayable(entry: WireEntry, seenSeq: number): WireEntry | undefined {
    if (seenSeq >= this.seq) return entry;
    const oldest = this.recent[0]?.seq ?? this.seq + 1;
    if (seenSeq + 1 < oldest) return undefined;
    let tags: string[] | undefined;
    for (const p of this.recent) {
      if (p.seq <= seenSeq) continue;
      tags ??= surrogateKeys(entry.headers);
      if (!purgeMatches(p.op, entry.primary, tags)) continue;
      if (!p.op.soft) return undefined;
      entry.invalidatedAt = Math.min(entry.invalidatedAt ?? p.at, p.at);
    }
    return entry;
  }
}
