// Authoritative answering (RFC 1034 §4.3.2, RFC 4592 wildcards, RFC 6604 CNAME rcodes): turns
// a question into the RRsets of each section. Pure: no I/O, no wire bytes.
import { Rcode, Type } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import type { RRset, SectionEntry } from '../wire/rdata.js';
import { findZone, type Zone, type ZoneNode } from '../zone/zone.js';
import type { RouteAnswerer } from './steering.js';

export interface Answer {
  readonly rcode: number;
  readonly aa: boolean;
  readonly answer: SectionEntry[];
  readonly authority: SectionEntry[];
  readonly additional: SectionEntry[];
  /** A routed name took part: the answer depends on the client and must not be precomputed. */
  readonly dynamic?: boolean;
}

/** Types a routed name answers through steering; it may hold other types statically. */
const ROUTED_TYPES = new Set<number>([Type.A, Type.AAAA, Type.CNAME, Type.ANY]);

/** Longest CNAME chain we follow inside our own data (BIND and Knot use similar bounds). */
const MAX_CNAME_HOPS = 8;
const WILDCARD_LABEL = '\x01*';

const ADDRESS_TYPES = [Type.A, Type.AAAA] as const;

/** Type preference for a minimal ANY answer (RFC 8482 §4.1: one RRset is enough). */
const ANY_PREFERENCE = [Type.A, Type.AAAA, Type.CNAME, Type.MX, Type.TXT, Type.NS, Type.SOA];

type Found =
  | { kind: 'node'; node: ZoneNode; wildcard: boolean }
  | { kind: 'referral'; cut: ZoneNode }
  | { kind: 'nxdomain' };

/**
 * Returns null when no zone of ours contains the name (the caller answers REFUSED). Without a
 * `router`, a routed name yields an Answer marked `dynamic` (used to skip precomputing it).
 */
export function resolve(zones: ReadonlyMap<string, Zone>, qnameKey: string, qtype: number, router: RouteAnswerer | null = null): Answer | null {
  let zone = findZone(zones, qnameKey);
  if (!zone) return null;
  const answer: SectionEntry[] = [];
  const authority: SectionEntry[] = [];
  const additional: SectionEntry[] = [];
  let key = qnameKey;
  // The name being looked up; null while it is the QNAME as asked (wildcard owners point at it).
  let current: Name | null = null;
  const seen: string[] = [];
  let dynamic = false;

  for (let hop = 0; ; hop++) {
    const found = lookup(zone, key, qtype);
    if (found.kind === 'nxdomain') {
      authority.push(negativeSoa(zone));
      return { rcode: Rcode.NXDOMAIN, aa: true, answer, authority, additional, dynamic };
    }
    if (found.kind === 'referral') {
      const ns = found.cut.rrsets.get(Type.NS)!;
      authority.push({ rrset: ns });
      addAddresses(zones, ns, additional);
      return { rcode: Rcode.NOERROR, aa: answer.length > 0, answer, authority, additional, dynamic };
    }
    const { node } = found;
    const owner = found.wildcard ? current : node.name;
    let routed: RRset | null = null;
    if (node.route && ROUTED_TYPES.has(qtype)) {
      if (!router) return { rcode: Rcode.NOERROR, aa: true, answer, authority, additional, dynamic: true };
      routed = router.answer(node.route, qtype === Type.ANY ? Type.A : qtype);
      dynamic = true;
    }
    const wanted = routed && (routed.type === qtype || qtype === Type.ANY) ? routed : qtype === Type.ANY ? pickForAny(node) : node.rrsets.get(qtype);
    if (wanted) {
      answer.push(entry(wanted, owner));
      if (wanted.type === Type.NS || wanted.type === Type.MX || wanted.type === Type.SRV) addAddresses(zones, wanted, additional);
      return { rcode: Rcode.NOERROR, aa: true, answer, authority, additional, dynamic };
    }
    const cname = routed?.type === Type.CNAME ? routed : node.rrsets.get(Type.CNAME);
    if (!cname) {
      authority.push(negativeSoa(zone));
      return { rcode: Rcode.NOERROR, aa: true, answer, authority, additional, dynamic };
    }
    answer.push(entry(cname, owner));
    seen.push(key);
    const target = targetName(cname.rdata[0]!);
    const targetZone = findZone(zones, target.key);
    // Out of our data, a loop, or too long: the resolver follows the rest itself.
    if (!targetZone || seen.includes(target.key) || hop + 1 >= MAX_CNAME_HOPS) {
      return { rcode: Rcode.NOERROR, aa: true, answer, authority, additional, dynamic };
    }
    zone = targetZone;
    key = target.key;
    current = target;
  }
}

function lookup(zone: Zone, key: string, qtype: number): Found {
  const exact = zone.nodes.get(key);
  if (exact) {
    const cut = exact.delegation;
    // DS lives on the parent side of a cut (RFC 4035 §3.1.4.1), so it is answered here.
    if (cut && !(cut === exact && qtype === Type.DS)) return { kind: 'referral', cut };
    return { kind: 'node', node: exact, wildcard: false };
  }
  // Closest encloser: the deepest existing ancestor (empty non-terminals included).
  let encloser: ZoneNode | undefined;
  for (let k = key.slice(key.charCodeAt(0) + 1); ; k = k.slice(k.charCodeAt(0) + 1)) {
    encloser = zone.nodes.get(k);
    if (encloser || k.length === 0) break;
  }
  if (!encloser) return { kind: 'nxdomain' };
  if (encloser.delegation) return { kind: 'referral', cut: encloser.delegation };
  const wildcard = zone.nodes.get(WILDCARD_LABEL + encloser.name.key);
  if (wildcard) return { kind: 'node', node: wildcard, wildcard: true };
  return { kind: 'nxdomain' };
}

function entry(rrset: RRset, owner: Name | null): SectionEntry {
  return owner === rrset.owner ? { rrset } : { rrset, owner };
}

function negativeSoa(zone: Zone): SectionEntry {
  return { rrset: zone.soa, ttl: zone.negativeTtl };
}

function pickForAny(node: ZoneNode): RRset | undefined {
  for (const type of ANY_PREFERENCE) {
    const rrset = node.rrsets.get(type);
    if (rrset) return rrset;
  }
  return node.rrsets.values().next().value;
}

function targetName(rdata: RRset['rdata'][number]): Name {
  const part = rdata[0]!;
  if (Buffer.isBuffer(part)) throw new Error('CNAME RDATA without a name');
  return part.name;
}

/** Additional-section processing (RFC 1034 §4.3.2 step 6): A/AAAA of targets we hold, glue included. */
function addAddresses(zones: ReadonlyMap<string, Zone>, rrset: RRset, additional: SectionEntry[]): void {
  for (const rdata of rrset.rdata) {
    for (const part of rdata) {
      if (Buffer.isBuffer(part)) continue;
      const zone = findZone(zones, part.name.key);
      const node = zone?.nodes.get(part.name.key);
      if (!node) continue;
      for (const type of ADDRESS_TYPES) {
        const addr = node.rrsets.get(type);
        if (addr && !additional.some((e) => e.rrset === addr)) additional.push({ rrset: addr });
      }
    }
  }
}
