// The steering chain: the ORDER of steps is here and only here (as CoreDNS's plugin.cfg).
// Ranking steps annotate and reorder the whole list; selection narrows it to the answer.
import { unicastPolicy, type Pool, type Pop } from '../../common/topology.js';
import { distance } from './distance.js';
import { eligibility } from './eligibility.js';
import { fallbackStep } from './fallback.js';
import { latency } from './latency.js';
import { order } from './order.js';
import { select } from './select.js';
import type { Candidate, PolicyStep, SteeringContext } from './types.js';

const RANKING: readonly PolicyStep[] = [eligibility, distance, order, latency];

export interface Steered {
  /** Every member, in ranked order, with its notes (for explain). */
  readonly ranked: readonly Candidate[];
  /** What ordered the members: measured RTTs to the resolver, or estimated distance. */
  readonly rankedBy: 'measured-latency' | 'distance' | 'policy';
  /** What to answer. */
  readonly chosen: readonly Candidate[];
  readonly usedFallback: boolean;
}

export function candidatesOf(pool: Pool, pops: ReadonlyMap<string, Pop>): Candidate[] {
  return pool.members.map((member) =>
    member.kind === 'pop'
      ? { id: member.pop, member, pop: pops.get(member.pop) ?? null, eligible: true, notes: [] }
      : { id: member.cname, member, pop: null, eligible: true, notes: [] },
  );
}

export function steer(ctx: SteeringContext, pops: ReadonlyMap<string, Pop>): Steered {
  let ranked = candidatesOf(ctx.pool, pops);
  for (const step of RANKING) ranked = step.run(ctx, ranked);
  const selected = select.run(ctx, ranked);
  const chosen = fallbackStep(ranked).run(ctx, selected);
  const rankedBy =
    ranked.some((c) => c.measuredRttMs !== undefined) &&
    ranked.filter((c) => c.eligible && c.pop).every((c) => c.measuredRttMs !== undefined)
      ? 'measured-latency'
      : unicastPolicy(ctx.pool.policy) === 'nearest' && ctx.client.location
        ? 'distance'
        : 'policy';
  return { ranked, chosen, rankedBy, usedFallback: selected.length === 0 && chosen.length > 0 };
}
