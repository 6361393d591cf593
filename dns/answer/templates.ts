// Static answers are computed once per config load: for every name in our zones and the types
// people ask for, the response sections are encoded as if the question were at offset 12. A
// query for that name (in any letter case, which does not change lengths or offsets) then costs
// one map lookup and one copy.
import { Class, HEADER_LEN, Type } from '../wire/constants.js';
import { keyToWire } from '../wire/name.js';
import { MessageWriter } from '../wire/writer.js';
import type { AnswerTemplate, Route, Zone } from '../zone/zone.js';
import { writeSections } from './encode.js';
import { resolve } from './resolve.js';

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
  if (!answer || answer.dynamic) return null;
  const qname = keyToWire(key);
  const question = Buffer.alloc(HEADER_LEN + qname.length + 4);
  qname.copy(question, HEADER_LEN);
  question.writeUInt16BE(qtype, HEADER_LEN + qname.length);
  question.writeUInt16BE(Class.IN, HEADER_LEN + qname.length + 2);
  w.reset();
  w.question(question, question.length, key);
  const counts = writeSections(w, answer);
  return { rcode: answer.rcode, aa: answer.aa, ...counts, body: Buffer.from(w.buf.subarray(question.length, w.off)) };
}

/**
 * Routed names asked for by their own name (not through a wildcard or a CNAME): for A and AAAA
 * the answer is just the decision's addresses, so the query path can copy them pre-encoded
 * (Steering.answerTemplate) instead of resolving and compressing per query.
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
