// Runs each task every `interval`, with first runs spread evenly over the interval so n targets
// make a steady trickle of probes rather than a burst every second. At most `concurrency` runs
// are in flight; a task is never run again before its previous run has finished, so a slow
// target is probed late, never twice at once. After each run a task may ask for a shorter delay
// (`nextInterval`: a target in transition is probed at `fastInterval`); the next steady run after
// that goes back onto the task's phase, so steady traffic stays the even trickle it was.

export interface Task {
  readonly id: string;
  readonly interval: number;
  /** Asked after each run: the delay (ms, from when that run was due) to the next one. Below
   *  `interval` it is a fast run; `interval` (or no method) means back on the steady phase. */
  nextInterval?(): number;
  /** `signal` aborts when the scheduler stops. A rejection is passed to `onError`. */
  run(signal: AbortSignal): Promise<void>;
}

export interface SchedulerOptions {
  readonly concurrency: number;
  /** Must not throw. */
  onError?(task: Task, err: unknown): void;
}

export interface Scheduler {
  /** Runs in flight right now. */
  readonly running: number;
  /** Cancels every timer and queued run, aborts runs in flight and waits for them to settle. */
  stop(): Promise<void>;
}

interface Slot {
  readonly task: Task;
  /** When the current run was due (performance.now() ms). */
  due: number;
  /** When the first run was due: steady runs fall on phase + k × interval. */
  phase: number;
  timer: NodeJS.Timeout | undefined;
}

export function startScheduler(tasks: readonly Task[], opts: SchedulerOptions): Scheduler {
  if (!(opts.concurrency >= 1)) throw new RangeError(`concurrency must be at least 1 (got ${opts.concurrency})`);
  const stopping = new AbortController();
  const queue: Slot[] = [];
  const inFlight = new Set<Promise<void>>();

  const enqueue = (slot: Slot): void => {
    slot.timer = undefined;
    queue.push(slot);
    pump();
  };

  const schedule = (slot: Slot, due: number): void => {
    slot.due = due;
    const wait = due - performance.now();
    if (wait <= 0) enqueue(slot);
    else slot.timer = setTimeout(enqueue, wait, slot);
  };

  const pump = (): void => {
    while (!stopping.signal.aborted && inFlight.size < opts.concurrency) {
      const slot = queue.shift();
      if (!slot) return;
      start(slot);
    }
  };

  const start = (slot: Slot): void => {
    // Started from a microtask so even a task that throws synchronously settles through here.
    const run: Promise<void> = Promise.resolve()
      .then(() => slot.task.run(stopping.signal))
      .catch((err: unknown) => opts.onError?.(slot.task, err))
      .finally(() => {
        inFlight.delete(run);
        if (stopping.signal.aborted) return;
        // Keep the task's phase; if it overran its slot, go again now rather than skip a round.
        schedule(slot, Math.max(nextDue(slot), performance.now()));
        pump();
      });
    inFlight.add(run);
  };

  const nextDue = (slot: Slot): number => {
    const { interval } = slot.task;
    const wanted = slot.task.nextInterval?.() ?? interval;
    if (wanted < interval) return slot.due + Math.max(0, wanted);
    // The first point of the phase grid after this run's due time (the run itself may have been
    // a fast one, off the grid). The epsilon: a run due on the grid must not find itself a hair
    // before it in floating point and be run again at once.
    return slot.phase + (Math.floor((slot.due - slot.phase) / interval + 1e-6) + 1) * interval;
  };

  const slots: Slot[] = tasks.map((task) => ({ task, due: 0, phase: 0, timer: undefined }));
  const t0 = performance.now();
  slots.forEach((slot, i) => {
    slot.phase = t0 + (i * slot.task.interval) / slots.length;
    schedule(slot, slot.phase);
  });

  return {
    get running() {
      return inFlight.size;
    },
    async stop() {
      stopping.abort();
      for (const slot of slots) clearTimeout(slot.timer);
      queue.length = 0;
      await Promise.allSettled([...inFlight]);
    },
  };
}
