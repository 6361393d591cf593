// Collapsing concurrent misses, hit-for-miss, stale-while-revalidate and stale-if-error against
// a real origin.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { withEdgeAndOrigin } from '../test/helpers/edge-and-origin.js';
import { sleep, waitFor } from '../test/helpers/wait-for.js';
import { startOrigin, type TestOrigin } from '../test/helpers/test-origin.js';
import { startTestEdge, type TestEdge } from '../test/helpers/test-edge.js';

let origin: TestOrigin;
let edge: TestEdge;

withEdgeAndOrigin((o, e) => ((origin = o), (edge = e)), {
  edge: '  timeouts: { connect: 300ms, headers: 2s, body: 2s }',
});

/** An origin route that holds each response until released. */
function gated(
  path: string,
  respond: (res: ServerResponse, n: number) => void,
): { release(): void; arrived: () => number } {
  let open = false;
  let n = 0;
  const held: (() => void)[] = [];
  origin.route(path, (_req, res) => {
    const i = ++n;
    if (open) return respond(res, i);
    held.push(() => respond(res, i));
  });
  return {
    release() {
      open = true;
      for (const go of held.splice(0)) go();
    },
    arrived: () => n,
  };
}

describe('request coalescing', () => {
  it('1000 concurrent cold requests make exactly one origin request', async () => {
    const gate = gated('/hot', (res) =>
      res.writeHead(200, { 'cache-control': 'public, max-age=600', 'set-cookie': 'leader=only' }).end('hot object'),
    );
    const all = Promise.all(Array.from({ length: 1000 }, () => edge.get('/hot')));
    await waitFor(() => gate.arrived() === 1, 5_000, 'the first origin request');
    await sleep(300);
    gate.release();
    const responses = await all;
    expect(origin.count('/hot')).toBe(1);
    expect(responses.every((r) => r.status === 200 && r.text === 'hot object')).toBe(true);
    const statuses = responses.map((r) => r.header('cache-status'));
    expect(statuses.filter((s) => s === 'meridian-fra; fwd=uri-miss; fwd-status=200; stored; ttl=600')).toHaveLength(1);
    // Most waited on the one fetch; any that arrived after it was stored are plain hits.
    expect(statuses.filter((s) => s === 'meridian-fra; fwd=uri-miss; collapsed; ttl=600').length).toBeGreaterThan(0);
    // A hit's ttl counts down from 600 by the second: on a loaded machine the last of the
    // thousand can be served a few seconds after the store.
    expect(statuses.filter((s) => !/; collapsed; ttl=600$|; stored; ttl=600$|; hit; ttl=(600|59\d)$/.test(s!))).toEqual(
      [],
    );
    // Set-Cookie went to the one client whose request fetched it, never to the others.
    expect(responses.filter((r) => r.header('set-cookie') !== undefined)).toHaveLength(1);
  });

  it('an uncacheable answer releases the waiters to the origin, then hit-for-miss skips waiting', async () => {
    const gate = gated('/nostore', (res, n) => res.writeHead(200, { 'cache-control': 'no-store' }).end(`private ${n}`));
    const first = Promise.all(Array.from({ length: 20 }, () => edge.get('/nostore')));
    await waitFor(() => gate.arrived() === 1, 2_000, 'the leader');
    await sleep(100);
    expect(gate.arrived()).toBe(1);
    gate.release();
    const answers = await first;
    expect(origin.count('/nostore')).toBe(20);
    expect(new Set(answers.map((r) => r.text)).size).toBe(20);
    expect(answers.filter((r) => /collapsed/.test(r.header('cache-status')!))).toHaveLength(19);

    // Within the hit-for-miss window requests go forward at once, side by side.
    const slow = gated('/nostore', (res, n) => res.writeHead(200, { 'cache-control': 'no-store' }).end(`again ${n}`));
    const second = Promise.all(Array.from({ length: 10 }, () => edge.get('/nostore')));
    await waitFor(() => slow.arrived() === 10, 2_000, 'all ten at the origin');
    slow.release();
    const again = await second;
    expect(
      again.every(
        (r) =>
          /detail=hit-for-miss/.test(r.header('cache-status')!) ||
          /detail=not-storable/.test(r.header('cache-status')!),
      ),
    ).toBe(true);
    expect(again.some((r) => /collapsed/.test(r.header('cache-status')!))).toBe(false);

    // Once it expires, misses collapse again.
    edge.advance(11_000);
    const third = gated('/nostore', (res) =>
      res.writeHead(200, { 'cache-control': 'max-age=60' }).end('cacheable now'),
    );
    const later = Promise.all(Array.from({ length: 10 }, () => edge.get('/nostore')));
    await waitFor(() => third.arrived() === 1, 2_000, 'the leader');
    await sleep(100);
    third.release();
    await later;
    expect(third.arrived()).toBe(1);
  });

  it('a leader that fails takes its waiters with it instead of sending them all to the origin', async () => {
    const gate = gated('/flaky', (res) => res.destroy());
    const all = Promise.all(Array.from({ length: 30 }, () => edge.get('/flaky')));
    await waitFor(() => gate.arrived() === 1, 2_000, 'the leader');
    await sleep(100);
    gate.release();
    const answers = await all;
    expect(answers.every((r) => r.status === 502)).toBe(true);
    // One request, and one retry of it on a fresh connection (a reset keep-alive socket).
    expect(gate.arrived()).toBeLessThanOrEqual(2);
  });
});

describe('stale-while-revalidate', () => {
  it('serves stale at once and refreshes exactly once in the background', async () => {
    let version = 1;
    origin.route(
      '/swr',
      (_req, res) =>
        void res.writeHead(200, { 'cache-control': 'max-age=1, stale-while-revalidate=60' }).end(`v${version}`),
    );
    await edge.get('/swr');
    await sleep(15);
    version = 2;
    const gate = gated('/swr', (res) =>
      res.writeHead(200, { 'cache-control': 'max-age=100, stale-while-revalidate=60' }).end('v2'),
    );
    edge.advance(5_000);
    const started = performance.now();
    const stale = await Promise.all(Array.from({ length: 50 }, () => edge.get('/swr')));
    // Answered while the refresh is still held at the origin.
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(stale.every((r) => r.text === 'v1')).toBe(true);
    expect(stale[0]!.header('cache-status')).toBe('meridian-fra; hit; ttl=-4; detail=stale-while-revalidate');
    expect(stale[0]!.header('age')).toBe('5');
    await waitFor(() => gate.arrived() === 1, 2_000, 'the background refresh');
    await sleep(100);
    expect(gate.arrived()).toBe(1);
    gate.release();
    await waitFor(async () => (await edge.get('/swr')).text === 'v2', 2_000, 'the refreshed object');
    expect(gate.arrived()).toBe(1);
    expect((await edge.get('/swr')).header('cache-status')).toBe('meridian-fra; hit; ttl=100');
  });
});

describe('stale-if-error', () => {
  it('serves stale while the origin is down or failing, within the window only', async () => {
    const down = await startOrigin();
    const sie = await startTestEdge({
      origin: down.url,
      edge: '  timeouts: { connect: 300ms, headers: 1s, body: 1s }',
    });
    try {
      down.route(
        '/sie',
        (_req, res) => void res.writeHead(200, { 'cache-control': 'max-age=1, stale-if-error=60' }).end('good copy'),
      );
      await sie.get('/sie');
      await sleep(15);
      sie.advance(5_000);

      down.route(
        '/sie',
        (_req, res) => void res.writeHead(503, { 'cache-control': 'no-store' }).end('down for maintenance'),
      );
      const on5xx = await sie.get('/sie');
      expect(on5xx.status).toBe(200);
      expect(on5xx.text).toBe('good copy');
      expect(on5xx.header('cache-status')).toBe(
        'meridian-fra; fwd=stale; fwd-status=503; ttl=-4; detail=stale-if-error',
      );

      await down.stop();
      const closed = await sie.get('/sie');
      expect(closed.status).toBe(200);
      expect(closed.text).toBe('good copy');
      expect(closed.header('cache-status')).toBe('meridian-fra; fwd=stale; ttl=-4; detail=stale-if-error');

      sie.advance(60_000);
      const tooOld = await sie.get('/sie');
      expect(tooOld.status).toBe(502);
    } finally {
      await sie.close();
      await down.stop();
    }
  });
});
