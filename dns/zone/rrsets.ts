// A node's RRsets by type, kept as a small array. Most names hold one to three RRsets and are
// looked up by type a handful of times per query, while a Map per name cost ~170 bytes, a sixth
// of a large zone's memory. Iteration keeps the order the types were first written in.
import type { RRset } from '../wire/rdata.js';

export class RRsetsByType implements ReadonlyMap<number, RRset> {
  /** Shared by every empty non-terminal. */
  static readonly EMPTY = new RRsetsByType([]);

  constructor(private readonly list: readonly RRset[]) {}

  get size(): number {
    return this.list.length;
  }

  get(type: number): RRset | undefined {
    for (const rrset of this.list) if (rrset.type === type) return rrset;
    return undefined;
  }

  has(type: number): boolean {
    return this.get(type) !== undefined;
  }

  forEach(fn: (rrset: RRset, type: number, map: ReadonlyMap<number, RRset>) => void, thisArg?: unknown): void {
    for (const rrset of this.list) fn.call(thisArg, rrset, rrset.type, this);
  }

  entries(): MapIterator<[number, RRset]> {
    return this.list.map((rrset): [number, RRset] => [rrset.type, rrset]).values();
  }

  keys(): MapIterator<number> {
    return this.list.map((rrset) => rrset.type).values();
  }

  values(): MapIterator<RRset> {
    return this.list.values();
  }

  [Symbol.iterator](): MapIterator<[number, RRset]> {
    return this.entries();
  }
}
