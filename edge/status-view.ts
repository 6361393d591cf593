// What /healthz and /v1/status say, from whatever the serving processes report: one process's
// own figures, or the primary's sum over its workers. One formula for both, so an operator sees
// the same shape whatever edge.workers is.
import type { CoreStats } from './core.js';

export interface EdgeStats {
  readonly objects: number;
  readonly bytes: number;
  readonly hitRatio: number;
}

export interface HealthInput {
  readonly pop: string;
  readonly draining: boolean;
  readonly originDownAfter: number;
  readonly stats: EdgeStats;
  /** The serving processes' own reports (one, or one per worker). */
  readonly cores: readonly CoreStats[];
}

export function roundRatio(r: number): number {
  return Math.round(r * 10_000) / 10_000;
}

/**
 * The upstream as the most pessimistic process sees it: the one that has found it unreachable
 * longest (each process learns reachability from its own fetches and rechecks).
 */
export function worstUpstream(cores: readonly CoreStats[]): {
  downFor: number;
  upstream: CoreStats['upstream'] | undefined;
} {
  let worst: CoreStats | undefined;
  for (const c of cores) if (!worst || c.downFor > worst.downFor) worst = c;
  return { downFor: worst?.downFor ?? 0, upstream: worst?.upstream };
}

export function healthAnswer(h: HealthInput): { status: number; body: unknown } {
  const { downFor, upstream } = worstUpstream(h.cores);
  const originDown = downFor > h.originDownAfter;
  const state = h.draining ? 'draining' : originDown ? 'origin-down' : 'serving';
  return {
    status: state === 'serving' ? 200 : 503,
    body: { ok: state === 'serving', state, pop: h.pop, ...h.stats, upstream: upstream ?? null },
  };
}

/**
 * /healthz as the proxy port answers it, to anyone: state and cache figures, without the
 * upstream's address and last error (a client that learns the origin can go round the CDN).
 * The control port's /healthz keeps them.
 */
export function publicHealth(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('upstream' in body)) return body;
  const { upstream: _, ...rest } = body as Record<string, unknown>;
  return rest;
}
