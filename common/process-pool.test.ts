// The pool's promise to a service: what it sends a worker that is still starting is not lost, and
// arrives in order before anything sent after the worker said it serves. The worker here
// (test/helpers/slow-start-worker.mjs) listens for messages only once it is ready, as the DNS and
// edge workers do after loading their config and warming up.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { capturedLog } from '../test/helpers/captured-log.js';
import { ProcessPool } from './process-pool.js';

const ENTRY = fileURLToPath(new URL('../test/helpers/slow-start-worker.mjs', import.meta.url));

let pool: ProcessPool | undefined;

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('ProcessPool', () => {
  it('holds messages for a starting worker and delivers them in order once it is ready', async () => {
    pool = testPool({ count: 2, startMs: 400 });
    const starting = pool.start();
    // Sent while both workers start: before they asked for their setup, and while they get ready.
    pool.broadcast({ kind: 'note', n: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    pool.broadcast({ kind: 'note', n: 2 });
    pool.sendTo(pool.workers[0]!.id, { kind: 'note', n: 3 });
    await starting;
    pool.broadcast({ kind: 'note', n: 4 });

    const reports = await reportsOf(pool);
    expect(reports.map((r) => r?.got.map((m) => m.n))).toEqual([
      [1, 2, 3, 4],
      [1, 2, 4],
    ]);
  });

  it('batched (the edge): what one turn sends a worker arrives in order, in fewer messages', async () => {
    pool = testPool({ count: 1, startMs: 200, batch: true });
    const starting = pool.start();
    for (let n = 0; n < 50; n++) pool.broadcast({ kind: 'note', n });
    await starting;
    for (let n = 50; n < 100; n++) pool.broadcast({ kind: 'note', n });
    await new Promise((resolve) => setImmediate(resolve));
    pool.broadcast({ kind: 'note', n: 100 });
    const [report] = await reportsOf(pool);
    expect(report?.got.map((m) => m.n)).toEqual([...Array(101).keys()]);
    // The held 50 and the 50 of one turn went as a few writes, not one each.
    expect(report!.arrivals).toBeLessThan(10);
  });
});

/** Workers of test/helpers/slow-start-worker.mjs, each ready `startMs` after its setup. */
function testPool({ count, startMs, batch }: { count: number; startMs: number; batch?: boolean }): ProcessPool {
  return new ProcessPool({
    label: 'test worker',
    entry: ENTRY,
    count,
    setup: () => ({ startMs }),
    scheduling: 'none',
    ...(batch !== undefined && { batch }),
    log: capturedLog().log,
  });
}

function reportsOf(p: ProcessPool) {
  return Promise.all(
    p.workers.map((w) => p.ask<{ got: { n: number }[]; arrivals: number }>(w, (id) => ({ kind: 'report', id }))),
  );
}
