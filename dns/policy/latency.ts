// Measured latency beats estimated distance: when the probers have fresh RTTs from every
// eligible PoP to the querying resolver's network, rank by those. A new leader must be clearly
// better than the distance leader (by MARGIN), so answers do not flap on measurement noise.
import { unicastPolicy } from '../../common/topology.js';
import type { Candidate, PolicyStep } from './types.js';

/** A challenger must be at least this much faster: 20% and 5 ms. */
const MARGIN_RATIO = 0.2;
const MARGIN_MS = 5;

export const latency: PolicyStep = {
  name: 'latency',
  run(ctx, candidates) {
    if (unicastPolicy(ctx.pool.policy) !== 'nearest') return candidates;
    const eligible = candidates.filter((c) => c.eligible && c.pop);
    if (eligible.length < 2) return candidates;
    for (const c of eligible) {
      const rtt = ctx.measuredRttMs(c.pop!.id);
      if (rtt !== undefined) c.measuredRttMs = rtt;
    }
    // Partial data would compare measured against estimated figures: keep the distance order.
    if (!eligible.every((c) => c.measuredRttMs !== undefined)) return candidates;
    const leader = eligible[0]!;
    const byRtt = [...eligible].sort((a, b) => a.measuredRttMs! - b.measuredRttMs!);
    const best = byRtt[0]!;
    const clearlyBetter =
      best.measuredRttMs! < leader.measuredRttMs! - Math.max(MARGIN_MS, leader.measuredRttMs! * MARGIN_RATIO);
    const ordered = best === leader || clearlyBetter ? byRtt : [leader, ...byRtt.filter((c) => c !== leader)];
    ordered[0]!.notes.push(
      clearlyBetter
        ? `measured RTT ${ordered[0]!.measuredRttMs} ms beats ${leader.id} (${leader.measuredRttMs} ms)`
        : 'ranked by measured RTT',
    );
    return [...ordered, ...candidates.filter((c) => !ordered.includes(c))] as Candidate[];
  },
};
