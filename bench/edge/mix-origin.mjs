// The mix workload's origin: nginx serving 2000 static files from a temp dir, each with the same
// Cache-Control, every request written to its access log (the count of origin fetches). Object
// sizes are 60 % 1 KiB, 30 % 16 KiB and 10 % 256 KiB, assigned to object numbers by a seeded
// shuffle so that size does not follow popularity (object 0 is the most requested, see mix.lua).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST, mulberry32, startServer, waitForPort } from '../lib.mjs';

export const MIX_OBJECTS = 2000;
export const MIX_PATH_PREFIX = '/mix/';
export const MIX_CACHE_CONTROL = 'public, max-age=3600';
const SIZE_SHARES = [
  [1024, 0.6],
  [16 * 1024, 0.3],
  [256 * 1024, 0.1],
];
const SEED = 20261207;

/** Size in bytes of each object, by object number (deterministic). */
export function mixObjectSizes() {
  const sizes = [];
  for (const [bytes, share] of SIZE_SHARES) for (let i = 0; i < share * MIX_OBJECTS; i++) sizes.push(bytes);
  const rand = mulberry32(SEED);
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [sizes[i], sizes[j]] = [sizes[j], sizes[i]];
  }
  return sizes;
}

function nginxConf(dir, port) {
  // One worker: the origin sees about one request per object, and must leave the cores to the
  // caches under test. `user root` only when root (nginx would switch to nobody, who cannot read
  // our temp dir). No sendfile: the files are in the page cache either way.
  const asRoot = process.getuid?.() === 0;
  return `${asRoot ? 'user root;\n' : ''}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  default_type application/octet-stream;
  keepalive_requests 100000;
  server {
    listen ${HOST}:${port};
    root ${dir}/www;
    location ${MIX_PATH_PREFIX} { add_header Cache-Control "${MIX_CACHE_CONTROL}"; }
  }
}
`;
}

/**
 * Writes the objects and starts nginx on `port`. Resolves with { server, fetches(), bytesTotal }:
 * fetches() is the number of requests nginx has logged so far.
 */
export async function startMixOrigin(work, port) {
  const dir = join(work, 'nginx');
  const files = join(dir, 'www', MIX_PATH_PREFIX);
  mkdirSync(files, { recursive: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const sizes = mixObjectSizes();
  sizes.forEach((bytes, i) => writeFileSync(join(files, String(i)), Buffer.alloc(bytes, 97 + (i % 26))));
  writeFileSync(join(dir, 'access.log'), '');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConf(dir, port));
  const server = startServer('nginx', 'nginx', ['-p', dir, '-c', conf, '-g', 'daemon off;']);
  await waitForPort(server, port, 10_000);
  const fetches = () => {
    const log = readFileSync(join(dir, 'access.log'), 'latin1');
    let n = 0;
    for (let i = log.indexOf('\n'); i !== -1; i = log.indexOf('\n', i + 1)) n++;
    return n;
  };
  return { server, fetches, bytesTotal: sizes.reduce((a, b) => a + b, 0) };
}
