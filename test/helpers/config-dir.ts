// A fresh temp dir holding a test's config file and the files beside it (a master zone file, a
// GeoIP database), the way an operator lays them out: relative paths in the config just work.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ConfigDirOptions {
  /** Extra files written next to the config, by relative name (e.g. a master zone file). */
  files?: Record<string, string>;
  /** Name of the config file inside the temp dir (default meridian.yaml). */
  configName?: string;
  /** Start of the temp dir's name, so a leftover dir says which test made it. */
  prefix?: string;
}

/** Writes `configText` (and `opts.files`) to a fresh temp dir and returns the config path. */
export function writeConfigDir(configText: string, opts: ConfigDirOptions = {}): { dir: string; configPath: string } {
  const dir = mkdtempSync(join(tmpdir(), opts.prefix ?? 'meridian-it-'));
  const configPath = join(dir, opts.configName ?? 'meridian.yaml');
  writeFileSync(configPath, configText);
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return { dir, configPath };
}
