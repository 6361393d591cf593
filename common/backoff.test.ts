import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles from 0.5 s to a 10 s cap while runs stay short', () => {
    const b = new Backoff();
    expect(Array.from({ length: 8 }, () => b.next(100))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('starts again from 0.5 s after a run that lasted long enough', () => {
    const b = new Backoff();
    b.next(100);
    b.next(100);
    expect(b.next(100)).toBe(2000);
    expect(b.next(10_000)).toBe(500);
    expect(b.next(9_999)).toBe(1000);
  });

  it('reset() forgets past failures', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 1000, resetAfterMs: 60_000 });
    b.next(0);
    b.next(0);
    b.reset();
    expect(b.next(0)).toBe(10);
  });
});
