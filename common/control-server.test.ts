import { request } from 'node:http';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ControlServer, Route } from './control-server.js';
import { HttpError, MAX_BODY_BYTES, startControlServer } from './control-server.js';
import { createLogger } from './log.js';
import { createRegistry } from './metrics.js';

const log = createLogger({ service: 'test', level: 'silent' });
const TOKEN = 'test-token';

/** Bodies the mutating /purge route was run with. */
const purges: unknown[] = [];

const routes: Route[] = [
  {
    method: 'POST',
    path: '/purge',
    mutating: true,
    handle: (req) => (purges.push(req.body ?? null), { status: 200, body: { purged: true } }),
  },
  {
    method: 'GET',
    path: '/status',
    handle: (req) => ({ status: 200, body: { ok: true, pop: req.url.searchParams.get('pop') } }),
  },
  { method: 'POST', path: '/echo', handle: (req) => ({ status: 200, body: { echoed: req.body ?? null } }) },
  { method: 'POST', path: '/drain', mutating: true, handle: (req) => ({ status: 202, body: { drained: req.body } }) },
  { method: 'DELETE', path: '/drain', mutating: true, handle: () => ({ status: 204 }) },
  {
    method: 'GET',
    path: '/teapot',
    handle: () => {
      throw new HttpError(418, 'short and stout');
    },
  },
  {
    method: 'GET',
    path: '/boom',
    handle: async () => {
      throw new Error('kaboom');
    },
  },
  { method: 'GET', path: '/bigint', handle: () => ({ status: 200, body: { n: 1n } }) },
  { method: 'GET', path: '/text', handle: () => ({ status: 200, text: 'hello\n', headers: { 'X-Extra': 'yes' } }) },
];

const open: ControlServer[] = [];
afterEach(async () => {
  purges.length = 0;
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(extra: Partial<Parameters<typeof startControlServer>[0]> = {}): Promise<ControlServer> {
  const server = await startControlServer({ host: '127.0.0.1', port: 0, routes, log, ...extra });
  open.push(server);
  return server;
}

async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  expect(text.endsWith('\n')).toBe(true);
  return JSON.parse(text);
}

describe('startControlServer', () => {
  it('serves JSON with a trailing newline and exposes the query string', async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.host).toBe('127.0.0.1');
    const res = await fetch(`${server.url}/status?pop=fra`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await json(res)).toEqual({ ok: true, pop: 'fra' });
  });

  it('answers 404 naming the method and path', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/foo`);
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({ error: 'no such endpoint: GET /foo' });
  });

  it('matches paths exactly', async () => {
    const server = await start();
    expect((await fetch(`${server.url}/status/`)).status).toBe(404);
    expect((await fetch(`${server.url}/Status`)).status).toBe(404);
  });

  it('answers 405 with an Allow header for a known path and wrong method', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/drain`, { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('DELETE, POST');
    expect(await json(res)).toMatchObject({ error: expect.stringContaining('PUT') });

    const onGet = await fetch(`${server.url}/status`, { method: 'POST', body: '{}' });
    expect(onGet.status).toBe(405);
    expect(onGet.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers HEAD for GET routes without a body', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/status`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  it('parses JSON bodies and passes undefined for an empty body', async () => {
    const server = await start();
    const withBody = await fetch(`${server.url}/echo`, { method: 'POST', body: JSON.stringify({ a: [1, 2] }) });
    expect(await json(withBody)).toEqual({ echoed: { a: [1, 2] } });
    const empty = await fetch(`${server.url}/echo`, { method: 'POST' });
    expect(await json(empty)).toEqual({ echoed: null });
  });

  it('answers 400 naming the JSON error for a malformed body', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/echo`, { method: 'POST', body: '{"a":' });
    expect(res.status).toBe(400);
    const body = (await json(res)) as { error: string };
    expect(body.error).toMatch(/^invalid JSON body: /);
    expect(body.error.length).toBeGreaterThan('invalid JSON body: '.length);
  });

  it('answers 413 for a body over 1 MiB and keeps serving', async () => {
    const server = await start();
    const big = JSON.stringify('x'.repeat(MAX_BODY_BYTES));
    const res = await fetch(`${server.url}/echo`, { method: 'POST', body: big });
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ error: expect.stringContaining(String(MAX_BODY_BYTES)) });

    // Without a Content-Length (chunked), the limit is enforced while reading.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        const chunk = new Uint8Array(64 * 1024).fill(0x20);
        for (let i = 0; i < 20; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const res2 = await fetch(`${server.url}/echo`, { method: 'POST', body: chunked, duplex: 'half' } as RequestInit);
    expect(res2.status).toBe(413);
    await res2.text();

    // A body of exactly the limit is fine.
    const atLimit = JSON.stringify('x'.repeat(MAX_BODY_BYTES - 2));
    expect(Buffer.byteLength(atLimit)).toBe(MAX_BODY_BYTES);
    expect((await fetch(`${server.url}/echo`, { method: 'POST', body: atLimit })).status).toBe(200);
  });

  it('turns HttpError into its status and other errors into a logged 500', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const server = await start({ log: createLogger({ service: 'test', level: 'error', destination }) });

    const teapot = await fetch(`${server.url}/teapot`);
    expect(teapot.status).toBe(418);
    expect(await json(teapot)).toEqual({ error: 'short and stout' });

    const boom = await fetch(`${server.url}/boom`);
    expect(boom.status).toBe(500);
    expect(await json(boom)).toEqual({ error: 'internal error' });

    const bigint = await fetch(`${server.url}/bigint`);
    expect(bigint.status).toBe(500);

    const logged = lines.map((l) => JSON.parse(l) as { service: string; err?: { stack?: string } });
    expect(logged.some((l) => l.service === 'test' && l.err?.stack?.includes('kaboom'))).toBe(true);
    // Still alive after handler failures.
    expect((await fetch(`${server.url}/status`)).status).toBe(200);
  });

  it('sends text responses with their own content type and extra headers', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/text`);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-extra')).toBe('yes');
    expect(await res.text()).toBe('hello\n');
  });

  describe('with a token', () => {
    it('rejects mutating requests without the right bearer token', async () => {
      const server = await start({ token: TOKEN });
      for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`]) {
        const res = await fetch(`${server.url}/drain`, {
          method: 'POST',
          body: '{}',
          headers: authorization ? { authorization } : {},
        });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect(await json(res)).toMatchObject({ error: expect.any(String) });
      }
    });

    it('accepts mutating requests with the token', async () => {
      const server = await start({ token: TOKEN });
      const res = await fetch(`${server.url}/drain`, {
        method: 'POST',
        body: '{"pop":"fra"}',
        headers: { authorization: `bearer ${TOKEN}`, 'content-type': 'application/json' },
      });
      expect(res.status).toBe(202);
      expect(await json(res)).toEqual({ drained: { pop: 'fra' } });

      const del = await fetch(`${server.url}/drain`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(del.status).toBe(204);
    });

    it('checks the token before reading the body', async () => {
      const server = await start({ token: TOKEN });
      const res = await fetch(`${server.url}/drain`, { method: 'POST', body: 'x'.repeat(MAX_BODY_BYTES + 1) });
      expect(res.status).toBe(401);
    });

    it('does not require the token for read-only routes', async () => {
      const server = await start({ token: TOKEN });
      expect((await fetch(`${server.url}/status`)).status).toBe(200);
    });
  });

  it('allows mutating routes when no token is configured', async () => {
    const server = await start();
    expect(
      (
        await fetch(`${server.url}/drain`, {
          method: 'POST',
          body: '1',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(202);
  });

  it('serves /metrics from the registry without a token', async () => {
    const server = await start({ token: TOKEN, registry: createRegistry('dns') });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('process_cpu_user_seconds_total{service="dns"}');
  });

  it('has no /metrics without a registry', async () => {
    const server = await start();
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });

  it('refuses to start beyond loopback without a token, naming the port, the endpoints and the fixes', async () => {
    const settings = { listen: 'dns.control.listen', tokenFile: 'dns.control.tokenFile' };
    // 192.0.2.1 is not on this machine: refused before anything tries to bind it.
    for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
      const err = await start({ host, port: 8053, settings }).then(
        () => new Error(`started on ${host}`),
        (e: unknown) => e as Error,
      );
      expect(err.message).toContain(
        `${host.includes(':') ? `[${host}]` : host}:8053 is not on loopback and has no token`,
      );
      expect(err.message).toContain('POST /purge, POST /drain, DELETE /drain');
      expect(err.message).toContain('MERIDIAN_CONTROL_TOKEN or dns.control.tokenFile');
      expect(err.message).toContain('listen on 127.0.0.1 (dns.control.listen or --control-listen)');
    }
  });

  it('starts beyond loopback with a token, or when nothing on the port mutates', async () => {
    expect((await start({ host: '0.0.0.0', token: TOKEN })).host).toBe('0.0.0.0');
    const readOnly = routes.filter((r) => !r.mutating);
    expect((await start({ host: '0.0.0.0', routes: readOnly })).host).toBe('0.0.0.0');
  });

  it('says at start-up when its mutating endpoints are open to every local user (loopback, no token)', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const infoLog = createLogger({ service: 'test', level: 'info', destination });
    await start({ host: '127.0.0.1', log: infoLog });
    await start({ host: '127.0.0.1', token: TOKEN, log: infoLog });
    await start({ host: '127.0.0.1', routes: routes.filter((r) => !r.mutating), log: infoLog });
    const said = lines.map((l) => JSON.parse(l) as { msg: string; mutating?: string });
    expect(said.map((l) => [l.msg, l.mutating])).toEqual([
      [
        'control server listening; no control token: its mutating endpoints are open to every local user',
        'open to local users',
      ],
      ['control server listening', 'token required'],
      ['control server listening', undefined],
    ]);
  });

  it('rejects duplicate routes at start-up', async () => {
    const dup: Route = { method: 'GET', path: '/status', handle: () => ({ status: 200 }) };
    await expect(start({ routes: [...routes, dup] })).rejects.toThrow('duplicate control route: GET /status');
  });

  it('rejects EADDRINUSE naming host:port', async () => {
    const first = await start();
    const err: unknown = await startControlServer({ host: '127.0.0.1', port: first.port, routes, log }).then(
      (s) => {
        open.push(s);
        throw new Error('second server should not have started');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`127.0.0.1:${first.port}`);
    expect((err as Error).message).toContain('EADDRINUSE');
  });

  it('listens on IPv6 loopback', async (ctx) => {
    if (!(await canBind('::1'))) return ctx.skip('no IPv6 loopback (::1) on this machine, as in a Docker container');
    const server = await start({ host: '::1' });
    expect(server.host).toBe('::1');
    expect(server.url).toBe(`http://[::1]:${server.port}`);
    expect((await fetch(`${server.url}/status`)).status).toBe(200);
  });

  it('closes promptly with idle keep-alive connections open', async () => {
    const server = await startControlServer({ host: '127.0.0.1', port: 0, routes, log });
    await (await fetch(`${server.url}/status`)).text(); // leaves a keep-alive socket in fetch's pool
    const started = Date.now();
    await server.close();
    await server.close(); // idempotent
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

/** A request with exactly these headers (Host included: fetch would set its own). */
function send(
  server: ControlServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; json: { error?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: server.host, port: server.port, method, path, headers, setHost: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { error?: string } }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('what a web page could send', () => {
  const JSON_TYPE = { 'content-type': 'application/json' };
  const ALL = '{"all":true}';

  it('answers 415 to a mutating body that is not application/json, without running the handler', async () => {
    const server = await start();
    const host = { host: `127.0.0.1:${server.port}` };
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
      const res = await send(server, 'POST', '/purge', { ...host, 'content-type': type }, ALL);
      expect(res.status).toBe(415);
      expect(res.json.error).toContain('application/json');
    }
    expect((await send(server, 'POST', '/purge', host, ALL)).status).toBe(415);
    expect(purges).toEqual([]);
  });

  it('accepts application/json with parameters, and a bodiless POST without Origin', async () => {
    const server = await start();
    const host = { host: `127.0.0.1:${server.port}` };
    expect(
      (await send(server, 'POST', '/purge', { ...host, 'content-type': 'Application/JSON; charset=utf-8' }, ALL))
        .status,
    ).toBe(200);
    expect((await send(server, 'POST', '/purge', host)).status).toBe(200);
    // What README's `curl -X POST http://127.0.0.1:8053/v1/reload` sends.
    expect((await send(server, 'POST', '/purge', { ...host, 'content-length': '0' })).status).toBe(200);
    expect(purges).toEqual([{ all: true }, null, null]);
  });

  it('leaves the content type of non-mutating routes alone', async () => {
    const server = await start();
    expect(
      (await send(server, 'POST', '/echo', { host: `127.0.0.1:${server.port}`, 'content-type': 'text/plain' }, '{}'))
        .status,
    ).toBe(200);
  });

  it("refuses a cross-site Origin and Origin: null, and accepts the port's own origin", async () => {
    const server = await start();
    const host = `127.0.0.1:${server.port}`;
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${server.port + 1}`]) {
      const res = await send(server, 'POST', '/purge', { host, origin, ...JSON_TYPE }, ALL);
      expect(res.status).toBe(403);
      expect(res.json.error).toContain(`Origin: ${origin}`);
      // Bodiless too: a browser sends Origin on every cross-origin POST.
      expect((await send(server, 'POST', '/purge', { host, origin })).status).toBe(403);
    }
    expect(purges).toEqual([]);
    expect((await send(server, 'POST', '/purge', { host, origin: `http://${host}`, ...JSON_TYPE }, ALL)).status).toBe(
      200,
    );
  });

  it('refuses Sec-Fetch-Site cross-site and same-site, and accepts same-origin and none', async () => {
    const server = await start();
    const host = `127.0.0.1:${server.port}`;
    for (const site of ['cross-site', 'same-site']) {
      expect((await send(server, 'POST', '/purge', { host, 'sec-fetch-site': site, ...JSON_TYPE }, ALL)).status).toBe(
        403,
      );
    }
    expect(purges).toEqual([]);
    for (const site of ['same-origin', 'none']) {
      expect((await send(server, 'POST', '/purge', { host, 'sec-fetch-site': site, ...JSON_TYPE }, ALL)).status).toBe(
        200,
      );
    }
  });

  it('lets read-only routes be read cross-site (the browser keeps the answer from the page)', async () => {
    const server = await start();
    expect(
      (
        await send(server, 'GET', '/status', {
          host: `127.0.0.1:${server.port}`,
          origin: 'https://evil.example',
          'sec-fetch-site': 'cross-site',
        })
      ).status,
    ).toBe(200);
  });

  it('refuses a rebinding Host on GET and POST, naming it', async () => {
    const server = await start({ token: TOKEN });
    const host = `evil.example:${server.port}`;
    const get = await send(server, 'GET', '/status', { host });
    expect(get.status).toBe(403);
    expect(get.json.error).toContain(`Host '${host}'`);
    expect((await send(server, 'GET', '/no-such-path', { host })).status).toBe(403);
    expect(
      (await send(server, 'POST', '/purge', { host, authorization: `Bearer ${TOKEN}`, ...JSON_TYPE }, ALL)).status,
    ).toBe(403);
    expect(purges).toEqual([]);
  });

  it('answers to IP literals and localhost', async () => {
    const server = await start();
    for (const host of [
      `127.0.0.1:${server.port}`,
      `[::1]:${server.port}`,
      `localhost:${server.port}`,
      'LOCALHOST',
      '192.0.2.1',
    ]) {
      expect((await send(server, 'GET', '/status', { host })).status).toBe(200);
      expect((await send(server, 'POST', '/purge', { host, ...JSON_TYPE }, ALL)).status).toBe(200);
    }
  });

  it('answers to a configured name, and says where to configure one', async () => {
    const server = await start({ allowedHosts: ['Edge.Internal'], allowedHostsSetting: 'edge.control.allowedHosts' });
    expect((await send(server, 'GET', '/status', { host: `edge.internal:${server.port}` })).status).toBe(200);
    const other = await send(server, 'GET', '/status', { host: `other.internal:${server.port}` });
    expect(other.status).toBe(403);
    expect(other.json.error).toContain('add it to edge.control.allowedHosts');
  });
});

function canBind(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host, port: 0 }, () => probe.close(() => resolve(true)));
  });
}
