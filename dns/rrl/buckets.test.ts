import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BucketTable, DROP, PASS, SLIP, STARTED } from './buckets.js';

const T0 = 1_000_000;

/** Debits key 1 `n` times at `now`; returns the actions (STARTED stripped). */
function burst(t: BucketTable, n: number, now: number, rate = 5, key = 1): number[] {
  return Array.from({ length: n }, () => t.debit(key, key, key, rate, now) & ~STARTED);
}

describe('BucketTable: BIND arithmetic', () => {
  it('answers `rate` at once, then limits', () => {
    const t = new BucketTable(1024, 15_000, 0);
    expect(burst(t, 6, T0)).toEqual([PASS, PASS, PASS, PASS, PASS, DROP]);
  });

  it('earns rate tokens a second, in milliseconds', () => {
    const t = new BucketTable(1024, 15_000, 0);
    burst(t, 5, T0);
    expect(burst(t, 1, T0 + 100)).toEqual([DROP]); // half a token, and the debt of that drop
    expect(burst(t, 1, T0 + 500)).toEqual([PASS]); // 2 tokens earned since, 1 owed
  });

  it('holds at most one second of credit: an idle bucket bursts `rate`, not more', () => {
    const t = new BucketTable(1024, 15_000, 0);
    burst(t, 1, T0);
    const later = burst(t, 7, T0 + 10_000);
    expect(later.filter((a) => a === PASS)).toHaveLength(5);
  });

  it('lets the debt grow to window × rate: a flood that stops is answered again only after the window', () => {
    const t = new BucketTable(1024, 3000, 0);
    // 1000 queries a second for 2 s against a rate of 5.
    let passed = 0;
    for (let ms = 0; ms < 2000; ms++) if (t.debit(1, 1, 1, 5, T0 + ms) === PASS) passed++;
    expect(passed).toBe(5); // the first second's burst; then the debt never lets one through
    const end = T0 + 1999;
    // Debt is -15 (3 s × 5): 2.9 s later it is still below zero ...
    expect(t.debit(1, 1, 1, 5, end + 2900) & ~STARTED).toBe(DROP);
  });

  it('forgets a bucket idle for longer than the window', () => {
    const t = new BucketTable(1024, 3000, 0);
    for (let ms = 0; ms < 2000; ms++) t.debit(1, 1, 1, 5, T0 + ms);
    expect(t.debit(1, 1, 1, 5, T0 + 1999 + 3001)).toBe(PASS);
  });

  it('never answers more than the burst plus rate × elapsed, whatever the timing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 }),
        (rate, gaps) => {
          const t = new BucketTable(1024, 15_000, 0);
          let now = T0;
          let passed = 0;
          for (const gap of gaps) {
            now += gap;
            if (t.debit(7, 7, 7, rate, now) === PASS) passed++;
          }
          return passed <= rate + (rate * (now - T0)) / 1000 + 1e-9;
        },
      ),
    );
  });
});

describe('BucketTable: slip', () => {
  const limited = (slip: number) => {
    const t = new BucketTable(1024, 15_000, slip);
    burst(t, 5, T0);
    return burst(t, 6, T0);
  };

  it('slips the first suppressed response, then every slip-th', () => {
    expect(limited(2)).toEqual([SLIP, DROP, SLIP, DROP, SLIP, DROP]);
    expect(limited(3)).toEqual([SLIP, DROP, DROP, SLIP, DROP, DROP]);
  });

  it('slip 1 truncates every suppressed response, slip 0 none', () => {
    expect(limited(1)).toEqual([SLIP, SLIP, SLIP, SLIP, SLIP, SLIP]);
    expect(limited(0)).toEqual([DROP, DROP, DROP, DROP, DROP, DROP]);
  });

  it('says STARTED once per episode, again after the bucket filled up', () => {
    const t = new BucketTable(1024, 15_000, 2);
    const first = Array.from({ length: 8 }, () => t.debit(1, 1, 1, 5, T0));
    expect(first.filter((r) => r & STARTED)).toHaveLength(1);
    expect(first[5]).toBe(SLIP | STARTED);
    // 8 debited, 3 owed: full again after 1.6 s (8 tokens at 5 a second).
    const again = Array.from({ length: 6 }, () => t.debit(1, 1, 1, 5, T0 + 1700));
    expect(again.filter((r) => r & STARTED)).toHaveLength(1);
  });
});

describe('BucketTable: keys and memory', () => {
  it('keeps keys apart, and counts the distinct networks limiting now', () => {
    const t = new BucketTable(1024, 15_000, 0);
    burst(t, 6, T0, 5, 1);
    expect(burst(t, 1, T0, 5, 2)).toEqual([PASS]);
    // Two buckets of network 9 limiting, one of network 10.
    for (const [h, net] of [
      [11, 9],
      [12, 9],
      [13, 10],
    ])
      for (let i = 0; i < 6; i++) t.debit(h!, h!, net!, 5, T0);
    expect(t.limitedNetworks(T0)).toBe(3); // networks 1 (key 1), 9 and 10
    expect(t.limitedNetworks(T0 + 16_000)).toBe(0);
  });

  it('never holds more buckets than its size, however many networks flood it', () => {
    const t = new BucketTable(1000, 15_000, 2);
    expect(t.size).toBe(1024);
    for (let i = 1; i <= 200_000; i++) t.debit(Math.imul(i, 0x9e3779b1), i, i, 5, T0 + i / 100);
    expect(t.used()).toBeLessThanOrEqual(1024);
  });

  it('evicts idle buckets before a busy one: a flood from random networks does not reset it', () => {
    const t = new BucketTable(1024, 15_000, 0);
    const busy = 0x12345678;
    let passedAfterLimit = 0;
    let limited = false;
    for (let i = 1; i <= 100_000; i++) {
      const now = T0 + i / 10; // 10,000 debits a second
      t.debit(Math.imul(i, 0x9e3779b1), i, i, 5, now);
      const r = t.debit(busy, busy, busy, 5, now);
      if (r !== PASS) limited = true;
      else if (limited) passedAfterLimit++;
    }
    expect(limited).toBe(true);
    expect(passedAfterLimit).toBe(0);
  });
});
