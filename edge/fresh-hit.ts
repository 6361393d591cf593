// The hit fast path: a plain GET/HEAD whose stored response is fresh is answered straight from
// storage, before a context, a promise or a middleware is made. It is the pipeline's answer to
// such a request (key → lookup → serve), not a second policy: anything it does not recognise as
// plain — validators, Cache-Control/Pragma, Authorization, Range, Via, a body, an absolute
// target, a soft-purged or stale object — returns false and goes through the pipeline.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { headerValue } from './headers.js';
import { Outcome } from './metrics.js';
import type { EdgeState } from './pipeline/context.js';
import { normaliseEncoding, normaliseHost, normaliseTarget } from './pipeline/key.js';
import { variantKey } from './pipeline/lookup.js';
import { freshness } from './pipeline/policy.js';

const SLASH = 47;

/** True when it answered `req`; false leaves `req` and `res` untouched for the pipeline. */
export function answerFreshHit(state: EdgeState, req: IncomingMessage, res: ServerResponse, started: number): boolean {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') return false;
  const url = req.url;
  if (url === undefined || url.charCodeAt(0) !== SLASH) return false;
  const h = req.headers;
  if (
    h['if-none-match'] !== undefined ||
    h['if-modified-since'] !== undefined ||
    h['cache-control'] !== undefined ||
    h.pragma !== undefined ||
    h.authorization !== undefined ||
    h.range !== undefined ||
    h.via !== undefined ||
    h['content-length'] !== undefined ||
    h['transfer-encoding'] !== undefined
  ) {
    return false;
  }
  const host = normaliseHost(h.host);
  if (host === undefined) return false;
  const { cache } = state;
  const key = `http://${host}${normaliseTarget(url, state.keepParam)}`;
  const vary = cache.varyOf(key);
  if (vary === undefined) return false;
  const entry = cache.get(vary.length === 0 ? key : variantKey(key, vary, { headers: h, encoding: normaliseEncoding(headerValue(h, 'accept-encoding')) }));
  if (entry === undefined || entry.invalidatedAt !== undefined) return false;
  const f = freshness(entry, state.now());
  if (!f.fresh || res.destroyed) return false;

  const head = entry.publicHead.concat('age', String(Math.floor(f.age)), 'cache-status', `${state.pseudonym}; hit; ttl=${Math.round(f.ttl)}`);
  res.writeHead(entry.status, head);
  state.metrics.responseSeconds.observe(0, (performance.now() - started) / 1000);
  if (method === 'HEAD') {
    res.end();
    state.metrics.request(Outcome.hit, 0);
  } else {
    res.end(entry.body);
    state.metrics.request(Outcome.hit, entry.body.length);
  }
  return true;
}
