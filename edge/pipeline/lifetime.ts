// What a stored response keeps of the http-cache-semantics policy that judged it: three numbers.
// Its freshness lifetime depends only on the stored fields and the request it was stored for
// (RFC 9111 §4.2.1), so it is fixed once stored; its age is its Age when it arrived plus the time
// it has been held since (§4.2.3). The policy itself keeps a copy of the response's fields as
// freshness/view.ts showed them, both parsed Cache-Controls and, when the response has a Vary,
// the first requester's fields (its Cookie and Authorization among them): about 0.5 KB per
// stored object and more with a Vary, held as long as the object is, and relayed to every worker
// with it, for what these numbers say.
import type CachePolicy from 'http-cache-semantics';

/** What freshness() reads of a response's policy (a CachePolicy has both too). */
export interface Lifetime {
  /** Freshness lifetime (s). */
  maxAge(): number;
  /** Current age (s). */
  age(): number;
}

export class StoredLifetime implements Lifetime {
  constructor(
    /** Freshness lifetime (s). */
    readonly lifetime: number,
    /** Its Age when it arrived (s). */
    readonly ageOnArrival: number,
    /** When it arrived (ms on `clock`). */
    readonly arrivedAt: number,
    private readonly clock: () => number,
  ) {}

  maxAge(): number {
    return this.lifetime;
  }

  /** The library's own sum, term for term (so its rounding too). */
  age(): number {
    return this.ageOnArrival + (this.clock() - this.arrivedAt) / 1000;
  }
}

/** `policy`'s lifetime and age on `clock` (its own clock: see policyClass), as the policy computes them. */
export function storedLifetime(policy: CachePolicy, clock: () => number): StoredLifetime {
  const { t: responseTime, resh } = policy.toObject();
  // The library reads Age with parseInt, zero when absent; freshness/view.ts has left only digits.
  const age = Number.parseInt(String(resh.age ?? '0'), 10) || 0;
  return new StoredLifetime(policy.maxAge(), age, responseTime, clock);
}
