// Web cache poisoning, tried as an attacker would against an edge in front of an origin that
// reflects proxy headers (reflecting-origin.ts): one request carrying a header the key does not
// cover must never change what the next, ordinary client gets. Also what the proxy port tells
// clients (nothing about the origin), who may PURGE, client cache directives against shared
// objects, and request bodies on GET that could desync the shared upstream pool.
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/closed-port.js';
import { request } from '../helpers/http-client.js';
import { sleep } from '../helpers/wait-for.js';
import { startTestEdge, type TestEdge } from '../helpers/test-edge.js';
import type { TestOrigin } from '../helpers/test-origin.js';
import { cleanPage, startReflectingOrigin } from './reflecting-origin.js';

let origin: TestOrigin;
let edge: TestEdge;
let n = 0;
/** A path no earlier test stored. */
const fresh = (name: string): string => `/${name}-${++n}`;
/** Lets the cache side of a streamed response finish before the next request looks. */
const settle = () => sleep(15);

beforeAll(async () => {
  origin = await startReflectingOrigin();
  edge = await startTestEdge({ origin: origin.url });
});
afterAll(async () => {
  await edge?.close();
  await origin?.stop();
});

/** One keep-alive GET on a new connection (the raw hit front reads it first): the whole answer as text. */
async function firstOnNewConnection(url: string, path: string, headers: Record<string, string>): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
  await once(socket, 'connect');
  const fields = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: www.test\r\n${fields}\r\n`);
  let text = '';
  for await (const chunk of socket) {
    text += (chunk as Buffer).toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    const length = /content-length: (\d+)/i.exec(text)?.[1];
    if (end >= 0 && length !== undefined && text.length >= end + 4 + Number(length)) break;
  }
  socket.destroy();
  return text;
}

/** The attacker's request, then an ordinary client's: what the ordinary client gets. */
async function afterAttack(
  path: string,
  attack: Record<string, string>,
): Promise<{ status: number; text: string; location: string | undefined }> {
  await edge.get(path, attack);
  await settle();
  const victim = await edge.get(path);
  return { status: victim.status, text: victim.text, location: victim.header('location') };
}

describe('unkeyed request headers cannot poison a stored answer', () => {
  const vectors: [string, Record<string, string>][] = [
    ['X-Forwarded-Host', { 'x-forwarded-host': 'evil.example' }],
    ['X-Host', { 'x-host': 'evil.example' }],
    ['X-Forwarded-Server', { 'x-forwarded-server': 'evil.example' }],
    ['Forwarded', { forwarded: 'host=evil.example;proto=https' }],
    ['X-Forwarded-Proto', { 'x-forwarded-proto': 'javascript' }],
    ['X-Forwarded-Scheme (cached 301 to https)', { 'x-forwarded-scheme': 'http' }],
    ['X-Original-URL (cached 404)', { 'x-original-url': '/admin' }],
    ['X-Rewrite-URL (cached 404)', { 'x-rewrite-url': '/admin' }],
    ['X-HTTP-Method-Override (cached 405)', { 'x-http-method-override': 'DELETE' }],
    ['X-HTTP-Method (cached 405)', { 'x-http-method': 'PUT' }],
    ['X-Method-Override (cached 405)', { 'x-method-override': 'POST' }],
  ];
  for (const [name, attack] of vectors) {
    it(name, async () => {
      const path = fresh('page');
      const victim = await afterAttack(path, attack);
      expect(victim).toEqual({ status: 200, text: cleanPage('www.test', path), location: undefined });
    });
  }

  it('the origin sees X-Forwarded-Host/-Proto/-For set by the edge, never the client copies, and the normalised Host', async () => {
    const path = fresh('seen');
    await edge.get(path, {
      host: 'WWW.Test.:80',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'https',
      'x-real-ip': '6.6.6.6',
      'true-client-ip': '6.6.6.6',
    });
    const seen = origin.seen.find((r) => r.url === path)!;
    expect(seen.headers.host).toBe('www.test');
    expect(seen.headers['x-forwarded-host']).toBe('www.test');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-real-ip']).toBeUndefined();
    expect(seen.headers['true-client-ip']).toBeUndefined();
  });

  it('a cacheable request forwards only the documented headers; an uncacheable one forwards the rest', async () => {
    const path = fresh('allow');
    const sent = {
      'accept-language': 'de',
      'user-agent': 'ua',
      cookie: 'a=1',
      referer: 'http://r/',
      accept: 'text/html',
      origin: 'http://o',
      'x-anything': 'one',
      'x-requested-with': 'XMLHttpRequest',
      'cache-control': 'max-age=0',
    };
    await edge.get(path, sent);
    const cacheable = origin.seen.find((r) => r.url === path)!.headers;
    for (const h of ['accept-language', 'user-agent', 'cookie', 'referer', 'accept', 'origin'])
      expect(cacheable[h]).toBe(sent[h as keyof typeof sent]);
    expect(cacheable['x-anything']).toBeUndefined();
    expect(cacheable['x-requested-with']).toBeUndefined();
    expect(cacheable['cache-control']).toBeUndefined();

    const post = fresh('post');
    await edge.get(post, { ...sent, 'x-forwarded-host': 'evil.example', 'content-type': 'text/plain' }, 'POST', 'body');
    const passed = origin.seen.find((r) => r.url === post)!;
    expect(passed.headers['x-anything']).toBe('one');
    expect(passed.headers['x-requested-with']).toBe('XMLHttpRequest');
    expect(passed.headers['x-forwarded-host']).toBe('www.test');
    expect(passed.body).toBe('body');
  });
});

describe('edge.forwardHeaders: what the operator forwards is keyed', () => {
  let keyed: TestEdge;
  beforeAll(async () => {
    keyed = await startTestEdge({ origin: origin.url, edge: '  forwardHeaders: [X-Device, x-http-method-override]' });
  });
  afterAll(() => keyed?.close());

  it('a forwarded header selects its own stored answer even when the origin does not say Vary', async () => {
    const path = fresh('device');
    origin.route(
      path,
      (req, res) =>
        void res
          .writeHead(200, { 'cache-control': 'public, max-age=600' })
          .end(`device=${req.headers['x-device'] ?? '-'}`),
    );
    expect((await keyed.get(path, { 'x-device': 'evil' })).text).toBe('device=evil');
    await settle();
    expect((await keyed.get(path)).text).toBe('device=-');
    await settle();
    expect((await keyed.get(path, { 'x-device': 'evil' })).header('cache-status')).toMatch(/; hit;/);
    expect((await keyed.get(path)).header('cache-status')).toMatch(/; hit;/);
  });

  it('a method override the operator allows is forwarded, and keyed, so it cannot poison', async () => {
    const path = fresh('override');
    const attacked = await keyed.get(path, { 'x-http-method-override': 'DELETE' });
    expect(attacked.status).toBe(405);
    await settle();
    const victim = await keyed.get(path);
    expect(victim.status).toBe(200);
  });

  it('refuses to forward what the edge sets itself, naming the field', async () => {
    await expect(startTestEdge({ origin: origin.url, edge: '  forwardHeaders: [X-Forwarded-Host]' })).rejects.toThrow(
      /edge\.forwardHeaders.*sets or strips this header itself/s,
    );
  });
});

describe('edge.trustedProxies: a TLS terminator in front says the scheme and the client', () => {
  let behind: TestEdge;
  beforeAll(async () => {
    // The test's client connects from 127.0.0.1: here it plays the terminator.
    behind = await startTestEdge({ origin: origin.url, edge: '  trustedProxies: [127.0.0.0/8]' });
  });
  afterAll(() => behind?.close());

  it("passes the proxy's X-Forwarded-Proto and -For on, keys the scheme, and purges both schemes of a URL", async () => {
    const path = fresh('tls');
    const https = await behind.get(path, { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' });
    expect(https.text).toBe(`<a href="https://www.test${path}">home</a>\n`);
    const seen = origin.seen.find((r) => r.url === path)!;
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    await settle();
    // The same URL over plain HTTP is its own stored answer, not the https one.
    const http = await behind.get(path);
    expect(http.text).toBe(cleanPage('www.test', path));
    expect(http.header('cache-status')).toMatch(/fwd=uri-miss/);
    await settle();
    // Hits keep the schemes apart on both ways in: node:http's, and the raw front's (a new
    // keep-alive connection whose first request is a plain hit).
    for (const [headers, scheme] of [
      [{ 'x-forwarded-proto': 'https' }, 'https'],
      [{}, 'http'],
    ] as const) {
      const hit = await behind.get(path, headers);
      expect(hit.header('cache-status')).toMatch(/; hit;/);
      expect(hit.text).toBe(`<a href="${scheme}://www.test${path}">home</a>\n`);
      const raw = await firstOnNewConnection(behind.url, path, headers);
      expect(raw).toMatch(/cache-status: meridian-fra; hit;/);
      expect(raw.endsWith(`<a href="${scheme}://www.test${path}">home</a>\n`)).toBe(true);
    }
    const purge = await request(
      `${behind.controlUrl}/v1/purge`,
      { 'content-type': 'application/json' },
      'POST',
      JSON.stringify({ url: `http://www.test${path}` }),
    );
    expect(JSON.parse(purge.text)).toMatchObject({ purged: 2 });
  });

  it('refuses a trustedProxies entry that is not a network, naming the field', async () => {
    await expect(startTestEdge({ origin: origin.url, edge: '  trustedProxies: [10.0.0.1/8]' })).rejects.toThrow(
      /edge\.trustedProxies\[0\].*host bits/s,
    );
  });
});

describe("a client's cache directives do not replace the shared object", () => {
  it('no-cache, max-age=0 and Pragma from one client leave the origin alone while the object is fresh', async () => {
    const path = fresh('directives');
    let version = 0;
    origin.route(path, (_req, res) => {
      version++;
      // The origin's hiccup after the first answer: what an attacker would like to pin.
      if (version > 1) return void res.writeHead(404, { 'cache-control': 'public, max-age=600' }).end('gone');
      res.writeHead(200, { 'cache-control': 'public, max-age=600' }).end('v1');
    });
    await edge.get(path);
    await settle();
    for (let i = 0; i < 20; i++)
      await edge.get(
        path,
        i % 2 ? { 'cache-control': 'no-cache' } : { 'cache-control': 'max-age=0', pragma: 'no-cache' },
      );
    await settle();
    const victim = await edge.get(path);
    expect(victim.status).toBe(200);
    expect(victim.text).toBe('v1');
    expect(origin.count(path)).toBe(1);
  });
});

describe('PURGE on the proxy port', () => {
  it('is refused without the control token, also from loopback, unless trustLoopback says so', async () => {
    const path = fresh('purge');
    await edge.get(path);
    await settle();
    const refused = await edge.get(path, {}, 'PURGE');
    expect(refused.status).toBe(403);
    expect(refused.text).toMatch(/control token/);
    expect((await edge.get(path)).header('cache-status')).toMatch(/; hit;/);

    const trusting = await startTestEdge({ origin: origin.url, edge: '  control: { trustLoopback: true }' });
    try {
      await trusting.get(path);
      await settle();
      expect((await trusting.get(path, {}, 'PURGE')).status).toBe(200);
      expect((await trusting.get(path)).header('cache-status')).toMatch(/fwd=uri-miss/);
    } finally {
      await trusting.close();
    }
  });
});

describe('the proxy port does not say where the origin is', () => {
  it('neither /healthz nor a 502 names the upstream; the control port does', async () => {
    const port = await closedPort();
    const dead = await startTestEdge({ origin: `http://127.0.0.1:${port}`, edge: '  originDownAfter: 1s' });
    try {
      const bad = await dead.get(fresh('down'));
      expect(bad.status).toBe(502);
      expect(bad.text).not.toContain(String(port));
      dead.advance(2_000);
      const health = await request(`${dead.url}/healthz`);
      expect(health.status).toBe(503);
      expect(health.text).not.toContain(String(port));
      expect(health.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      const control = await request(`${dead.controlUrl}/healthz`);
      expect(control.text).toContain(String(port));
    } finally {
      await dead.close();
    }
  });
});

describe('a body on GET never reaches the shared upstream connection', () => {
  // An origin that ignores Content-Length on GET, as some do: whatever follows a GET's head on
  // the connection is read as the next request. Each request line it reads is recorded.
  let raw: ReturnType<typeof createServer>;
  let lines: string[];
  let rawEdge: TestEdge;
  beforeAll(async () => {
    lines = [];
    raw = createServer((socket: Socket) => {
      let buffered = '';
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
          lines.push(buffered.slice(0, buffered.indexOf('\r\n')));
          buffered = buffered.slice(end + 4);
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncache-control: no-store\r\n\r\nok');
        }
      });
      socket.on('error', () => {});
    });
    raw.listen(0, '127.0.0.1');
    await once(raw, 'listening');
    const { port } = raw.address() as { port: number };
    rawEdge = await startTestEdge({ origin: `http://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await rawEdge?.close();
    raw.close();
  });

  for (const [name, extra] of [
    ['a Range GET (answered from the whole object)', 'Range: bytes=0-1\r\n'],
    // The no-store answer above made the URL hit-for-miss: this Range goes upstream as it came.
    ['a Range GET on a hit-for-miss URL (passed through)', 'Range: bytes=0-1\r\n'],
    ['a cacheable GET', ''],
  ] as const) {
    it(name, async () => {
      const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: www.test\r\n\r\n';
      const socket = connect({ host: '127.0.0.1', port: Number(new URL(rawEdge.url).port) });
      await once(socket, 'connect');
      let received = '';
      socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
      socket.write(
        `GET /with-body HTTP/1.1\r\nHost: www.test\r\n${extra}Content-Length: ${smuggled.length}\r\nConnection: close\r\n\r\n${smuggled}`,
      );
      await once(socket, 'close');
      expect(received).toMatch(extra === '' ? /^HTTP\/1\.1 200/ : /^HTTP\/1\.1 20[06]/);
      await sleep(50);
      expect(lines).not.toContain('GET /smuggled HTTP/1.1');
      expect(lines.filter((l) => l.startsWith('GET /with-body'))).not.toHaveLength(0);
    });
  }
});
