// An HTTP server on 127.0.0.1 that a test can stop and start again on the same port, like a
// killed and revived edge. Every test HTTP server is one of these (test-origin.ts builds on it).
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalHttp {
  readonly port: number;
  readonly url: string;
  /** Stops listening and drops open connections, like a killed edge. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

export interface LocalHttpOptions {
  /** 0 (the default): a free port, kept across stop and start. */
  port?: number;
  /** node:http's keep-alive timeout (its default when unset). */
  keepAliveTimeout?: number;
  /** The listen backlog (the kernel's default when unset). */
  backlog?: number;
}

export async function localHttp(handler: RequestListener, opts: LocalHttpOptions = {}): Promise<LocalHttp> {
  let server: Server | undefined;
  let bound = opts.port ?? 0;
  const start = async (): Promise<void> => {
    const s = createServer(handler);
    if (opts.keepAliveTimeout !== undefined) s.keepAliveTimeout = opts.keepAliveTimeout;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(
        { host: '127.0.0.1', port: bound, ...(opts.backlog !== undefined ? { backlog: opts.backlog } : {}) },
        resolve,
      );
    });
    bound = (s.address() as AddressInfo).port;
    server = s;
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  };
  await start();
  return {
    get port() {
      return bound;
    },
    get url() {
      return `http://127.0.0.1:${bound}`;
    },
    start,
    stop,
  };
}
