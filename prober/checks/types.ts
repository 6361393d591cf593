// What every check shares: its signature, its result, and how a failure is described. A check
// never rejects; whatever goes wrong becomes `ok: false` with a detail an operator can act on.
import type { Check, ProbeSettings } from '../../common/health-contract.js';

export interface ProbeTarget {
  /** The probed PoP's id. */
  readonly pop: string;
  /** The PoP's edge URL (`pops[].edge`). */
  readonly edge: URL;
}

export interface ProbeResult {
  readonly ok: boolean;
  /** Time from the start of the probe to its answer (or to the failure). */
  readonly rttMs: number;
  /** Why the probe failed; absent on success. */
  readonly detail?: string;
}

/** Probe settings whose check is known to be of one type. */
export type SettingsFor<T extends Check['type']> = Omit<ProbeSettings, 'check'> & {
  readonly check: Extract<Check, { type: T }>;
};

export type Probe<S extends ProbeSettings = ProbeSettings> = (
  target: ProbeTarget,
  settings: S,
  signal?: AbortSignal,
) => Promise<ProbeResult>;

// Details travel in every report and the report schema caps them at 500; error messages from
// sockets and servers can be arbitrarily long.
const MAX_DETAIL = 200;

export function elapsedMs(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 100) / 100;
}

export function passed(rttMs: number): ProbeResult {
  return { ok: true, rttMs };
}

export function failed(rttMs: number, detail: string): ProbeResult {
  return { ok: false, rttMs, detail: detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL - 1)}…` : detail };
}

/** Host and port of an edge URL for socket checks: brackets off IPv6, scheme default port. */
export function edgeHostPort(edge: URL, port?: number): { host: string; port: number } {
  const host = edge.hostname.startsWith('[') ? edge.hostname.slice(1, -1) : edge.hostname;
  return { host, port: port ?? (edge.port ? Number(edge.port) : edge.protocol === 'https:' ? 443 : 80) };
}

/** A signal that fires on the probe's own timeout or when the caller gives up. */
export function probeSignal(timeoutMs: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}
