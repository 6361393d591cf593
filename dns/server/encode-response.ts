// The last step of the query path: a decided Response → message bytes. The question is echoed
// verbatim (QNAME case kept), then the sections (encoded now, or copied from a template), the
// OPT (RFC 6891) and the header; a response too big for the transport is cut to an empty
// truncated one. Never reads anything but its arguments.
import { HEADER_LEN } from '../wire/constants.js';
import type { Edns, Query } from '../wire/query.js';
import { optLength, writeHeader, writeOpt, type ResponseCookie, type ResponseOpt } from '../wire/response.js';
import { tsigErrorLength, writeTsigError } from '../wire/tsig.js';
import type { MessageWriter } from '../wire/writer.js';
import { writeSections, type SectionCounts } from '../answer/encode.js';
import type { Response } from '../answer/types.js';

/** What a response advertises about this server. */
export interface EncodeOptions {
  /** RFC 5001 NSID payload, or null to not answer NSID. */
  readonly nsid: Buffer | null;
  /** Largest UDP response we send, whatever the client advertises (RFC 6891 §6.2.5). */
  readonly maxUdpPayload: number;
}

/** What even a failed query's response echoes: whatever of its header and question could be read. */
export interface Echo {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
  /** 0 when the question could not be read (then none is echoed). */
  readonly questionEnd: number;
}

const NO_SECTIONS: SectionCounts = { ancount: 0, nscount: 0, arcount: 0 };

/**
 * `msg` is the query's message (its question is copied), `limit` the largest response the
 * transport takes, `cookie` the COOKIE option to answer with (answer/cookies.ts). `w` is
 * scratch: the result is copied out of it.
 */
export function encodeResponse(
  w: MessageWriter,
  msg: Buffer,
  q: Query,
  response: Response,
  limit: number,
  opts: EncodeOptions,
  cookie: ResponseCookie | null = null,
): Buffer {
  w.reset();
  let counts: SectionCounts;
  let aa = false;
  let scope = 0;
  switch (response.kind) {
    case 'template':
      // The body's names already point into the question: nothing to index for compression.
      w.question(msg, q.questionEnd, null);
      w.bytes(response.body);
      counts = response;
      aa = response.aa;
      scope = response.scope;
      break;
    case 'answer':
      w.question(msg, q.questionEnd, q.qnameKey);
      counts = writeSections(w, response);
      aa = response.aa;
      scope = response.scope;
      break;
    case 'error':
      w.question(msg, q.questionEnd, null);
      counts = NO_SECTIONS;
      break;
  }
  const rcode = response.rcode;
  const opt = q.edns ? responseOpt(q.edns, opts, rcode, scope, cookie) : null;
  // A refused signed request ends with its TSIG error record, after the OPT (RFC 8945 §5.3.2).
  const tsig = response.kind === 'error' ? (response.tsig ?? null) : null;
  let tc = false;
  if (w.off + (opt ? optLength(opt) : 0) + (tsig ? tsigErrorLength(tsig.request) : 0) > limit) {
    // Too big for this transport: an empty truncated answer that keeps the OPT (RFC 6891 §7)
    // and the TSIG tells the client to retry over TCP.
    tc = true;
    w.off = q.questionEnd;
    counts = NO_SECTIONS;
  }
  if (opt) writeOpt(w, opt);
  if (tsig) writeTsigError(w, tsig.request, tsig.error);
  writeHeader(w.buf, {
    id: q.id,
    opcode: q.opcode,
    rd: q.rd,
    aa,
    tc,
    rcode,
    qdcount: 1,
    ancount: counts.ancount,
    nscount: counts.nscount,
    arcount: counts.arcount + (opt ? 1 : 0) + (tsig ? 1 : 0),
  });
  return w.finish();
}

/**
 * A response when no answer could be formed (a malformed query, or a fault answering it):
 * `rcode` alone, the question when it was readable, and a plain OPT when the query had one
 * (RFC 6891 §7) — nothing of the query's options is echoed.
 */
export function encodeFailure(
  w: MessageWriter,
  msg: Buffer,
  e: Echo,
  rcode: number,
  withOpt: boolean,
  opts: EncodeOptions,
): Buffer {
  w.reset();
  if (e.questionEnd > 0) w.question(msg, e.questionEnd, null);
  else w.off = HEADER_LEN;
  if (withOpt)
    writeOpt(w, {
      udpSize: opts.maxUdpPayload,
      rcode,
      dnssecOk: false,
      nsid: null,
      clientSubnet: null,
      scopePrefix: 0,
      cookie: null,
    });
  writeHeader(w.buf, {
    id: e.id,
    opcode: e.opcode,
    rd: e.rd,
    aa: false,
    tc: false,
    rcode,
    qdcount: e.questionEnd > 0 ? 1 : 0,
    ancount: 0,
    nscount: 0,
    arcount: withOpt ? 1 : 0,
  });
  return w.finish();
}

function responseOpt(
  edns: Edns,
  opts: EncodeOptions,
  rcode: number,
  scopePrefix: number,
  cookie: ResponseCookie | null,
): ResponseOpt {
  return {
    udpSize: opts.maxUdpPayload,
    rcode,
    dnssecOk: edns.dnssecOk,
    nsid: edns.nsid ? opts.nsid : null,
    clientSubnet: edns.clientSubnet,
    // Static answers are the same for every client (RFC 7871 §7.2.1: scope 0); routed ones
    // hold for the network that decided them.
    scopePrefix,
    cookie,
  };
}
