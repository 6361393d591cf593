// Fail open: when nothing is eligible, answer the pool's fallback anyway. An answer that may be
// down beats an empty answer or SERVFAIL, which would take the whole name down.
import type { Candidate, PolicyStep } from './types.js';

export function fallbackMember(all: readonly Candidate[], fallbackId: string | undefined): Candidate | undefined {
  return all.find((c) => c.member.kind === 'pop' && (fallbackId === undefined || c.id === fallbackId));
}

export function fallbackStep(all: readonly Candidate[]): PolicyStep {
  return {
    name: 'fallback',
    run(ctx, chosen) {
      if (chosen.length > 0) return chosen;
      const fb = fallbackMember(all, ctx.pool.fallback);
      if (!fb) return chosen;
      fb.notes.push('fallback: no member eligible');
      return [fb];
    },
  };
}
