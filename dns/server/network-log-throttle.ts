// How often a line about one client network may be logged: an abuse from many networks must not
// become a flood of log lines. At most one line per network per `everyMs`, at most `perMinute`
// lines a minute in all; the next line written says how many were left out. Used by RRL
// (rrl/limit-log.ts) and the TCP per-network cap (tcp.ts).

/** Networks remembered for `everyMs`; past this many, the ones logged longest ago are forgotten. */
const MAX_REMEMBERED = 1000;

export class NetworkLogThrottle {
  private readonly lastByNetwork = new Map<string, number>();
  private minuteStart = 0;
  private linesThisMinute = 0;
  private leftOut = 0;

  constructor(
    private readonly everyMs = 60_000,
    private readonly perMinute = 20,
  ) {}

  /**
   * Whether a line about the network `network()` names may be written at `now` (ms): its name and
   * the lines left out since the last one written, or undefined. `network` is called only when
   * the overall budget allows a line, so a flood costs nothing but a counter.
   */
  take(now: number, network: () => string): { network: string; leftOut: number } | undefined {
    if (now - this.minuteStart >= 60_000) {
      this.minuteStart = now;
      this.linesThisMinute = 0;
    }
    if (this.linesThisMinute >= this.perMinute) {
      this.leftOut++;
      return undefined;
    }
    const name = network();
    const last = this.lastByNetwork.get(name);
    if (last !== undefined && now - last < this.everyMs) return undefined;
    this.remember(name, now);
    this.linesThisMinute++;
    const leftOut = this.leftOut;
    this.leftOut = 0;
    return { network: name, leftOut };
  }

  private remember(network: string, now: number): void {
    this.lastByNetwork.delete(network);
    this.lastByNetwork.set(network, now);
    // A Map iterates in insertion order: the first is the one logged longest ago.
    if (this.lastByNetwork.size > MAX_REMEMBERED) {
      const oldest = this.lastByNetwork.keys().next().value!;
      this.lastByNetwork.delete(oldest);
    }
  }
}
