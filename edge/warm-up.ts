// Warm-up before serving. A fresh Node process runs its code interpreted until V8 has seen it
// often enough to compile it, and opens its first upstream connections on demand: measured with
// bench/edge.mjs's mix, the first second after a start answered its slowest requests 5-10x
// slower than the same cold cache in a process already warm, and that second is the cold p99.
// So before the real listener opens, the edge serves a short synthetic load to itself, all on
// loopback: a throwaway origin, a throwaway EdgeCore (its own storage, upstream pool and metrics
// registry, dropped afterwards) behind a throwaway listener, and a client asking for small and
// large objects: for the first half every request a new object (a miss runs far more code than a
// hit, and V8 compiles a function only after it has run often: with 48 misses, the mix's first
// seconds after a start stayed slower), then a few objects again and again: hits, which the raw
// hit front answers. Nothing of it reaches the real storage, the real upstream, or /metrics.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { Pool } from 'undici';
import type { Logger } from '../common/log.js';
import type { EdgeConfig } from './config.js';
import { EdgeCore } from './core.js';
import { startEdgeServer } from './server.js';

/** Objects the hits ask for. */
const OBJECTS = 48;
/** Object sizes by object number (every 16th a large one, read whole or streamed). */
const SIZES = [...Array.from({ length: 15 }, (_, i) => (i % 2 === 0 ? 1024 : 16 * 1024)), 200 * 1024];
const CONNECTIONS = 8;
/** The throwaway storage's budget: the misses' objects come and go, memory stays bounded. */
const STORE_BYTES = 16 * 1024 * 1024;

/**
 * Serves the synthetic load for about `config.warmUp` ms (0: none) and logs what it did; resolves
 * with the requests answered. A failure is logged and ends the warm-up: it never stops a start.
 */
export async function warmUp(config: EdgeConfig, log: Logger): Promise<number> {
  const ms = config.warmUp;
  if (ms <= 0) return 0;
  const started = performance.now();
  try {
    const { misses, hits } = await syntheticLoad(config, log, ms);
    const answered = misses + hits;
    log.info(
      { requests: answered, misses, hits, ms: Math.round(performance.now() - started) },
      'warmed up before listening',
    );
    return answered;
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'warm-up failed; serving without it');
    return 0;
  }
}

async function syntheticLoad(config: EdgeConfig, log: Logger, ms: number): Promise<{ misses: number; hits: number }> {
  const deadline = performance.now() + ms;
  const origin = await syntheticOrigin();
  const core = new EdgeCore({
    config: { ...config, upstream: new URL(`http://127.0.0.1:${(origin.address() as AddressInfo).port}`) },
    log: log.child({}, { level: 'silent' }),
    now: Date.now,
    registry: new Registry(),
    maxBytes: Math.min(config.maxBytes, STORE_BYTES),
  });
  try {
    const server = await startEdgeServer(
      core.state,
      { healthz: () => ({ status: 200, body: {} }), purge: () => ({ purged: 0, soft: false }), token: undefined },
      { host: '127.0.0.1', port: 0 },
      // In a worker, a listener of its own: not one the primary would share out to every worker.
      { exclusive: true },
    );
    try {
      // Misses, then hits until the time is up.
      const misses = await withPool(server.url, (pool) =>
        load(pool, Math.min(deadline, performance.now() + ms / 2), (i) => `/warm-up/new/${i}`),
      );
      const hits = await withPool(server.url, (pool) => load(pool, deadline, (i) => `/warm-up/${i % OBJECTS}`));
      return { misses, hits };
    } finally {
      await server.close();
    }
  } finally {
    // Also when the throwaway listener could not start: nothing of the warm-up stays open.
    await core.close();
    await new Promise((resolve) => origin.close(resolve));
  }
}

async function withPool<T>(url: string, use: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = new Pool(url, { connections: CONNECTIONS });
  try {
    return await use(pool);
  } finally {
    await pool.destroy();
  }
}

/** Requests `path(i)` for i = 0, 1, … on CONNECTIONS lanes until `until`; resolves with the count. */
async function load(pool: Pool, until: number, path: (i: number) => string): Promise<number> {
  let n = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, lane) => {
      for (let i = lane; performance.now() < until; i += CONNECTIONS) {
        const { body } = await pool.request({ path: path(i), method: 'GET' });
        for await (const _chunk of body);
        n++;
      }
    }),
  );
  return n;
}

function syntheticOrigin(): Promise<Server> {
  const bodies = SIZES.map((size) => Buffer.alloc(size, 'w'));
  const server = createServer((req, res) => {
    const body = bodies[Number(req.url?.split('/').pop() ?? 0) % bodies.length]!;
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'public, max-age=60',
    });
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve(server)),
  );
}
