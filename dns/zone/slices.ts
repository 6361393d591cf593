// Long work written once, run two ways. Compiling a million-record zone takes seconds; a server
// that reloads it must keep answering meanwhile (issue 17). The work is a generator that yields
// now and then (`Work`); `runNow` runs it straight through (tests, small configs), `runInSlices`
// gives the event loop a turn whenever a slice has run for `sliceMs`, so queries wait at most
// about that long.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Work that yields (nothing) now and then, and returns T. */
export type Work<T> = Generator<void, T, void>;

/** Yield from long loops every this many steps: often enough for slices of a few ms. */
export const STEPS_PER_YIELD = 2048;

export function runNow<T>(work: Work<T>): T {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}

export async function runInSlices<T>(work: Work<T>, sliceMs = 5): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}
