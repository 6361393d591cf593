// The last quorum verdicts, kept across a DNS server restart in `<config>.verdicts.state.json`
// beside the overrides file. Without them a restarted server starts with every PoP up and
// waits for a quorum of reports: a PoP that was down is answered until then. With them it
// starts where it stopped, and a verdict changes only when a quorum of fresh reports says so
// (view.ts).
//
// Unlike the overrides (an operator's intent: a file we cannot read stops start-up), verdicts
// are the machine's own memory: a missing, unreadable or corrupt file costs only that memory,
// so loading never throws and the view logs why it starts fresh.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { stateFileBeside, writeStateFile } from './state-file.js';

export interface SavedVerdict {
  readonly up: boolean;
  /** When the verdict last changed (ms). */
  readonly since: number;
  /** When a quorum last decided it (ms): its age decides whether it is still worth keeping. */
  readonly decidedAt: number;
}

export type LoadedVerdicts = { ok: true; verdicts: Record<string, SavedVerdict> } | { ok: false; error: string };

export interface VerdictStore {
  readonly file: string;
  /** Never throws. */
  load(): LoadedVerdicts;
  /** Throws on a write error (the view logs it and carries on). */
  save(verdicts: Record<string, SavedVerdict>): void;
}

/** `config/demo.yaml` → `config/demo.verdicts.state.json` */
export function verdictsFileFor(configFile: string): string {
  return stateFileBeside(configFile, 'verdicts');
}

const fileSchema = z.object({
  verdicts: z.record(z.string(), z.object({ up: z.boolean(), since: z.iso.datetime(), decidedAt: z.iso.datetime() })),
});

export class FileVerdictStore implements VerdictStore {
  constructor(readonly file: string) {}

  load(): LoadedVerdicts {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, verdicts: {} };
      return { ok: false, error: `cannot read: ${(e as Error).message}` };
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      return { ok: false, error: `not JSON: ${(e as Error).message}` };
    }
    const parsed = fileSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return { ok: false, error: `${issue.path.join('.') || 'file'}: ${issue.message}` };
    }
    const verdicts: Record<string, SavedVerdict> = {};
    for (const [pop, v] of Object.entries(parsed.data.verdicts)) {
      verdicts[pop] = { up: v.up, since: Date.parse(v.since), decidedAt: Date.parse(v.decidedAt) };
    }
    return { ok: true, verdicts };
  }

  save(verdicts: Record<string, SavedVerdict>): void {
    const out: Record<string, { up: boolean; since: string; decidedAt: string }> = {};
    for (const [pop, v] of Object.entries(verdicts)) {
      out[pop] = { up: v.up, since: new Date(v.since).toISOString(), decidedAt: new Date(v.decidedAt).toISOString() };
    }
    writeStateFile(this.file, { verdicts: out });
  }
}
