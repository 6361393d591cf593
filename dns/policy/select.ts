// Takes the first N eligible members. An external CDN answers as a CNAME, which cannot share a
// name with addresses, so when one comes first it is the whole answer.
import type { PolicyStep } from './types.js';

export const select: PolicyStep = {
  name: 'select',
  run(ctx, candidates) {
    const chosen = [];
    for (const c of candidates) {
      if (!c.eligible) continue;
      if (c.member.kind === 'cname') {
        if (chosen.length === 0) chosen.push(c);
        break;
      }
      chosen.push(c);
      if (chosen.length === ctx.answers) break;
    }
    return chosen;
  },
};
