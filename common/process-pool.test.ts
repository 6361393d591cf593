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
    pool = new ProcessPool({
      label: 'test worker',
      entry: ENTRY,
      count: 2,
      setup: () => ({ startMs: 400 }),
      scheduling: 'none',
      log: capturedLog().log,
    });
    const starting = pool.start();
    // Sent while both workers start: before they asked for their setup, and while they get ready.
    pool.broadcast({ kind: 'note', n: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    pool.broadcast({ kind: 'note', n: 2 });
    pool.sendTo(pool.workers[0]!.id, { kind: 'note', n: 3 });
    await starting;
    pool.broadcast({ kind: 'note', n: 4 });

    const reports = await Promise.all(
      pool.workers.map((w) => pool!.ask<{ n: number }[]>(w, (id) => ({ kind: 'report', id }))),
    );
    expect(reports.map((r) => r?.map((m) => m.n))).toEqual([
      [1, 2, 3, 4],
      [1, 2, 4],
    ]);
  });
});
