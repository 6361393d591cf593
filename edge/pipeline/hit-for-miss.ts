// Hit-for-miss: URLs whose last answer could not be stored. Requests for them go forward at once
// instead of queueing behind one fetch whose answer they could not use anyway.
import { LRUCache } from 'lru-cache';

export class HitForMiss {
  private readonly until = new LRUCache<string, number>({ max: 50_000 });

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  mark(key: string): void {
    if (this.ttlMs > 0) this.until.set(key, this.now() + this.ttlMs);
  }

  /** True when `key` was marked. */
  clear(key: string): boolean {
    return this.until.delete(key);
  }

  has(key: string): boolean {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(key);
    return false;
  }
}
