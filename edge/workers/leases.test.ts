import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeaseTable } from './leases.js';

afterEach(() => void vi.useRealTimers());

function table(maxMs = 60_000) {
  const settled: [number, string, string][] = [];
  const t = new LeaseTable({ maxMs, settle: (id, key, outcome) => settled.push([id, key, outcome.kind]) });
  return { t, settled };
}

describe('LeaseTable', () => {
  it("grants one holder per key; waiters get the holder's outcome, the holder does not", () => {
    const { t, settled } = table();
    expect(t.acquire('k', 1)).toBe(true);
    expect(t.acquire('k', 2)).toBe(false);
    expect(t.acquire('k', 3)).toBe(false);
    t.release('k', 2, { kind: 'stored' }); // not the holder: ignored
    expect(settled).toEqual([]);
    t.release('k', 1, { kind: 'stored' });
    expect(settled).toEqual([
      [2, 'k', 'stored'],
      [3, 'k', 'stored'],
    ]);
    expect(t.acquire('k', 2)).toBe(true);
  });

  it('a holder that dies or never answers lets its waiters go (aborted)', () => {
    vi.useFakeTimers();
    const { t, settled } = table(1000);
    t.acquire('a', 1);
    t.acquire('a', 2);
    t.forget(1);
    expect(settled).toEqual([[2, 'a', 'aborted']]);
    t.acquire('b', 3);
    t.acquire('b', 4);
    vi.advanceTimersByTime(1001);
    expect(settled).toContainEqual([4, 'b', 'aborted']);
    expect(t.size).toBe(0);
  });
});
