// The DNS server's view of PoP health, built from every prober's latest report. A PoP is down
// when a quorum of the vantage points the config expects sees it down in FRESH reports, and up
// when no such quorum can be reached any more (quorum.ts has the arithmetic): one prober with a
// bad network cannot take PoPs out, a prober that went silent stops voting, and the first
// report after a restart cannot decide alone. While the fresh votes decide nothing, the last
// verdict holds for the grace period (counted from the last time a quorum decided), then the
// PoP counts as up (fail open: losing the probers must not empty the answers). Verdicts are kept
// across restarts (verdicts.ts). Admin overrides (drain, down) win over the reports.
//
// Probers that die for good cannot freeze a verdict: their reports go stale after
// staleAfterIntervals × interval, the verdicts they leave undecided hold for `grace`, then fail
// open. With 2 of 3 probers gone (a majority of 3 can never be reached) every PoP is answered
// again 3 s + 30 s after they died with the defaults; with 1 of 3 gone the other two still
// decide whenever they agree, and when they disagree the PoP stays up (or returns after grace).
// Either way the reason says how many expected vantage points report. An operator who retires
// probers lists the rest in `health.vantagePoints` to get decisions back.
import type { HealthReport, HealthSettings } from '../../common/health-contract.js';
import type { Logger } from '../../common/log.js';
import type { PopHealth } from '../policy/types.js';
import type { OverrideStore, Override } from './overrides.js';
import { decide } from './quorum.js';
import type { HealthSnapshot } from './snapshot.js';
import type { SavedVerdict, VerdictStore } from './verdicts.js';

export type { PopHealth };

/**
 * What the view judges: the PoPs (whose probers are the default vantage points) and the CNAME
 * members with a health check (another CDN, probed by every prober, never a vantage point).
 * A plain list is PoPs only.
 */
export type HealthSubjects =
  readonly string[] | { readonly pops: readonly string[]; readonly members: readonly string[] };

export interface PopHealthDetail extends PopHealth {
  /** The PoP's id, or the CNAME member's. */
  readonly pop: string;
  readonly kind: 'pop' | 'member';
  readonly verdict: 'up' | 'down';
  readonly override: Override | null;
  readonly votes: {
    vantage: string;
    up: boolean | null;
    rttMs: number | null;
    fresh: boolean;
    ageMs: number;
    detail?: string | undefined;
  }[];
}

interface Stored {
  readonly report: HealthReport;
  readonly receivedAt: number;
}

interface Verdict {
  up: boolean;
  reason: string;
  /** When a quorum last decided it (0: never); the grace period counts from here. */
  decidedAt: number;
  /** When it last changed. */
  since: number;
  /** Loaded from before a restart and not yet decided again by a quorum here. */
  restored: boolean;
}

export type QuorumSettings = Pick<HealthSettings, 'quorum' | 'staleAfterIntervals' | 'grace' | 'vantagePoints'>;

export class HealthView {
  private readonly latest = new Map<string, Stored>();
  /** vantage → resolver network → RTT, from its latest report. */
  private readonly rttIndex = new Map<string, Map<string, number>>();
  private readonly verdicts = new Map<string, Verdict>();
  private readonly eligibility = new Map<string, PopHealth>();
  private timer: NodeJS.Timeout | undefined;
  private popIds: readonly string[] = [];
  private memberIds: readonly string[] = [];
  /** PoPs then members: everything with a verdict. */
  private subjectIds: readonly string[] = [];
  private saved = { at: Number.NEGATIVE_INFINITY, text: '', failing: false };
  /** Told after every re-evaluation (reports, overrides, time passing): serving workers follow. */
  onUpdate: (() => void) | undefined;

  constructor(
    private settings: QuorumSettings,
    subjects: HealthSubjects,
    private readonly overrides: OverrideStore,
    private readonly log: Logger,
    /** Called after any PoP's eligibility changed (the steering cache must be dropped). */
    private readonly onChange: () => void,
    private readonly now: () => number = Date.now,
    private readonly onTransition: (pop: string, to: 'up' | 'down') => void = () => {},
    /** Where verdicts are kept across restarts; none in most tests. */
    private readonly store?: VerdictStore,
  ) {
    this.setSubjects(subjects);
    this.restore();
    this.recompute(false);
  }

  private setSubjects(subjects: HealthSubjects): void {
    const s = Array.isArray(subjects)
      ? { pops: subjects as readonly string[], members: [] }
      : (subjects as Exclude<HealthSubjects, readonly string[]>);
    this.popIds = s.pops;
    this.memberIds = s.members;
    this.subjectIds = [...s.pops, ...s.members];
  }

  /** Whether an id names a PoP or a checked CNAME member (overrides accept both). */
  knows(id: string): boolean {
    return this.subjectIds.includes(id);
  }

  /** Vantage points whose reports vote: `health.vantagePoints`, or every PoP. */
  expectedVantagePoints(): readonly string[] {
    return this.settings.vantagePoints ?? this.popIds;
  }

  /**
   * Starts from the verdicts saved before a restart, when a quorum decided them within the grace
   * period: older ones would have failed open by now had the server kept running.
   */
  private restore(): void {
    if (!this.store) return;
    const loaded = this.store.load();
    if (!loaded.ok) {
      this.log.warn(
        { file: this.store.file, error: loaded.error },
        'cannot use the saved health verdicts; starting without them',
      );
      return;
    }
    const now = this.now();
    const restored: Record<string, 'up' | 'down'> = {};
    const ignored: string[] = [];
    for (const [pop, v] of Object.entries(loaded.verdicts)) {
      if (!this.subjectIds.includes(pop) || !(now - v.decidedAt <= this.settings.grace)) {
        ignored.push(pop);
        continue;
      }
      // A clock that stepped back must not stretch the grace period.
      this.verdicts.set(pop, {
        up: v.up,
        reason: '',
        since: Math.min(v.since, now),
        decidedAt: Math.min(v.decidedAt, now),
        restored: true,
      });
      restored[pop] = v.up ? 'up' : 'down';
    }
    if (Object.keys(restored).length + ignored.length > 0) {
      this.log.info(
        { file: this.store.file, restored, ignored },
        'health verdicts from before the restart (older than the grace period are ignored)',
      );
    }
  }

  /** Re-evaluates periodically: staleness and grace expire with time, not only with reports. */
  start(everyMs = 250): void {
    this.timer = setInterval(() => this.recompute(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  update(settings: QuorumSettings, subjects: HealthSubjects): void {
    this.settings = settings;
    this.setSubjects(subjects);
    const expected = this.expectedVantagePoints();
    for (const vantage of [...this.latest.keys()]) {
      if (!expected.includes(vantage)) {
        this.latest.delete(vantage);
        this.rttIndex.delete(vantage);
      }
    }
    this.recompute();
  }

  /** Accepts a report from an expected vantage point unless it is older than (or the same as) the last one from it. */
  report(r: HealthReport): { accepted: true } | { accepted: false; reason: string } {
    if (!this.expectedVantagePoints().includes(r.vantage))
      return { accepted: false, reason: `vantage '${r.vantage}' is not listed in health.vantagePoints` };
    const prev = this.latest.get(r.vantage)?.report;
    if (prev && (r.epoch < prev.epoch || (r.epoch === prev.epoch && r.seq <= prev.seq))) {
      return {
        accepted: false,
        reason: `report ${r.epoch}/${r.seq} from ${r.vantage} is not newer than ${prev.epoch}/${prev.seq}`,
      };
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

  /** The admin override of a PoP or member (the announcer withdraws a drained PoP's routes). */
  overrideOf(pop: string): Override | null {
    return this.overrides.get(pop);
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
    return this.subjectIds.map((pop) => {
      const verdict = this.verdicts.get(pop)!;
      const health = this.eligibility.get(pop)!;
      return {
        pop,
        kind: this.memberIds.includes(pop) ? ('member' as const) : ('pop' as const),
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
    let verdictChanged = false;
    for (const pop of this.subjectIds) {
      const before = this.verdicts.get(pop);
      const verdict = this.verdictFor(pop, now, before);
      if (before && before.up !== verdict.up) {
        verdictChanged = true;
        const member = this.memberIds.includes(pop);
        this.log.info(
          { pop, from: before.up ? 'up' : 'down', to: verdict.up ? 'up' : 'down', reason: verdict.reason },
          member ? 'CNAME member health verdict changed' : 'PoP health verdict changed',
        );
        this.onTransition(pop, verdict.up ? 'up' : 'down');
      }
      this.verdicts.set(pop, verdict);
      const health = this.applyOverride(pop, verdict);
      const old = this.eligibility.get(pop);
      if (!old || old.eligible !== health.eligible) changed = true;
      this.eligibility.set(pop, health);
    }
    for (const pop of [...this.verdicts.keys()]) {
      if (!this.subjectIds.includes(pop)) {
        this.verdicts.delete(pop);
        this.eligibility.delete(pop);
      }
    }
    this.save(now, verdictChanged);
    if (changed && notify) this.onChange();
    this.onUpdate?.();
  }

  /**
   * Saves the decided verdicts when one changed, and otherwise every quarter of the grace period
   * so their `decidedAt` stays recent: a verdict saved that way is at most grace/4 older than
   * it should be, so after a restart it is kept for at least 3/4 of the grace period.
   */
  private save(now: number, verdictChanged: boolean): void {
    if (!this.store || (!verdictChanged && now - this.saved.at < this.settings.grace / 4)) return;
    const out: Record<string, SavedVerdict> = {};
    for (const [pop, v] of this.verdicts)
      if (v.decidedAt > 0) out[pop] = { up: v.up, since: v.since, decidedAt: v.decidedAt };
    const text = JSON.stringify(out);
    this.saved.at = now;
    if (text === this.saved.text) return;
    try {
      this.store.save(out);
      this.saved.text = text;
      if (this.saved.failing) this.log.info({ file: this.store.file }, 'health verdicts saved again');
      this.saved.failing = false;
    } catch (e) {
      // Serving goes on; only the memory across a restart is lost. Said once, not every tick.
      if (!this.saved.failing)
        this.log.warn(
          { file: this.store.file, error: (e as Error).message },
          'cannot save health verdicts; a restart will start without them',
        );
      this.saved.failing = true;
    }
  }

  private verdictFor(pop: string, now: number, before: Verdict | undefined): Verdict {
    const expected = this.expectedVantagePoints();
    let down = 0;
    let up = 0;
    for (const vantage of expected) {
      const stored = this.latest.get(vantage);
      if (!stored || !this.isFresh(stored.report, stored.receivedAt, now)) continue;
      const t = stored.report.targets.find((x) => x.pop === pop);
      if (t) t.up ? up++ : down++;
    }
    const n = expected.length;
    const { verdict, needed } = decide({ down, up, expected: n }, this.settings.quorum);
    const since = (isUp: boolean) => (before && before.up === isUp ? before.since : now);
    if (verdict !== 'undecided') {
      const isUp = verdict === 'up';
      const reason = `${verdict}: ${down} of ${n} expected vantage points see it down (${down + up} report, quorum ${needed})`;
      return { up: isUp, reason, decidedAt: now, since: since(isUp), restored: false };
    }
    const reporting =
      down + up === 0
        ? `no fresh reports from the ${n} expected vantage point${n === 1 ? '' : 's'} (quorum ${needed})`
        : `${down + up} of ${n} expected vantage points report, ${down} see${down === 1 ? 's' : ''} it down, quorum ${needed}`;
    if (before && before.decidedAt > 0 && now - before.decidedAt <= this.settings.grace) {
      const word = before.up ? 'up' : 'down';
      const held = before.restored
        ? `verdict from before the restart held (${word} since ${new Date(before.since).toISOString()})`
        : 'last verdict held for the grace period';
      return { ...before, reason: `${word}: ${reporting}: ${held}` };
    }
    if (before && before.decidedAt > 0) {
      return {
        up: true,
        reason: `up: ${reporting}, for longer than the grace period (fail open)`,
        decidedAt: before.decidedAt,
        since: since(true),
        restored: false,
      };
    }
    const reason =
      this.latest.size === 0 ? 'up: no reports yet' : `up: ${reporting}: no verdict yet (up until a quorum decides)`;
    return { up: true, reason, decidedAt: 0, since: since(true), restored: false };
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
