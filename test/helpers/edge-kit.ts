// Test stand-ins: a real origin (node:http on 127.0.0.1, port 0) that records what reaches it,
// an edge started from a YAML file in a temp directory with a clock the test moves, and a
// plain HTTP client (undici, no automatic decompression or caching).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request as undiciRequest } from 'undici';
import { capturedLog } from './prober-kit.js';
import { startEdge, type EdgeService } from '../../edge/service.js';

export { capturedLog, closedPort, waitFor } from './prober-kit.js';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

export interface TestOrigin {
  readonly url: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  /** Requests seen for a path (query included). */
  count(path: string): number;
  /** Replaces the handler for one path (exact match on the path without query, or with). */
  route(path: string, handler: OriginHandler): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startOrigin(fallback?: OriginHandler): Promise<TestOrigin> {
  const routes = new Map<string, OriginHandler>();
  const seen: SeenRequest[] = [];
  let server: Server | undefined;
  let port = 0;
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '/';
      seen.push({ method: req.method ?? 'GET', url, headers: req.headers, body });
      const handler = routes.get(url) ?? routes.get(url.split('?')[0]!) ?? fallback;
      if (!handler) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no route\n');
      Promise.resolve(handler(req, res, body)).catch(() => res.destroy());
    });
  };
  const start = async (): Promise<void> => {
    const s = createServer(handle);
    s.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen({ host: '127.0.0.1', port, backlog: 4096 }, resolve);
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  await start();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    seen,
    count: (path) => seen.filter((r) => r.url === path).length,
    route: (path, handler) => void routes.set(path, handler),
    start,
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await closed;
    },
  };
}

export interface TestEdge {
  readonly edge: EdgeService;
  readonly url: string;
  readonly controlUrl: string;
  readonly lines: Record<string, unknown>[];
  /** Moves the edge's clock forward. */
  advance(ms: number): void;
  get(path: string, headers?: Record<string, string>, method?: string, body?: string): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface TestResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  header(name: string): string | undefined;
}

export interface TestEdgeOptions {
  /** Extra lines inside `edge:` (YAML, two-space indented). */
  edge?: string;
  /** Replaces the pops list (YAML). */
  pops?: string;
  pop?: string;
  /** The origin URL (default: the given origin's). */
  origin: string;
}

const agent = new Agent({ connections: 2048, keepAliveTimeout: 10_000 });

export async function request(url: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<TestResponse> {
  const res = await undiciRequest(url, { method: method as 'GET', headers, body: body ?? null, dispatcher: agent });
  const text = await res.body.text();
  const h = res.headers as Record<string, string | string[] | undefined>;
  return {
    status: res.statusCode,
    headers: h,
    text,
    header: (name) => {
      const v = h[name.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
  };
}

export async function startTestEdge(opts: TestEdgeOptions): Promise<TestEdge> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-edge-'));
  const file = join(dir, 'meridian.yaml');
  const pops = opts.pops ?? `  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [127.0.0.1], edge: "http://127.0.0.1:8080" }`;
  writeFileSync(file, `edge:\n  origin: "${opts.origin}"\n${opts.edge ?? ''}\npops:\n${pops}\n`);
  let offset = 0;
  const { log, lines } = capturedLog();
  const edge = await startEdge({
    configFile: file,
    pop: opts.pop ?? 'fra',
    listen: { host: '127.0.0.1', port: 0 },
    control: { host: '127.0.0.1', port: 0 },
    // In-process tests move the clock; multi-worker tests spawn the built CLI (cluster.test.ts).
    workers: 1,
    log,
    now: () => Date.now() + offset,
  });
  return {
    edge,
    url: edge.url,
    controlUrl: edge.control!.url,
    lines,
    advance: (ms) => void (offset += ms),
    get: (path, headers = {}, method = 'GET', body?: string) => request(edge.url + path, { host: 'www.test', ...headers }, method, body),
    close: () => edge.close(),
  };
}

/** An origin response helper: status, headers, body. */
export function reply(status: number, headers: Record<string, string | string[]>, body = ''): OriginHandler {
  return (_req, res) => void res.writeHead(status, headers).end(body);
}

/** Resolves after `ms` real milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
