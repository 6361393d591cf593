// How long to wait before restarting a process that died (meridian up's children, serving
// workers): doubling from a short first delay up to a cap, so a process that crashes at once
// does not spin the CPU, and back to the first delay once a run lasted long enough to count as
// healthy (a crash after an hour is news, not a crash loop).

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A run at least this long resets the delay to `initialMs`. */
  readonly resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000, resetAfterMs: 10_000 };

export class Backoff {
  private attempt = 0;

  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF) {}

  /** The delay before the next start, given how long the run that just ended lasted. */
  next(ranForMs: number): number {
    if (ranForMs >= this.opts.resetAfterMs) this.attempt = 0;
    const delay = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** this.attempt);
    // Capped so the exponent stays small however long a crash loop lasts.
    if (delay < this.opts.maxMs) this.attempt++;
    return delay;
  }

  /** Forget past failures (an operator revived the process on purpose). */
  reset(): void {
    this.attempt = 0;
  }
}
