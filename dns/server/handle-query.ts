// The query pipeline, start to end: decode → decide (answer/respond.ts: a precomputed template,
// or resolve) → encode with EDNS and truncation (encode-response.ts). Each step returns what it
// made to the next; nothing is left in shared fields. Transports (udp.ts, tcp.ts) only move
// bytes; everything a response depends on happens here, synchronously, so a reload never splits
// a query.
import { decodeQuery } from '../wire/decode.js';
import { Flag, Rcode } from '../wire/constants.js';
import type { Query } from '../wire/query.js';
import { MessageWriter } from '../wire/writer.js';
import { respond, type AnswerData } from '../answer/respond.js';
import { Cookie, SERVER_COOKIE_LENGTH, type CookieVerdict, type ServerCookies } from '../answer/cookies.js';
import type { ErrorResponse, Response } from '../answer/types.js';
import { encodeFailure, encodeResponse, type EncodeOptions } from './encode-response.js';
import type { DnsMetrics } from './metrics.js';
import { DROP, PASS, SLIP, type ResponseLimiter } from '../rrl/limiter.js';

/** Everything a response depends on; replaced as a whole on reload. */
export interface ServingState extends AnswerData, EncodeOptions {
  /** DNS Cookies (RFC 7873), or null when `dns.cookies.enabled` is false. */
  readonly cookies: ServerCookies | null;
}

/** RFC 7873 §5.2.4: over UDP, a server cookie we cannot vouch for gets BADCOOKIE and a new one. */
const badCookie: ErrorResponse = { kind: 'error', rcode: Rcode.BADCOOKIE };

export const UDP = 0;
export const TCP = 1;
export type TransportId = typeof UDP | typeof TCP;

/** Classic DNS limit without EDNS (RFC 1035 §4.2.1). */
const PLAIN_UDP_LIMIT = 512;
const TCP_LIMIT = 65535;

export class QueryHandler {
  /** Scratch for every response this handler encodes; each is copied out before the next. */
  private readonly w = new MessageWriter();
  /** The COOKIE option of the response being made: pointed at each query's message in turn. */
  private readonly cookie: { msg: Buffer; clientAt: number; server: Buffer } = {
    msg: Buffer.alloc(0),
    clientAt: 0,
    server: Buffer.alloc(SERVER_COOKIE_LENGTH),
  };

  constructor(
    public state: ServingState,
    private readonly metrics: DnsMetrics | null = null,
    /** Response rate limiting over UDP (`dns.rrl`), or null: replaced on reload (DnsCore). */
    public rrl: ResponseLimiter | null = null,
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
      // A slipped error goes out as it is: it carries no records, so a TC one would be no smaller.
      if (transport === UDP && this.rrl !== null && this.rrl.checkError(clientIp) === DROP) return null;
      this.metrics?.answer(transport, 0, decoded.rcode);
      return encodeFailure(this.w, msg, decoded, decoded.rcode, decoded.hadEdns, this.state);
    }
    const q = decoded.query;
    let response: Buffer;
    let rcode: number;
    try {
      const state = this.state;
      let cookie: typeof this.cookie | null = null;
      let decided: Response | null = null;
      let verdict: CookieVerdict = Cookie.CLIENT_ONLY;
      if (q.edns !== null && q.edns.cookieAt >= 0 && state.cookies !== null) {
        cookie = this.cookie;
        cookie.msg = msg;
        cookie.clientAt = q.edns.cookieAt;
        verdict = state.cookies.check(msg, q.edns.cookieAt, q.edns.cookieLength, clientIp, cookie.server);
        // Over TCP the address is proven by the handshake: answer as if only the client cookie came.
        if (verdict === Cookie.INVALID && transport === UDP) decided = badCookie;
      }
      decided ??= respond(state, q, clientIp);
      rcode = decided.rcode;
      const action = this.rateLimit(transport, verdict, clientIp, decided, q);
      if (action === DROP) return null;
      // Slipped: the truncated answer encoding makes when nothing fits (its OPT and cookie kept).
      const limit = action === SLIP ? 0 : sizeLimit(q, transport, state.maxUdpPayload);
      response = encodeResponse(this.w, msg, q, decided, limit, state, cookie);
      if (action !== SLIP && response[2]! & (Flag.TC >> 8)) this.metrics?.truncate();
    } catch {
      // A bug must cost one answer, not the process: reply SERVFAIL.
      rcode = Rcode.SERVFAIL;
      response = encodeFailure(this.w, msg, q, Rcode.SERVFAIL, q.edns !== null, this.state);
    }
    this.metrics?.answer(transport, q.qtype, rcode);
    return response;
  }

  /**
   * Response rate limiting (rrl/limiter.ts): PASS, SLIP or DROP. Over UDP only, and not for a
   * valid server cookie: that, like TCP, proves the address is the client's own.
   */
  private rateLimit(
    transport: TransportId,
    cookie: CookieVerdict,
    clientIp: string,
    decided: Response,
    q: Query,
  ): number {
    if (transport !== UDP || this.rrl === null) return PASS;
    if (cookie === Cookie.VALID) {
      this.metrics?.rrlExempt('cookie');
      return PASS;
    }
    return this.rrl.check(clientIp, decided, q);
  }
}

/** The largest response this query may get over `transport`. */
function sizeLimit(q: Query, transport: TransportId, maxUdpPayload: number): number {
  if (transport === TCP) return TCP_LIMIT;
  return q.edns ? Math.min(q.edns.udpSize, maxUdpPayload) : PLAIN_UDP_LIMIT;
}
