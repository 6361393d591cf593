// The warm-up (warm-up.ts): a start answers a short synthetic load on loopback before it listens,
// and none of it shows afterwards: not in storage, not to the origin, not in /metrics, no handle
// left open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLog } from '../test/helpers/captured-log.js';
import { startOrigin, reply, type TestOrigin } from '../test/helpers/test-origin.js';
import { startTestEdge } from '../test/helpers/test-edge.js';
import { edgeConfigFrom } from './config.js';
import { warmUp } from './warm-up.js';
import { parse } from 'yaml';
import { edgeConfig } from '../test/helpers/edge-config.js';
import { waitFor } from '../test/helpers/wait-for.js';

let origin: TestOrigin;
beforeAll(async () => {
  origin = await startOrigin(reply(200, { 'cache-control': 'max-age=60' }, 'real'));
});
afterAll(() => origin.stop());

const configWith = (warm: string) =>
  edgeConfigFrom('meridian.yaml', parse(edgeConfig(origin.url, `  warmUp: ${warm}`)), 'fra');

const handles = (kind: string) => () => process.getActiveResourcesInfo().filter((r) => r === kind).length;
const listeners = handles('TCPServerWrap');
const sockets = handles('TCPSocketWrap');

describe('warmUp', () => {
  it('answers misses and hits for about the time configured, then closes everything it opened', async () => {
    const { log, lines } = capturedLog();
    const before = listeners();
    const socketsBefore = sockets();
    const started = performance.now();
    const answered = await warmUp(configWith('600ms'), log);
    const took = performance.now() - started;
    expect(answered).toBeGreaterThan(100);
    expect(took).toBeGreaterThanOrEqual(590);
    expect(took).toBeLessThan(4_000);
    // Its listeners and connections are closed (handles go a moment after their close callbacks).
    await waitFor(
      () => listeners() === before && sockets() === socketsBefore,
      2_000,
      'the warm-up to close its listeners and sockets',
    );
    const line = lines.find((l) => l.msg === 'warmed up before listening');
    expect(line).toMatchObject({ requests: answered });
    // Half the time on misses, each a new object: far more than the 48 objects the hits then ask
    // for again and again (the miss path is what a cold start runs most of).
    const { misses, hits } = line as unknown as { misses: number; hits: number };
    expect(misses).toBeGreaterThan(48);
    expect(hits).toBeGreaterThan(0);
    expect(misses + hits).toBe(answered);
    // Its requests went to its own throwaway origin, not to the configured one.
    expect(origin.seen).toHaveLength(0);
  });

  it('does nothing with warmUp: 0s', async () => {
    const { log, lines } = capturedLog();
    expect(await warmUp(configWith('0s'), log)).toBe(0);
    expect(lines).toHaveLength(0);
  });

  it('leaves an edge that starts with it empty: nothing stored, counted or fetched', async () => {
    const edge = await startTestEdge({ origin: origin.url, edge: '  warmUp: 200ms' });
    try {
      expect(edge.lines.some((l) => l.msg === 'warmed up before listening')).toBe(true);
      expect(await edge.edge.stats()).toMatchObject({ objects: 0, bytes: 0 });
      const metrics = await (await fetch(`${edge.controlUrl}/metrics`)).text();
      expect(metrics).toMatch(/^meridian_edge_requests_total\{cache="hit",service="edge"\} 0$/m);
      expect(metrics).toMatch(/^meridian_edge_requests_total\{cache="miss",service="edge"\} 0$/m);
      expect(origin.seen).toHaveLength(0);
      const first = await edge.get('/x');
      expect(first.text).toBe('real');
      expect(first.header('cache-status')).toMatch(/fwd=uri-miss/);
    } finally {
      await edge.close();
    }
  });
});
