// The DNS server's view of catchment: which PoP answers each anycast address from each vantage
// (a prober in a PoP, or one placed outside the PoPs under `health.catchment.vantages`), from
// the `catchment` part of their health reports. Only the latest observation per vantage and
// address is kept, with its age; one older than staleAfterIntervals × the prober's catchment
// interval is shown as stale, never as where that vantage lands now (the prober stopped asking,
// or stopped reporting). Nothing here steers answers: it is for status and explain, to make
// visible what routers decide.
//
// A report speaks only for its own vantage (observations carry no vantage of their own), names
// only addresses and PoPs of this config, and must be newer than the last one from its vantage:
// one prober cannot overwrite another's row, and a replay cannot roll one back.
import type { HealthReport } from '../../common/health-contract.js';

type Catchment = NonNullable<HealthReport['catchment']>;

export interface Landing {
  readonly vantage: string;
  readonly address: string;
  /** The PoP that answered, or null: no answer, or an answer naming no PoP (see detail). */
  readonly pop: string | null;
  readonly detail?: string | undefined;
  /** Since the prober's question was answered (or went unanswered). */
  readonly ageMs: number;
  /** Older than staleAfterIntervals × the prober's catchment interval: not where it lands now. */
  readonly stale: boolean;
}

export interface CatchmentSubjects {
  /** Every vantage whose reports are taken: the PoPs and `health.catchment.vantages`. */
  readonly vantages: readonly string[];
  /** The anycast addresses of `anycast.prefixes`. */
  readonly addresses: readonly string[];
  readonly pops: readonly string[];
}

interface Stored {
  readonly epoch: number;
  readonly seq: number;
  interval: number;
  /** address → observation, with the time it was made (on this server's clock). */
  readonly observations: Map<string, { pop: string | null; detail?: string | undefined; observedAt: number }>;
}

export class CatchmentView {
  private readonly latest = new Map<string, Stored>();

  constructor(
    private staleAfterIntervals: number,
    private subjects: CatchmentSubjects,
    private readonly now: () => number = Date.now,
  ) {}

  update(staleAfterIntervals: number, subjects: CatchmentSubjects): void {
    this.staleAfterIntervals = staleAfterIntervals;
    this.subjects = subjects;
    for (const [vantage, stored] of [...this.latest]) {
      if (!subjects.vantages.includes(vantage)) this.latest.delete(vantage);
      else
        for (const [address, o] of [...stored.observations])
          if (!subjects.addresses.includes(address) || (o.pop !== null && !subjects.pops.includes(o.pop)))
            stored.observations.delete(address);
    }
  }

  knowsVantage(vantage: string): boolean {
    return this.subjects.vantages.includes(vantage);
  }

  /** Why the catchment part of a report cannot be taken, or null. Checked before anything is applied. */
  problem(c: Catchment): string | null {
    const seen = new Set<string>();
    for (const [i, o] of c.observations.entries()) {
      if (!this.subjects.addresses.includes(o.address))
        return `catchment.observations[${i}].address: '${o.address}' is not an anycast address of this config`;
      if (seen.has(o.address)) return `catchment.observations[${i}].address: '${o.address}' is given twice`;
      seen.add(o.address);
      if (o.pop !== null && !this.subjects.pops.includes(o.pop))
        return `catchment.observations[${i}].pop: '${o.pop}' is not a PoP of this config`;
    }
    return null;
  }

  /**
   * Takes a report's catchment for its vantage, unless the report is not newer than the last one
   * from that vantage. A report without catchment (an older prober, or one before its first
   * round) keeps what the vantage said before, which then ages.
   */
  report(
    r: Pick<HealthReport, 'vantage' | 'epoch' | 'seq' | 'catchment'>,
  ): { accepted: true } | { accepted: false; reason: string } {
    if (!this.knowsVantage(r.vantage)) return { accepted: false, reason: `unknown vantage '${r.vantage}'` };
    const prev = this.latest.get(r.vantage);
    if (prev && (r.epoch < prev.epoch || (r.epoch === prev.epoch && r.seq <= prev.seq))) {
      return {
        accepted: false,
        reason: `report ${r.epoch}/${r.seq} from ${r.vantage} is not newer than ${prev.epoch}/${prev.seq}`,
      };
    }
    const now = this.now();
    const next: Stored = {
      epoch: r.epoch,
      seq: r.seq,
      interval: r.catchment?.interval ?? prev?.interval ?? 0,
      observations: prev?.observations ?? new Map(),
    };
    for (const o of r.catchment?.observations ?? [])
      next.observations.set(o.address, { pop: o.pop, detail: o.detail, observedAt: now - o.ageMs });
    this.latest.set(r.vantage, next);
    return { accepted: true };
  }

  /** Every observation, by vantage (config order) then address (config order). */
  landings(): Landing[] {
    const now = this.now();
    const out: Landing[] = [];
    for (const vantage of this.subjects.vantages) {
      const stored = this.latest.get(vantage);
      if (!stored) continue;
      for (const address of this.subjects.addresses) {
        const o = stored.observations.get(address);
        if (!o) continue;
        const ageMs = Math.max(0, now - o.observedAt);
        out.push({
          vantage,
          address,
          pop: o.pop,
          ...(o.detail !== undefined && { detail: o.detail }),
          ageMs,
          stale: ageMs > this.staleAfterIntervals * stored.interval,
        });
      }
    }
    return out;
  }

  /** Where each vantage lands on one address. */
  landingsOf(address: string): Landing[] {
    return this.landings().filter((l) => l.address === address);
  }
}
