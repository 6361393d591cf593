// Orders the candidates by the pool's policy. Ineligible members keep their place in the list
// (explain shows them) but selection skips them.
import { unicastPolicy } from '../../common/topology.js';
import type { Candidate, PolicyStep, SteeringContext } from './types.js';

export const order: PolicyStep = {
  name: 'order',
  run(ctx, candidates) {
    switch (unicastPolicy(ctx.pool.policy)) {
      case 'nearest':
        return nearest(ctx, candidates);
      case 'weighted':
        return weighted(ctx, candidates);
      case 'ordered':
        return candidates;
    }
  },
};

/** By estimated RTT; members without a location go last, in config order (a stable sort). */
function nearest(ctx: SteeringContext, candidates: Candidate[]): Candidate[] {
  if (!ctx.client.location) return candidates;
  return [...candidates].sort((a, b) => (a.estimatedRttMs ?? Infinity) - (b.estimatedRttMs ?? Infinity));
}

/**
 * Weighted rendezvous hashing: each member scores -ln(u)/weight with u a hash of (client
 * network, member); the lowest score wins. A client network always gets the same order, shares
 * follow the weights, and removing one member only moves the clients that had it first.
 */
function weighted(ctx: SteeringContext, candidates: Candidate[]): Candidate[] {
  const score = (c: Candidate) => -Math.log(unitHash(`${ctx.clientKey}|${c.id}`)) / weightOf(c);
  return candidates
    .map((c) => [score(c), c] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, c]) => c);
}

function weightOf(c: Candidate): number {
  return c.member.weight ?? c.pop?.weight ?? 100;
}

/** FNV-1a to (0, 1). */
function unitHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) + 1) / 4294967297;
}
