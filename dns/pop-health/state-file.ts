// The DNS server's small state files beside its config (admin overrides, last verdicts) are
// written to a temporary file and renamed over the old one: rename is atomic within a
// directory, so a crash or a full disk leaves the old file or the new one, never half of one.
import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

/** `config/demo.yaml` + `verdicts` → `config/demo.verdicts.state.json` (`*.state.json` is ignored by git and docker). */
export function stateFileBeside(configFile: string, kind?: string): string {
  return join(dirname(configFile), `${basename(configFile, extname(configFile))}${kind ? `.${kind}` : ''}.state.json`);
}

export function writeStateFile(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, file);
}
