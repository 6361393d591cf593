// The proxy listener: node:http in, the pipeline, and the one place where a response (or an
// error) is written: Via, Age and Cache-Status added, CDN-only fields kept from clients,
// bodies streamed. Also answers GET /healthz and PURGE locally. Nothing a client or an
// upstream sends may crash it.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { getSystemErrorName } from 'node:util';
import { tokenMatches } from '../common/control-token.js';
import { formatHostPort, type HostPort } from '../common/host-port.js';
import { CDN_ONLY } from './cache-store.js';
import { EdgeError, toEdgeError } from './errors.js';
import { appendVia, headerValue, viaIncludes } from './headers.js';
import { Outcome } from './metrics.js';
import { publicHealth } from './status-view.js';
import { appendCacheStatus, formatCacheStatus } from './pipeline/cache-status.js';
import {
  createContext,
  type EdgeContext,
  type EdgeRequest,
  type EdgeResponse,
  type EdgeState,
} from './pipeline/context.js';
import { runRequest } from './pipeline/index.js';
import { normaliseEncoding, normaliseHost, normaliseTarget, primaryKey } from './pipeline/key.js';
import { discard } from './pipeline/tee.js';
import type { PurgeResult } from './purge.js';
import { answerFreshHit, isHealthzTarget } from './fresh-hit.js';
import { forwardInterim, takesInterim } from './interim.js';
import { attachHitFront, type HitFront, type PlainHandler } from './front/front.js';
import { nodeExchange, requestThroughHandler } from './front/handler-request.js';
import { hitPrefix, hitTail, writeStored } from './front/hit-bytes.js';
import { rejectClient } from './client-error.js';
import { guardSendStalls } from './send-stall.js';
import { forwardedScheme } from './trusted-proxies.js';
import { batchedAcceptUnavailable, startBatchedAccept, type BatchedAccept } from './batched-accept.js';

export interface LocalEndpoints {
  /** A promise when another process has to be asked (a worker asks the primary). */
  healthz(): HealthAnswer | Promise<HealthAnswer>;
  /** Purges every variant of a URL key; with workers, in every worker before it resolves. */
  purge(p: { key: string; soft: boolean }): PurgeResult | Promise<PurgeResult>;
  readonly token: string | undefined;
}

export interface HealthAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface EdgeServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** How new connections are accepted, for the start-up line: 'batched', or node's way and why. */
  readonly accept: string;
  /** Open client connections (the front's and node:http's). */
  connections(): Promise<number>;
  close(): Promise<void>;
}

/**
 * `exclusive`: listen on a handle of this process's own, also in a node:cluster worker (whose
 * listeners are otherwise the primary's, shared by every worker): the warm-up's throwaway listener.
 */
export async function startEdgeServer(
  state: EdgeState,
  local: LocalEndpoints,
  listen: HostPort,
  { exclusive = false } = {},
): Promise<EdgeServer> {
  const handle = requestHandler(state, local);
  const { headers: headersMs, sendStall } = state.config.clientTimeouts;
  const server = createServer(
    {
      keepAliveTimeout: 5_000,
      headersTimeout: headersMs,
      requestTimeout: Math.max(300_000, headersMs),
      // How often node looks for heads (and requests) past their timeout; its default, 30 s,
      // would let a stalled head hold its connection up to 30 s longer than the timeout says.
      connectionsCheckingInterval: Math.max(10, Math.min(5_000, Math.floor(headersMs / 4))),
    },
    handle,
  );
  // Fresh hits on plain requests are answered before node:http sees them (front/front.ts).
  const front = attachHitFront(server, state, frontHandler(server, state));
  if (front === undefined) state.log.warn('raw hit front not attached: node:http answers every request');
  // After the front: it takes over node:http's 'connection' listener, this one only watches.
  guardSendStalls(server, sendStall, (socket) =>
    state.log.debug(
      { client: socket.remoteAddress, queued: socket.writableLength },
      'client took nothing for the send-stall timeout: closed',
    ),
  );
  server.on('clientError', (err, socket) => {
    // Malformed HTTP or a head too slow: node's answer if the socket can still take it, then closed.
    state.log.debug({ err: (err as Error).message }, 'malformed client request');
    rejectClient(err as Error, socket, state.pseudonym);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`edge cannot listen on ${formatHostPort(listen)}: ${err.message}`, { cause: err })),
    );
    // A deep accept queue: a burst of new connections is the normal case for an edge.
    server.listen({ host: listen.host, port: listen.port, backlog: 4096, exclusive }, resolve);
  });
  server.on('error', (err) => state.log.error({ err }, 'edge server error'));
  // libuv takes one new connection per event-loop turn; this empties the accept queue in batches.
  // Its sockets read into the front's shared buffer (front/direct-read.ts).
  let warnedAt = -Infinity;
  const onAcceptError = (errno: number): void => {
    // Out of descriptors lasts: one line per 10 s, not one per 100 ms pause.
    const now = performance.now();
    if (now - warnedAt < 10_000) return;
    warnedAt = now;
    state.log.warn(
      { error: getSystemErrorName(-errno) },
      'accepting connections failed: batched accept pauses for 100 ms at a time until it works again',
    );
  };
  const batched = startBatchedAccept(server, onAcceptError, { directReads: front !== undefined });
  const address = server.address() as AddressInfo;
  const url = `http://${formatHostPort({ host: address.address, port: address.port })}`;
  const connections = (): Promise<number> =>
    new Promise((resolve, reject) =>
      server.getConnections((err, n) => (err ? reject(err) : resolve(n + (batched?.open ?? 0)))),
    );
  return {
    host: address.address,
    port: address.port,
    url,
    accept: batched
      ? 'batched'
      : `one per event-loop turn (${batchedAcceptUnavailable() ?? 'no listening descriptor of its own'})`,
    connections,
    close: () => closeServer(server, front, batched),
  };
}

function closeServer(server: Server, front: HitFront | undefined, batched: BatchedAccept | undefined): Promise<void> {
  return new Promise((resolve) => {
    // First: our duplicate of the listening socket would otherwise keep the port open.
    batched?.close();
    server.close(() => resolve());
    server.closeAllConnections();
    front?.closeAll();
  });
}

/** The Via pseudonyms of our own PoPs: a request carrying one comes from one of our edges. */
function ownVias(state: EdgeState): ReadonlySet<string> {
  return new Set(state.config.popIds.map((id) => `meridian-${id}`));
}

export function requestHandler(
  state: EdgeState,
  local: LocalEndpoints,
): (req: IncomingMessage, res: ServerResponse) => void {
  const ownVia = ownVias(state);
  return (req, res) => {
    const started = performance.now();
    if (req.method === 'PURGE') return void answerPurge(req, res, state, local);
    if (req.url !== undefined && isHealthzTarget(req.url) && (req.method === 'GET' || req.method === 'HEAD')) {
      return void Promise.resolve()
        .then(() => local.healthz())
        .then(
          ({ status, body }) => {
            state.metrics.request(Outcome.local, 0);
            answerLocal(res, { status, body: publicHealth(body) }, state.pseudonym);
          },
          (err: unknown) => answerFailure(res, err, state),
        );
    }
    try {
      // A hit needs no error listeners: it writes once, synchronously, and reads no body.
      if (answerFreshHit(state, req, res, started)) return;
    } catch (err) {
      // node refused a stored header value: the pipeline answers (send() turns it into a 502).
      state.log.debug({ err: (err as Error).message }, 'fast hit path failed');
    }
    // Client requests that error (resets mid-upload) must not become uncaught exceptions.
    req.on('error', ignore);
    res.on('error', ignore);
    let c: EdgeContext;
    try {
      c = createContext(state, parseRequest(nodeRequestHead(req), state, ownVia));
      if (takesInterim(req.httpVersionMajor, req.httpVersionMinor)) {
        const via = `1.1 ${state.pseudonym}`;
        c.interim = (status, headers) => forwardInterim(res, status, headers, via);
      }
    } catch (err) {
      return void answerError(res, toEdgeError(err), state);
    }
    runPipeline(c)
      .then((outcome) => send(req, res, c, outcome, started))
      .catch((err: unknown) => {
        state.log.error({ err }, 'writing the response failed');
        res.destroy();
      });
  };
}

/**
 * Plain requests the raw front did not answer from storage (front/front.ts): the pipeline runs
 * without node:http's request and response, and an answer that is a stored response as stored
 * (a miss just stored, a collapsed wait, a stale-while-revalidate hit) is written as the front
 * writes hits: a miss costs about an eighth less CPU than through node:http's. Anything else
 * (an error, a streamed body, a 304 or a part, an interim response, /healthz) goes through
 * node:http's request and response, made then.
 */
function frontHandler(server: Server, state: EdgeState): PlainHandler {
  const ownVia = ownVias(state);
  const via = `1.1 ${state.pseudonym}`;
  const keepAliveSeconds = Math.floor(server.keepAliveTimeout / 1000);
  return (socket, head, finished) => {
    const started = performance.now();
    if (isHealthzTarget(head.target)) return requestThroughHandler(server, socket, head, finished);
    let c: EdgeContext;
    try {
      c = createContext(
        state,
        parseRequest(
          {
            method: head.method,
            target: head.target,
            headers: head.headers,
            remoteAddress: socket.remoteAddress,
            body: undefined,
          },
          state,
          ownVia,
        ),
      );
    } catch {
      // node:http's way answers it with the error (a bad Host, a loop).
      return requestThroughHandler(server, socket, head, finished);
    }
    let exchange: ReturnType<typeof nodeExchange> | undefined;
    const throughNode = (): ReturnType<typeof nodeExchange> => {
      if (exchange) return exchange;
      exchange = nodeExchange(server, socket, head, finished);
      exchange.req.on('error', ignore);
      exchange.res.on('error', ignore);
      return exchange;
    };
    // A 1xx goes out through node:http's response, and so does the final answer after it.
    c.interim = (status, headers) => forwardInterim(throughNode().res, status, headers, via);
    runPipeline(c)
      .then((outcome) => {
        if (socket.destroyed) {
          // The client left while the pipeline ran; nobody reads this answer.
          const body = c.response?.body;
          if (body !== undefined && !Buffer.isBuffer(body)) discard(body);
          return;
        }
        if (exchange === undefined && writeStoredAnswer(socket, c, outcome, started, keepAliveSeconds))
          return finished(true);
        const { req, res } = throughNode();
        send(req, res, c, outcome, started);
      })
      .catch((err: unknown) => {
        state.log.error({ err }, 'writing the response failed');
        socket.destroy();
      });
  };
}

/** Runs the pipeline; an error becomes its answer. Resolves with the `cache` label for metrics. */
function runPipeline(c: EdgeContext): Promise<number> {
  return runRequest(c).then(
    () => classify(c),
    (err: unknown) => {
      const e = toEdgeError(err);
      if (e.kind === 'internal') c.edge.log.error({ err, key: c.key }, 'request failed');
      else c.edge.log.debug({ err: e.message, key: c.key }, 'request answered with an error');
      const r = e.getResponse();
      c.status.detail ??= e.kind;
      c.response = { status: r.status, headers: r.headers, body: Buffer.from(r.body) };
      return Outcome.error;
    },
  );
}

/**
 * Writes `c`'s answer as the front writes a hit (front/hit-bytes.ts), when it is a stored
 * response as stored, for a client: the bytes node:http would write for it in send(). False
 * when node:http must write it.
 */
function writeStoredAnswer(
  socket: Socket,
  c: EdgeContext,
  outcome: number,
  started: number,
  keepAliveSeconds: number,
): boolean {
  const r = c.response;
  const entry = r?.entry;
  if (!entry || c.req.internal || r.partial || r.status !== entry.status || r.body !== entry.body) return false;
  const prefix = hitPrefix(entry);
  if (prefix === null) return false;
  const { edge } = c;
  const tail = hitTail(
    prefix,
    Math.floor(entry.lifetime.age()),
    formatCacheStatus(edge.pseudonym, c.status),
    keepAliveSeconds,
  );
  const body = c.req.method === 'HEAD' ? undefined : entry.body;
  writeStored(socket, prefix.bytes, tail, body);
  edge.metrics.responseSeconds.observe(c.origin === undefined ? 0 : 1, (performance.now() - started) / 1000);
  edge.metrics.request(outcome, body === undefined ? 0 : body.length);
  return true;
}

/** What parseRequest reads of a request, from node:http's or from the front's (a PlainHead). */
interface RequestHead {
  readonly method: string;
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  /** The request itself when it has a body: the pipeline streams it upstream. */
  readonly body: Readable | undefined;
}

function nodeRequestHead(req: IncomingMessage): RequestHead {
  const hasBody =
    (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') ||
    req.headers['transfer-encoding'] !== undefined;
  return {
    method: req.method ?? 'GET',
    target: req.url ?? '',
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress,
    body: hasBody ? req : undefined,
  };
}

function parseRequest(req: RequestHead, state: EdgeState, ownVia: ReadonlySet<string>): EdgeRequest {
  const { target } = req;
  let rawHost = req.headers.host;
  let path: string;
  if (target.startsWith('/')) path = target;
  else if (/^https?:\/\//i.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new EdgeError('bad-request', 'invalid request target');
    }
    rawHost = url.host;
    path = url.pathname + url.search;
  } else throw new EdgeError('bad-request', 'request target must be a path or an http(s) URL');
  const host = normaliseHost(rawHost);
  if (host === undefined) throw new EdgeError('bad-request', rawHost ? 'invalid Host header' : 'missing Host header');
  const via = req.headers.via;
  if (viaIncludes(via, state.pseudonym))
    throw new EdgeError('loop-detected', `request already passed through ${state.pseudonym} (shield loop?)`);
  let internal = false;
  if (via !== undefined) for (const p of ownVia) if (viaIncludes(via, p)) internal = true;
  const trustedPeer = state.trustedProxy?.(req.remoteAddress) ?? false;
  return {
    method: req.method,
    // A child PoP passes on what its proxy said; the scheme is keyed, so a forged one only picks
    // which variant the request gets, never what another scheme's clients get.
    scheme: trustedPeer || internal ? forwardedScheme(req.headers['x-forwarded-proto']) : 'http',
    trustedPeer,
    host,
    // The normalised host, never the client's spelling of it (WWW.DEMO.TEST.:80): the key holds this one.
    hostHeader: state.config.originHost ?? host,
    path: normaliseTarget(path, state.keepParam),
    headers: req.headers,
    encoding: normaliseEncoding(headerValue(req.headers, 'accept-encoding')),
    clientAddress: req.remoteAddress,
    body: req.body,
    internal,
    authorization: req.headers.authorization !== undefined,
  };
}

/** The `cache` label for metrics. */
function classify(c: EdgeContext): number {
  const s = c.status;
  if (s.hit)
    return s.detail === 'stale-while-revalidate' || (s.ttl !== undefined && s.ttl <= 0) ? Outcome.stale : Outcome.hit;
  if (s.detail === 'stale-if-error') return Outcome.stale;
  if (s.collapsed && c.response?.entry) return Outcome.collapsed;
  if (s.fwd === 'bypass') return Outcome.bypass;
  if (s.fwdStatus === 304 && c.response?.entry) return Outcome.revalidated;
  if (s.detail === 'hit-for-miss' || s.fwd === 'request' || !c.coalescible) return Outcome.pass;
  return Outcome.miss;
}

function send(req: IncomingMessage, res: ServerResponse, c: EdgeContext, outcome: number, started: number): void {
  const { edge } = c;
  const r: EdgeResponse = c.response ?? { status: 502, headers: {}, body: undefined };
  let headers: OutgoingHttpHeaders | (string | string[])[];
  if (r.entry) {
    // The stored flat header list plus Age and Cache-Status (see StoredResponse.publicHead).
    const stored = c.req.internal ? r.entry.internalHead : r.entry.publicHead;
    // No body follows a 304, whatever length the full response has.
    // A part of it (range.ts) replaces the fields that describe the whole.
    const head =
      r.status === 304 ? withoutField(stored, 'content-length') : r.partial ? partialHead(stored, r.partial) : stored;
    headers = head.concat(
      'age',
      String(Math.floor(r.entry.lifetime.age())),
      'cache-status',
      formatCacheStatus(edge.pseudonym, c.status),
    );
  } else {
    const h: OutgoingHttpHeaders = { ...r.headers };
    if (!c.req.internal) for (const name of CDN_ONLY) delete h[name];
    h.via = appendVia(r.headers.via, `1.1 ${edge.pseudonym}`);
    h.age ??= '0';
    if (r.status === 304) delete h['content-length'];
    h['cache-status'] = appendCacheStatus(r.headers['cache-status'], formatCacheStatus(edge.pseudonym, c.status));
    headers = h;
  }
  if (res.destroyed) {
    if (r.body !== undefined && !Buffer.isBuffer(r.body)) discard(r.body);
    return;
  }
  try {
    res.writeHead(r.status, headers);
  } catch (err) {
    // node refuses what undici let through (a header value it will not write): the upstream
    // misbehaved, so the client gets a 502 rather than a dropped connection.
    edge.log.warn({ err: (err as Error).message, key: c.key }, 'upstream response headers cannot be sent');
    if (r.body !== undefined && !Buffer.isBuffer(r.body)) discard(r.body);
    const e = new EdgeError('origin-error', 'upstream sent headers that cannot be forwarded').getResponse();
    res.writeHead(e.status, {
      ...e.headers,
      'content-length': Buffer.byteLength(e.body),
      'cache-status': `${edge.pseudonym}; detail=origin-error`,
    });
    res.end(e.body);
    edge.metrics.request(Outcome.error, 0);
    return;
  }
  edge.metrics.responseSeconds.observe(c.origin === undefined ? 0 : 1, (performance.now() - started) / 1000);
  const head = req.method === 'HEAD';
  const body = r.body;
  if (body === undefined || Buffer.isBuffer(body)) {
    res.end(head ? undefined : body);
    edge.metrics.request(outcome, head || body === undefined ? 0 : body.length);
    return;
  }
  edge.metrics.request(outcome, 0);
  if (head) {
    res.end();
    discard(body);
    return;
  }
  streamBody(body, res, (n) => edge.metrics.sent(outcome, n), c);
}

function streamBody(body: Readable, res: ServerResponse, counted: (bytes: number) => void, c: EdgeContext): void {
  let bytes = 0;
  let settled = false;
  const done = (err?: Error): void => {
    if (settled) return;
    settled = true;
    counted(bytes);
    if (err === undefined) return;
    // A client that left, or an upstream that broke off mid-body: the client's connection is
    // closed so it cannot take a truncated body for a whole one, and the upstream body is let go.
    res.destroy();
    body.destroy();
    c.edge.log.debug({ err: err.message, key: c.key }, 'response body not completed');
  };
  // pipe() rather than stream.pipeline(): the same backpressure without an AbortController and
  // its DOMException per response, which cost a miss more than the write itself.
  body.on('data', (chunk: Buffer) => (bytes += chunk.length));
  body.once('error', done);
  body.once('close', () => {
    if (!body.readableEnded) done(new Error('upstream body closed early'));
  });
  res.once('finish', () => done());
  res.once('close', () => {
    if (!res.writableFinished) done(new Error('client connection closed'));
  });
  body.pipe(res);
}

function withoutField(head: readonly (string | string[])[], name: string): (string | string[])[] {
  const out: (string | string[])[] = [];
  for (let i = 0; i < head.length; i += 2) if (head[i] !== name) out.push(head[i]!, head[i + 1]!);
  return out;
}

/** `head` with the fields `partial` names replaced by its values. */
function partialHead(head: readonly (string | string[])[], partial: readonly string[]): (string | string[])[] {
  const names = new Set(partial.filter((_, i) => i % 2 === 0));
  const out: (string | string[])[] = [];
  for (let i = 0; i < head.length; i += 2) if (!names.has(head[i] as string)) out.push(head[i]!, head[i + 1]!);
  return out.concat(partial);
}

function ignore(): void {}

interface LocalAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** /healthz and PURGE: answered here, still naming the PoP that served them (a prober's catchment probe reads it). */
function answerLocal(res: ServerResponse, a: LocalAnswer, pseudonym: string): void {
  const payload = `${JSON.stringify(a.body)}\n`;
  res.writeHead(a.status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(payload),
    'cache-status': `${pseudonym}; detail=local`,
    ...a.headers,
  });
  res.end(payload);
}

function answerError(res: ServerResponse, e: EdgeError, state: EdgeState): void {
  const r = e.getResponse();
  state.metrics.request(Outcome.error, 0);
  res.writeHead(r.status, {
    ...r.headers,
    'content-length': Buffer.byteLength(r.body),
    'cache-status': `${state.pseudonym}; detail=${e.kind}`,
  });
  res.end(r.body);
}

function answerPurge(req: IncomingMessage, res: ServerResponse, state: EdgeState, local: LocalEndpoints): void {
  req.on('error', ignore);
  res.on('error', ignore);
  Promise.resolve()
    .then(() => purge(req, state, local))
    .then(
      (a) => answerLocal(res, a, state.pseudonym),
      (err: unknown) => answerFailure(res, err, state),
    );
}

function answerFailure(res: ServerResponse, err: unknown, state: EdgeState): void {
  const e = toEdgeError(err);
  if (e.kind === 'internal') state.log.error({ err }, 'local request failed');
  if (!res.headersSent && !res.destroyed) answerError(res, e, state);
}

/**
 * PURGE <url> needs the control token. Without one it is refused, unless edge.control.trustLoopback
 * lets loopback clients in: off by default, since behind a TLS terminator or another proxy on
 * the same host every client arrives from loopback.
 */
async function purge(req: IncomingMessage, state: EdgeState, local: LocalEndpoints): Promise<LocalAnswer> {
  if (local.token !== undefined) {
    if (!tokenMatches(local.token, req.headers.authorization)) {
      throw new EdgeError('forbidden', 'missing or invalid bearer token (send "Authorization: Bearer <token>")', {
        status: 401,
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
  } else if (!(state.config.control.trustLoopback && isLoopback(req.socket.remoteAddress ?? ''))) {
    throw new EdgeError('forbidden', 'PURGE on the proxy port needs the control token (edge.control.token)');
  }
  const parsed = parseRequest(nodeRequestHead(req), state, new Set());
  const soft = /^(1|true|yes)$/i.test(headerValue(req.headers, 'soft-purge') ?? '');
  state.metrics.request(Outcome.local, 0);
  const key = primaryKey('http', parsed.host, parsed.path);
  const result = await local.purge({ key, soft });
  return { status: 200, body: { ...result, key } };
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
