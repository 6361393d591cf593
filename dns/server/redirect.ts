// HTTP redirect steering, the third way CDNs route beside DNS and anycast: `GET /r/<path>`
// answers 302 to the chosen PoP's edge URL + path, chosen for the HTTP client's own address by
// the same policy chain as DNS answers. Useful for large downloads and for clients behind a
// resolver far from them (the HTTP client's address is the real one).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from '../../common/host-port.js';
import { ipBytes } from '../../common/ip.js';
import type { Logger } from '../../common/log.js';
import type { Steering } from '../answer/steering.js';

export interface RedirectListener {
  readonly address: HostPort;
  close(): Promise<void>;
}

export interface RedirectTarget {
  /** The pool to steer over, and the TTL that bounds how long a client may cache the redirect. */
  readonly pool: string;
  readonly ttl: number;
}

export function listenRedirect(
  at: HostPort,
  current: () => { steering: Steering; target: RedirectTarget },
  log: Logger,
): Promise<RedirectListener> {
  const server = createServer((req, res) => {
    try {
      handle(req, res, current());
    } catch (e) {
      log.error({ err: (e as Error).message }, 'redirect failed');
      send(res, 500, 'internal error\n');
    }
  });
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`cannot listen for redirects on ${at.host}:${at.port}: ${err.message}`)),
    );
    server.listen(at.port, at.host, () => {
      server.removeAllListeners('error');
      const bound = server.address() as AddressInfo;
      resolve({
        address: { host: at.host, port: bound.port },
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function handle(
  req: IncomingMessage,
  res: ServerResponse,
  { steering, target }: { steering: Steering; target: RedirectTarget },
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'only GET and HEAD are redirected\n');
  }
  const url = new URL(req.url ?? '/', 'http://redirect.invalid');
  if (!url.pathname.startsWith('/r/')) return send(res, 404, 'redirects are served under /r/<path>\n');
  const remote = (req.socket.remoteAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  const client = ipBytes(remote) ?? null;
  const decision = steering.decideFor(
    { pool: target.pool, ttl: target.ttl, answers: 1 },
    client,
    client ? client.length * 8 : 0,
    0,
  );
  const chosen = decision.steered.chosen[0];
  const base =
    chosen?.pop?.edge ?? (chosen?.member.kind === 'cname' ? `http://${chosen.id.replace(/\.$/, '')}` : undefined);
  if (!chosen || !base) return send(res, 503, `no PoP of pool '${target.pool}' has an edge URL to redirect to\n`);
  const location = new URL(base);
  location.pathname = `${location.pathname.replace(/\/$/, '')}${url.pathname.slice(2)}`;
  location.search = url.search;
  res.setHeader('Location', location.toString());
  // The choice is the client's own; shared caches must not hand it to others.
  res.setHeader('Cache-Control', `private, max-age=${target.ttl}`);
  res.setHeader('X-Meridian-Pop', chosen.id);
  send(res, 302, `${location.toString()}\n`);
}

function send(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
