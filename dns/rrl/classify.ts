// Which bucket a response is counted in, as BIND's RRL has it: identical positive answers (one
// name, one type; a wildcard's answers all count as the wildcard's, so random names under it do
// not each get a bucket), empty answers and NXDOMAIN per zone (the SOA owner: random names in a
// zone share one bucket), referrals per delegation, and every error per network whatever was
// asked. Reads the decided Response, never the encoded bytes, and allocates nothing.
import { Rcode, Type } from '../wire/constants.js';
import type { Query } from '../wire/query.js';
import type { Response } from '../answer/types.js';

export const Kind = { ANSWER: 0, NODATA: 1, NXDOMAIN: 2, REFERRAL: 3, ERROR: 4 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];
/** Labels, by Kind, for metrics and log lines. */
export const KIND_NAMES = ['answer', 'nodata', 'nxdomain', 'referral', 'error'] as const;

/** Where classify writes: one per limiter, reused for every response. */
export interface Classified {
  kind: Kind;
  /** Name key (wire/name.ts) the bucket is for; '' for errors. */
  name: string;
  /** For answers only (a name's A and AAAA are different answers); 0 otherwise. */
  qtype: number;
}

export function classify(response: Response, q: Query, out: Classified): void {
  out.qtype = 0;
  out.name = '';
  const rcode = response.rcode;
  if (response.kind === 'error' || (rcode !== Rcode.NOERROR && rcode !== Rcode.NXDOMAIN)) {
    out.kind = Kind.ERROR;
    return;
  }
  if (response.kind === 'template') {
    if (response.ancount > 0) return answer(out, q.qnameKey, q.qtype);
    // Templates exist for names we hold, so no NXDOMAIN: a referral or NODATA.
    out.kind = !response.aa && response.nscount > 0 ? Kind.REFERRAL : Kind.NODATA;
    out.name = response.authorityOwner ?? q.qnameKey;
    return;
  }
  const first = response.authority[0]?.rrset;
  if (rcode === Rcode.NXDOMAIN) {
    out.kind = Kind.NXDOMAIN;
    out.name = first?.owner.key ?? q.qnameKey;
    return;
  }
  const lead = response.answer[0];
  if (lead) {
    // `owner: null` is a wildcard's record written as the QNAME: count it as the wildcard's.
    return answer(out, lead.owner === null ? lead.rrset.owner.key : q.qnameKey, q.qtype);
  }
  out.kind = !response.aa && first?.type === Type.NS ? Kind.REFERRAL : Kind.NODATA;
  out.name = first?.owner.key ?? q.qnameKey;
}

function answer(out: Classified, name: string, qtype: number): void {
  out.kind = Kind.ANSWER;
  out.name = name;
  out.qtype = qtype;
}
