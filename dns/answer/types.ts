// The answering contract: what deciding a query produces, before it is bytes. One tagged union,
// so the encoder has one input and the query path reads decode → decide → encode with nothing
// left to work out afterwards (the ECS scope travels with the answer that decided it).
import type { SectionEntry } from '../wire/rdata.js';
import type { TsigRequest } from '../wire/tsig.js';

/** Sections to encode per query: a lookup in our zones (resolve.ts) or a CHAOS answer (chaos.ts). */
export interface Answer {
  readonly kind: 'answer';
  readonly rcode: number;
  readonly aa: boolean;
  readonly answer: SectionEntry[];
  readonly authority: SectionEntry[];
  readonly additional: SectionEntry[];
  /** ECS scope to echo (RFC 7871 §7.2.1): 0 unless a routed name's decision took part. */
  readonly scope: number;
  /** A routed name took part: the answer depends on the client and must not be precomputed. */
  readonly dynamic?: boolean;
}

/**
 * Sections encoded ahead of time by encode.ts, copied after the question: static answers when
 * first asked for (templates.ts), a routed name's own A/AAAA once per decision (steering.ts).
 */
export interface AnswerTemplate {
  readonly kind: 'template';
  readonly rcode: number;
  readonly aa: boolean;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
  /** Valid when the question is at offset 12 and its QNAME equals the name it was built for (any case). */
  readonly body: Buffer;
  /** ECS scope to echo: 0 for static answers, the decision's for routed ones. */
  readonly scope: number;
  /**
   * With no answer records: the key of the first authority record's owner (the zone apex of a
   * NODATA, the cut of a referral), what response rate limiting counts the answer under; else null.
   */
  readonly authorityOwner: string | null;
}

/** No sections and AA clear: a query we refuse or do not implement. Its OPT is echoed as usual. */
export interface ErrorResponse {
  readonly kind: 'error';
  readonly rcode: number;
  /** A signed request refused (RFC 8945 §5.3.2): the unsigned TSIG record to end the answer with. */
  readonly tsig?: { readonly request: TsigRequest; readonly error: number };
}

export type Response = Answer | AnswerTemplate | ErrorResponse;
