// Authoritative answering (RFC 1034 §4.3.2, RFC 4592 wildcards, RFC 6604 CNAME rcodes): turns
// a question into the RRsets of each section. Pure: no I/O, no wire bytes; a routed name's part
// comes from the router's decision, which is returned with its ECS scope rather than kept.
import { Rcode, Type } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import type { ClientSubnet } from '../wire/query.js';
import type { RRset, SectionEntry } from '../wire/rdata.js';
import { findZone, type Zone, type ZoneNode } from '../zone/zone.js';
import type { Decision, Router } from './steering.js';
import type { Answer } from './types.js';

/** Types a routed name answers through steering; it may hold other types statically. */
const ROUTED_TYPES = new Set<number>([Type.A, Type.AAAA, Type.CNAME, Type.ANY]);

/** Longest CNAME chain we follow inside our own data (BIND and Knot use similar bounds). */
const MAX_CNAME_HOPS = 8;
const WILDCARD_LABEL = '\x01*';

const ADDRESS_TYPES = [Type.A, Type.AAAA] as const;

/** Type preference for a minimal ANY answer (RFC 8482 §4.1: one RRset is enough). */
const ANY_PREFERENCE = [Type.A, Type.AAAA, Type.CNAME, Type.MX, Type.TXT, Type.NS, Type.SOA];

type Found =
  { kind: 'node'; node: ZoneNode; wildcard: boolean } | { kind: 'referral'; cut: ZoneNode } | { kind: 'nxdomain' };

/**
 * Returns null when no zone of ours contains the name (the caller answers REFUSED). Routed names
 * are steered for the client (`clientIp`, or `ecs` when given); without a `router`, a routed
 * name yields an Answer marked `dynamic` (used to skip precomputing it).
 */
export function resolve(
  zones: ReadonlyMap<string, Zone>,
  qnameKey: string,
  qtype: number,
  router: Router | null = null,
  clientIp = '',
  ecs: ClientSubnet | null = null,
): Answer | null {
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
  // ECS scope of the routed decision taken last (a chain through two routed names echoes the later).
  let scope = 0;

  for (let hop = 0; ; hop++) {
    const found = lookup(zone, key, qtype);
    if (found.kind === 'nxdomain') {
      authority.push(negativeSoa(zone));
      return { kind: 'answer', rcode: Rcode.NXDOMAIN, aa: true, answer, authority, additional, scope, dynamic };
    }
    if (found.kind === 'referral') {
      const ns = found.cut.rrsets.get(Type.NS)!;
      authority.push({ rrset: ns });
      addAddresses(zones, ns, additional);
      return {
        kind: 'answer',
        rcode: Rcode.NOERROR,
        aa: answer.length > 0,
        answer,
        authority,
        additional,
        scope,
        dynamic,
      };
    }
    const { node } = found;
    const owner = found.wildcard ? current : node.name;
    let routed: RRset | null = null;
    if (node.route && ROUTED_TYPES.has(qtype)) {
      if (!router)
        return { kind: 'answer', rcode: Rcode.NOERROR, aa: true, answer, authority, additional, scope, dynamic: true };
      const decision = router.decide(node.route, clientIp, ecs);
      routed = decided(decision, qtype === Type.ANY ? Type.A : qtype);
      scope =
        (qtype === Type.A ? decision.aScope : qtype === Type.AAAA ? decision.aaaaScope : undefined) ?? decision.scope;
      dynamic = true;
    }
    const wanted =
      routed && (routed.type === qtype || qtype === Type.ANY)
        ? routed
        : qtype === Type.ANY
          ? pickForAny(node)
          : node.rrsets.get(qtype);
    if (wanted) {
      answer.push(entry(wanted, owner));
      if (wanted.type === Type.NS || wanted.type === Type.MX || wanted.type === Type.SRV)
        addAddresses(zones, wanted, additional);
      return { kind: 'answer', rcode: Rcode.NOERROR, aa: true, answer, authority, additional, scope, dynamic };
    }
    const cname = routed?.type === Type.CNAME ? routed : node.rrsets.get(Type.CNAME);
    if (!cname) {
      authority.push(negativeSoa(zone));
      return { kind: 'answer', rcode: Rcode.NOERROR, aa: true, answer, authority, additional, scope, dynamic };
    }
    answer.push(entry(cname, owner));
    seen.push(key);
    const target = targetName(cname.rdata[0]!);
    const targetZone = findZone(zones, target.key);
    // Out of our data, a loop, or too long: the resolver follows the rest itself.
    if (!targetZone || seen.includes(target.key) || hop + 1 >= MAX_CNAME_HOPS) {
      return { kind: 'answer', rcode: Rcode.NOERROR, aa: true, answer, authority, additional, scope, dynamic };
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

/** A decision's records for `qtype` (A or AAAA; other types ask for its CNAME): addresses, else the CNAME member. */
function decided(d: Decision, qtype: number): RRset | null {
  switch (qtype) {
    case Type.A:
      return d.a ?? d.cname;
    case Type.AAAA:
      return d.aaaa ?? d.cname;
    default:
      return d.cname;
  }
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
