// Resource data ready to be written: raw bytes interleaved with domain names, because names
// inside NS/CNAME/SOA/MX/PTR RDATA may be compressed (RFC 3597 §4) while everything else is
// copied as it is.
import type { Name } from './name.js';

export interface RDataName {
  readonly name: Name;
  /** Only the RFC 1035 well-known types may have their RDATA names compressed. */
  readonly compress: boolean;
}

export type RDataPart = Buffer | RDataName;
export type RData = readonly RDataPart[];

export interface RRset {
  readonly owner: Name;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: readonly RData[];
  /** Class of the records; IN unless said (CHAOS answers use CH). */
  readonly cls?: number;
}

/** One RRset in a response section. */
export interface SectionEntry {
  readonly rrset: RRset;
  /** Written as the owner instead of rrset.owner; `null` means "the QNAME as asked" (wildcards). */
  readonly owner?: Name | null;
  /** Overrides the RRset TTL (negative answers: min(SOA TTL, SOA MINIMUM)). */
  readonly ttl?: number;
}

export function rdataLength(rdata: RData): number {
  let n = 0;
  for (const part of rdata) n += Buffer.isBuffer(part) ? part.length : part.name.wire.length;
  return n;
}
