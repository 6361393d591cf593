// The last step: one request to the upstream (origin or shield). Cacheable requests go as GET
// (a HEAD is answered from the full response, which is then stored), with the client's own
// validators replaced by the stored response's (the client's are answered here, by
// `conditional`) and Accept-Encoding folded to the variant stored.
import { appendForwardedFor, appendVia, headerValue, withoutHopByHop, type HeaderMap } from '../headers.js';
import type { EdgeContext, Middleware, OriginResponse } from './context.js';

// undici refuses Expect; node already answered 100-continue to the client.
const NOT_FORWARDED = new Set(['expect']);
const NOT_FORWARDED_CACHEABLE = new Set(['expect', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range']);

export function fetchUpstream(): Middleware {
  return async function fetchUpstream(c) {
    c.origin = await forward(c, true);
  };
}

/** Sends `c`'s request upstream; `conditional` adds the stored response's validators. */
export async function forward(c: EdgeContext, conditional: boolean): Promise<OriginResponse> {
  const { edge, req } = c;
  const started = performance.now();
  let res;
  try {
    res = await edge.upstream.request({
      path: req.path,
      method: c.cacheable ? 'GET' : (req.method as 'GET'),
      headers: forwardHeaders(c, conditional),
      body: c.cacheable ? null : (req.body ?? null),
    });
  } catch (err) {
    const kind = (err as { kind?: string }).kind;
    edge.metrics.originError(kind === 'origin-timeout' ? 'timeout' : kind === 'origin-unreachable' ? 'unreachable' : 'error');
    throw err;
  }
  edge.metrics.fetched(res.statusCode, (performance.now() - started) / 1000);
  c.status.fwdStatus = res.statusCode;
  return { status: res.statusCode, headers: withoutHopByHop(res.headers), body: res.body };
}

export function forwardHeaders(c: EdgeContext, conditional: boolean): HeaderMap {
  const { req, edge } = c;
  const headers = withoutHopByHop(req.headers, c.cacheable ? NOT_FORWARDED_CACHEABLE : NOT_FORWARDED);
  headers.host = req.hostHeader;
  headers.via = appendVia(req.headers.via, `1.1 ${edge.pseudonym}`);
  const xff = appendForwardedFor(req.headers['x-forwarded-for'], req.clientAddress);
  if (xff !== undefined) headers['x-forwarded-for'] = xff;
  if (c.cacheable) {
    headers['accept-encoding'] = req.encoding;
    const stored = c.stale;
    if (conditional && stored) {
      const etag = headerValue(stored.headers, 'etag');
      const lastModified = headerValue(stored.headers, 'last-modified');
      if (etag !== undefined) headers['if-none-match'] = etag;
      if (lastModified !== undefined) headers['if-modified-since'] = lastModified;
    }
  }
  return headers;
}
