// Which members may be answered at all: enabled PoPs that are not down by quorum or drained.
import type { PolicyStep } from './types.js';

export const eligibility: PolicyStep = {
  name: 'eligibility',
  run(ctx, candidates) {
    for (const c of candidates) {
      if (c.pop && !c.pop.enabled) {
        c.eligible = false;
        c.notes.push('disabled in config');
      } else if (c.pop) {
        const health = ctx.healthOf(c.pop.id);
        if (health && !health.eligible) c.eligible = false;
        if (health) c.notes.push(health.reason);
      }
    }
    return candidates;
  },
};
