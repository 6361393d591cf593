// The origin: one 1 KiB cacheable object at /obj, served by node:http inside the bench process,
// every request counted. Once the caches are warm its count must not move: then every measured
// request was a hit.
import http from 'node:http';
import { HOST, onCleanup } from '../lib.mjs';

export const OBJECT_PATH = '/obj';
export const OBJECT_BYTES = 1024;
export const ORIGIN_CACHE_CONTROL = 'public, max-age=3600';

/** Listens on `port`; resolves with its request counts ({ total, byPath }), closed by cleanup(). */
export function startOrigin(port) {
  const body = Buffer.alloc(OBJECT_BYTES, 'x');
  const counts = { total: 0, byPath: new Map() };
  const srv = http.createServer((req, res) => {
    counts.total++;
    counts.byPath.set(req.url, (counts.byPath.get(req.url) ?? 0) + 1);
    req.resume();
    if (req.url === OBJECT_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': body.length,
        'cache-control': ORIGIN_CACHE_CONTROL,
        'last-modified': 'Sun, 01 Nov 2026 00:00:00 GMT',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store', 'content-length': 10 });
      res.end('not found\n');
    }
  });
  onCleanup(
    () =>
      new Promise((res) => {
        srv.close(() => res());
        srv.closeAllConnections();
      }),
  );
  return new Promise((res, rej) => {
    srv.once('error', rej);
    srv.listen(port, HOST, () => res(counts));
  });
}
