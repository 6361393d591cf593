// Which members may be answered at all: enabled PoPs that are not down by quorum or drained, and
// CNAME members (another CDN) that are not down or drained by their id. A CNAME member without
// an id has no health subject and is always eligible.
import type { PolicyStep } from './types.js';

export const eligibility: PolicyStep = {
  name: 'eligibility',
  run(ctx, candidates) {
    for (const c of candidates) {
      if (c.pop && !c.pop.enabled) {
        c.eligible = false;
        c.notes.push('disabled in config');
        continue;
      }
      const subject = c.pop ? c.pop.id : c.member.kind === 'cname' ? c.member.id : undefined;
      if (subject === undefined) continue;
      const health = ctx.healthOf(subject);
      if (health && !health.eligible) c.eligible = false;
      if (health) c.notes.push(c.pop ? health.reason : `member ${subject}: ${health.reason}`);
    }
    return candidates;
  },
};
