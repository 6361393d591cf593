import { describe, expect, it } from 'vitest';
import { formatExplanation } from '../../cli/explain.js';
import type { Landing } from '../pop-health/catchment-view.js';
import { withCatchment } from './explain-catchment.js';
import type { Explanation } from './explain.js';

const base: Explanation = {
  name: 'cdn.lab.test.',
  type: 'A',
  rcode: 'NOERROR',
  client: { given: '10.212.1.2', as: 'resolver address' },
  decisions: [
    {
      pool: 'small',
      policy: 'anycast',
      rankedBy: 'distance',
      candidates: [],
      chosen: [],
      usedFallback: false,
      anycast: [
        {
          type: 'A',
          answered: ['198.51.100.180'],
          applied: 'anycast',
          reason: 'anycast 198.51.100.180 answered: announced by 3 PoPs (a, b, c)',
          addresses: [{ address: '198.51.100.180', announcedBy: ['a', 'b', 'c'], reason: 'announced' }],
        },
        { type: 'AAAA', answered: [], applied: 'unicast', reason: 'no AAAA anycast address', addresses: [] },
      ],
      scope: 0,
    },
    { pool: 'other', policy: 'nearest', rankedBy: 'distance', candidates: [], chosen: [], usedFallback: false },
  ],
  answer: [],
  ecsScope: null,
};

const landings: Landing[] = [
  { vantage: 'c1', address: '198.51.100.180', pop: 'a', ageMs: 3000, stale: false },
  { vantage: 'c2', address: '198.51.100.180', pop: 'b', ageMs: 41_000, stale: true },
  { vantage: 'c3', address: '198.51.100.180', pop: null, detail: 'timeout after 1000 ms', ageMs: 500, stale: false },
];

describe('explain for an anycast pool says where each vantage lands', () => {
  it('adds the catchment to every anycast address, leaving other pools and the input as they were', () => {
    const out = withCatchment(base, (address) => landings.filter((l) => l.address === address));
    const family = (out.decisions[0]!['anycast'] as { addresses: { catchment: Landing[] }[] }[])[0]!;
    expect(family.addresses[0]!.catchment).toEqual(landings);
    expect(out.decisions[1]).toBe(base.decisions[1]);
    expect(JSON.stringify(base)).not.toContain('catchment');
  });

  it('prints one line per address: from each vantage to its PoP, how long ago, stale marked', () => {
    const text = formatExplanation(withCatchment(base, (address) => landings.filter((l) => l.address === address)));
    expect(text).toContain(
      '  anycast 198.51.100.180: from c1 → pop a (3.0 s ago), from c2 → pop b (41 s ago, stale), from c3 → no answer (0.5 s ago)\n',
    );
    const none = formatExplanation(withCatchment(base, () => []));
    expect(none).toContain('  anycast 198.51.100.180: no prober has measured where it lands\n');
  });
});
