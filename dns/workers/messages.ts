// The IPC protocol between the DNS primary and its serving workers (node:cluster, JSON). The
// primary owns everything that must be one per server — health reports and quorum, overrides,
// the control port — and tells workers what they need; workers serve queries and answer the
// primary's questions about their counters.
import type { HostPort } from '../../common/host-port.js';
import type { HealthSnapshot } from '../pop-health/snapshot.js';
import type { DnsMetricsSnapshot } from '../server/metrics.js';
import type { ReloadResult } from '../server/core.js';

/** Given to each worker over IPC when it asks (common/worker-setup.ts). */
export interface WorkerSetup {
  readonly configFile: string;
  /** `meridian dns --pop`, when given. */
  readonly pop?: string | undefined;
  readonly listen: readonly HostPort[];
  readonly workers: number;
  readonly health: HealthSnapshot;
  /** Hex: what every worker's DNS cookie secrets derive from (answer/cookies.ts), one per server. */
  readonly cookieMaster: string;
}

/** Questions that expect a reply with the same id. */
export type WorkerRequest =
  | { readonly kind: 'reload'; readonly id: number }
  | { readonly kind: 'metrics'; readonly id: number }
  | { readonly kind: 'resolvers'; readonly id: number };

export type ToWorker = WorkerRequest | { readonly kind: 'health'; readonly snapshot: HealthSnapshot };

export interface Replies {
  reload: ReloadResult;
  metrics: DnsMetricsSnapshot;
  /** Raw resolver address counts since the worker started. */
  resolvers: [string, number][];
}

export type FromWorker =
  | { readonly kind: 'ready'; readonly listeners: readonly HostPort[] }
  | { readonly kind: 'failed'; readonly error: string }
  | { readonly kind: 'reply'; readonly id: number; readonly body: Replies[keyof Replies] };
