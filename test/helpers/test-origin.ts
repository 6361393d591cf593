// A real origin for edge tests: node:http on 127.0.0.1 (a local-http.ts server) that records what
// reaches it and answers per path, so a test can count origin fetches and change an answer.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { localHttp } from './local-http.js';

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
  // Kept from the first origin stand-in: connections from the edge stay open between requests,
  // and a burst of them (the coalescing and exhaustion tests) waits in the backlog, not refused.
  const server = await localHttp(handle, { keepAliveTimeout: 60_000, backlog: 4096 });
  return {
    get url() {
      return server.url;
    },
    get port() {
      return server.port;
    },
    seen,
    count: (path) => seen.filter((r) => r.url === path).length,
    route: (path, handler) => void routes.set(path, handler),
    start: server.start,
    stop: server.stop,
  };
}

/** An origin response helper: status, headers, body. */
export function reply(status: number, headers: Record<string, string | string[]>, body = ''): OriginHandler {
  return (_req, res) => void res.writeHead(status, headers).end(body);
}
