// Deciding one query: which Response it gets, from the precomputed answers first (a static
// template, then a routed name's own pre-encoded A/AAAA) and otherwise by answering in full.
// Returns what it decided, ECS scope included; it writes nothing but the resolver count.
import { Class, Rcode, Type } from '../wire/constants.js';
import type { Query } from '../wire/query.js';
import type { Route, Zone } from '../zone/zone.js';
import { answerChaos, type ChaosTable } from './chaos.js';
import { resolve } from './resolve.js';
import type { Steering } from './steering.js';
import { answerSigned } from './tsig.js';
import type { StaticAnswers } from './templates.js';
import type { AnswerTemplate, ErrorResponse, Response } from './types.js';

/** What answering reads; the serving state (server/handle-query.ts) is a superset, swapped whole on reload. */
export interface AnswerData {
  readonly zones: ReadonlyMap<string, Zone>;
  /** Static answers, pre-encoded when first asked for (templates.ts). */
  readonly templates: StaticAnswers;
  /** Routed names (by key) whose A/AAAA answers the steering hands over pre-encoded. */
  readonly routes: ReadonlyMap<string, Route>;
  readonly chaos: ChaosTable;
  /** Chooses PoPs for routed names. */
  readonly steering: Steering;
}

const refused: ErrorResponse = { kind: 'error', rcode: Rcode.REFUSED };
const notImplemented: ErrorResponse = { kind: 'error', rcode: Rcode.NOTIMP };
const formErr: ErrorResponse = { kind: 'error', rcode: Rcode.FORMERR };
const badVersion: ErrorResponse = { kind: 'error', rcode: Rcode.BADVERS };

/** `clientIp` is the resolver's address, used to steer routed names when the query has no Client Subnet. */
export function respond(data: AnswerData, q: Query, clientIp: string): Response {
  // A signed request is checked before anything else is answered (RFC 8945 §5.2).
  if (q.tsig) return answerSigned(q.tsig);
  // The precomputed answers assume an ordinary question: class IN, EDNS version 0 if any.
  if (q.qclass === Class.IN && (q.edns === null || q.edns.version === 0)) {
    const template = data.templates.get(q.qnameKey, q.qtype);
    if (template) return template;
    if (q.qtype === Type.A || q.qtype === Type.AAAA) {
      const routed = routedTemplate(data, q, clientIp);
      if (routed) return routed;
    }
  }
  return answer(data, q, clientIp);
}

/**
 * A routed name's own A/AAAA: the decision comes with its answer already encoded. Null when the
 * name is not such a route or the decision has no such addresses (a CNAME member or NODATA:
 * answered in full).
 */
function routedTemplate(data: AnswerData, q: Query, clientIp: string): AnswerTemplate | null {
  const route = data.routes.get(q.qnameKey);
  if (!route) return null;
  const d = data.steering.decide(route, clientIp, q.edns?.clientSubnet ?? null);
  const template = q.qtype === Type.A ? d.aTemplate : d.aaaaTemplate;
  if (template) data.steering.recordResolver(clientIp);
  return template;
}

function answer(data: AnswerData, q: Query, clientIp: string): Response {
  if (q.edns && q.edns.version > 0) return badVersion;
  if (q.qclass === Class.CH) return answerChaos(data.chaos, q.qnameKey, q.qtype);
  if (q.qclass !== Class.IN) return refused;
  switch (q.qtype) {
    case Type.OPT:
      return formErr;
    case Type.AXFR:
    case Type.IXFR:
      // Zone transfers are not offered: the config file is the source of truth.
      return refused;
    case Type.MAILA:
    case Type.MAILB:
      return notImplemented;
  }
  const steering = data.steering;
  const answer = resolve(data.zones, q.qnameKey, q.qtype, steering, clientIp, q.edns?.clientSubnet ?? null);
  if (!answer) return refused;
  if (answer.dynamic) steering.recordResolver(clientIp);
  return answer;
}
