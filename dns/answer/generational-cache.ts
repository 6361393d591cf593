// A bounded LRU made once per server and shared by the serving states it builds one after another
// (every reload builds a new one). Making an lru-cache of 100,000 entries takes ~20 ms and
// clearing a full one ~40 ms, both on the serving thread, so doing either at every reload or
// health change stalled answers. Here each state takes a generation and sees only what was stored
// under it; a new generation forgets everything at once, and the old entries are evicted as new
// ones come in.
import { LRUCache } from 'lru-cache';

interface Entry<V> {
  readonly generation: number;
  readonly value: V;
}

export class GenerationalCache<V> {
  private readonly lru: LRUCache<string, Entry<V>>;
  private generations = 0;
  /** lru-cache writes a field of its options object on each get: one object, not one per query. */
  private readonly getOptions: LRUCache.GetOptions<string, Entry<V>, unknown> = {};

  constructor(max: number, ttlMs?: number) {
    this.lru = new LRUCache<string, Entry<V>>(ttlMs === undefined ? { max } : { max, ttl: ttlMs });
  }

  /** A generation nothing is stored under yet. */
  newGeneration(): number {
    return ++this.generations;
  }

  get(generation: number, key: string): V | undefined {
    const entry = this.lru.get(key, this.getOptions);
    return entry !== undefined && entry.generation === generation ? entry.value : undefined;
  }

  set(generation: number, key: string, value: V): void {
    this.lru.set(key, { generation, value });
  }

  /** Entries stored under `generation` (counted one by one: for tests and status, not queries). */
  count(generation: number): number {
    let n = 0;
    for (const entry of this.lru.values()) if (entry.generation === generation) n++;
    return n;
  }

  /** Entries of any generation: never more than `max`. */
  get size(): number {
    return this.lru.size;
  }
}
