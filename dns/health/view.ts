// The DNS server's view of PoP health, built from every prober's latest report. A PoP is down
// when a quorum of the FRESH reports says so: one prober with a bad network cannot take PoPs
// out, and a prober that went silent stops voting. With no fresh report at all the last verdict
// holds for a grace period, then the PoP counts as up (fail open: losing the probers must not
// empty the answers). Admin overrides (drain, down) win over the reports.
import type { HealthReport, HealthSettings } from '../../common/health.js';
import type { Logger } from '../../common/log.js';
import type { PopHealth } from '../policy/types.js';
import type { OverrideStore, Override } from './overrides.js';
import type { HealthSnapshot } from './snapshot.js';

export type { PopHealth };

export interface PopHealthDetail extends PopHealth {
  readonly pop: string;
  readonly verdict: 'up' | 'down';
  readonly override: Override | null;
  readonly votes: { vantage: string; up: boolean | null; rttMs: number | null; fresh: boolean; ageMs: number; detail?: string | undefined }[];
}

interface Stored {
  readonly report: HealthReport;
  readonly receivedAt: number;
}

interface Verdict {
  up: boolean;
  reason: string;
  /** When the verdict last rested on fresh reports (for the grace period). */
  freshAt: number;
}

export type QuorumSettings = Pick<HealthSettings, 'quorum' | 'staleAfterIntervals' | 'grace'>;

export class HealthView {
  private readonly latest = new Map<string, Stored>();
  /** vantage → resolver network → RTT, from its latest report. */
  private readonly rttIndex = new Map<string, Map<string, number>>();
  private readonly verdicts = new Map<string, Verdict>();
  private readonly eligibility = new Map<string, PopHealth>();
  private timer: NodeJS.Timeout | undefined;
  /** Told after every re-evaluation (reports, overrides, time passing): serving workers follow. */
  onUpdate: (() => void) | undefined;

  constructor(
    private settings: QuorumSettings,
    private popIds: readonly string[],
    private readonly overrides: OverrideStore,
    private readonly log: Logger,
    /** Called after any PoP's eligibility changed (the steering cache must be dropped). */
    private readonly onChange: () => void,
    private readonly now: () => number = Date.now,
    private readonly onTransition: (pop: string, to: 'up' | 'down') => void = () => {},
  ) {
    this.recompute(false);
  }

  /** Re-evaluates periodically: staleness and grace expire with time, not only with reports. */
  start(everyMs = 250): void {
    this.timer = setInterval(() => this.recompute(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  update(settings: QuorumSettings, popIds: readonly string[]): void {
    this.settings = settings;
    this.popIds = popIds;
    this.recompute();
  }

  /** Accepts a report unless it is older than (or the same as) the last one from its vantage. */
  report(r: HealthReport): { accepted: true } | { accepted: false; reason: string } {
    const prev = this.latest.get(r.vantage)?.report;
    if (prev && (r.epoch < prev.epoch || (r.epoch === prev.epoch && r.seq <= prev.seq))) {
      return { accepted: false, reason: `report ${r.epoch}/${r.seq} from ${r.vantage} is not newer than ${prev.epoch}/${prev.seq}` };
    }
    this.latest.set(r.vantage, { report: r, receivedAt: this.now() });
    this.rttIndex.set(r.vantage, new Map(r.resolvers.map((x) => [x.network, x.rttMs])));
    this.recompute();
    return { accepted: true };
  }

  /**
   * RTT measured from `pop` (its prober) to a resolver network, when that prober's latest report
   * is fresh and has it.
   */
  measuredRttMs(pop: string, resolverNetwork: string): number | undefined {
    const stored = this.latest.get(pop);
    if (!stored || !this.isFresh(stored.report, stored.receivedAt, this.now())) return undefined;
    return this.rttIndex.get(pop)?.get(resolverNetwork);
  }

  /** The steering chain's question; undefined = no opinion (unknown PoP). */
  healthOf(pop: string): PopHealth | undefined {
    return this.eligibility.get(pop);
  }

  setOverride(pop: string, override: Override | null): void {
    this.overrides.set(pop, override);
    this.log.info({ pop, override: override ?? 'auto' }, 'admin override');
    this.recompute();
  }

  /** Eligibility and fresh RTTs as plain data, for serving workers (see snapshot.ts). */
  snapshot(): HealthSnapshot {
    const now = this.now();
    const rtt: [string, [string, number][]][] = [];
    for (const [vantage, { report, receivedAt }] of this.latest) {
      if (this.isFresh(report, receivedAt, now)) rtt.push([vantage, [...(this.rttIndex.get(vantage) ?? [])]]);
    }
    return { eligibility: [...this.eligibility].map(([pop, h]) => [pop, h.eligible, h.reason]), rtt };
  }

  details(): PopHealthDetail[] {
    const now = this.now();
    return this.popIds.map((pop) => {
      const verdict = this.verdicts.get(pop)!;
      const health = this.eligibility.get(pop)!;
      return {
        pop,
        ...health,
        verdict: verdict.up ? 'up' : 'down',
        override: this.overrides.get(pop),
        votes: [...this.latest.values()].map(({ report, receivedAt }) => {
          const t = report.targets.find((x) => x.pop === pop);
          return {
            vantage: report.vantage,
            up: t ? t.up : null,
            rttMs: t?.rttMs ?? null,
            fresh: this.isFresh(report, receivedAt, now),
            ageMs: now - receivedAt,
            detail: t?.detail,
          };
        }),
      };
    });
  }

  private isFresh(report: HealthReport, receivedAt: number, now: number): boolean {
    return now - receivedAt <= this.settings.staleAfterIntervals * report.interval;
  }

  private recompute(notify = true): void {
    const now = this.now();
    let changed = false;
    for (const pop of this.popIds) {
      const before = this.verdicts.get(pop);
      const verdict = this.verdictFor(pop, now, before);
      if (before && before.up !== verdict.up) {
        this.log.info({ pop, from: before.up ? 'up' : 'down', to: verdict.up ? 'up' : 'down', reason: verdict.reason }, 'PoP health verdict changed');
        this.onTransition(pop, verdict.up ? 'up' : 'down');
      }
      this.verdicts.set(pop, verdict);
      const health = this.applyOverride(pop, verdict);
      const old = this.eligibility.get(pop);
      if (!old || old.eligible !== health.eligible) changed = true;
      this.eligibility.set(pop, health);
    }
    for (const pop of [...this.verdicts.keys()]) {
      if (!this.popIds.includes(pop)) {
        this.verdicts.delete(pop);
        this.eligibility.delete(pop);
      }
    }
    if (changed && notify) this.onChange();
    this.onUpdate?.();
  }

  private verdictFor(pop: string, now: number, before: Verdict | undefined): Verdict {
    const votes: boolean[] = [];
    for (const { report, receivedAt } of this.latest.values()) {
      if (!this.isFresh(report, receivedAt, now)) continue;
      const t = report.targets.find((x) => x.pop === pop);
      if (t) votes.push(t.up);
    }
    if (votes.length > 0) {
      const down = votes.filter((up) => !up).length;
      const needed = this.settings.quorum === 'majority' ? Math.floor(votes.length / 2) + 1 : this.settings.quorum;
      const isDown = down >= needed;
      return { up: !isDown, reason: `${isDown ? 'down' : 'up'}: ${down} of ${votes.length} fresh vantage points see it down (quorum ${needed})`, freshAt: now };
    }
    if (before && before.freshAt > 0 && now - before.freshAt <= this.settings.grace) {
      return { ...before, reason: `${before.up ? 'up' : 'down'}: no fresh reports; last verdict held for the grace period` };
    }
    return { up: true, reason: before && before.freshAt > 0 ? 'up: no fresh reports for longer than the grace period (fail open)' : 'up: no reports yet', freshAt: 0 };
  }

  private applyOverride(pop: string, verdict: Verdict): PopHealth {
    switch (this.overrides.get(pop)) {
      case 'drain':
        return { eligible: false, reason: 'drained by an operator (still monitored)' };
      case 'down':
        return { eligible: false, reason: 'marked down by an operator' };
      default:
        return { eligible: verdict.up, reason: verdict.reason };
    }
  }
}
