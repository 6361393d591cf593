import { describe, expect, it } from 'vitest';
import { formatCatchment } from './catchment.js';

describe('the catchment table of meridian status', () => {
  it('is one row per vantage and one column per anycast address; stale cells are marked', () => {
    const lines = formatCatchment([
      { vantage: 'c1', address: '198.51.100.53', pop: 'a', ageMs: 3200, stale: false },
      { vantage: 'c1', address: '198.51.100.180', pop: 'a', ageMs: 3100, stale: false },
      { vantage: 'c3', address: '198.51.100.53', pop: 'c', ageMs: 41_000, stale: true },
      {
        vantage: 'c3',
        address: '198.51.100.180',
        pop: null,
        detail: 'timeout after 1000 ms',
        ageMs: 2000,
        stale: false,
      },
    ]);
    expect(lines).toEqual([
      '',
      'catchment (which PoP answers each anycast address from each vantage, as its prober last saw it):',
      'VANTAGE  198.51.100.53    198.51.100.180',
      'c1       a (3.2 s)        a (3.1 s)',
      'c3       c (41 s, stale)  no answer (2.0 s)',
      '  c3 → 198.51.100.180: timeout after 1000 ms',
    ]);
  });

  it('is left out when nothing was measured (or the server predates catchment)', () => {
    expect(formatCatchment(undefined)).toEqual([]);
    expect(formatCatchment([])).toEqual([]);
  });
});
