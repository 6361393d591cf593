// An origin that trusts proxy headers the way many web frameworks do (Rails, Symfony, Django
// with USE_X_FORWARDED_HOST, IIS URL rewrite, method-override middleware): it builds links and
// redirects from X-Forwarded-Host and friends, routes by X-Original-URL, obeys method
// overrides, and marks everything cacheable. In front of it, any request header that reaches the
// origin without being in the cache key poisons the stored answer for every later client.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startOrigin, type TestOrigin } from '../helpers/test-origin.js';

const CACHEABLE = 'public, max-age=600';

/** The body a clean request for `path` on host `host` gets. */
export function cleanPage(host: string, path: string): string {
  return `<a href="http://${host}${path}">home</a>\n`;
}

function first(req: IncomingMessage, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = req.headers[name];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

function forwardedParam(req: IncomingMessage, param: string): string | undefined {
  const m = new RegExp(`(?:^|[;,\\s])${param}=([^;,\\s]+)`, 'i').exec(first(req, 'forwarded') ?? '');
  return m?.[1]?.replace(/^"|"$/g, '');
}

function reflect(req: IncomingMessage, res: ServerResponse): void {
  const method = first(req, 'x-http-method-override', 'x-http-method', 'x-method-override') ?? req.method ?? 'GET';
  const path = first(req, 'x-original-url', 'x-rewrite-url') ?? req.url ?? '/';
  const host =
    first(req, 'x-forwarded-host', 'x-host', 'x-forwarded-server') ??
    forwardedParam(req, 'host') ??
    first(req, 'host') ??
    '-';
  const scheme =
    first(req, 'x-forwarded-scheme') ?? forwardedParam(req, 'proto') ?? first(req, 'x-forwarded-proto') ?? 'http';
  const headers = { 'cache-control': CACHEABLE, 'content-type': 'text/html' };
  if (method !== 'GET' && method !== 'HEAD')
    return void res.writeHead(405, { ...headers, allow: 'GET' }).end('method not allowed\n');
  if (path.startsWith('/admin')) return void res.writeHead(404, headers).end('not found\n');
  // "Force SSL": a request that says it came over plain HTTP is sent to https.
  if (first(req, 'x-forwarded-scheme') === 'http')
    return void res.writeHead(301, { ...headers, location: `https://${host}${path}` }).end();
  res.writeHead(200, headers).end(`<a href="${scheme}://${host}${path}">home</a>\n`);
}

export function startReflectingOrigin(): Promise<TestOrigin> {
  return startOrigin(reflect);
}
