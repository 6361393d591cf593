// Served-by: every response of the edge names the PoP that gave it, in Cache-Status
// (`meridian-<pop>`), so a client of an anycast address (which PoP it reaches is the routers'
// choice) and the probers' catchment probe can tell. Hits, misses, errors, /healthz, PURGE and
// requests node:http cannot even read: each path writes its own head, so each is asked here.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { popFromServedBy } from '../common/catchment.js';
import { reply, startOrigin, type TestOrigin } from '../test/helpers/test-origin.js';
import { startTestEdge, type TestEdge } from '../test/helpers/test-edge.js';
import { sleep } from '../test/helpers/wait-for.js';

let origin: TestOrigin;
let edge: TestEdge;

beforeAll(async () => {
  origin = await startOrigin();
  origin.route('/cached', reply(200, { 'cache-control': 'max-age=60' }, 'cached body'));
  origin.route('/broken', reply(503, { 'cache-control': 'no-store' }, 'origin down'));
  edge = await startTestEdge({ origin: origin.url, pop: 'fra' });
});
afterAll(async () => {
  await edge?.close();
  await origin?.stop();
});

const servedBy = (cacheStatus: string | undefined, via?: string) => popFromServedBy(cacheStatus, via, ['fra', 'iad']);

describe('every edge response says which PoP served it', () => {
  it('a miss and then a hit (the pre-encoded hit path)', async () => {
    const miss = await edge.get('/cached');
    expect(servedBy(miss.header('cache-status'))).toBe('fra');
    await sleep(15);
    const hit = await edge.get('/cached');
    expect(hit.header('cache-status')).toMatch(/^meridian-fra; hit/);
    expect(servedBy(hit.header('cache-status'))).toBe('fra');
  });

  it("the origin's error passed on, and the edge's own errors (400, 403)", async () => {
    const broken = await edge.get('/broken');
    expect(broken.status).toBe(503);
    expect(servedBy(broken.header('cache-status'))).toBe('fra');
    const refused = await edge.get('/cached', {}, 'PURGE');
    expect(refused.status).toBe(403);
    expect(servedBy(refused.header('cache-status'))).toBe('fra');
    const noHost = await rawRequest('GET / HTTP/1.1\r\nHost: bad host name\r\nConnection: close\r\n\r\n');
    expect(noHost).toMatch(/^HTTP\/1\.1 400 /);
    expect(noHost).toMatch(/\r\ncache-status: meridian-fra; detail=/i);
  });

  it('its 502 when the origin cannot be reached', async () => {
    await origin.stop();
    try {
      const down = await edge.get('/never-cached');
      expect(down.status).toBe(502);
      expect(servedBy(down.header('cache-status'))).toBe('fra');
    } finally {
      await origin.start();
    }
  });

  it('/healthz, answered by the edge itself (what the catchment probe asks)', async () => {
    const health = await edge.get('/healthz');
    expect(health.header('cache-status')).toBe('meridian-fra; detail=local');
  });

  it('a request node:http cannot read: 400 from the connection handler, naming the PoP too', async () => {
    const text = await rawRequest('NOT HTTP AT ALL\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toMatch(/\r\ncache-status: meridian-fra; detail=client-error\r\n/);
  });
});

describe('reading served-by back (common/catchment.ts)', () => {
  it("takes the last of our caches: a child PoP's member comes after its shield's", () => {
    expect(servedBy('meridian-iad; hit, meridian-fra; fwd=miss')).toBe('fra');
    expect(servedBy('other-cdn; hit, meridian-iad; fwd=uri-miss')).toBe('iad');
  });

  it('falls back to Via, and names no PoP it does not know', () => {
    expect(servedBy(undefined, '1.1 corp-proxy, 1.1 meridian-iad')).toBe('iad');
    expect(servedBy('meridian-sin; hit', '1.1 meridian-sin')).toBeNull();
    expect(servedBy('meridian-fra-evil; hit')).toBeNull();
    expect(servedBy(undefined, undefined)).toBeNull();
  });
});

function rawRequest(text: string): Promise<string> {
  const { port } = new URL(edge.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('end', () => resolve(got));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
  });
}
