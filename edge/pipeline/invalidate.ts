// Invalidation (RFC 9111 §4.4): a non-error answer to an unsafe method (POST, PUT, DELETE,
// PATCH…) removes what is stored for the target URI and for Location / Content-Location when
// they are on the same origin.
import { headerValue } from '../headers.js';
import type { Middleware } from './context.js';
import { keyOfUrl } from './key.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

export function invalidate(): Middleware {
  return async function invalidate(c, next) {
    await next();
    if (SAFE.has(c.req.method)) return;
    const status = c.response?.status;
    if (status === undefined || status < 200 || status >= 400) return;
    const { cache, keepParam, now, peers } = c.edge;
    const base = `http://${c.req.host}`;
    cache.purgeUrl(c.key, false, now());
    peers.removedUrl(c.key);
    for (const name of ['location', 'content-location']) {
      const value = headerValue(c.response!.headers, name);
      if (value === undefined) continue;
      let target: URL;
      try {
        target = new URL(value, base + c.req.path);
      } catch {
        continue;
      }
      // Only the same origin: another host's objects are not this response's to invalidate.
      if (target.origin !== new URL(base).origin) continue;
      const key = keyOfUrl(target.href, keepParam);
      if (key === undefined) continue;
      cache.purgeUrl(key, false, now());
      peers.removedUrl(key);
    }
  };
}
