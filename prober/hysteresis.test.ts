import { afterEach, describe, expect, it, vi } from 'vitest';
import { startScheduler } from './scheduler.js';
import type { Probe } from './checks/types.js';
import { confirmed, hedgeDelay } from './confirm.js';
import { Hysteresis, RTT_ALPHA } from './hysteresis.js';
import { prng } from '../test/helpers/prng.js';
import { settings, target } from '../test/helpers/probe-settings.js';

const record = (h: Hysteresis, outcomes: string): boolean[] => [...outcomes].map((c) => h.record(c === '+', 10));

describe('Hysteresis', () => {
  it('starts up (fail open) with no RTT', () => {
    expect(new Hysteresis(2, 3).snapshot()).toEqual({
      up: true,
      rttMs: null,
      consecutiveSuccesses: 0,
      consecutiveFailures: 0,
    });
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
  const lossyProbe =
    (random: () => number, lossRate: number): Probe =>
    async () =>
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
    for (const seed of SEEDS) expect(await flips(confirmed(lossyProbe(prng(seed), 0.2)), 60), `seed ${seed}`).toBe(0);
  });

  it('is needed: without it the same loss flips some of those targets', async () => {
    const flipped = [];
    for (const seed of SEEDS) if ((await flips(lossyProbe(prng(seed), 0.2), 60)) > 0) flipped.push(seed);
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
    const probe = confirmed(async () =>
      outcomes.shift() ? { ok: true, rttMs: 3 } : { ok: false, rttMs: 1, detail: 'reset' },
    );
    expect(await probe(target('http://127.0.0.1:1'), s)).toEqual({ ok: true, rttMs: 3, attempts: 1 });
    expect(await probe(target('http://127.0.0.1:1'), s)).toEqual({ ok: true, rttMs: 3, attempts: 2 });
    expect(outcomes).toEqual([]);
  });
});

// The same proofs at the fast cadence, on the real scheduler with fake time: a target in
// transition is re-probed after fastInterval (250 ms), a lost attempt costs the whole timeout
// (500 ms), and the retry after a slow attempt is hedged (confirm.ts). The arithmetic is
// confirm.ts's: a probe fails at 0.2² = 4%, `fall` (3) failed probes in a row start at any probe
// with 0.96 × 0.04³ ≈ 6.1e-5, one run per ~16,300 probes; the fast cadence adds a probe 250 ms
// after each failed one (4% of probes), so ~1.03 probes/s and a run every ~4.4 h, against
// 4.5 h before. 20 seeds × 2 simulated minutes ≈ 2,500 probes expect ~0.15 false runs.
describe('fast confirmation on the scheduler (fake time)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const s = settings({ type: 'tcp' as const }, { interval: 1000, fastInterval: 250, timeout: 500, rise: 2, fall: 3 });
  const SEEDS = Array.from({ length: 20 }, (_, i) => 1000 + i * 7919);

  /** Each attempt is lost with probability `lossRate` (silent: fails after the timeout), else answers in 5 ms. */
  const lossyTimed =
    (lost: () => boolean): Probe =>
    (_t, settings, signal) =>
      new Promise((resolve) => {
        const isLost = lost();
        const timer = setTimeout(
          () =>
            resolve(
              isLost
                ? { ok: false, rttMs: settings.timeout, detail: `timeout after ${settings.timeout} ms` }
                : { ok: true, rttMs: 5 },
            ),
          isLost ? settings.timeout : 5,
        );
        signal?.addEventListener(
          'abort',
          () => (clearTimeout(timer), resolve({ ok: false, rttMs: 0, detail: 'aborted' })),
          { once: true },
        );
      });

  /** Runs one target through confirm + hysteresis on the scheduler for `ms` of fake time. */
  async function run(probe: Probe, ms: number) {
    vi.useFakeTimers();
    const confirm = confirmed(probe);
    const h = new Hysteresis(s.rise, s.fall);
    const t0 = performance.now();
    const log = { flips: [] as number[], probes: 0, fast: 0, attempts: 0 };
    const scheduler = startScheduler(
      [
        {
          id: 'x',
          interval: s.interval,
          nextInterval: () => (h.inTransition ? s.fastInterval : s.interval),
          run: async (signal) => {
            const fast = h.inTransition;
            const r = await confirm(target('http://127.0.0.1:1'), s, signal, hedgeDelay(s.timeout, h.rttMs));
            if (signal.aborted) return;
            log.probes++;
            log.attempts += r.attempts;
            if (fast) log.fast++;
            if (h.record(r.ok, r.rttMs)) log.flips.push(performance.now() - t0);
          },
        },
      ],
      { concurrency: 1 },
    );
    await vi.advanceTimersByTimeAsync(ms);
    await scheduler.stop();
    return log;
  }

  it('never flips a healthy target at 20% loss (timeouts) over ~2,500 probes at the new cadence', async () => {
    let probes = 0;
    let fast = 0;
    for (const seed of SEEDS) {
      const random = prng(seed);
      const r = await run(
        lossyTimed(() => random() < 0.2),
        120_000,
      );
      expect(r.flips, `seed ${seed}`).toEqual([]);
      probes += r.probes;
      fast += r.fast;
    }
    // The fast cadence was used (after every failed probe) and steady traffic stayed ~1/s.
    expect(fast).toBeGreaterThan(0);
    expect(probes / (SEEDS.length * 120)).toBeGreaterThan(1);
    expect(probes / (SEEDS.length * 120)).toBeLessThan(1.1);
  });

  it('a silent target never seen up goes down after 3 × (timeout/2 + timeout) at fast cadence', async () => {
    const r = await run(
      lossyTimed(() => true),
      3_000,
    );
    // No RTT known: each probe hedges at timeout/2, 250 + 500 = 750 ms; the fast runs overran
    // their 250 ms and go at once after each other.
    expect(r.flips).toEqual([2250]);
  });

  it('a silent target with a known RTT: hedged at timeout/5, down after 3 × 600 ms', async () => {
    let n = 0;
    // Healthy for 10 s (RTT 5 ms known), then silent at a random phase.
    const r = await run(
      lossyTimed(() => n++ >= 10),
      13_000,
    );
    expect(r.flips).toHaveLength(1);
    expect(r.flips[0]! - 10_000).toBe(1800);
  });

  it('a refused (fast-failing) target goes down after 2 fast intervals, and steady probing resumes', async () => {
    const refused: Probe = async () => ({ ok: false, rttMs: 1, detail: 'connect ECONNREFUSED' });
    const r = await run(refused, 5_200);
    expect(r.flips).toEqual([500]);
    // 0, 250, 500 (down), then 1000, 2000, ... 5000: steady again while down.
    expect(r.probes).toBe(3 + 5);
  });

  it('without hedging and the fast cadence (before issue 14) the same silent target takes 3 × 1 s + phase', async () => {
    vi.useFakeTimers();
    const confirm = confirmed(lossyTimed(() => true));
    const t0 = performance.now();
    const h = new Hysteresis(s.rise, s.fall);
    let at = -1;
    const scheduler = startScheduler(
      [
        {
          id: 'x',
          interval: s.interval,
          run: async (signal) =>
            void (
              h.record((await confirm(target('http://127.0.0.1:1'), s, signal)).ok, 0) && (at = performance.now() - t0)
            ),
        },
      ],
      { concurrency: 1 },
    );
    await vi.advanceTimersByTimeAsync(4_000);
    await scheduler.stop();
    expect(at).toBe(3000);
  });
});

describe('hedged retry (confirm.ts)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a late first attempt that succeeds wins over the hedge, which is abandoned', async () => {
    vi.useFakeTimers();
    const aborted: number[] = [];
    let n = 0;
    const probe: Probe = (_t, _s, signal) =>
      new Promise((resolve) => {
        const i = n++;
        let done = false;
        const timer = setTimeout(
          () => (
            (done = true),
            resolve(i === 0 ? { ok: true, rttMs: 150 } : { ok: false, rttMs: 500, detail: 'timeout' })
          ),
          i === 0 ? 150 : 500,
        );
        signal?.addEventListener(
          'abort',
          () => done || (clearTimeout(timer), aborted.push(i), resolve({ ok: false, rttMs: 0, detail: 'aborted' })),
          { once: true },
        );
      });
    const p = confirmed(probe)(
      target('http://127.0.0.1:1'),
      settings({ type: 'tcp' as const }, { timeout: 500 }),
      undefined,
      100,
    );
    await vi.advanceTimersByTimeAsync(200);
    expect(await p).toEqual({ ok: true, rttMs: 150, attempts: 1 });
    expect(n).toBe(2);
    expect(aborted).toEqual([1]);
  });

  it('hedgeDelay: 4 × RTT within [timeout/5, timeout/2]; timeout/2 before any RTT', () => {
    expect(hedgeDelay(500, null)).toBe(250);
    expect(hedgeDelay(500, 2)).toBe(100);
    expect(hedgeDelay(500, 40)).toBe(160);
    expect(hedgeDelay(500, 200)).toBe(250);
  });
});
