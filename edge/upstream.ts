// The upstream (origin or shield PoP): one undici Pool (keep-alive, bounded connections, the
// configured timeouts) and whether it is reachable. Reachability is learnt from real fetches;
// while it fails, a TCP connect every second notices it coming back even without traffic (a
// PoP whose /healthz says 503 gets none).
import { connect } from 'node:net';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { Logger } from '../common/log.js';
import { errorCode, upstreamError, type EdgeError } from './errors.js';

export interface UpstreamOptions {
  readonly url: URL;
  readonly connections: number;
  readonly timeouts: { readonly connect: number; readonly headers: number; readonly body: number };
  readonly now: () => number;
  readonly log: Logger;
  /** How often to try connecting while unreachable (ms). */
  readonly recheckInterval?: number;
}

export type UpstreamRequest = Omit<Dispatcher.RequestOptions, 'origin'>;

// A keep-alive connection the upstream closed just as we reused it: safe to retry an idempotent
// request once on a fresh connection.
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export class Upstream {
  readonly name: string;
  /** Path prefix of the upstream URL ('' or '/base'). */
  readonly basePath: string;
  private readonly pool: Pool;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: UpstreamOptions) {
    this.name = opts.url.origin;
    this.basePath = opts.url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(opts.url.origin, {
      connections: opts.connections,
      connect: { timeout: opts.timeouts.connect },
      headersTimeout: opts.timeouts.headers,
      bodyTimeout: opts.timeouts.body,
      keepAliveTimeout: 4_000,
    });
  }

  /** One request; undici errors come back as EdgeErrors and count against reachability. */
  async request(req: UpstreamRequest): Promise<Dispatcher.ResponseData> {
    const idempotent = req.method === 'GET' || req.method === 'HEAD';
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.pool.request({ ...req, path: this.basePath + req.path });
        this.reachable();
        return res;
      } catch (err) {
        const code = errorCode(err);
        if (idempotent && attempt === 0 && code !== undefined && STALE_SOCKET.has(code)) continue;
        const edgeError = upstreamError(err, this.name);
        if (edgeError.kind === 'origin-unreachable' || code === 'UND_ERR_CONNECT_TIMEOUT') this.unreachable(edgeError);
        throw edgeError;
      }
    }
  }

  /** ms since the upstream was last found unreachable without a success since; 0 when fine. */
  downFor(): number {
    return this.failingSince === undefined ? 0 : Math.max(0, this.opts.now() - this.failingSince);
  }

  status(): { url: string; reachable: boolean; failingSince: string | null; lastError: string | null } {
    return {
      url: this.opts.url.href,
      reachable: this.failingSince === undefined,
      failingSince: this.failingSince === undefined ? null : new Date(this.failingSince).toISOString(),
      lastError: this.lastError ?? null,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.recheck);
    await this.pool.destroy();
  }

  private reachable(): void {
    if (this.failingSince === undefined) return;
    this.opts.log.info({ upstream: this.name, downMs: this.downFor() }, 'upstream reachable again');
    this.failingSince = undefined;
    this.lastError = undefined;
    clearTimeout(this.recheck);
    this.recheck = undefined;
  }

  private unreachable(err: EdgeError): void {
    this.lastError = err.message;
    if (this.failingSince !== undefined || this.closed) return;
    this.failingSince = this.opts.now();
    this.opts.log.warn({ upstream: this.name, err: err.message }, 'upstream unreachable');
    this.scheduleRecheck();
  }

  private scheduleRecheck(): void {
    this.recheck = setTimeout(() => {
      const port = Number(this.opts.url.port) || (this.opts.url.protocol === 'https:' ? 443 : 80);
      const socket = connect({
        host: this.opts.url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port,
        timeout: this.opts.timeouts.connect,
      });
      let settled = false;
      const done = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        socket.destroy();
        if (ok) this.reachable();
        else if (this.failingSince !== undefined && !this.closed) this.scheduleRecheck();
      };
      socket.once('connect', () => done(true));
      socket.once('timeout', () => done(false));
      socket.once('error', () => done(false));
    }, this.opts.recheckInterval ?? 1000);
    this.recheck.unref();
  }
}
