// The demo origin's HTTP listener: GET and HEAD on the routes, conditional requests answered
// 304, and on every response X-Origin (which origin) and X-Origin-Time (when it was made), so a
// cached copy is told apart from a fresh one by its X-Origin-Time alone.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { formatHostPort, type HostPort } from '../common/host-port.js';
import type { Logger } from '../common/log.js';
import { isNotModified } from './conditional.js';
import { route } from './routes.js';
import type { Resource } from './resource.js';

export interface OriginOptions {
  readonly listen: HostPort;
  readonly log: Logger;
  /** For tests: the clock (ms since the epoch). */
  readonly now?: () => number;
}

export interface Origin {
  /** e.g. 'http://127.0.0.1:8081' */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

// A 304 carries the validators and caching fields of the 200 it stands for, not its
// representation metadata (RFC 9110 §15.4.5).
const NOT_IN_304 = new Set(['content-type', 'content-length']);

export async function startOrigin(opts: OriginOptions): Promise<Origin> {
  const { log } = opts;
  const now = opts.now ?? Date.now;
  const deployedAt = now();
  let originId = hostname();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const path = pathOf(req.url);
    let answer: Resource;
    if (path === undefined) {
      answer = plain(400, `bad request target: ${req.url ?? ''}\n`);
    } else if (method !== 'GET' && method !== 'HEAD') {
      answer = plain(405, `method ${method} not allowed; this origin serves GET and HEAD\n`, { allow: 'GET, HEAD' });
    } else {
      answer = route(path, { deployedAt, headers: req.headers });
    }
    const headers: Record<string, string | number> = {
      ...answer.headers,
      'x-origin': originId,
      'x-origin-time': new Date(now()).toISOString(),
    };
    let status = answer.status;
    let body: Buffer | undefined = method === 'HEAD' ? undefined : answer.body;
    const lastModified = answer.headers['last-modified'];
    if (
      status === 200 &&
      isNotModified(req.headers, {
        etag: answer.headers.etag,
        lastModified: lastModified === undefined ? undefined : Date.parse(lastModified),
      })
    ) {
      status = 304;
      body = undefined;
      for (const name of NOT_IN_304) delete headers[name];
    } else {
      headers['content-length'] = answer.body.length;
    }
    res.writeHead(status, headers);
    res.end(body);
    log.debug({ method, path: req.url, status }, 'origin request');
  };

  const server = createServer({ keepAliveTimeout: 5_000, headersTimeout: 20_000, requestTimeout: 60_000 }, handle);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`origin cannot listen on ${formatHostPort(opts.listen)}: ${err.message}`, { cause: err })),
    );
    server.listen({ host: opts.listen.host, port: opts.listen.port }, resolve);
  });
  server.on('error', (err) => log.error({ err }, 'origin server error'));
  const address = server.address() as AddressInfo;
  originId = `${hostname()}:${address.port}`;
  const url = `http://${formatHostPort({ host: address.address, port: address.port })}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function pathOf(target: string | undefined): string | undefined {
  // Origin-form only ('/path?query'); the query does not select content here. Prefixed rather
  // than resolved against a base, so '//x' stays a path instead of becoming a host.
  if (!target?.startsWith('/')) return undefined;
  try {
    return new URL(`http://origin${target}`).pathname;
  } catch {
    return undefined;
  }
}

function plain(status: number, text: string, extra: Record<string, string> = {}): Resource {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra },
    body: Buffer.from(text, 'utf8'),
  };
}
