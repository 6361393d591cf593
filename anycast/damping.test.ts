import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Damping } from './damping.js';

const DEFAULTS = { penalty: 1000, suppress: 2000, reuse: 750, halfLife: 15_000, maxHoldDown: 60_000 };

describe('damping', () => {
  it('starts with no penalty, and one flap never suppresses with the defaults', () => {
    const d = new Damping(DEFAULTS);
    expect(d.snapshot(0)).toEqual({ penalty: 0, suppressed: false, holdDownMs: 0, flaps: 0 });
    d.flap(1000);
    expect(d.snapshot(1000)).toEqual({ penalty: 1000, suppressed: false, holdDownMs: 0, flaps: 1 });
    expect(d.penalty(16_000)).toBeCloseTo(500);
  });

  // A service failing every 2 s: the table of what each flap does.
  it.each([
    { flap: 1, at: 0, penalty: 1000, suppressed: false },
    { flap: 2, at: 2000, penalty: 1000 + 1000 * 2 ** (-2 / 15), suppressed: false },
    { flap: 3, at: 4000, penalty: 1000 + 1000 * 2 ** (-2 / 15) + 1000 * 2 ** (-4 / 15), suppressed: true },
  ])(
    'flapping every 2 s: flap $flap at $at ms → penalty $penalty, suppressed $suppressed',
    ({ flap, at, penalty, suppressed }) => {
      const d = new Damping(DEFAULTS);
      for (let i = 0; i < flap; i++) d.flap(i * 2000);
      expect(d.penalty(at)).toBeCloseTo(penalty, 6);
      expect(d.suppressed(at)).toBe(suppressed);
    },
  );

  it('holds a suppressed prefix down until the penalty decays below reuse, then lets it go', () => {
    const d = new Damping(DEFAULTS);
    for (const t of [0, 2000, 4000]) d.flap(t);
    const hold = d.holdDownMs(4000);
    // log2(2744 / 750) half-lives of 15 s: about 28 s.
    expect(hold).toBeGreaterThan(27_000);
    expect(hold).toBeLessThan(29_000);
    expect(d.suppressed(4000 + hold - 2)).toBe(true);
    expect(d.suppressed(4000 + hold)).toBe(false);
    expect(d.holdDownMs(4000 + hold)).toBe(0);
  });

  it('never holds down longer than maxHoldDown, however long the flapping', () => {
    const d = new Damping(DEFAULTS);
    for (let t = 0; t < 3_600_000; t += 500) d.flap(t);
    expect(d.penalty(3_600_000)).toBeLessThanOrEqual(d.ceiling);
    expect(d.holdDownMs(3_600_000)).toBeLessThanOrEqual(60_000 + 1);
  });

  const settings = fc
    .record({
      penalty: fc.integer({ min: 1, max: 5000 }),
      suppress: fc.integer({ min: 2, max: 10_000 }),
      reuseShare: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
      halfLife: fc.integer({ min: 100, max: 600_000 }),
      maxHoldDown: fc.integer({ min: 0, max: 3_600_000 }),
    })
    .map(({ reuseShare, ...s }) => ({ ...s, reuse: s.suppress * reuseShare }));
  const gaps = fc.array(fc.integer({ min: 0, max: 120_000 }), { maxLength: 40 });

  it('property: the hold-down is bounded by maxHoldDown and reaches zero exactly when suppression ends', () => {
    fc.assert(
      fc.property(settings, gaps, (s, flapGaps) => {
        const d = new Damping(s);
        let t = 0;
        for (const g of flapGaps) d.flap((t += g));
        const hold = d.holdDownMs(t);
        expect(hold).toBeLessThanOrEqual(s.maxHoldDown + 2);
        expect(d.penalty(t)).toBeLessThanOrEqual(d.ceiling * (1 + 1e-9));
        if (hold > 0) {
          expect(d.suppressed(t)).toBe(true);
          expect(d.holdDownMs(t + hold)).toBe(0);
        } else {
          expect(d.suppressed(t)).toBe(false);
        }
      }),
    );
  });

  it('property: more recent flaps never shorten the hold-down, and without flaps the penalty only decays', () => {
    fc.assert(
      fc.property(settings, gaps, fc.integer({ min: 0, max: 120_000 }), (s, flapGaps, extraAfter) => {
        const fewer = new Damping(s);
        const more = new Damping(s);
        let t = 0;
        for (const g of flapGaps) {
          t += g;
          fewer.flap(t);
          more.flap(t);
        }
        more.flap(t + extraAfter);
        const now = t + extraAfter;
        expect(more.holdDownMs(now)).toBeGreaterThanOrEqual(fewer.holdDownMs(now));
        expect(fewer.penalty(now + 1000)).toBeLessThanOrEqual(fewer.penalty(now));
      }),
    );
  });
});
