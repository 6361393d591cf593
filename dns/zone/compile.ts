// Builds the immutable zones from parsed records and enforces the rules that make a zone
// servable (RFC 1034, RFC 2181, RFC 4592). Every error names where the record came from.
import { Type, typeName } from '../wire/constants.js';
import { isAtOrBelow, keyToText, keyToWire, nameFromWire, parentKey, type Name } from '../wire/name.js';
import type { RData, RRset } from '../wire/rdata.js';
import { PackedNodes, type NodeToPack } from './packed-nodes.js';
import { runInSlices, runNow, STEPS_PER_YIELD, type Work } from './slices.js';
import type { Route, Zone } from './zone.js';

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

/** A name while its zone is compiled: checked, then packed (packed-nodes.ts) and dropped. */
interface MutableNode extends NodeToPack {
  /** In the order first written; an array rather than a Map per name, which a million names
   * made the bulk of compiling's garbage. */
  readonly rrsets: MutableRRset[];
  route: Route | null;
  /** Where the route was written (for errors). */
  routedAt: string | null;
  delegation: MutableNode | null;
}
/** An RRset with the record that started it (for errors). */
interface MutableRRset {
  readonly owner: Name;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: RData[];
  readonly first: SourceRecord;
}

const WILDCARD_LABEL = '\x01*';
/** Types that may sit below a zone cut: glue for the delegated name servers. */
const GLUE_TYPES = new Set<number>([Type.A, Type.AAAA]);
/** Types whose targets must not be aliases (RFC 2181 §10.3). */
const TARGET_TYPES = [Type.NS, Type.MX, Type.SRV];

/** A zone as compiled, before its nodes are packed: the checks across zones read these maps. */
interface Compiled {
  readonly zone: { -readonly [K in keyof Zone]: Zone[K] };
  readonly nodes: ReadonlyMap<string, MutableNode>;
  /** The same nodes, parents before children (the order packing wants). */
  readonly ordered: readonly MutableNode[];
}

/** Compiles in one go: for tests and small configs, or where nothing else waits. */
export function compileZones(sources: readonly ZoneSource[]): Map<string, Zone> {
  return runNow(compiling(sources));
}

/**
 * Compiles in slices of a few milliseconds, so a server answers queries while it compiles a big
 * zone (a reload of a million records takes seconds).
 */
export function compileZonesInSlices(sources: readonly ZoneSource[], sliceMs?: number): Promise<Map<string, Zone>> {
  return runInSlices(compiling(sources), sliceMs);
}

function* compiling(sources: readonly ZoneSource[]): Work<Map<string, Zone>> {
  const compiled = new Map<string, Compiled>();
  for (const source of sources) {
    if (compiled.has(source.origin.key))
      throw new ZoneError(source.where, `zone ${keyToText(source.origin.key)} is defined twice`);
    compiled.set(source.origin.key, yield* compileZone(source));
  }
  for (const { nodes } of compiled.values()) yield* checkTargets(nodes, compiled);
  const zones = new Map<string, Zone>();
  for (const [key, { zone, ordered }] of compiled) {
    zone.nodes = yield* PackedNodes.packing(zone, ordered);
    zones.set(key, zone);
  }
  return zones;
}

function* compileZone(source: ZoneSource): Work<Compiled> {
  const apexKey = source.origin.key;
  const nodes = new Map<string, MutableNode>();
  let steps = 0;
  // A file writes a name's records together: the last node saves most lookups.
  let last: MutableNode | undefined;
  // Names below a zone cut need checking only where there is a cut.
  let cuts = false;
  for (const rec of source.records) {
    if (++steps % STEPS_PER_YIELD === 0) yield;
    const key = rec.owner.key;
    if (!isAtOrBelow(key, apexKey)) {
      throw new ZoneError(rec.where, `${keyToText(key)} is outside zone ${keyToText(apexKey)}`);
    }
    if (rec.type === Type.NS && key !== apexKey) cuts = true;
    const node = last?.name.key === key ? last : nodes.get(key);
    if (!node) {
      last = newNode(rec.owner, [rrsetOf(rec, rec.owner)]);
      nodes.set(key, last);
      continue;
    }
    last = node;
    const existing = entryOf(node, rec.type);
    if (!existing) {
      node.rrsets.push(rrsetOf(rec, node.name));
      continue;
    }
    if (existing.ttl !== rec.ttl) {
      throw new ZoneError(
        rec.where,
        `TTL ${rec.ttl} differs from TTL ${existing.ttl} of the same ${typeName(rec.type)} RRset at ${existing.first.where} (RFC 2181 §5.2)`,
      );
    }
    // An RRset is a set (RFC 2181 §5): identical records collapse into one.
    if (!existing.rdata.some((r) => sameRdata(r, rec.rdata))) existing.rdata.push(rec.rdata);
  }

  for (const route of source.routes ?? []) {
    if (!isAtOrBelow(route.owner.key, apexKey)) {
      throw new ZoneError(route.where, `${keyToText(route.owner.key)} is outside zone ${keyToText(apexKey)}`);
    }
    let node = nodes.get(route.owner.key);
    if (!node) {
      node = newNode(route.owner, []);
      nodes.set(route.owner.key, node);
    }
    if (node.routedAt)
      throw new ZoneError(route.where, `${keyToText(route.owner.key)} is already routed at ${node.routedAt}`);
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
    node.route = { pool: route.pool, ttl: route.ttl, answers: route.answers };
    node.routedAt = route.where;
  }

  const apex = nodes.get(apexKey);
  const soa = apex && entryOf(apex, Type.SOA);
  if (!apex || !soa) throw new ZoneError(source.where, `zone ${keyToText(apexKey)} has no SOA record at its apex`);
  if (soa.rdata.length > 1) throw new ZoneError(soa.first.where, 'a zone has exactly one SOA record');
  if (!entryOf(apex, Type.NS))
    throw new ZoneError(source.where, `zone ${keyToText(apexKey)} has no NS records at its apex`);

  for (const node of nodes.values()) {
    if (++steps % STEPS_PER_YIELD === 0) yield;
    checkNode(node, apexKey);
  }
  yield* addEmptyNonTerminals(nodes, apexKey);

  const minimum = soaMinimum(soa);
  const zone: Compiled['zone'] = {
    apex: apex.name,
    soa: { owner: soa.owner, type: soa.type, ttl: soa.ttl, rdata: soa.rdata },
    negativeTtl: Math.min(soa.ttl, minimum),
    // Packed once every zone is compiled and checked (compileZones).
    nodes: undefined as unknown as Zone['nodes'],
  };
  // Parents first, so each node can inherit the delegation above it: by key length, bucketed
  // (a key is at most 254 bytes), which for a million names is far cheaper than a sort.
  const byLength: MutableNode[][] = [];
  for (const node of nodes.values()) (byLength[node.name.key.length] ??= []).push(node);
  const ordered = byLength.flat();
  for (const node of cuts ? ordered : []) {
    if (++steps % STEPS_PER_YIELD === 0) yield;
    const key = node.name.key;
    if (key === apexKey) continue;
    const cut = nodes.get(parentKey(key)!)!.delegation;
    if (cut) {
      node.delegation = cut;
      checkOccluded(node, cut);
      if (node.routedAt)
        throw new ZoneError(
          node.routedAt,
          `routed name ${keyToText(key)} is below the delegation to ${keyToText(cut.name.key)}`,
        );
    } else if (entryOf(node, Type.NS)) node.delegation = node;
  }
  return { zone, nodes, ordered };
}

function newNode(name: Name, rrsets: MutableRRset[]): MutableNode {
  return { name, rrsets, route: null, routedAt: null, delegation: null };
}

function rrsetOf(rec: SourceRecord, owner: Name): MutableRRset {
  return { owner, type: rec.type, ttl: rec.ttl, rdata: [rec.rdata], first: rec };
}

/** Below a zone cut only glue may exist: anything else would never be served (RFC 1034 §4.2.1). */
function checkOccluded(node: MutableNode, cut: MutableNode): void {
  for (const { type, first } of node.rrsets) {
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
    if (cname.rdata.length > 1)
      throw new ZoneError(cname.first.where, `${name} has more than one CNAME (RFC 1034 §3.6.2)`);
    for (const other of node.rrsets) {
      if (other.type !== Type.CNAME) {
        throw new ZoneError(
          cname.first.where,
          `CNAME at ${name} cannot coexist with other data (${typeName(other.type)} at ${other.first.where}) (RFC 1034 §3.6.2)`,
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
function* addEmptyNonTerminals(nodes: Map<string, MutableNode>, apexKey: string): Work<void> {
  let steps = 0;
  for (const key of [...nodes.keys()]) {
    if (++steps % STEPS_PER_YIELD === 0) yield;
    for (let k = parentKey(key); k !== undefined && k.length >= apexKey.length; k = parentKey(k)) {
      if (nodes.has(k)) break;
      nodes.set(k, newNode(nameFromWire(keyToWire(k)), []));
    }
  }
}

/** NS, MX and SRV must not point at an alias (RFC 2181 §10.3). */
function* checkTargets(nodes: ReadonlyMap<string, MutableNode>, zones: ReadonlyMap<string, Compiled>): Work<void> {
  let steps = 0;
  for (const node of nodes.values()) {
    if (++steps % STEPS_PER_YIELD === 0) yield;
    for (const type of TARGET_TYPES) {
      const rrset = entryOf(node, type);
      if (!rrset) continue;
      for (const rdata of rrset.rdata) {
        for (const part of rdata) {
          if (Buffer.isBuffer(part)) continue;
          for (const other of zones.values()) {
            const target = other.nodes.get(part.name.key);
            if (target && entryOf(target, Type.CNAME)) {
              throw new ZoneError(
                rrset.first.where,
                `${typeName(type)} target ${keyToText(part.name.key)} is a CNAME; it must name a host with addresses (RFC 2181 §10.3)`,
              );
            }
          }
        }
      }
    }
  }
}

function entryOf(node: MutableNode, type: number): MutableRRset | undefined {
  for (const rrset of node.rrsets) if (rrset.type === type) return rrset;
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
