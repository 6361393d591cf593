// Which request headers reach the upstream. A shared cache stores what the origin answered to
// one client for everyone, so a client header the origin reads but the key does not cover is a
// way to poison that answer (X-Forwarded-Host reflected into links, X-Forwarded-Scheme turning
// into a cached 301, X-HTTP-Method-Override into a cached 405). The rule, in the manner of
// CloudFront's origin-request and cache policies:
//
// - The edge sets Host (the normalised host, or edge.originHost), X-Forwarded-Host (the
//   normalised host the key holds), X-Forwarded-Proto (the scheme the key holds: http, or what
//   a trusted proxy in front says, trusted-proxies.ts), X-Forwarded-For and Via itself; the
//   client's copies, and Forwarded, never pass.
// - Headers that make an origin believe another URL, method, host, scheme or client address
//   (OVERRIDES) are dropped, unless the operator lists them in edge.forwardHeaders.
// - Cacheable requests (GET/HEAD that may be stored) forward only CACHEABLE_DEFAULT, which an
//   origin that uses them must name in Vary, plus edge.forwardHeaders, each of which also keys
//   the cache like a Vary field (store.ts). Cache-Control, Pragma and validators are the
//   edge's to decide; the edge sends its own.
// - Requests that are never stored (other methods, Range) forward everything else: their
//   answers reach only the client that asked.
import {
  appendForwardedFor,
  appendVia,
  connectionNamed,
  headerValue,
  HOP_BY_HOP,
  type HeaderMap,
  type IncomingHeaders,
} from '../headers.js';
import type { EdgeContext, ForwardRule } from './context.js';
import { storedValidators } from './policy.js';

/** Known poisoning vectors: each makes some origin frameworks serve another URL, method, host, scheme or client. */
export const OVERRIDES: ReadonlySet<string> = new Set([
  'forwarded',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-ssl',
  'x-forwarded-path',
  'x-forwarded-uri',
  'x-host',
  'x-original-host',
  'x-http-host-override',
  'front-end-https',
  'x-url-scheme',
  'x-original-url',
  'x-rewrite-url',
  'x-override-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-real-ip',
  'true-client-ip',
  'client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
]);

/** Set by the edge itself from what it knows. */
const EDGE_SET: ReadonlySet<string> = new Set([
  'host',
  'via',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
]);

/** What a cacheable request forwards by default: negotiation and context an origin must Vary on. */
export const CACHEABLE_DEFAULT: ReadonlySet<string> = new Set([
  'accept',
  'accept-language',
  'authorization',
  'cookie',
  'origin',
  'referer',
  'user-agent',
]);

/** Fields never sent with a GET/HEAD: a body there could desync a shared upstream connection. */
const BODY_FIELDS: ReadonlySet<string> = new Set([
  'content-length',
  'transfer-encoding',
  'content-type',
  'content-encoding',
]);

/** undici refuses Expect; node already answered 100-continue to the client. */
const NEVER: ReadonlySet<string> = new Set(['expect']);

export function forwardRule(extra: readonly string[]): ForwardRule {
  return { extra: new Set(extra.map((h) => h.toLowerCase())) };
}

/** Whether the client's `name` (lower-case) goes upstream. */
export function forwards(rule: ForwardRule, name: string, cacheable: boolean, withBody: boolean): boolean {
  if (rule.extra.has(name)) return true;
  if (EDGE_SET.has(name) || OVERRIDES.has(name) || NEVER.has(name) || HOP_BY_HOP.has(name) || name.startsWith('proxy-'))
    return false;
  if (cacheable) return CACHEABLE_DEFAULT.has(name);
  return withBody || !BODY_FIELDS.has(name);
}

/** Only a request that is never stored and whose method has a body sends one upstream. */
export function sendsBody(c: EdgeContext): boolean {
  const { method, body } = c.req;
  return !c.cacheable && body !== undefined && method !== 'GET' && method !== 'HEAD';
}

/** The headers `c`'s upstream request carries; `conditional` adds the stored response's validators. */
export function forwardHeaders(c: EdgeContext, conditional: boolean): HeaderMap {
  const { req, edge } = c;
  const incoming: IncomingHeaders = req.headers;
  const named = connectionNamed(incoming);
  const withBody = sendsBody(c);
  const rule = edge.forwardRule;
  const headers: HeaderMap = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (named?.has(lower) || !forwards(rule, lower, c.cacheable, withBody)) continue;
    headers[lower] = value;
  }
  headers.host = req.hostHeader;
  headers.via = appendVia(req.headers.via, `1.1 ${edge.pseudonym}`);
  headers['x-forwarded-host'] = req.host;
  headers['x-forwarded-proto'] = req.scheme;
  // Only a trusted proxy in front, or our own edges (a PoP using this one as shield), pass the
  // chain on; a client's is dropped.
  const xff = appendForwardedFor(
    req.internal || req.trustedPeer ? req.headers['x-forwarded-for'] : undefined,
    req.clientAddress,
  );
  if (xff !== undefined) headers['x-forwarded-for'] = xff;
  if (c.cacheable) {
    headers['accept-encoding'] = req.encoding;
    const stored = c.stale;
    if (conditional && stored) {
      const { etag, lastModified } = storedValidators(stored.headers);
      if (etag !== undefined) headers['if-none-match'] = etag;
      if (lastModified !== undefined) headers['if-modified-since'] = lastModified;
    }
  }
  return headers;
}
