// Admin overrides per PoP, kept in a small JSON state file next to the config so they survive
// a restart (written atomically, see state-file.ts).
import { readFileSync } from 'node:fs';
import { stateFileBeside, writeStateFile } from './state-file.js';

export const OVERRIDES = ['drain', 'down'] as const;
export type Override = (typeof OVERRIDES)[number];

export interface OverrideStore {
  get(pop: string): Override | null;
  set(pop: string, override: Override | null): void;
  all(): Record<string, Override>;
}

/** `config/demo.yaml` → `config/demo.state.json` */
export function stateFileFor(configFile: string): string {
  return stateFileBeside(configFile);
}

export class FileOverrideStore implements OverrideStore {
  private readonly overrides: Map<string, Override>;

  /** Throws naming the file when it exists but cannot be understood (never silently dropped). */
  constructor(private readonly file: string) {
    this.overrides = new Map(Object.entries(readState(file)));
  }

  get(pop: string): Override | null {
    return this.overrides.get(pop) ?? null;
  }

  set(pop: string, override: Override | null): void {
    if (override) this.overrides.set(pop, override);
    else this.overrides.delete(pop);
    writeStateFile(this.file, { overrides: this.all() });
  }

  all(): Record<string, Override> {
    return Object.fromEntries(this.overrides);
  }
}

function readState(file: string): Record<string, Override> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`${file}: cannot read state file: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: state file is not JSON: ${(e as Error).message}`);
  }
  const overrides = (data as { overrides?: unknown })?.overrides;
  if (typeof overrides !== 'object' || overrides === null)
    throw new Error(`${file}: state file has no 'overrides' object`);
  for (const [pop, o] of Object.entries(overrides)) {
    if (!OVERRIDES.includes(o as Override))
      throw new Error(`${file}: overrides.${pop}: '${String(o)}' is not one of ${OVERRIDES.join(', ')}`);
  }
  return overrides as Record<string, Override>;
}
