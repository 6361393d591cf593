// The one encoder of answer sections: the per-query path, the static templates built on first use
// and the routed answers built per steering decision all write their records here, so a
// precomputed answer is byte for byte what encoding it per query gives.
import { Class, HEADER_LEN, Rcode } from '../wire/constants.js';
import { keyToWire } from '../wire/name.js';
import type { RRset } from '../wire/rdata.js';
import type { MessageWriter } from '../wire/writer.js';
import type { Answer, AnswerTemplate } from './types.js';

export interface SectionCounts {
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
}

/** Writes an Answer's sections after the question; returns how many records each holds. */
export function writeSections(w: MessageWriter, answer: Answer): SectionCounts {
  return {
    ancount: w.section(answer.answer),
    nscount: w.section(answer.authority),
    arcount: w.section(answer.additional),
  };
}

/**
 * Pre-encodes `answer` as it follows the question (`qnameKey`, `qtype`, IN) at offset 12. Names
 * are compressed against that question, whose length and offsets do not change with letter
 * case, so the bytes hold for the name asked in any case.
 */
export function encodeTemplate(w: MessageWriter, qnameKey: string, qtype: number, answer: Answer): AnswerTemplate {
  const qname = keyToWire(qnameKey);
  const question = Buffer.alloc(HEADER_LEN + qname.length + 4);
  qname.copy(question, HEADER_LEN);
  question.writeUInt16BE(qtype, HEADER_LEN + qname.length);
  question.writeUInt16BE(Class.IN, HEADER_LEN + qname.length + 2);
  w.reset();
  w.question(question, question.length, qnameKey);
  const counts = writeSections(w, answer);
  const owner = answer.answer.length === 0 ? (answer.authority[0]?.rrset.owner.key ?? null) : null;
  return template(w, question.length, answer.rcode, answer.aa, counts, answer.scope, owner);
}

/**
 * Pre-encodes `rrset` as the whole answer, owned by the QNAME as asked (a pointer to offset 12):
 * a routed name's own A or AAAA. Nothing else is named, so the bytes follow any question.
 */
export function encodeOwnAnswer(w: MessageWriter, rrset: RRset, scope: number): AnswerTemplate {
  w.reset();
  // No question is written: the only name is that pointer, so the question's length is irrelevant.
  w.off = HEADER_LEN;
  const ancount = w.section([{ rrset, owner: null }]);
  return template(w, HEADER_LEN, Rcode.NOERROR, true, { ancount, nscount: 0, arcount: 0 }, scope, null);
}

function template(
  w: MessageWriter,
  bodyStart: number,
  rcode: number,
  aa: boolean,
  counts: SectionCounts,
  scope: number,
  authorityOwner: string | null,
): AnswerTemplate {
  const { ancount, nscount, arcount } = counts;
  return {
    kind: 'template',
    rcode,
    aa,
    ancount,
    nscount,
    arcount,
    body: Buffer.from(w.buf.subarray(bodyStart, w.off)),
    scope,
    authorityOwner,
  };
}
