// The other processes serving the same PoP (edge.workers > 1), as the request pipeline sees
// them: who fetches a key (one fetch lease per key across all workers), and what changes in
// storage the others must repeat (stored objects, deletions, hit-for-miss marks). With one
// process there are no peers: every lease is granted at once and nothing is sent anywhere.
import type { StoredResponse } from './cache-store.js';
import type { StoreOutcome } from './pipeline/context.js';

export interface Peers {
  /**
   * Asks for the fetch lease of `key`. true: this process fetches and must call `release`.
   * false: another process fetches; `settle` is called with its outcome (its object, when
   * stored, is already in this process's storage by then).
   */
  lease(key: string, settle: (outcome: StoreOutcome) => void): boolean | Promise<boolean>;
  /** The fetch for `key` this process led came to `outcome`. */
  release(key: string, outcome: StoreOutcome): void;
  /** This process stored `entry`. */
  stored(entry: StoredResponse): void;
  /** This process removed every variant of a URL (invalidation) or one variant. */
  removedUrl(primary: string): void;
  removed(key: string): void;
  /** This process marked (true) or cleared (false) `key` as hit-for-miss. */
  hitForMiss(key: string, marked: boolean): void;
}

export const NO_PEERS: Peers = {
  lease: () => true,
  release: () => {},
  stored: () => {},
  removedUrl: () => {},
  removed: () => {},
  hitForMiss: () => {},
};
