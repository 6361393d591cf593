// Opens the configured MaxMind DB files and watches them: a replaced file is read, checked and
// swapped in without a restart; a broken replacement is refused and the old data stays.
// (maxmind's own watcher would throw from a timer on a corrupt file and has no way to stop.)
import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Reader } from 'maxmind';
import type { NamedReader } from './locator.js';

const POLL_MS = 1000;

export class GeoDatabases {
  private constructor(
    private readonly entries: { file: string; reader: Reader<Record<string, unknown>> }[],
    private readonly onError: (file: string, err: Error) => void,
  ) {}

  /** Throws naming the file when one cannot be read or is not a MaxMind DB. */
  static async open(
    files: readonly string[],
    onError: (file: string, err: Error) => void = () => {},
  ): Promise<GeoDatabases> {
    const entries = [];
    for (const file of files) entries.push({ file, reader: await load(file) });
    return new GeoDatabases(entries, onError);
  }

  get readers(): readonly NamedReader[] {
    return this.entries;
  }

  /** Calls `onChange` after a changed file has been swapped in. */
  watch(onChange: (file: string) => void): void {
    for (const entry of this.entries) {
      watchFile(entry.file, { interval: POLL_MS, persistent: false }, (curr, prev) => {
        if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size) return;
        if (curr.size === 0) return; // removed or being rewritten; the next change brings it back
        load(entry.file).then(
          (reader) => {
            entry.reader = reader;
            onChange(entry.file);
          },
          (err: Error) => this.onError(entry.file, err),
        );
      });
    }
  }

  close(): void {
    for (const entry of this.entries) unwatchFile(entry.file);
  }
}

async function load(file: string): Promise<Reader<Record<string, unknown>>> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new Error(`${file}: cannot read GeoIP database: ${(e as Error).message}`);
  }
  try {
    return new Reader<Record<string, unknown>>(buf);
  } catch (e) {
    throw new Error(`${file}: not a MaxMind DB file: ${(e as Error).message}`);
  }
}
