// The hit fast path: a plain GET/HEAD whose stored response is fresh is answered straight from
// storage, before a context, a promise or a middleware is made. It is the pipeline's answer to
// such a request (key → lookup → serve), not a second policy: anything it does not recognise as
// plain — validators, Cache-Control/Pragma, Authorization, Range, Via, a body, an absolute
// target, a soft-purged or stale object — returns false and goes through the pipeline.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StoredResponse } from './cache-store.js';
import { headerValue, type IncomingHeaders } from './headers.js';
import { Outcome } from './metrics.js';
import type { EdgeState } from './pipeline/context.js';
import { normaliseEncoding, normaliseHost, normaliseTarget } from './pipeline/key.js';
import { variantKey } from './pipeline/lookup.js';
import { freshness } from './pipeline/policy.js';
import { forwardedScheme, type Scheme } from './trusted-proxies.js';

const SLASH = 47;

/** Answered locally on the proxy port, never from storage (server.ts). */
export function isHealthzTarget(url: string): boolean {
  return url === '/healthz' || url.startsWith('/healthz?');
}

export interface FreshHit {
  readonly entry: StoredResponse;
  /** Whole seconds, as the Age field says them. */
  readonly age: number;
  /** Seconds of freshness left, as Cache-Status says them. */
  readonly ttl: number;
}

/**
 * The stored response a plain GET/HEAD is answered with as it is, or undefined when the request
 * is not plain or nothing fresh is stored for it. Shared by both ways in: node:http (below) and
 * the raw front (front/front.ts).
 */
export function freshHit(
  state: EdgeState,
  method: string | undefined,
  url: string | undefined,
  h: IncomingHeaders,
  scheme: Scheme = 'http',
): FreshHit | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  if (url === undefined || url.charCodeAt(0) !== SLASH || isHealthzTarget(url)) return undefined;
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
    return undefined;
  }
  const host = normaliseHost(headerValue(h, 'host'));
  if (host === undefined) return undefined;
  const { cache } = state;
  const key = `${scheme}://${host}${normaliseTarget(url, state.keepParam)}`;
  const vary = cache.varyOf(key);
  if (vary === undefined) return undefined;
  const entry = cache.get(
    vary.length === 0
      ? key
      : variantKey(
          key,
          vary,
          { headers: h, encoding: normaliseEncoding(headerValue(h, 'accept-encoding')) },
          state.forwardRule,
        ),
  );
  if (entry === undefined || entry.invalidatedAt !== undefined) return undefined;
  const f = freshness(entry, state.now());
  if (!f.fresh) return undefined;
  return { entry, age: Math.floor(f.age), ttl: Math.round(f.ttl) };
}

/** True when it answered `req`; false leaves `req` and `res` untouched for the pipeline. */
export function answerFreshHit(state: EdgeState, req: IncomingMessage, res: ServerResponse, started: number): boolean {
  if (res.destroyed) return false;
  // Behind a trusted proxy the scheme it reports is part of the key (trusted-proxies.ts).
  const scheme = state.trustedProxy?.(req.socket.remoteAddress)
    ? forwardedScheme(req.headers['x-forwarded-proto'])
    : 'http';
  const hit = freshHit(state, req.method, req.url, req.headers, scheme);
  if (hit === undefined) return false;
  const { entry } = hit;
  const head = entry.publicHead.concat('age', String(hit.age), 'cache-status', hitStatus(state, hit));
  res.writeHead(entry.status, head);
  state.metrics.responseSeconds.observe(0, (performance.now() - started) / 1000);
  if (req.method === 'HEAD') {
    res.end();
    state.metrics.request(Outcome.hit, 0);
  } else {
    res.end(entry.body);
    state.metrics.request(Outcome.hit, entry.body.length);
  }
  return true;
}

/** Our Cache-Status member for a fresh hit (RFC 9211). */
export function hitStatus(state: EdgeState, hit: FreshHit): string {
  return hitStatusText(state.pseudonym, hit.ttl);
}

/** The same from its parts. */
export function hitStatusText(pseudonym: string, ttl: number): string {
  return `${pseudonym}; hit; ttl=${ttl}`;
}
