// The cache key: scheme + lower-cased host (default port dropped) + path + the query with
// tracking parameters filtered out and the rest sorted by name. Request headers never enter the
// key; they only select among variants through Vary (lookup.ts).
import type { QueryFilter } from '../config.js';
import { EdgeError } from '../errors.js';
import type { Encoding, KeepParam, Middleware } from './context.js';

/** `{ deny: ['utm_*'] }` → a predicate keeping every parameter not denied (`*` ends a prefix). */
export function compileQueryFilter(filter: QueryFilter): KeepParam {
  const allow = 'allow' in filter;
  const patterns = allow ? filter.allow : filter.deny;
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  const matches = (name: string): boolean => exact.has(name) || prefixes.some((p) => name.startsWith(p));
  return allow ? matches : (name) => !matches(name);
}

/** The query (without '?') filtered and sorted by parameter name; equal names keep their order. */
export function normaliseQuery(query: string, keep: KeepParam): string {
  if (query === '') return '';
  const params: { name: string; text: string }[] = [];
  for (const text of query.split('&')) {
    if (text === '') continue;
    const eq = text.indexOf('=');
    const name = eq < 0 ? text : text.slice(0, eq);
    if (keep(safeDecode(name))) params.push({ name, text });
  }
  // Array.prototype.sort is stable, so a=2&a=1 keeps its meaning.
  params.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return params.map((p) => p.text).join('&');
}

/** Origin-form target → path with the normalised query: what is keyed and what is forwarded. */
export function normaliseTarget(target: string, keep: KeepParam): string {
  const q = target.indexOf('?');
  if (q < 0) return target;
  const query = normaliseQuery(target.slice(q + 1), keep);
  return query === '' ? target.slice(0, q) : `${target.slice(0, q)}?${query}`;
}

const HOST = /^(?:[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?\.?|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;

/** Lower-cased host with the scheme's default port removed; undefined when it is not a host. */
export function normaliseHost(raw: string | undefined, scheme: 'http' | 'https' = 'http'): string | undefined {
  if (!raw) return undefined;
  if (scheme === 'http') {
    // Every request asks this of one of a few Host values: the regex per hit was measurable.
    const known = httpHosts.get(raw);
    if (known !== undefined) return known === '' ? undefined : known;
    if (httpHosts.size >= HOST_MEMO_SIZE) httpHosts.clear();
    const host = parseHost(raw, scheme);
    httpHosts.set(raw, host ?? '');
    return host;
  }
  return parseHost(raw, scheme);
}

const HOST_MEMO_SIZE = 1024;
/** Raw Host value → normalised host for http ('' when it is not a host). */
const httpHosts = new Map<string, string>();

function parseHost(raw: string, scheme: 'http' | 'https'): string | undefined {
  const host = raw.trim().toLowerCase();
  const m = HOST.exec(host);
  if (!m) return undefined;
  const port = m[1];
  if (port === undefined) return host.endsWith('.') ? host.slice(0, -1) : host;
  if (Number(port) > 65535) return undefined;
  let name = host.slice(0, host.length - port.length - 1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  return (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')
    ? name
    : `${name}:${Number(port)}`;
}

export function primaryKey(scheme: string, host: string, path: string): string {
  return `${scheme}://${host}${path}`;
}

/** The key of an absolute URL (purges, Location invalidation); undefined when it is not http(s). */
export function keyOfUrl(url: string, keep: KeepParam): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https') return undefined;
  const host = normaliseHost(parsed.host, scheme);
  if (host === undefined) return undefined;
  return primaryKey(scheme, host, normaliseTarget(parsed.pathname + parsed.search, keep));
}

/** Accept-Encoding folded to the three variants worth storing: br, then gzip, else identity. */
export function normaliseEncoding(header: string | undefined): Encoding {
  if (!header) return 'identity';
  let gzip = false;
  let star = false;
  for (const part of header.toLowerCase().split(',')) {
    const [coding, ...params] = part.split(';').map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    if (coding === 'br') return 'br';
    if (coding === 'gzip' || coding === 'x-gzip') gzip = true;
    if (coding === '*') star = true;
  }
  return gzip || star ? 'gzip' : 'identity';
}

function safeDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** First step: the request's key, and whether the cache may answer it at all. */
export function key(): Middleware {
  return async function key(c, next) {
    const { req } = c;
    if (req.method === 'CONNECT' || req.method === 'TRACE') {
      throw new EdgeError('method-not-allowed', `${req.method} is not served here`, {
        headers: { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' },
      });
    }
    c.key = primaryKey(req.scheme, req.host, req.path);
    const cacheableMethod = req.method === 'GET' || req.method === 'HEAD';
    // A Range request is answered from the whole representation (range.ts), fetched whole so the
    // cache fills; only for a URL whose answers are not stored (hit-for-miss: too large, not
    // storable) does the Range go upstream, so a large object is not fetched whole per request.
    c.cacheable = cacheableMethod && (req.headers.range === undefined || !c.edge.hitForMiss.has(c.key));
    if (!c.cacheable) c.status.fwd = 'bypass';
    await next();
  };
}
