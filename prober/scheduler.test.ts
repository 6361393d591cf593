import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startScheduler, type Scheduler, type Task } from './scheduler.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(async () => {
  await scheduler?.stop();
  scheduler = undefined;
  vi.useRealTimers();
});

let scheduler: Scheduler | undefined;
/** Like a probe: takes `ms`, or less when the scheduler stops. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Tasks that record [id, start, end] and take `takes` ms of (fake) time. */
function recorder(ids: string[], interval: number, takes: number | ((id: string) => number)) {
  const runs: { id: string; start: number; end?: number }[] = [];
  let running = 0;
  let maxRunning = 0;
  const tasks: Task[] = ids.map((id) => ({
    id,
    interval,
    async run(signal) {
      const entry: { id: string; start: number; end?: number } = { id, start: performance.now() };
      runs.push(entry);
      maxRunning = Math.max(maxRunning, ++running);
      await sleep(typeof takes === 'number' ? takes : takes(id), signal);
      running--;
      entry.end = performance.now();
    },
  }));
  return { tasks, runs, maxRunning: () => maxRunning };
}

describe('startScheduler', () => {
  it('spreads first runs evenly over the interval and keeps each task on its phase', async () => {
    const t0 = performance.now();
    const { tasks, runs } = recorder(['a', 'b', 'c', 'd'], 1000, 10);
    scheduler = startScheduler(tasks, { concurrency: 10 });
    await vi.advanceTimersByTimeAsync(2_400);
    const starts = (id: string) => runs.filter((r) => r.id === id).map((r) => r.start - t0);
    expect(starts('a')).toEqual([0, 1000, 2000]);
    expect(starts('b')).toEqual([250, 1250, 2250]);
    expect(starts('c')).toEqual([500, 1500]);
    expect(starts('d')).toEqual([750, 1750]);
  });

  it('never has more than `concurrency` runs in flight', async () => {
    const { tasks, runs, maxRunning } = recorder(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], 100, 300);
    scheduler = startScheduler(tasks, { concurrency: 3 });
    await vi.advanceTimersByTimeAsync(50);
    expect(scheduler.running).toBe(3);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(maxRunning()).toBe(3);
    // Every task got its turn: waiting runs are queued, not dropped.
    expect(new Set(runs.map((r) => r.id)).size).toBe(8);
  });

  it('never overlaps runs of one task: a slow run delays the next', async () => {
    const t0 = performance.now();
    const { tasks, runs } = recorder(['slow', 'fast'], 100, (id) => (id === 'slow' ? 250 : 10));
    scheduler = startScheduler(tasks, { concurrency: 10 });
    await vi.advanceTimersByTimeAsync(990);
    const slow = runs.filter((r) => r.id === 'slow');
    for (let i = 1; i < slow.length; i++) expect(slow[i]!.start).toBeGreaterThanOrEqual(slow[i - 1]!.end!);
    expect(slow.map((r) => r.start - t0)).toEqual([0, 250, 500, 750]);
    // The fast task is not held back by the slow one.
    expect(runs.filter((r) => r.id === 'fast').map((r) => r.start - t0)).toEqual([
      50, 150, 250, 350, 450, 550, 650, 750, 850, 950,
    ]);
  });

  it('runs a task at the delay it asks for after each run, then back on its phase', async () => {
    const t0 = performance.now();
    // After the run due at 1000 the task is "in transition" for three fast runs, then steady.
    const asks = [1000, 250, 250, 250, 1000, 1000];
    const starts: number[] = [];
    const task: Task = {
      id: 'a',
      interval: 1000,
      nextInterval: () => asks.shift() ?? 1000,
      run: async () => void starts.push(performance.now() - t0),
    };
    const other = recorder(['b'], 1000, 10);
    scheduler = startScheduler([task, ...other.tasks], { concurrency: 10 });
    await vi.advanceTimersByTimeAsync(3_100);
    expect(starts).toEqual([0, 1000, 1250, 1500, 1750, 2000, 3000]);
    // The other task keeps its own phase (half an interval later) throughout.
    expect(other.runs.map((r) => r.start - t0)).toEqual([500, 1500, 2500]);
  });

  it('steady runs on a phase that is not a whole number of ms are never doubled', async () => {
    // Three tasks: phases 0, 333.33…, 666.66… ms, which floating point cannot hold exactly.
    const { tasks, runs } = recorder(['a', 'b', 'c'], 1000, 1);
    scheduler = startScheduler(
      tasks.map((t) => ({ ...t, nextInterval: () => 1000 })),
      { concurrency: 10 },
    );
    await vi.advanceTimersByTimeAsync(100_000 - 1);
    for (const id of ['a', 'b', 'c']) expect(runs.filter((r) => r.id === id)).toHaveLength(100);
  });

  it('an abandoned transition goes back to the steady phase, not an interval after the fast run', async () => {
    const t0 = performance.now();
    const asks = [250, 1000];
    const starts: number[] = [];
    const task: Task = {
      id: 'a',
      interval: 1000,
      nextInterval: () => asks.shift() ?? 1000,
      run: async () => void starts.push(performance.now() - t0),
    };
    scheduler = startScheduler([task], { concurrency: 1 });
    await vi.advanceTimersByTimeAsync(3_100);
    expect(starts).toEqual([0, 250, 1000, 2000, 3000]);
  });

  it('a fast run that overruns its delay goes again at once, never twice at once', async () => {
    const t0 = performance.now();
    const { tasks, runs } = recorder(['a'], 1000, 600);
    let fast = 3;
    scheduler = startScheduler([{ ...tasks[0]!, nextInterval: () => (fast-- > 0 ? 250 : 1000) }], { concurrency: 1 });
    await vi.advanceTimersByTimeAsync(4_100);
    // At once after each 600 ms run while fast; the run due at 1800 overran the phase point 2000
    // too (at once, 2400), then steady on the phase: 3000, 4000.
    expect(runs.map((r) => r.start - t0)).toEqual([0, 600, 1200, 1800, 2400, 3000, 4000]);
  });

  it('keeps running a task whose run throws, passing the error on', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const task: Task = {
      id: 'boom',
      interval: 100,
      run() {
        calls++;
        throw new Error('kaboom');
      },
    };
    scheduler = startScheduler([task], {
      concurrency: 1,
      onError: (t, err) => errors.push([t.id, (err as Error).message]),
    });
    await vi.advanceTimersByTimeAsync(350);
    expect(calls).toBe(4);
    expect(errors).toEqual(Array(4).fill(['boom', 'kaboom']));
  });

  it('stop() aborts runs in flight, waits for them, and starts nothing after', async () => {
    let started = 0;
    let sawAbort = false;
    const task: Task = {
      id: 'a',
      interval: 100,
      run: (signal) =>
        new Promise<void>((resolve) => {
          started++;
          signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve();
          });
        }),
    };
    const other = recorder(['b', 'c'], 100, 10);
    const s = startScheduler([task, ...other.tasks], { concurrency: 2 });
    await vi.advanceTimersByTimeAsync(20);
    expect(s.running).toBe(1);
    await s.stop();
    expect(sawAbort).toBe(true);
    expect(s.running).toBe(0);
    const runsAtStop = other.runs.length;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toBe(1);
    expect(other.runs.length).toBe(runsAtStop);
    expect(vi.getTimerCount()).toBe(0);
  });
});
