// Builds the immutable zones from parsed records and enforces the rules that make a zone
// servable (RFC 1034, RFC 2181, RFC 4592). Every error names where the record came from.
import { Type, typeName } from '../wire/constants.js';
import { isAtOrBelow, keyToText, keyToWire, nameFromWire, parentKey, type Name } from '../wire/name.js';
import type { RData, RRset } from '../wire/rdata.js';
import { PackedNodes } from './packed-nodes.js';
import { RRsetsByType } from './rrsets.js';
import type { Zone, ZoneNode } from './zone.js';

export interface SourceRecord {
  readonly owner: Name;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: RData;
  /** Where it was written: `zones[0].records[3]` or `zones/demo.test.zone:12` (may be computed when read). */
  readonly where: string;
}

/** A routed name: answered per query by the steering chain over a pool. */
export interface SourceRoute {
  readonly owner: Name;
  readonly pool: string;
  readonly ttl: number;
  readonly answers: number;
  readonly where: string;
}

export interface ZoneSource {
  readonly origin: Name;
  /** Where the zone is declared, for errors about the zone as a whole. */
  readonly where: string;
  readonly records: readonly SourceRecord[];
  readonly routes?: readonly SourceRoute[];
}

export class ZoneError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'ZoneError';
  }
}

interface MutableNode {
  name: Name;
  /** Each RRset with the record that started it (for errors), in the order first written; an
   * array rather than a Map per name, which a million names made the bulk of compiling's garbage. */
  rrsets: MutableEntry[];
  route?: SourceRoute;
}
interface MutableEntry {
  rrset: MutableRRset;
  first: SourceRecord;
}
interface MutableRRset {
  owner: Name;
  type: number;
  ttl: number;
  rdata: RData[];
}

const WILDCARD_LABEL = '\x01*';
/** Types that may sit below a zone cut: glue for the delegated name servers. */
const GLUE_TYPES = new Set<number>([Type.A, Type.AAAA]);
/** Types whose targets must not be aliases (RFC 2181 §10.3). */
const TARGET_TYPES = [Type.NS, Type.MX, Type.SRV];

/** A zone as compiled, before its nodes are packed: the checks across zones read these maps. */
interface Compiled {
  readonly zone: { -readonly [K in keyof Zone]: Zone[K] };
  /** Parents before children. */
  readonly nodes: Map<string, ZoneNode>;
}

export function compileZones(sources: readonly ZoneSource[]): Map<string, Zone> {
  const compiled = new Map<string, Compiled>();
  for (const source of sources) {
    if (compiled.has(source.origin.key))
      throw new ZoneError(source.where, `zone ${keyToText(source.origin.key)} is defined twice`);
    compiled.set(source.origin.key, compileZone(source));
  }
  for (const { nodes } of compiled.values()) checkTargets(nodes, compiled, sources);
  const zones = new Map<string, Zone>();
  for (const [key, { zone, nodes }] of compiled) {
    zone.nodes = PackedNodes.pack(zone, [...nodes.values()]);
    zones.set(key, zone);
  }
  return zones;
}

function compileZone(source: ZoneSource): Compiled {
  const apexKey = source.origin.key;
  const nodes = new Map<string, MutableNode>();
  for (const rec of source.records) {
    if (!isAtOrBelow(rec.owner.key, apexKey)) {
      throw new ZoneError(rec.where, `${keyToText(rec.owner.key)} is outside zone ${keyToText(apexKey)}`);
    }
    let node = nodes.get(rec.owner.key);
    if (!node) {
      node = { name: rec.owner, rrsets: [] };
      nodes.set(rec.owner.key, node);
    }
    const existing = entryOf(node, rec.type);
    if (!existing) {
      node.rrsets.push({ rrset: { owner: node.name, type: rec.type, ttl: rec.ttl, rdata: [rec.rdata] }, first: rec });
      continue;
    }
    if (existing.rrset.ttl !== rec.ttl) {
      throw new ZoneError(
        rec.where,
        `TTL ${rec.ttl} differs from TTL ${existing.rrset.ttl} of the same ${typeName(rec.type)} RRset at ${existing.first.where} (RFC 2181 §5.2)`,
      );
    }
    // An RRset is a set (RFC 2181 §5): identical records collapse into one.
    if (!existing.rrset.rdata.some((r) => sameRdata(r, rec.rdata))) existing.rrset.rdata.push(rec.rdata);
  }

  for (const route of source.routes ?? []) {
    if (!isAtOrBelow(route.owner.key, apexKey)) {
      throw new ZoneError(route.where, `${keyToText(route.owner.key)} is outside zone ${keyToText(apexKey)}`);
    }
    let node = nodes.get(route.owner.key);
    if (!node) {
      node = { name: route.owner, rrsets: [] };
      nodes.set(route.owner.key, node);
    }
    if (node.route)
      throw new ZoneError(route.where, `${keyToText(route.owner.key)} is already routed at ${node.route.where}`);
    // The apex may be routed (its SOA and NS stay); a delegation point may not.
    const conflicting =
      route.owner.key === apexKey ? [Type.A, Type.AAAA, Type.CNAME] : [Type.A, Type.AAAA, Type.CNAME, Type.NS];
    for (const type of conflicting) {
      const other = entryOf(node, type);
      if (other)
        throw new ZoneError(
          route.where,
          `routed name ${keyToText(route.owner.key)} cannot also have ${typeName(type)} records (${other.first.where})`,
        );
    }
    node.route = route;
  }

  const apex = nodes.get(apexKey);
  const soa = apex && entryOf(apex, Type.SOA);
  if (!apex || !soa) throw new ZoneError(source.where, `zone ${keyToText(apexKey)} has no SOA record at its apex`);
  if (soa.rrset.rdata.length > 1) throw new ZoneError(soa.first.where, 'a zone has exactly one SOA record');
  if (!entryOf(apex, Type.NS))
    throw new ZoneError(source.where, `zone ${keyToText(apexKey)} has no NS records at its apex`);

  for (const node of nodes.values()) checkNode(node, apexKey);
  addEmptyNonTerminals(nodes, apexKey);

  const minimum = soaMinimum(soa.rrset);
  const zone: Compiled['zone'] = {
    apex: apex.name,
    soa: soa.rrset,
    negativeTtl: Math.min(soa.rrset.ttl, minimum),
    // Packed once every zone is compiled and checked (compileZones).
    nodes: undefined as unknown as PackedNodes,
  };
  const built = new Map<string, ZoneNode>();
  // Parents first, so each node can inherit the delegation above it: by key length, bucketed
  // (a key is at most 254 bytes), which for a million names is far cheaper than a sort.
  const byLength: MutableNode[][] = [];
  for (const node of nodes.values()) (byLength[node.name.key.length] ??= []).push(node);
  for (const node of byLength.flat()) {
    // Arrays sized exactly: one grown by push keeps room for 16 more, ~130 bytes per name.
    const list = new Array<RRset>(node.rrsets.length);
    for (const [i, { rrset }] of node.rrsets.entries())
      list[i] = rrset.rdata.length === 1 ? rrset : { ...rrset, rdata: rrset.rdata.slice() };
    const rrsets = list.length === 0 ? RRsetsByType.EMPTY : new RRsetsByType(list);
    const parent = node.name.key === apexKey ? undefined : built.get(parentKey(node.name.key)!);
    const route = node.route ? { pool: node.route.pool, ttl: node.route.ttl, answers: node.route.answers } : null;
    const one: { name: Name; zone: Zone; rrsets: RRsetsByType; delegation: ZoneNode | null; route: typeof route } = {
      name: node.name,
      zone,
      rrsets,
      delegation: parent?.delegation ?? null,
      route,
    };
    if (one.delegation) {
      checkOccluded(node, one.delegation);
      if (node.route)
        throw new ZoneError(
          node.route.where,
          `routed name ${keyToText(node.name.key)} is below the delegation to ${keyToText(one.delegation.name.key)}`,
        );
    } else if (node.name.key !== apexKey && rrsets.has(Type.NS)) one.delegation = one;
    built.set(node.name.key, one);
  }
  return { zone, nodes: built };
}

/** Below a zone cut only glue may exist: anything else would never be served (RFC 1034 §4.2.1). */
function checkOccluded(node: MutableNode, cut: ZoneNode): void {
  for (const {
    rrset: { type },
    first,
  } of node.rrsets) {
    if (!GLUE_TYPES.has(type)) {
      throw new ZoneError(
        first.where,
        `${typeName(type)} at ${keyToText(node.name.key)} is below the delegation to ${keyToText(cut.name.key)}; only A/AAAA glue may be there`,
      );
    }
  }
}

function checkNode(node: MutableNode, apexKey: string): void {
  const name = keyToText(node.name.key);
  const cname = entryOf(node, Type.CNAME);
  if (cname) {
    if (cname.rrset.rdata.length > 1)
      throw new ZoneError(cname.first.where, `${name} has more than one CNAME (RFC 1034 §3.6.2)`);
    for (const other of node.rrsets) {
      if (other.rrset.type !== Type.CNAME) {
        throw new ZoneError(
          cname.first.where,
          `CNAME at ${name} cannot coexist with other data (${typeName(other.rrset.type)} at ${other.first.where}) (RFC 1034 §3.6.2)`,
        );
      }
    }
  }
  const soa = entryOf(node, Type.SOA);
  if (soa && node.name.key !== apexKey)
    throw new ZoneError(soa.first.where, `SOA at ${name} is not at the zone apex ${keyToText(apexKey)}`);
  const ns = entryOf(node, Type.NS);
  if (ns && node.name.key.startsWith(WILDCARD_LABEL))
    throw new ZoneError(ns.first.where, `NS at wildcard ${name} is not allowed (RFC 4592 §4.2)`);
}

/** Every ancestor of a name with data exists too (RFC 4592 §2.2.2), so it must not be NXDOMAIN. */
function addEmptyNonTerminals(nodes: Map<string, MutableNode>, apexKey: string): void {
  for (const key of [...nodes.keys()]) {
    for (let k = parentKey(key); k !== undefined && k.length >= apexKey.length; k = parentKey(k)) {
      if (nodes.has(k)) break;
      nodes.set(k, { name: nameFromWire(keyToWire(k)), rrsets: [] });
    }
  }
}

/** NS, MX and SRV must not point at an alias (RFC 2181 §10.3). */
function checkTargets(
  nodes: ReadonlyMap<string, ZoneNode>,
  zones: ReadonlyMap<string, Compiled>,
  sources: readonly ZoneSource[],
): void {
  for (const node of nodes.values()) {
    for (const type of TARGET_TYPES) {
      const rrset = node.rrsets.get(type);
      if (!rrset) continue;
      for (const rdata of rrset.rdata) {
        for (const part of rdata) {
          if (Buffer.isBuffer(part)) continue;
          for (const other of zones.values()) {
            if (other.nodes.get(part.name.key)?.rrsets.has(Type.CNAME)) {
              throw new ZoneError(
                whereOf(sources, node.name.key, type) ?? keyToText(node.name.key),
                `${typeName(type)} target ${keyToText(part.name.key)} is a CNAME; it must name a host with addresses (RFC 2181 §10.3)`,
              );
            }
          }
        }
      }
    }
  }
}

function entryOf(node: MutableNode, type: number): MutableEntry | undefined {
  return node.rrsets.find((e) => e.rrset.type === type);
}

/** Where the first record of an RRset was written: looked up again only for an error message. */
function whereOf(sources: readonly ZoneSource[], key: string, type: number): string | undefined {
  for (const source of sources) {
    const rec = source.records.find((r) => r.owner.key === key && r.type === type);
    if (rec) return rec.where;
  }
  return undefined;
}

function soaMinimum(soa: RRset): number {
  const rdata = soa.rdata[0]!;
  const last = rdata[rdata.length - 1];
  if (!Buffer.isBuffer(last)) throw new Error('SOA RDATA must end with MINIMUM');
  return last.readUInt32BE(last.length - 4);
}

function sameRdata(a: RData, b: RData): boolean {
  if (a.length !== b.length) return false;
  return a.every((part, i) => {
    const other = b[i]!;
    if (Buffer.isBuffer(part)) return Buffer.isBuffer(other) && part.equals(other);
    return !Buffer.isBuffer(other) && part.name.key === other.name.key;
  });
}
