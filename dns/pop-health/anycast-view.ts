// The DNS server's view of anycast: every announcer's latest report (anycast-contract.ts) → which
// PoPs announce each anycast address now. An address is answered for a `policy: anycast` pool
// while at least one FRESH report has it in an announced prefix with its service up; a report
// older than staleAfterIntervals × its interval no longer counts (an announcer that went silent
// may have died, and its lease then withdrew its routes). No quorum here, unlike PoP health: an
// announcer reports what it told its own BIRD, a fact about its PoP, not an opinion of others.
// With no fresh report at all the address is not answered and the pool falls back to unicast:
// answering an address nobody is known to announce could blackhole every client.
import type { AnycastReport } from '../../common/anycast-contract.js';
import type { Logger } from '../../common/log.js';

export interface AnycastAvailability {
  /** PoPs whose fresh report announces the address, in PoP order. */
  readonly announcedBy: readonly string[];
  /** Why it is answered or not, in words (explain, status). */
  readonly reason: string;
}

export interface AnycastPopDetail {
  readonly pop: string;
  readonly fresh: boolean;
  readonly ageMs: number;
  readonly epoch: number;
  readonly seq: number;
  readonly prefixes: AnycastReport['prefixes'];
}

/** What serving workers are told: [address, announcing PoPs, reason] for every reported address. */
export type AnycastSnapshot = readonly (readonly [string, readonly string[], string])[];

interface Stored {
  readonly report: AnycastReport;
  readonly receivedAt: number;
}

export class AnycastView {
  private readonly latest = new Map<string, Stored>();
  private availability = new Map<string, AnycastAvailability>();
  private availabilityKey = '';
  private timer: NodeJS.Timeout | undefined;
  /** Told after every re-evaluation: serving workers follow. */
  onUpdate: (() => void) | undefined;

  constructor(
    private staleAfterIntervals: number,
    private pops: readonly string[],
    private readonly log: Logger,
    /** Called when any address's announcers changed (the steering cache must be dropped). */
    private readonly onChange: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Re-evaluates periodically: a report goes stale with time, not only with the next report. */
  start(everyMs = 250): void {
    this.timer = setInterval(() => this.recompute(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  update(staleAfterIntervals: number, pops: readonly string[]): void {
    this.staleAfterIntervals = staleAfterIntervals;
    this.pops = pops;
    for (const pop of [...this.latest.keys()]) if (!pops.includes(pop)) this.latest.delete(pop);
    this.recompute();
  }

  knows(pop: string): boolean {
    return this.pops.includes(pop);
  }

  /** Accepts a report unless it is older than (or the same as) the last one from its PoP. */
  report(r: AnycastReport): { accepted: true } | { accepted: false; reason: string } {
    if (!this.pops.includes(r.pop))
      return { accepted: false, reason: `unknown PoP '${r.pop}': not a PoP of this config` };
    const prev = this.latest.get(r.pop)?.report;
    if (prev && (r.epoch < prev.epoch || (r.epoch === prev.epoch && r.seq <= prev.seq))) {
      return {
        accepted: false,
        reason: `report ${r.epoch}/${r.seq} from ${r.pop} is not newer than ${prev.epoch}/${prev.seq}`,
      };
    }
    this.latest.set(r.pop, { report: r, receivedAt: this.now() });
    this.recompute();
    return { accepted: true };
  }

  /** Who announces `address` now; an address no report names is not announced. */
  availabilityOf(address: string): AnycastAvailability {
    return this.availability.get(address) ?? { announcedBy: [], reason: this.noneReason() };
  }

  snapshot(): AnycastSnapshot {
    return [...this.availability].map(([address, a]) => [address, a.announcedBy, a.reason] as const);
  }

  details(): AnycastPopDetail[] {
    const now = this.now();
    return this.pops.flatMap((pop) => {
      const stored = this.latest.get(pop);
      if (!stored) return [];
      const { report, receivedAt } = stored;
      return [
        {
          pop,
          fresh: this.isFresh(stored, now),
          ageMs: now - receivedAt,
          epoch: report.epoch,
          seq: report.seq,
          prefixes: report.prefixes,
        },
      ];
    });
  }

  private isFresh(s: Stored, now: number): boolean {
    return now - s.receivedAt <= this.staleAfterIntervals * s.report.interval;
  }

  private noneReason(): string {
    const fresh = [...this.latest.values()].filter((s) => this.isFresh(s, this.now())).length;
    return this.latest.size === 0
      ? 'no announcer has reported'
      : `no fresh announcer report lists it (${fresh} of ${this.latest.size} reports fresh)`;
  }

  private recompute(): void {
    const now = this.now();
    const seen = new Map<string, { by: string[]; withdrawn: string[] }>();
    let stale = 0;
    for (const pop of this.pops) {
      const stored = this.latest.get(pop);
      if (!stored) continue;
      if (!this.isFresh(stored, now)) {
        stale++;
        continue;
      }
      for (const p of stored.report.prefixes) {
        for (const a of p.addresses) {
          const entry = seen.get(a.address) ?? { by: [], withdrawn: [] };
          seen.set(a.address, entry);
          if (p.announced && a.up) entry.by.push(pop);
          else entry.withdrawn.push(`${pop} (${p.announced ? `${a.serves} service down` : p.reason})`);
        }
      }
    }
    const staleText = stale > 0 ? `; ${stale} stale report${stale === 1 ? '' : 's'} not counted` : '';
    const next = new Map<string, AnycastAvailability>();
    for (const [address, { by, withdrawn }] of seen) {
      next.set(address, {
        announcedBy: by,
        reason:
          by.length > 0
            ? `announced by ${by.length} PoP${by.length === 1 ? '' : 's'} (${by.join(', ')})${staleText}`
            : `withdrawn by every PoP reporting it: ${withdrawn.join(', ')}${staleText}`,
      });
    }
    this.availability = next;
    // Only who announces decides answers; reasons change with every decaying penalty.
    const key = JSON.stringify([...next].map(([address, a]) => [address, a.announcedBy]));
    if (key !== this.availabilityKey) {
      const before = this.availabilityKey;
      this.availabilityKey = key;
      if (before !== '' || next.size > 0) {
        this.log.info(
          { anycast: Object.fromEntries([...next].map(([address, a]) => [address, a.announcedBy])) },
          'anycast announcers changed',
        );
        this.onChange();
      }
    }
    this.onUpdate?.();
  }
}

/** A worker's view, fed with snapshots (see snapshot.ts). */
export class SnapshotAnycast {
  private availability = new Map<string, AnycastAvailability>();

  /** True when any address's announcers changed (decisions must go). */
  apply(s: AnycastSnapshot | undefined): boolean {
    const next = new Map((s ?? []).map(([address, announcedBy, reason]) => [address, { announcedBy, reason }]));
    const key = (m: Map<string, AnycastAvailability>) =>
      JSON.stringify([...m].map(([address, a]) => [address, a.announcedBy]));
    const changed = key(next) !== key(this.availability);
    this.availability = next;
    return changed;
  }

  availabilityOf(address: string): AnycastAvailability {
    return this.availability.get(address) ?? { announcedBy: [], reason: 'no fresh announcer report lists it' };
  }
}
