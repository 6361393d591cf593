// Static answers as pre-encoded templates, built the first time a name is asked for and kept in
// a bounded cache: encoding every name's ~14 common answers at load cost ~8 KB per name (10 GB
// for a million-record zone), while the names a server is really asked for are few. A template
// holds the sections encoded as if the question were at offset 12, so a query for that name (in
// any letter case, which does not change lengths or offsets) then costs two map lookups and one
// copy, allocating nothing.
import { Type } from '../wire/constants.js';
import { MessageWriter } from '../wire/writer.js';
import { findZone, type Route, type Zone } from '../zone/zone.js';
import { encodeTemplate } from './encode.js';
import { GenerationalCache } from './generational-cache.js';
import { resolve } from './resolve.js';
import type { AnswerTemplate } from './types.js';

/** QTYPEs answered from a template for every name, besides the types a name holds. */
const COMMON_QTYPES: ReadonlySet<number> = new Set([
  Type.A,
  Type.AAAA,
  Type.CNAME,
  Type.NS,
  Type.SOA,
  Type.MX,
  Type.TXT,
  Type.SRV,
  Type.CAA,
  Type.ANY,
  Type.HTTPS,
  Type.SVCB,
  Type.PTR,
  Type.DS,
]);

/**
 * Names whose templates are kept. A cached name holds one template per QTYPE asked (a few
 * hundred bytes each), so this bounds the cache to tens of megabytes; a name that falls out is
 * encoded again the next time, which is what answering it in full would cost anyway.
 */
export const HOT_NAMES = 50_000;

/** `null`: that QTYPE of that name is answered per query (a routed name's part). */
export type TemplatesByType = Map<number, AnswerTemplate | null>;
type ByType = TemplatesByType;

/** The template cache a server keeps for its life (one StaticAnswers per reload shares it). */
export function newTemplateCache(maxNames = HOT_NAMES): GenerationalCache<TemplatesByType> {
  return new GenerationalCache<TemplatesByType>(maxNames);
}

export class StaticAnswers {
  /** This state's templates in the server's cache (the zones they encode are this state's). */
  private readonly generation: number;
  /** Scratch for encoding templates; each is copied out. */
  private readonly w = new MessageWriter();

  constructor(
    private readonly zones: ReadonlyMap<string, Zone>,
    private readonly cache: GenerationalCache<TemplatesByType> = newTemplateCache(),
  ) {
    this.generation = cache.newGeneration();
  }

  /**
   * The template answering (`qnameKey`, `qtype`, IN), or null when that question is answered
   * per query: a name we do not hold as such (NXDOMAIN, wildcard, outside our zones), a wildcard
   * owner, a QTYPE neither common nor held, or an answer that depends on the client.
   */
  get(qnameKey: string, qtype: number): AnswerTemplate | null {
    const byType = this.cache.get(this.generation, qnameKey);
    if (byType) {
      const t = byType.get(qtype);
      if (t !== undefined) return t;
    }
    return this.build(qnameKey, qtype, byType);
  }

  private build(key: string, qtype: number, byType: ByType | undefined): AnswerTemplate | null {
    const node = findZone(this.zones, key)?.nodes.get(key);
    // Wildcard owners are answered for other names; they are synthesized per query.
    if (!node || key.startsWith('\x01*')) return null;
    if (!COMMON_QTYPES.has(qtype) && !node.rrsets.has(qtype)) return null;
    const answer = resolve(this.zones, key, qtype);
    // Answers that depend on the client (routed names) are built per query.
    const t = !answer || answer.dynamic ? null : encodeTemplate(this.w, key, qtype, answer);
    if (!byType) {
      byType = new Map();
      this.cache.set(this.generation, key, byType);
    }
    byType.set(qtype, t);
    return t;
  }
}

/**
 * Routed names asked for by their own name (not through a wildcard or a CNAME): for A and AAAA
 * the answer is just the decision's addresses, so the query path can copy them pre-encoded
 * (Decision.aTemplate, built by encode.ts) instead of resolving and compressing per query.
 */
export function buildRouteIndex(zones: ReadonlyMap<string, Zone>): Map<string, Route> {
  return routeIndexOf(zones, routeIndexKeys(zones));
}

/**
 * The keys of that index: worked out where the zones are compiled (the loading thread), since
 * resolving 10,000 routed names takes the serving thread a good part of a second.
 */
export function routeIndexKeys(zones: ReadonlyMap<string, Zone>): string[] {
  const keys: string[] = [];
  for (const zone of zones.values()) {
    for (const node of zone.nodes.routed()) {
      if (!node.route || node.name.key.startsWith('\x01*')) continue;
      // Only when the lookup really lands on this node (not below a delegation, say).
      const probe = resolve(zones, node.name.key, Type.A);
      if (probe?.dynamic && probe.answer.length === 0) keys.push(node.name.key);
    }
  }
  return keys;
}

/** The index from its keys (routeIndexKeys), each looked up without building its node. */
export function routeIndexOf(zones: ReadonlyMap<string, Zone>, keys: readonly string[]): Map<string, Route> {
  const out = new Map<string, Route>();
  for (const key of keys) {
    const route = findZone(zones, key)?.nodes.routeOf(key);
    if (route) out.set(key, route);
  }
  return out;
}
