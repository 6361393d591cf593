// Hybrid answers: a pool with `policy: anycast` answers its anycast addresses while some PoP
// announces them, and falls back to unicast steering (the chain's nearest PoP) when none does,
// so a name is never left without an answer. Decided per address family: an IPv4 /24 and an
// IPv6 /48 are separate routes, withdrawn apart, and a pool may have an anycast address in one
// family only (its other family is then always unicast). Pure: who announces what comes from
// the announcers' reports (dns/pop-health/anycast-view.ts) through `anycastOf`.
import { isIPv4 } from 'node:net';
import type { Pool } from '../../common/topology.js';
import type { AnycastAvailability } from '../pop-health/anycast-view.js';

export interface AnycastFamily {
  /** 'A' or 'AAAA'. */
  readonly type: 'A' | 'AAAA';
  /** The pool's anycast addresses of this family that some PoP announces: answered when any. */
  readonly answered: readonly string[];
  /** Every anycast address of this family with who announces it. */
  readonly addresses: readonly {
    readonly address: string;
    readonly announcedBy: readonly string[];
    readonly reason: string;
  }[];
  /** Why anycast or unicast applies, in words (explain). */
  readonly reason: string;
}

export interface AnycastChoice {
  readonly a: AnycastFamily;
  readonly aaaa: AnycastFamily;
}

/** The anycast side of a pool's decision; null for pools of any other policy. */
export function chooseAnycast(pool: Pool, anycastOf: (address: string) => AnycastAvailability): AnycastChoice | null {
  if (pool.policy !== 'anycast') return null;
  const all = pool.anycast ?? [];
  const family = (type: 'A' | 'AAAA'): AnycastFamily => {
    const addresses = all
      .filter((a) => isIPv4(a) === (type === 'A'))
      .map((address) => ({ address, ...anycastOf(address) }));
    const answered = addresses.filter((a) => a.announcedBy.length > 0);
    const reason =
      addresses.length === 0
        ? `no ${type} anycast address in pool '${pool.id}': unicast steering`
        : answered.length > 0
          ? `anycast ${answered.map((a) => a.address).join(', ')} answered: ${answered.map((a) => a.reason).join('; ')}`
          : `fallback to unicast steering: ${addresses.map((a) => `${a.address} ${a.reason}`).join('; ')}`;
    return { type, answered: answered.map((a) => a.address), addresses, reason };
  };
  return { a: family('A'), aaaa: family('AAAA') };
}
