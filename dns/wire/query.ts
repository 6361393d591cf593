// What the decoder extracts from a query: just what answering needs, no generic message tree.
import type { TsigRequest } from './tsig.js';

export interface ClientSubnet {
  /** 1 = IPv4, 2 = IPv6 (RFC 7871 uses the IANA address family numbers). */
  readonly family: 1 | 2;
  readonly sourcePrefix: number;
  readonly scopePrefix: number;
  /** The address bytes as sent (ceil(sourcePrefix / 8) bytes). */
  readonly address: Buffer;
}

export interface Edns {
  /** Requestor's UDP payload size, raised to 512 when smaller (RFC 6891 §6.2.5). */
  readonly udpSize: number;
  readonly version: number;
  readonly dnssecOk: boolean;
  /** The query asked for our NSID (RFC 5001). */
  readonly nsid: boolean;
  readonly clientSubnet: ClientSubnet | null;
  /**
   * The DNS COOKIE option (RFC 7873): offset of its value in the message (the 8-byte client
   * cookie, then the server cookie if any), or -1 when there is none. Offsets, not a copy, so a
   * query with a cookie allocates nothing for it.
   */
  readonly cookieAt: number;
  /** Length of the COOKIE option's value: 8 (client cookie only) or 16 to 40. */
  readonly cookieLength: number;
}

export interface Query {
  readonly id: number;
  readonly opcode: number;
  readonly rd: boolean;
  readonly cd: boolean;
  /** Lower-cased key of the QNAME (see wire/name.ts). */
  readonly qnameKey: string;
  readonly qtype: number;
  readonly qclass: number;
  /** The question is message bytes [12, questionEnd): echoed verbatim, so QNAME case is kept. */
  readonly questionEnd: number;
  readonly edns: Edns | null;
  /** The request is signed (RFC 8945): its TSIG record, the last of the message. */
  readonly tsig: TsigRequest | null;
}

/** Outcome of decoding one message. */
export type Decoded =
  | { readonly kind: 'query'; readonly query: Query }
  /** Unanswerable: header unreadable, or the message is itself a response. */
  | { readonly kind: 'drop'; readonly reason: string }
  /** Answer with this RCODE, echoing what could be read. */
  | {
      readonly kind: 'error';
      readonly rcode: number;
      readonly reason: string;
      readonly id: number;
      readonly opcode: number;
      readonly rd: boolean;
      /** 0 when the question could not be read (then none is echoed). */
      readonly questionEnd: number;
      /** An OPT was present: RFC 6891 §7 wants one in the error response too. */
      readonly hadEdns: boolean;
    };
