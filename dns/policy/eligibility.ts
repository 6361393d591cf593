// Which members may be answered at all: enabled PoPs that are not known to be down.
import type { PolicyStep } from './types.js';

export const eligibility: PolicyStep = {
  name: 'eligibility',
  run(ctx, candidates) {
    for (const c of candidates) {
      if (c.pop && !c.pop.enabled) {
        c.eligible = false;
        c.notes.push('disabled in config');
      } else if (c.pop && ctx.isUp(c.pop.id) === false) {
        c.eligible = false;
        c.notes.push('down');
      }
    }
    return candidates;
  },
};
