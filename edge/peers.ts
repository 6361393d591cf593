// The other processes serving the same PoP (edge.workers > 1), as the request pipeline sees
// them: who fetches a key (one fetch lease per key across all workers), and what changes in
// storage the others must repeat (stored objects, deletions, hit-for-miss marks). With one
// process there are no peers: every lease is granted at once and nothing is sent anywhere. The
// Peers interface itself is part of the pipeline's contract (pipeline/context.ts).
import type { Peers } from './pipeline/context.js';

export const NO_PEERS: Peers = {
  lease: () => true,
  release: () => {},
  stored: () => {},
  removedUrl: () => {},
  removed: () => {},
  hitForMiss: () => {},
};
