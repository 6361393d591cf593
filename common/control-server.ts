// The HTTP control port every service exposes on loopback: JSON endpoints, Prometheus /metrics,
// and mutating endpoints behind a bearer token, none of it reachable from a web page
// (control-guard.ts). Plain node:http, because the surface is a handful of exact paths and a
// framework would cost more to audit than this file.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP, isIPv6 } from 'node:net';
import type { Registry } from 'prom-client';
import { checkContentType, checkCrossSite, checkHost, type HostRule, type Refusal } from './control-guard.js';
import { exposureRefusal, isLoopbackAddress, type ControlSettings } from './control-exposure.js';
import { tokenMatches } from './control-token.js';
import type { Logger } from './log.js';

export interface ControlRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or undefined when the body is empty. */
  body: unknown;
}

export interface ControlResponse {
  status: number;
  /** Sent as JSON (application/json, trailing newline) unless `text` is set. */
  body?: unknown;
  /** Sent verbatim, text/plain unless `contentType` says otherwise. */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Route {
  method: RouteMethod;
  /** Matched exactly; read the query string from `req.url.searchParams`. */
  path: string;
  /**
   * Requires the bearer token when the server has one, and is refused to browsers' cross-site
   * requests and to bodies that are not `application/json`.
   */
  mutating?: boolean;
  handle(req: ControlRequest): ControlResponse | Promise<ControlResponse>;
}

/** Thrown by handlers to answer `{ error: message }` with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ControlServer {
  /** The address actually bound (e.g. '127.0.0.1', '::1'). */
  readonly host: string;
  /** The port actually bound, also when 0 was asked for. */
  readonly port: number;
  /** Base URL for clients, e.g. 'http://[::1]:8053'. */
  readonly url: string;
  close(): Promise<void>;
}

export interface ControlServerOptions {
  host: string;
  port: number;
  /**
   * Bearer token for mutating routes. Without one they are open to every local user, so a port
   * with mutating routes and no token is refused at start beyond loopback.
   */
  token?: string;
  /** Where this service's control address and token file are set, named when it is refused. */
  settings?: ControlSettings;
  routes: Route[];
  /** Served at GET /metrics, without a token, when given. */
  registry?: Registry;
  /** Runs before each /metrics scrape (e.g. to gather worker processes' counters). */
  beforeScrape?: () => Promise<void>;
  /** Host names (besides IP addresses and localhost) clients may use to reach this port. */
  allowedHosts?: readonly string[];
  /** The config setting `allowedHosts` comes from, named when a Host is refused. */
  allowedHostsSetting?: string;
  log: Logger;
}

export const MAX_BODY_BYTES = 1024 * 1024;

// A control request is small and local; anything slower is stuck or hostile.
const REQUEST_TIMEOUT_MS = 30_000;

type RouteTable = Map<string, Map<RouteMethod, Route>>;

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  if (opts.token === '') throw new Error('control token is empty; omit it to disable auth');
  const routes = buildRouteTable(opts.routes, opts.registry, opts.beforeScrape);
  const { log, token } = opts;
  const hostRule: HostRule = {
    allowedHosts: new Set(opts.allowedHosts?.map((h) => h.toLowerCase())),
    setting: opts.allowedHostsSetting,
  };

  const mutatingPaths = opts.routes.filter((r) => r.mutating).map((r) => `${r.method} ${r.path}`);
  // An address is refused before anything binds; a host name once it has resolved and bound.
  const refusal = (address: string, port: number) =>
    exposureRefusal(address, port, token, mutatingPaths, opts.settings);
  if (isIP(opts.host) !== 0) {
    const refused = refusal(opts.host, opts.port);
    if (refused) throw new Error(refused);
  }

  const server = createServer((req, res) => {
    handleRequest(req, res, routes, { token, hostRule }, log).catch((err: unknown) => {
      // Last resort: handleRequest already turns handler errors into 500s, so this is a bug
      // in the plumbing or a dead socket. Never let it become an unhandled rejection.
      log.error({ err }, 'control request failed');
      if (res.headersSent || res.destroyed) res.destroy();
      else res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"internal error"}\n');
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;

  await listen(server, opts.host, opts.port);
  server.on('error', (err) => log.error({ err }, 'control server error'));

  const address = server.address() as AddressInfo;
  const host = address.address;
  const port = address.port;
  const url = `http://${hostPort(host, port)}`;

  const refused = refusal(host, port);
  if (refused) {
    await new Promise((resolve) => server.close(resolve));
    throw new Error(refused);
  }
  if (token === undefined && mutatingPaths.length > 0 && isLoopbackAddress(host)) {
    log.info(
      { url, mutating: 'open to local users' },
      'control server listening; no control token: its mutating endpoints are open to every local user',
    );
  } else {
    log.info({ url, ...(mutatingPaths.length > 0 && { mutating: 'token required' }) }, 'control server listening');
  }

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // close() alone waits for keep-alive clients to go away; don't let them hold shutdown.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function buildRouteTable(
  routes: Route[],
  registry: Registry | undefined,
  beforeScrape: (() => Promise<void>) | undefined,
): RouteTable {
  const all = [...routes];
  if (registry) {
    all.push({
      method: 'GET',
      path: '/metrics',
      handle: async () => {
        await beforeScrape?.();
        return { status: 200, text: await registry.metrics(), contentType: registry.contentType };
      },
    });
  }
  const table: RouteTable = new Map();
  for (const route of all) {
    if (!route.path.startsWith('/')) throw new Error(`control route path must start with "/": ${route.path}`);
    let byMethod = table.get(route.path);
    if (!byMethod) table.set(route.path, (byMethod = new Map()));
    if (byMethod.has(route.method)) throw new Error(`duplicate control route: ${route.method} ${route.path}`);
    byMethod.set(route.method, route);
  }
  return table;
}

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  routes: RouteTable,
  { token, hostRule }: { token: string | undefined; hostRule: HostRule },
  log: Logger,
): Promise<void> {
  const started = performance.now();
  const method = req.method ?? 'GET';
  const reply = (rendered: Rendered): void => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(rendered.status, rendered.headers);
    res.end(rendered.payload);
    const ms = Math.round(performance.now() - started);
    log.debug({ method, path: req.url, status: rendered.status, ms }, 'control request');
  };
  const replyError = (status: number, message: string, headers?: Record<string, string>): void =>
    reply(render({ status, body: { error: message }, ...(headers && { headers }) }));

  const refuse = (refusal: Refusal): void => {
    log.warn(
      { method, path: req.url, host: req.headers.host, origin: req.headers.origin, remote: req.socket.remoteAddress },
      `control request refused: ${refusal.reason}`,
    );
    replyError(refusal.status, refusal.reason);
  };

  // Before routing, so a rebound page learns nothing, not even which paths exist.
  const misdirected = checkHost(req.headers.host, hostRule);
  if (misdirected) return refuse(misdirected);

  const url = parseTarget(req.url);
  if (!url) return replyError(400, `bad request target: ${req.url ?? ''}`);

  const byMethod = routes.get(url.pathname);
  if (!byMethod) return replyError(404, `no such endpoint: ${method} ${url.pathname}`);

  // HEAD is GET without the body (node drops it); operators probe with `curl -I`.
  const route = byMethod.get((method === 'HEAD' ? 'GET' : method) as RouteMethod);
  if (!route) {
    const allowed = [...byMethod.keys()].flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).sort();
    const allow = allowed.join(', ');
    return replyError(405, `method ${method} not allowed for ${url.pathname} (allowed: ${allow})`, { allow });
  }

  // A page's request is refused whatever it carries. This and the next two checks come before
  // the body is read.
  const crossSite = route.mutating ? checkCrossSite(req.headers) : undefined;
  if (crossSite) return refuse(crossSite);

  // Checked before the body is read, so an unauthenticated client cannot make us buffer 1 MiB.
  if (route.mutating && token !== undefined && !tokenMatches(token, req.headers.authorization)) {
    log.warn(
      { method, path: url.pathname, remote: req.socket.remoteAddress },
      'control request rejected: bad or missing token',
    );
    return replyError(401, 'missing or invalid bearer token (send "Authorization: Bearer <token>")', {
      'www-authenticate': 'Bearer',
    });
  }

  const notJson = route.mutating ? checkContentType(req.headers) : undefined;
  if (notJson) return refuse(notJson);

  const raw = await readBody(req);
  if (raw === 'aborted') return;
  if (raw === 'too-large') return replyError(413, `request body exceeds ${MAX_BODY_BYTES} bytes`);
  const parsed = parseJsonBody(raw);
  if (!parsed.ok) return replyError(400, parsed.error);

  let rendered: Rendered;
  try {
    // Rendering sits inside the try: a body JSON cannot encode is the handler's bug too.
    rendered = render(await route.handle({ method, url, headers: req.headers, body: parsed.value }));
  } catch (err) {
    if (err instanceof HttpError) return replyError(err.status, err.message);
    log.error({ err, method, path: url.pathname }, 'control handler threw');
    return replyError(500, 'internal error');
  }
  reply(rendered);
}

function parseTarget(target: string | undefined): URL | undefined {
  // Origin-form only; prefixing keeps '//x' a path instead of a host as `new URL(t, base)` would.
  if (!target?.startsWith('/')) return undefined;
  try {
    return new URL(`http://control${target}`);
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  // Node discards the unread body after the response, keeping the connection usable.
  if (declared > MAX_BODY_BYTES) return Promise.resolve('too-large');

  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge) return;
      if (size > MAX_BODY_BYTES) {
        // Keep draining (bounded by requestTimeout) so the client reads the 413 instead of
        // a reset from a socket closed with unread data.
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks, size)));
    // A client that hangs up mid-body gets no answer and is not worth an error log.
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

function parseJsonBody(raw: Buffer): Parsed {
  const text = raw.toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `invalid JSON body: ${err instanceof Error ? err.message : String(err)}` };
  }
}

interface Rendered {
  status: number;
  headers: Record<string, string | number>;
  payload: string;
}

function render(response: ControlResponse): Rendered {
  let payload = '';
  let contentType = response.contentType;
  if (response.text !== undefined) {
    payload = response.text;
    contentType ??= 'text/plain; charset=utf-8';
  } else if (response.body !== undefined) {
    const json: string | undefined = JSON.stringify(response.body);
    if (json === undefined) throw new TypeError(`response body is not JSON-encodable (${typeof response.body})`);
    payload = `${json}\n`;
    contentType ??= 'application/json';
  }
  const headers: Record<string, string | number> = {
    // Control answers are live state; no proxy or browser should replay them.
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(payload),
  };
  if (contentType !== undefined) headers['content-type'] = contentType;
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name.toLowerCase()] = value;
  return { status: response.status, headers, payload };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const code = err.code ? ` (${err.code})` : '';
      reject(
        new Error(`control server cannot listen on ${hostPort(host, port)}: ${err.message}${code}`, { cause: err }),
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
}

function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
