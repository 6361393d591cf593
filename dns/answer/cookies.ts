// DNS Cookies (RFC 7873), with server cookies in the interoperable format of RFC 9018: version
// 1, three reserved bytes, a timestamp, and SipHash-2-4 over the client cookie, those 8 bytes and
// the client's address. Deciding a cookie costs one hash, two for a returning cookie made under
// the previous secret; nothing is allocated but on a secret's rotation.
import { createHmac } from 'node:crypto';
import { writeAddressBytes } from '../wire/address-bytes.js';
import { SipKey, siphash24 } from '../wire/siphash.js';

/** What a query's COOKIE option said. */
export const Cookie = {
  /** A client cookie alone (RFC 7873 §5.2.3): the client learns our server cookie now. */
  CLIENT_ONLY: 0,
  /** A server cookie we made for this client, recently enough (§5.2.5). */
  VALID: 1,
  /** A server cookie we cannot vouch for: another secret, another address, too old (§5.2.4). */
  INVALID: 2,
} as const;
export type CookieVerdict = (typeof Cookie)[keyof typeof Cookie];

export const SERVER_COOKIE_LENGTH = 16;
/** RFC 9018 §4.3: a cookie is good for an hour, renewed after half of it, and may be 5 min ahead. */
const LIFETIME_S = 3600;
const RENEW_AFTER_S = 1800;
const FUTURE_S = 300;
/** How often a generated secret rotates; the previous one still validates (so ≥ LIFETIME_S). */
export const ROTATE_EVERY_S = 3600;

export type CookieSecret =
  /** `dns.cookies.secretFile`: the SipHash key itself, shared with the other servers of an anycast address (RFC 9018 §5). */
  | { readonly kind: 'fixed'; readonly key: Buffer }
  /** Generated at start, shared by the workers: each hour's key is derived from it. */
  | { readonly kind: 'rotating'; readonly master: Buffer };

export class ServerCookies {
  private current: SipKey;
  private previous: SipKey | null = null;
  private period = -1;
  /** Hash input: client cookie (8) | version, reserved, timestamp (8) | client address (4 or 16). */
  private readonly input = Buffer.alloc(32);

  constructor(
    private readonly secret: CookieSecret,
    /** Seconds since the epoch. */
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.current = secret.kind === 'fixed' ? new SipKey(secret.key) : this.keyOf(0);
  }

  /**
   * Checks the COOKIE option at msg[at, at + length) from `clientIp`, and writes the server cookie
   * to answer with into out[0, 16): the returning one when it is valid and young, else a new one.
   */
  check(msg: Buffer, at: number, length: number, clientIp: string, out: Buffer): CookieVerdict {
    const now = this.now() >>> 0;
    this.rotate(now);
    msg.copy(this.input, 0, at, at + 8);
    const ipLength = this.writeIp(clientIp);
    if (length === 8) {
      this.make(now, ipLength, out);
      return Cookie.CLIENT_ONLY;
    }
    const server = at + 8;
    if (length - 8 === SERVER_COOKIE_LENGTH && msg[server] === 1) {
      const timestamp = msg.readUInt32BE(server + 4);
      // Serial number arithmetic (RFC 1982): the timestamp wraps in 2106.
      const age = (now - timestamp) | 0;
      if (age <= LIFETIME_S && age >= -FUTURE_S && this.matches(msg, server, ipLength)) {
        if (age > RENEW_AFTER_S) this.make(now, ipLength, out);
        else msg.copy(out, 0, server, server + SERVER_COOKIE_LENGTH);
        return Cookie.VALID;
      }
    }
    this.make(now, ipLength, out);
    return Cookie.INVALID;
  }

  /** A new server cookie for the client cookie and address already in `input`. */
  private make(now: number, ipLength: number, out: Buffer): void {
    const input = this.input;
    input.writeUInt32BE(0x01000000, 8);
    input.writeUInt32BE(now, 12);
    input.copy(out, 0, 8, 16);
    siphash24(this.current, input, 0, 16 + ipLength, out, 8);
  }

  /** Whether the server cookie at msg[server, +16) hashes right under the current or previous key. */
  private matches(msg: Buffer, server: number, ipLength: number): boolean {
    const input = this.input;
    // Version, reserved and timestamp as the client returned them (reserved bytes included).
    msg.copy(input, 8, server, server + 8);
    return (
      this.hashMatches(this.current, msg, server + 8, ipLength) ||
      (this.previous !== null && this.hashMatches(this.previous, msg, server + 8, ipLength))
    );
  }

  private hashMatches(key: SipKey, msg: Buffer, at: number, ipLength: number): boolean {
    const hash = this.hash;
    siphash24(key, this.input, 0, 16 + ipLength, hash, 0);
    let diff = 0;
    for (let i = 0; i < 8; i++) diff |= hash[i]! ^ msg[at + i]!;
    return diff === 0;
  }

  private readonly hash = Buffer.alloc(8);

  private rotate(now: number): void {
    if (this.secret.kind !== 'rotating') return;
    const period = Math.floor(now / ROTATE_EVERY_S);
    if (period === this.period) return;
    this.previous = period === this.period + 1 ? this.current : this.keyOf(period - 1);
    this.current = this.keyOf(period);
    this.period = period;
  }

  private keyOf(period: number): SipKey {
    const master = (this.secret as { master: Buffer }).master;
    return new SipKey(createHmac('sha256', master).update(`meridian dns cookie ${period}`).digest().subarray(0, 16));
  }

  /** Writes the client's address (4 or 16 bytes; an IPv4-mapped one as IPv4) at input[16]; returns its length. */
  private writeIp(ip: string): number {
    return writeAddressBytes(ip, this.input, 16);
  }
}
