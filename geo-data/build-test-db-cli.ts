// Rebuild the committed test databases from networks.csv:
//   npm run build && node dist/geo-data/build-test-db-cli.js           write them
//   node dist/geo-data/build-test-db-cli.js --check                    exit 1 if they are stale
// An optional directory argument replaces the default, the repository's geo-data/ folder (found
// from this file, so it works from the source tree and from dist/ alike).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TEST_DB_FILES, buildTestDatabases } from './build-test-db.js';

export function main(argv: readonly string[], log: (line: string) => void = console.log): number {
  const check = argv.includes('--check');
  const dirArg = argv.find((a) => !a.startsWith('--'));
  const dir = dirArg === undefined ? defaultDir() : resolve(dirArg);
  const built = buildTestDatabases(readFileSync(join(dir, 'networks.csv'), 'utf8'));
  let stale = 0;
  for (const key of Object.keys(TEST_DB_FILES) as (keyof typeof TEST_DB_FILES)[]) {
    const file = join(dir, TEST_DB_FILES[key]);
    const bytes = built[key];
    const same = existsSync(file) && readFileSync(file).equals(bytes);
    if (check) {
      if (!same) stale++;
      log(`${same ? 'up to date' : 'STALE'}  ${file}`);
    } else {
      if (!same) writeFileSync(file, bytes);
      log(`${same ? 'unchanged' : 'wrote'}  ${file} (${bytes.length} bytes)`);
    }
  }
  return stale === 0 ? 0 : 1;
}

/** The repository root is the nearest folder above this file with a package.json. */
function defaultDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('cannot find the repository root (no package.json above this file); pass the geo-data directory');
    dir = parent;
  }
  return join(dir, 'geo-data');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
