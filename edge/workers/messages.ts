// The IPC protocol between the edge primary and its serving workers (node:cluster with
// 'advanced' serialisation, so stored bodies travel as bytes, not base64 JSON). The primary is
// the one place where per-PoP decisions are made: who fetches a key (the lease), the order of
// purges against stored objects, draining, the control port. Workers serve requests from their
// own copy of storage and tell the primary what changed in it; the primary passes that on.
import type { HostPort } from '../../common/host-port.js';
import type { CoreStats } from '../core.js';
import type { EdgeMetricsSnapshot } from '../metrics.js';
import type { PurgeOp, PurgeResult } from '../purge.js';
import type { WireEntry, WireOutcome } from './wire.js';

/** Given to each worker over IPC when it asks (common/worker-setup.ts). */
export interface WorkerSetup {
  readonly configFile: string;
  readonly pop: string;
  readonly listen: HostPort;
  /** This worker's share of edge.maxBytes. */
  readonly maxBytes: number;
}

export interface WorkerStats {
  readonly core: CoreStats;
  readonly metrics: EdgeMetricsSnapshot;
}

export interface HealthAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Storage changes one worker made, for the others to repeat. */
export type Change =
  /** `purgeSeq`: the last purge the sender had applied when it stored the object. */
  | { readonly kind: 'stored'; readonly entry: WireEntry; readonly purgeSeq: number }
  | { readonly kind: 'removed'; readonly key: string }
  | { readonly kind: 'removed-url'; readonly primary: string }
  | { readonly kind: 'hit-for-miss'; readonly key: string; readonly marked: boolean };

export type FromWorker =
  | { readonly kind: 'ready'; readonly listen: HostPort }
  | { readonly kind: 'failed'; readonly error: string }
  | { readonly kind: 'lease'; readonly key: string }
  | { readonly kind: 'release'; readonly key: string; readonly outcome: WireOutcome }
  | { readonly kind: 'change'; readonly change: Change }
  /** Questions a worker's client asked (PURGE, /healthz), answered with a 'reply'. */
  | { readonly kind: 'purge'; readonly id: number; readonly op: PurgeOp }
  | { readonly kind: 'healthz'; readonly id: number }
  /** Answers to the primary's 'apply-purge' / 'stats'. */
  | { readonly kind: 'reply'; readonly id: number; readonly body: unknown };

export type ToWorker =
  /** The lease for `key`: lead (fetch it) or wait for a 'settled'. */
  | { readonly kind: 'lease'; readonly key: string; readonly lead: boolean }
  | { readonly kind: 'settled'; readonly key: string; readonly outcome: WireOutcome }
  | { readonly kind: 'change'; readonly change: Change }
  /** Apply and reply with the number purged here; `seq` orders purges against relayed objects. */
  | { readonly kind: 'apply-purge'; readonly id: number; readonly op: PurgeOp; readonly seq: number }
  | { readonly kind: 'stats'; readonly id: number }
  | {
      readonly kind: 'reply';
      readonly id: number;
      readonly body: PurgeResult | HealthAnswer | { readonly error: string };
    };
