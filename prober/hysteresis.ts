// Rise/fall hysteresis for one target, as HAProxy and gdnsd do it: a state flips only after
// `fall` consecutive failures or `rise` consecutive successes, so one bad probe never moves
// traffic. Pure: the caller decides what a failure is (see confirm.ts for the retry).

/** Weight of the newest sample in the RTT moving average. */
export const RTT_ALPHA = 0.3;

export interface HysteresisState {
  readonly up: boolean;
  /** Moving average of successful probe RTTs; null before the first success. */
  readonly rttMs: number | null;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
}

export class Hysteresis implements HysteresisState {
  // Fail open: a prober that just started knows nothing, and calling every PoP down until
  // proven otherwise would take them all out at every restart.
  up = true;
  rttMs: number | null = null;
  consecutiveSuccesses = 0;
  consecutiveFailures = 0;

  constructor(
    readonly rise: number,
    readonly fall: number,
  ) {
    if (!(rise >= 1 && fall >= 1)) throw new RangeError(`rise and fall must be at least 1 (got ${rise}, ${fall})`);
  }

  /** Records one probe outcome; returns true when it flipped the state. */
  record(ok: boolean, rttMs: number): boolean {
    if (ok) {
      this.consecutiveSuccesses++;
      this.consecutiveFailures = 0;
      this.rttMs = this.rttMs === null ? rttMs : RTT_ALPHA * rttMs + (1 - RTT_ALPHA) * this.rttMs;
      if (!this.up && this.consecutiveSuccesses >= this.rise) {
        this.up = true;
        return true;
      }
    } else {
      this.consecutiveFailures++;
      this.consecutiveSuccesses = 0;
      if (this.up && this.consecutiveFailures >= this.fall) {
        this.up = false;
        return true;
      }
    }
    return false;
  }

  /**
   * A state change is under way: a failure after successes while up, or a success after
   * failures while down. The prober probes such a target at `fastInterval` until `fall` or
   * `rise` is reached (the state flips, the counter that started it keeps counting in the new
   * state, and the transition is over) or an opposite outcome abandons it.
   */
  get inTransition(): boolean {
    return this.up ? this.consecutiveFailures > 0 : this.consecutiveSuccesses > 0;
  }

  snapshot(): HysteresisState {
    const { up, rttMs, consecutiveSuccesses, consecutiveFailures } = this;
    return { up, rttMs, consecutiveSuccesses, consecutiveFailures };
  }
}
