// The query pipeline, start to end: decode → answer (precomputed template, or resolve) →
// encode with EDNS and truncation. Transports (udp.ts, tcp.ts) only move bytes; everything a
// response depends on happens here, synchronously, so a reload never splits a query.
import { decodeQuery } from '../wire/decode.js';
import { Class, HEADER_LEN, Rcode, Type } from '../wire/constants.js';
import type { Edns, Query } from '../wire/query.js';
import { optLength, writeHeader, writeOpt, type ResponseOpt } from '../wire/response.js';
import { MessageWriter } from '../wire/writer.js';
import { answerChaos, type ChaosTable } from '../answer/chaos.js';
import { writeSections, type SectionCounts } from '../answer/encode.js';
import { resolve, type Answer } from '../answer/resolve.js';
import type { AnswerTemplate, Route, Zone } from '../zone/zone.js';
import type { DnsMetrics } from './metrics.js';
import type { Steering } from '../answer/steering.js';

/** Everything a response depends on; replaced as a whole on reload. */
export interface ServingState {
  readonly zones: ReadonlyMap<string, Zone>;
  readonly templates: ReadonlyMap<string, ReadonlyMap<number, AnswerTemplate>>;
  readonly chaos: ChaosTable;
  /** RFC 5001 NSID payload, or null to not answer NSID. */
  readonly nsid: Buffer | null;
  /** Largest UDP response we send, whatever the client advertises (RFC 6891 §6.2.5). */
  readonly maxUdpPayload: number;
  /** Chooses PoPs for routed names. */
  readonly steering: Steering;
  /** Routed names (by key) whose A/AAAA answers the steering hands over pre-encoded. */
  readonly routes: ReadonlyMap<string, Route>;
}

export const UDP = 0;
export const TCP = 1;
export type TransportId = typeof UDP | typeof TCP;

/** Classic DNS limit without EDNS (RFC 1035 §4.2.1). */
const PLAIN_UDP_LIMIT = 512;
const TCP_LIMIT = 65535;

const EMPTY: Answer = { rcode: Rcode.NOERROR, aa: false, answer: [], authority: [], additional: [] };
const refusedAnswer: Answer = { ...EMPTY, rcode: Rcode.REFUSED };
const notImplemented: Answer = { ...EMPTY, rcode: Rcode.NOTIMP };
const formErr: Answer = { ...EMPTY, rcode: Rcode.FORMERR };
const badVersion: Answer = { ...EMPTY, rcode: Rcode.BADVERS };

export class QueryHandler {
  private readonly w = new MessageWriter();

  constructor(
    public state: ServingState,
    private readonly metrics: DnsMetrics | null = null,
  ) {}

  /**
   * Returns the response to send, or null to send nothing. Never throws. `clientIp` is the
   * resolver's address, used to steer routed names when the query has no Client Subnet.
   */
  handle(msg: Buffer, transport: TransportId, clientIp: string): Buffer | null {
    const decoded = decodeQuery(msg);
    if (decoded.kind === 'drop') {
      this.metrics?.drop(decoded.reason === 'message is a response' ? 'response' : 'malformed');
      return null;
    }
    if (decoded.kind === 'error') {
      this.metrics?.answer(transport, 0, decoded.rcode);
      return this.errorResponse(msg, decoded.id, decoded.opcode, decoded.rd, decoded.questionEnd, decoded.rcode, decoded.hadEdns);
    }
    const q = decoded.query;
    let response: Buffer;
    let rcode: number;
    try {
      const state = this.state;
      const plainIn = q.qclass === Class.IN && (q.edns === null || q.edns.version === 0);
      const template = plainIn ? state.templates.get(q.qnameKey)?.get(q.qtype) : undefined;
      if (template) {
        rcode = template.rcode;
        response = this.encode(msg, q, state, transport, template, null, 0);
      } else {
        const steering = state.steering;
        steering.begin(clientIp, q.edns?.clientSubnet ?? null);
        // A routed name's own A/AAAA: the decision comes with its answer already encoded.
        const route = plainIn && (q.qtype === Type.A || q.qtype === Type.AAAA) ? state.routes.get(q.qnameKey) : undefined;
        const routed = route ? steering.answerTemplate(route, q.qtype) : null;
        if (routed) {
          rcode = routed.rcode;
          response = this.encode(msg, q, state, transport, routed, null, steering.scope);
        } else {
          const answer = this.answer(q, state);
          rcode = answer.rcode;
          response = this.encode(msg, q, state, transport, null, answer, steering.scope);
        }
      }
    } catch {
      // A bug must cost one answer, not the process: reply SERVFAIL.
      rcode = Rcode.SERVFAIL;
      response = this.errorResponse(msg, q.id, q.opcode, q.rd, q.questionEnd, Rcode.SERVFAIL, q.edns !== null);
    }
    this.metrics?.answer(transport, q.qtype, rcode);
    return response;
  }

  private answer(q: Query, state: ServingState): Answer {
    if (q.edns && q.edns.version > 0) return badVersion;
    if (q.qclass === Class.CH) return answerChaos(state.chaos, q.qnameKey, q.qtype);
    if (q.qclass !== Class.IN) return refusedAnswer;
    switch (q.qtype) {
      case Type.OPT:
        return formErr;
      case Type.AXFR:
      case Type.IXFR:
        // Zone transfers are not offered: the config file is the source of truth.
        return refusedAnswer;
      case Type.MAILA:
      case Type.MAILB:
        return notImplemented;
    }
    return resolve(state.zones, q.qnameKey, q.qtype, state.steering) ?? refusedAnswer;
  }

  private encode(msg: Buffer, q: Query, state: ServingState, transport: TransportId, template: AnswerTemplate | null, answer: Answer | null, scopePrefix: number): Buffer {
    const w = this.w;
    w.reset();
    w.question(msg, q.questionEnd, template ? null : q.qnameKey);
    let counts: SectionCounts;
    let aa: boolean;
    let rcode: number;
    if (template) {
      w.bytes(template.body);
      counts = template;
      aa = template.aa;
      rcode = template.rcode;
    } else {
      counts = writeSections(w, answer!);
      aa = answer!.aa;
      rcode = answer!.rcode;
    }
    const opt = q.edns ? responseOpt(q.edns, state, rcode, scopePrefix) : null;
    const limit = transport === TCP ? TCP_LIMIT : q.edns ? Math.min(q.edns.udpSize, state.maxUdpPayload) : PLAIN_UDP_LIMIT;
    let tc = false;
    if (w.off + (opt ? optLength(opt) : 0) > limit) {
      // Too big for this transport: an empty truncated answer that keeps the OPT (RFC 6891 §7)
      // tells the client to retry over TCP.
      tc = true;
      w.off = q.questionEnd;
      counts = { ancount: 0, nscount: 0, arcount: 0 };
      this.metrics?.truncate();
    }
    if (opt) writeOpt(w, opt);
    writeHeader(w.buf, {
      id: q.id, opcode: q.opcode, rd: q.rd, aa, tc, rcode,
      qdcount: 1, ancount: counts.ancount, nscount: counts.nscount, arcount: counts.arcount + (opt ? 1 : 0),
    });
    return w.finish();
  }

  private errorResponse(msg: Buffer, id: number, opcode: number, rd: boolean, questionEnd: number, rcode: number, withOpt: boolean): Buffer {
    const w = this.w;
    w.reset();
    if (questionEnd > 0) w.question(msg, questionEnd, null);
    else w.off = HEADER_LEN;
    if (withOpt) writeOpt(w, { udpSize: this.state.maxUdpPayload, rcode, dnssecOk: false, nsid: null, clientSubnet: null, scopePrefix: 0 });
    writeHeader(w.buf, { id, opcode, rd, aa: false, tc: false, rcode, qdcount: questionEnd > 0 ? 1 : 0, ancount: 0, nscount: 0, arcount: withOpt ? 1 : 0 });
    return w.finish();
  }
}

function responseOpt(edns: Edns, state: ServingState, rcode: number, scopePrefix: number): ResponseOpt {
  return {
    udpSize: state.maxUdpPayload,
    rcode,
    dnssecOk: edns.dnssecOk,
    nsid: edns.nsid ? state.nsid : null,
    clientSubnet: edns.clientSubnet,
    // Static answers are the same for every client (RFC 7871 §7.2.1: scope 0); routed ones
    // hold for the network that decided them.
    scopePrefix,
  };
}
