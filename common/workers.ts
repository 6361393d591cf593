// `dns.workers`, `edge.workers` and both servers' --workers: how many serving processes. One
// schema for both; what 'auto' means stays with each server, because their reasons differ (the
// DNS server counts batched UDP, dns/service.ts autoWorkers; the edge leaves a core for its
// primary, edge/service.ts).
import { z } from 'zod';

export type WorkersSetting = number | 'auto';

const MESSAGE = "expected 'auto' or a whole number of workers from 1 to 64";

/** 'auto' or 1–64 (64: more processes than any machine we run on has use for). */
export const workersSetting = z.union([z.literal('auto'), z.number().int().min(1).max(64)], { error: MESSAGE });

/** --workers TEXT → the setting, or why not (said the same way as the config error). */
export function parseWorkersFlag(text: string): { ok: true; workers: WorkersSetting } | { ok: false; message: string } {
  const parsed = workersSetting.safeParse(text === 'auto' ? 'auto' : /^\d+$/.test(text) ? Number(text) : NaN);
  return parsed.success
    ? { ok: true, workers: parsed.data }
    : { ok: false, message: `--workers '${text}': ${MESSAGE}` };
}
