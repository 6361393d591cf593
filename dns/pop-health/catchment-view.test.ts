import { describe, expect, it } from 'vitest';
import { CatchmentView } from './catchment-view.js';

const SUBJECTS = { vantages: ['a', 'b', 'c1', 'c2'], addresses: ['198.51.100.53', '198.51.100.180'], pops: ['a', 'b'] };

function view() {
  let t = 1_000_000;
  const v = new CatchmentView(3, SUBJECTS, () => t);
  return { v, advance: (ms: number) => void (t += ms) };
}
const obs = (address: string, pop: string | null, ageMs = 0, detail?: string) => ({
  address,
  pop,
  ageMs,
  ...(detail && { detail }),
});

describe('CatchmentView', () => {
  it('keeps the latest observation per vantage and address, with its age', () => {
    const { v, advance } = view();
    v.report({
      vantage: 'c1',
      epoch: 1,
      seq: 1,
      catchment: { interval: 1000, observations: [obs('198.51.100.53', 'a', 200)] },
    });
    advance(300);
    expect(v.landings()).toEqual([{ vantage: 'c1', address: '198.51.100.53', pop: 'a', ageMs: 500, stale: false }]);
    v.report({
      vantage: 'c1',
      epoch: 1,
      seq: 2,
      catchment: { interval: 1000, observations: [obs('198.51.100.53', 'b')] },
    });
    expect(v.landingsOf('198.51.100.53').map((l) => [l.pop, l.ageMs])).toEqual([['b', 0]]);
  });

  it('shows an observation older than staleAfterIntervals × the catchment interval as stale, not dropped', () => {
    const { v, advance } = view();
    v.report({
      vantage: 'c1',
      epoch: 1,
      seq: 1,
      catchment: { interval: 1000, observations: [obs('198.51.100.53', 'a')] },
    });
    advance(3000);
    expect(v.landings()[0]!.stale).toBe(false);
    advance(1);
    expect(v.landings()[0]).toMatchObject({ pop: 'a', stale: true, ageMs: 3001 });
    // A report without catchment (an older prober, or before its first round) changes nothing.
    v.report({ vantage: 'c1', epoch: 1, seq: 2 });
    expect(v.landings()[0]).toMatchObject({ pop: 'a', stale: true });
  });

  it('a vantage writes only its own row, and an old or replayed report is refused', () => {
    const { v } = view();
    v.report({
      vantage: 'c1',
      epoch: 5,
      seq: 10,
      catchment: { interval: 1000, observations: [obs('198.51.100.53', 'a')] },
    });
    v.report({
      vantage: 'c2',
      epoch: 1,
      seq: 1,
      catchment: { interval: 1000, observations: [obs('198.51.100.53', 'b')] },
    });
    expect(v.landings().map((l) => [l.vantage, l.pop])).toEqual([
      ['c1', 'a'],
      ['c2', 'b'],
    ]);
    const replay = v.report({
      vantage: 'c1',
      epoch: 5,
      seq: 10,
      catchment: { interval: 1000, observations: [obs('198.51.100.53', 'b')] },
    });
    expect(replay).toEqual({ accepted: false, reason: 'report 5/10 from c1 is not newer than 5/10' });
    expect(v.report({ vantage: 'c1', epoch: 4, seq: 99 }).accepted).toBe(false);
    expect(v.landingsOf('198.51.100.53').find((l) => l.vantage === 'c1')!.pop).toBe('a');
    expect(v.report({ vantage: 'x9', epoch: 1, seq: 1 })).toEqual({ accepted: false, reason: "unknown vantage 'x9'" });
  });

  it('says what is wrong with a catchment part: unknown address or PoP, an address twice', () => {
    const { v } = view();
    const problem = (observations: ReturnType<typeof obs>[]) => v.problem({ interval: 1000, observations });
    expect(problem([obs('198.51.100.53', 'a'), obs('198.51.100.180', null, 0, 'timeout')])).toBeNull();
    expect(problem([obs('192.0.2.1', 'a')])).toBe(
      "catchment.observations[0].address: '192.0.2.1' is not an anycast address of this config",
    );
    expect(problem([obs('198.51.100.53', 'zz')])).toBe(
      "catchment.observations[0].pop: 'zz' is not a PoP of this config",
    );
    expect(problem([obs('198.51.100.53', 'a'), obs('198.51.100.53', 'b')])).toBe(
      "catchment.observations[1].address: '198.51.100.53' is given twice",
    );
  });

  it('forgets vantages, addresses and PoPs a reload removed', () => {
    const { v } = view();
    v.report({
      vantage: 'c1',
      epoch: 1,
      seq: 1,
      catchment: { interval: 1000, observations: [obs('198.51.100.53', 'a'), obs('198.51.100.180', 'b')] },
    });
    v.report({
      vantage: 'c2',
      epoch: 1,
      seq: 1,
      catchment: { interval: 1000, observations: [obs('198.51.100.53', 'a')] },
    });
    v.update(3, { vantages: ['a', 'b', 'c1'], addresses: ['198.51.100.53', '198.51.100.180'], pops: ['a'] });
    expect(v.landings().map((l) => [l.vantage, l.address, l.pop])).toEqual([['c1', '198.51.100.53', 'a']]);
  });
});
