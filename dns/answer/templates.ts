// Static answers are computed once per config load: for every name in our zones and the types
// people ask for, the response sections are encoded as if the question were at offset 12. A
// query for that name (in any letter case, which does not change lengths or offsets) then costs
// one map lookup and one copy.
import { Type } from '../wire/constants.js';
import { MessageWriter } from '../wire/writer.js';
import type { Route, Zone } from '../zone/zone.js';
import { encodeTemplate } from './encode.js';
import { resolve } from './resolve.js';
import type { AnswerTemplate } from './types.js';

/** QTYPEs worth precomputing for every name, besides the types a name holds. */
const COMMON_QTYPES = [Type.A, Type.AAAA, Type.CNAME, Type.NS, Type.SOA, Type.MX, Type.TXT, Type.SRV, Type.CAA, Type.ANY, Type.HTTPS, Type.SVCB, Type.PTR, Type.DS];

export function buildTemplates(zones: ReadonlyMap<string, Zone>): Map<string, Map<number, AnswerTemplate>> {
  const out = new Map<string, Map<number, AnswerTemplate>>();
  const w = new MessageWriter();
  for (const zone of zones.values()) {
    for (const node of zone.nodes.values()) {
      // Wildcard owners are answered for other names; they are synthesized per query.
      if (node.name.key.startsWith('\x01*')) continue;
      const byType = new Map<number, AnswerTemplate>();
      for (const qtype of new Set([...COMMON_QTYPES, ...node.rrsets.keys()])) {
        const t = buildOne(w, zones, node.name.key, qtype);
        if (t) byType.set(qtype, t);
      }
      out.set(node.name.key, byType);
    }
  }
  return out;
}

function buildOne(w: MessageWriter, zones: ReadonlyMap<string, Zone>, key: string, qtype: number): AnswerTemplate | null {
  const answer = resolve(zones, key, qtype);
  // Answers that depend on the client (routed names) are built per query.
  return !answer || answer.dynamic ? null : encodeTemplate(w, key, qtype, answer);
}

/**
 * Routed names asked for by their own name (not through a wildcard or a CNAME): for A and AAAA
 * the answer is just the decision's addresses, so the query path can copy them pre-encoded
 * (Decision.aTemplate, built by encode.ts) instead of resolving and compressing per query.
 */
export function buildRouteIndex(zones: ReadonlyMap<string, Zone>): Map<string, Route> {
  const out = new Map<string, Route>();
  for (const zone of zones.values()) {
    for (const node of zone.nodes.values()) {
      if (!node.route || node.name.key.startsWith('\x01*')) continue;
      // Only when the lookup really lands on this node (not below a delegation, say).
      const probe = resolve(zones, node.name.key, Type.A);
      if (probe?.dynamic && probe.answer.length === 0) out.set(node.name.key, node.route);
    }
  }
  return out;
}
