import { describe, expect, it } from 'vitest';
import type { AnycastReport } from '../../common/anycast-contract.js';
import { createLogger } from '../../common/log.js';
import { AnycastView, SnapshotAnycast } from './anycast-view.js';

const log = createLogger({ service: 'dns', level: 'silent' });

function report(
  pop: string,
  seq: number,
  announced: boolean,
  reason = announced ? 'healthy' : 'service down: dns 198.51.100.53 (refused)',
): AnycastReport {
  return {
    pop,
    epoch: 1,
    seq,
    interval: 1000,
    prefixes: [
      {
        prefix: '198.51.100.0/24',
        announced,
        reason,
        penalty: announced ? 0 : 1000,
        suppressed: false,
        holdDownMs: 0,
        flaps: announced ? 0 : 1,
        addresses: [{ address: '198.51.100.53', serves: 'dns', up: announced }],
      },
    ],
  };
}

function view() {
  let t = 1_000_000;
  let changes = 0;
  const v = new AnycastView(
    3,
    ['a', 'b'],
    log,
    () => changes++,
    () => t,
  );
  return { v, advance: (ms: number) => (t += ms), changes: () => changes };
}

describe('the DNS server’s anycast view', () => {
  it('knows who announces each address from fresh reports, and says why not', () => {
    const { v, changes } = view();
    expect(v.availabilityOf('198.51.100.53')).toEqual({ announcedBy: [], reason: 'no announcer has reported' });
    expect(v.report(report('a', 1, true))).toEqual({ accepted: true });
    expect(v.report(report('b', 1, false))).toEqual({ accepted: true });
    expect(v.availabilityOf('198.51.100.53')).toEqual({ announcedBy: ['a'], reason: 'announced by 1 PoP (a)' });
    expect(changes()).toBe(1);
    v.report(report('a', 2, false, 'drained by an operator (meridian pop drain)'));
    expect(v.availabilityOf('198.51.100.53')).toEqual({
      announcedBy: [],
      reason:
        'withdrawn by every PoP reporting it: a (drained by an operator (meridian pop drain)), b (service down: dns 198.51.100.53 (refused))',
    });
    expect(changes()).toBe(2);
    // The same announcers again: nothing for the decision cache to drop.
    v.report(report('a', 3, false, 'drained by an operator (meridian pop drain)'));
    expect(changes()).toBe(2);
  });

  it('ignores replayed and unknown reports', () => {
    const { v } = view();
    v.report(report('a', 5, true));
    expect(v.report(report('a', 5, false))).toEqual({
      accepted: false,
      reason: 'report 1/5 from a is not newer than 1/5',
    });
    expect(v.report(report('z', 1, true))).toMatchObject({ accepted: false });
    expect(v.availabilityOf('198.51.100.53').announcedBy).toEqual(['a']);
  });

  it('stops counting a report after staleAfterIntervals × its interval (a silent announcer)', () => {
    const { v, advance, changes } = view();
    v.report(report('a', 1, true));
    advance(3000);
    v.update(3, ['a', 'b']); // re-evaluates, as the periodic timer does
    expect(v.availabilityOf('198.51.100.53').announcedBy).toEqual(['a']);
    advance(1);
    v.update(3, ['a', 'b']); // re-evaluates, as the periodic timer does
    expect(v.availabilityOf('198.51.100.53')).toEqual({
      announcedBy: [],
      reason: 'no fresh announcer report lists it (0 of 1 reports fresh)',
    });
    expect(changes()).toBe(2);
    expect(v.details()).toMatchObject([{ pop: 'a', fresh: false, ageMs: 3001 }]);
  });

  it('reaches serving workers as a snapshot; a change of announcers is a change', () => {
    const { v } = view();
    const w = new SnapshotAnycast();
    expect(w.apply(v.snapshot())).toBe(false);
    v.report(report('b', 1, true));
    expect(w.apply(v.snapshot())).toBe(true);
    expect(w.availabilityOf('198.51.100.53')).toEqual({ announcedBy: ['b'], reason: 'announced by 1 PoP (b)' });
    expect(w.apply(v.snapshot())).toBe(false);
    expect(w.apply(undefined)).toBe(true);
  });
});
