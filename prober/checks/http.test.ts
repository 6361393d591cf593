import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../../test/helpers/closed-port.js';
import { localHttp, type LocalHttp } from '../../test/helpers/local-http.js';
import { settings, target } from '../../test/helpers/probe-settings.js';
import { createHttpCheck } from './http.js';

const http = createHttpCheck();
let edge: LocalHttp;
const seen: { url: string | undefined; host: string | undefined }[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  edge = await localHttp((req, res) => {
    seen.push({ url: req.url, host: req.headers.host });
    sockets.push(req.socket);
    switch (req.url) {
      case '/healthz':
        return void res.end('OK: serving, cache warm\n');
      case '/sick':
        return void res.writeHead(503).end('draining');
      case '/huge':
        // 8 MiB: only the first 64 KiB may be read, and the probe must not wait for the rest.
        res.write('status=green\n');
        for (let i = 0; i < 128; i++) res.write(Buffer.alloc(64 * 1024, 'x'));
        return void res.end();
      case '/hang':
        return; // never answers
      default:
        return void res.writeHead(404).end();
    }
  });
});
afterAll(async () => {
  await http.close();
  await edge.stop();
});

const check = (extra: { path?: string; expectStatus?: number; bodyMatch?: string; host?: string } = {}) =>
  settings({ type: 'http' as const, path: '/healthz', expectStatus: 200, ...extra });

describe('http check', () => {
  it('passes on the expected status and measures the RTT', async () => {
    const r = await http.probe(target(edge.url), check());
    expect(r).toMatchObject({ ok: true });
    expect(r.detail).toBeUndefined();
    expect(r.rttMs).toBeGreaterThan(0);
    expect(r.rttMs).toBeLessThan(300);
  });

  it('fails on another status, saying which', async () => {
    const r = await http.probe(target(edge.url), check({ path: '/sick' }));
    expect(r).toMatchObject({ ok: false, detail: 'HTTP 503 (expected 200)' });
    expect((await http.probe(target(edge.url), check({ path: '/sick', expectStatus: 503 }))).ok).toBe(true);
  });

  it('matches the body against bodyMatch', async () => {
    expect((await http.probe(target(edge.url), check({ bodyMatch: 'serving' }))).ok).toBe(true);
    const r = await http.probe(target(edge.url), check({ bodyMatch: '^OK: idle' }));
    expect(r).toMatchObject({ ok: false, detail: 'body does not match /^OK: idle/' });
  });

  it('reads only the head of a huge body', async () => {
    const started = performance.now();
    expect((await http.probe(target(edge.url), check({ path: '/huge', bodyMatch: '^status=green' }))).ok).toBe(true);
    expect((await http.probe(target(edge.url), check({ path: '/huge' }))).ok).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('appends the path to an edge URL with a path and sends the Host header', async () => {
    seen.length = 0;
    await http.probe(target(`${edge.url}/`), check({ host: 'www.demo.test' }));
    expect(seen).toEqual([{ url: '/healthz', host: 'www.demo.test' }]);
  });

  it('fails within the timeout when the edge never answers', async () => {
    const started = performance.now();
    const r = await http.probe(target(edge.url), { ...check({ path: '/hang' }), timeout: 200 });
    const elapsed = performance.now() - started;
    expect(r).toMatchObject({ ok: false, detail: 'timeout after 200 ms' });
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(200 + 150);
  });

  it('fails fast on a closed port', async () => {
    const port = await closedPort();
    const started = performance.now();
    const r = await http.probe(target(`http://127.0.0.1:${port}`), check());
    expect(performance.now() - started).toBeLessThan(100);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/ECONNREFUSED/);
  });

  it('opens a fresh connection for every probe', async () => {
    sockets.length = 0;
    for (let i = 0; i < 3; i++) expect((await http.probe(target(edge.url), check())).ok).toBe(true);
    expect(new Set(sockets).size).toBe(3);
  });

  it('stops when the caller aborts', async () => {
    const r = await http.probe(target(edge.url), check({ path: '/hang' }), AbortSignal.timeout(50));
    expect(r.ok).toBe(false);
    expect(r.rttMs).toBeLessThan(250);
  });
});
