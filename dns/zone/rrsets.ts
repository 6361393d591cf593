// A node's RRsets by type, kept as one RRset or a small array. Most names hold one to three
// RRsets and are looked up by type a handful of times per query, while a Map per name cost ~170
// bytes, a sixth of a large zone's memory; most names of a large zone hold a single RRset, which
// then needs no array either. Iteration keeps the order the types were first written in.
import type { RRset } from '../wire/rdata.js';

export class RRsetsByType implements ReadonlyMap<number, RRset> {
  /** Shared by every empty non-terminal. */
  static readonly EMPTY = new RRsetsByType([]);

  private readonly one: RRset | null;
  private readonly list: readonly RRset[] | null;

  constructor(rrsets: readonly RRset[]) {
    this.one = rrsets.length === 1 ? rrsets[0]! : null;
    this.list = rrsets.length === 1 ? null : rrsets;
  }

  get size(): number {
    return this.one ? 1 : this.list!.length;
  }

  get(type: number): RRset | undefined {
    if (this.one) return this.one.type === type ? this.one : undefined;
    for (const rrset of this.list!) if (rrset.type === type) return rrset;
    return undefined;
  }

  has(type: number): boolean {
    return this.get(type) !== undefined;
  }

  forEach(fn: (rrset: RRset, type: number, map: ReadonlyMap<number, RRset>) => void, thisArg?: unknown): void {
    for (const rrset of this.values()) fn.call(thisArg, rrset, rrset.type, this);
  }

  entries(): MapIterator<[number, RRset]> {
    return this.all()
      .map((rrset): [number, RRset] => [rrset.type, rrset])
      .values();
  }

  keys(): MapIterator<number> {
    return this.all()
      .map((rrset) => rrset.type)
      .values();
  }

  values(): MapIterator<RRset> {
    return this.all().values();
  }

  [Symbol.iterator](): MapIterator<[number, RRset]> {
    return this.entries();
  }

  private all(): readonly RRset[] {
    return this.one ? [this.one] : this.list!;
  }
}
