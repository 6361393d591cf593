// Route-flap damping for one anycast prefix, in the spirit of RFC 2439 (§4.2, §4.8): every
// withdrawal for a failed service is a flap and adds `penalty`; the penalty halves every
// `halfLife`; when it reaches `suppress` the prefix is suppressed: withdrawn, healthy or not,
// until the penalty has decayed below `reuse`. The hold-down before a re-announcement is that
// decay time, so it grows with recent flaps; RFC 2439's "maximum suppress time" caps it: the
// penalty is held below the ceiling from which it would decay to `reuse` in `maxHoldDown`.
// Withdrawing is never delayed: damping only ever holds a route *down*.
//
// Pure, time passed in (ms), so tests run years of flapping in a loop. It starts with no
// penalty: an announcer that just started knows no history, and treating each start as a flap
// would damp every PoP after a routine restart. A crash-looping announcer does not escape
// damping by restarting: each crash withdraws (lease.ts), and its supervisor's backoff
// (local/, systemd) spaces the restarts.
import type { DampingSettings } from './config-schema.js';

export interface DampingState {
  /** The decayed penalty now. */
  readonly penalty: number;
  readonly suppressed: boolean;
  /** How long a healthy prefix would still be held down (0: may be announced now). */
  readonly holdDownMs: number;
  readonly flaps: number;
}

export class Damping {
  private penaltyAt = 0;
  private since = 0;
  private isSuppressed = false;
  private flapCount = 0;
  /** The penalty from which decay to `reuse` takes exactly maxHoldDown (RFC 2439 §4.2 "ceiling"). */
  readonly ceiling: number;

  constructor(readonly settings: DampingSettings) {
    const { reuse, maxHoldDown, halfLife } = settings;
    this.ceiling = reuse * 2 ** (maxHoldDown / halfLife);
  }

  /** The penalty at `now`, decayed from the last flap. */
  penalty(now: number): number {
    const elapsed = Math.max(0, now - this.since);
    return this.penaltyAt * 2 ** (-elapsed / this.settings.halfLife);
  }

  /** Records a flap (the service failed and the route was, or would have been, withdrawn). */
  flap(now: number): void {
    const penalty = Math.min(this.ceiling, this.penalty(now) + this.settings.penalty);
    this.penaltyAt = penalty;
    this.since = now;
    this.flapCount++;
    if (penalty >= this.settings.suppress) this.isSuppressed = true;
  }

  /** Suppressed at `now`; a suppression ends once the penalty is below `reuse`. */
  suppressed(now: number): boolean {
    if (this.isSuppressed && this.penalty(now) < this.settings.reuse) this.isSuppressed = false;
    return this.isSuppressed;
  }

  /** Time until a healthy prefix may be announced: 0 unless suppressed, else the decay to `reuse`. */
  holdDownMs(now: number): number {
    if (!this.suppressed(now)) return 0;
    const { reuse, halfLife } = this.settings;
    // Rounded up, and at least 1 ms: at exactly that time the penalty is below reuse.
    return Math.max(1, Math.ceil(halfLife * Math.log2(this.penalty(now) / reuse)) + 1);
  }

  snapshot(now: number): DampingState {
    return {
      penalty: this.penalty(now),
      suppressed: this.suppressed(now),
      holdDownMs: this.holdDownMs(now),
      flaps: this.flapCount,
    };
  }
}
