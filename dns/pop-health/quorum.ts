// Whether the fresh votes on one PoP decide its verdict. The count is against the vantage
// points the config expects (every PoP runs a prober, unless `health.vantagePoints` lists
// fewer), not against the reports that happen to have arrived. Counted over the reports
// present, the first prober to report after a DNS server restart decided alone ("1 of 1,
// quorum 1"): a prober that had not yet seen a failure brought a dead PoP back, and an isolated
// one could take a healthy PoP out.
//
// With n expected vantage points, quorum q (majority: ⌊n/2⌋ + 1, or the configured number),
// d fresh down votes and u fresh up votes, m = n − d − u votes are missing (stale, silent, or
// a prober that does not probe this PoP):
//   down      when d ≥ q:      a quorum sees it down, whatever the missing would say;
//   up        when d + m < q:  even if every missing vantage point saw it down, no quorum could;
//   undecided otherwise:       the missing votes would decide, so the last verdict holds (view.ts).
// n = 3, majority (q = 2): 2 down → down; 2 up → up; one report alone, or 1 up + 1 down → undecided.
// n = 4, majority (q = 3): 2 up + 2 down → up (3 down votes can no longer be reached).
// q = 1 (any vantage point's down vote takes a PoP out): down on one vote, up only when all n
// report it up.
import type { HealthSettings } from '../../common/health-contract.js';

export interface Tally {
  /** Fresh down votes from expected vantage points. */
  readonly down: number;
  /** Fresh up votes from expected vantage points. */
  readonly up: number;
  /** Expected vantage points (n). */
  readonly expected: number;
}

export interface Decision {
  readonly verdict: 'up' | 'down' | 'undecided';
  /** q: down votes that take the PoP out. */
  readonly needed: number;
}

export function quorumOf(quorum: HealthSettings['quorum'], expected: number): number {
  return quorum === 'majority' ? Math.floor(expected / 2) + 1 : quorum;
}

export function decide(t: Tally, quorum: HealthSettings['quorum']): Decision {
  const needed = quorumOf(quorum, t.expected);
  const missing = Math.max(0, t.expected - t.down - t.up);
  if (t.down >= needed) return { verdict: 'down', needed };
  if (t.down + missing < needed) return { verdict: 'up', needed };
  return { verdict: 'undecided', needed };
}
