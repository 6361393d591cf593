import { describe, expect, it } from 'vitest';
import type { Probe } from './checks/types.js';
import { confirmed } from './confirm.js';
import { Hysteresis, RTT_ALPHA } from './hysteresis.js';
import { seededRandom, settings, target } from './test-helpers.js';

const record = (h: Hysteresis, outcomes: string): boolean[] => [...outcomes].map((c) => h.record(c === '+', 10));

describe('Hysteresis', () => {
  it('starts up (fail open) with no RTT', () => {
    expect(new Hysteresis(2, 3).snapshot()).toEqual({ up: true, rttMs: null, consecutiveSuccesses: 0, consecutiveFailures: 0 });
  });

  it('goes down on exactly the fall-th consecutive failure', () => {
    const h = new Hysteresis(2, 3);
    expect(record(h, '--+--')).toEqual([false, false, false, false, false]);
    expect(h.up).toBe(true);
    expect(h.record(false, 0)).toBe(true);
    expect(h.snapshot()).toMatchObject({ up: false, consecutiveFailures: 3, consecutiveSuccesses: 0 });
    expect(record(h, '---')).toEqual([false, false, false]);
  });

  it('comes up on exactly the rise-th consecutive success', () => {
    const h = new Hysteresis(3, 1);
    expect(h.record(false, 0)).toBe(true);
    expect(record(h, '++-++')).toEqual([false, false, false, false, false]);
    expect(h.up).toBe(false);
    expect(h.record(true, 10)).toBe(true);
    expect(h.snapshot()).toMatchObject({ up: true, consecutiveSuccesses: 3 });
  });

  it('keeps an exponential moving average of successful RTTs only', () => {
    const h = new Hysteresis(1, 5);
    h.record(true, 10);
    expect(h.rttMs).toBe(10);
    h.record(true, 20);
    expect(h.rttMs).toBeCloseTo(RTT_ALPHA * 20 + (1 - RTT_ALPHA) * 10);
    h.record(false, 500);
    expect(h.rttMs).toBeCloseTo(13);
    h.record(true, 13);
    expect(h.rttMs).toBeCloseTo(13);
  });

  it('refuses rise or fall below 1', () => {
    expect(() => new Hysteresis(0, 3)).toThrow(RangeError);
  });
});

describe('transition (fast cadence)', () => {
  it('is in transition from a failure after successes until fall, or until a success abandons it', () => {
    const h = new Hysteresis(2, 3);
    expect(h.inTransition).toBe(false);
    record(h, '-');
    expect(h.inTransition).toBe(true);
    record(h, '+'); // abandoned
    expect(h.inTransition).toBe(false);
    record(h, '--');
    expect(h.inTransition).toBe(true);
    record(h, '-'); // fall reached: down, steady again
    expect(h).toMatchObject({ up: false, inTransition: false });
    record(h, '--');
    expect(h.inTransition).toBe(false);
  });

  it('is in transition from a success after failures until rise, or until a failure abandons it', () => {
    const h = new Hysteresis(2, 1);
    record(h, '-');
    record(h, '+');
    expect(h).toMatchObject({ up: false, inTransition: true });
    record(h, '-'); // abandoned
    expect(h.inTransition).toBe(false);
    record(h, '+');
    expect(h.inTransition).toBe(true);
    record(h, '+'); // rise reached
    expect(h).toMatchObject({ up: true, inTransition: false });
  });
});

describe('confirming retry over hysteresis', () => {
  // Each attempt fails with probability `lossRate`, independently: packet loss, resets.
  const lossyProbe = (random: () => number, lossRate: number): Probe => async () =>
    random() < lossRate ? { ok: false, rttMs: 1, detail: 'ECONNRESET' } : { ok: true, rttMs: 5 };

  const SEEDS = Array.from({ length: 20 }, (_, i) => 1000 + i * 7919);
  const s = settings({ type: 'tcp' as const }, { rise: 2, fall: 3 });

  async function flips(probe: Probe, probes: number): Promise<number> {
    const h = new Hysteresis(s.rise, s.fall);
    let changes = 0;
    for (let i = 0; i < probes; i++) {
      const r = await probe(target('http://127.0.0.1:1'), s);
      if (h.record(r.ok, r.rttMs)) changes++;
    }
    return changes;
  }

  it('never flips a healthy target at 20% loss over 60 probes', async () => {
    for (const seed of SEEDS) expect(await flips(confirmed(lossyProbe(seededRandom(seed), 0.2)), 60), `seed ${seed}`).toBe(0);
  });

  it('is needed: without it the same loss flips some of those targets', async () => {
    const flipped = [];
    for (const seed of SEEDS) if ((await flips(lossyProbe(seededRandom(seed), 0.2), 60)) > 0) flipped.push(seed);
    expect(flipped.length).toBeGreaterThan(0);
  });

  it('still takes a dead target down after exactly fall probes', async () => {
    let attempts = 0;
    const dead = confirmed(async () => {
      attempts++;
      return { ok: false, rttMs: 1, detail: 'ECONNREFUSED' };
    });
    const h = new Hysteresis(s.rise, s.fall);
    const changed: boolean[] = [];
    for (let i = 0; i < s.fall; i++) {
      const r = await dead(target('http://127.0.0.1:1'), s);
      expect(r).toMatchObject({ ok: false, attempts: 2, detail: 'ECONNREFUSED' });
      changed.push(h.record(r.ok, r.rttMs));
    }
    expect(changed).toEqual([false, false, true]);
    expect(h.up).toBe(false);
    expect(attempts).toBe(2 * s.fall);
  });

  it('does not retry a success, and a retry that passes counts as a success', async () => {
    const outcomes = [true, false, true];
    const probe = confirmed(async () => (outcomes.shift() ? { ok: true, rttMs: 3 } : { ok: false, rttMs: 1, detail: 'reset' }));
    expect(await probe(target('http://127.0.0.1:1'), s)).toEqual({ ok: true, rttMs: 3, attempts: 1 });
    expect(await probe(target('http://127.0.0.1:1'), s)).toEqual({ ok: true, rttMs: 3, attempts: 2 });
    expect(outcomes).toEqual([]);
  });
});
