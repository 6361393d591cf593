// What a serving worker needs to know of PoP health, as plain data the primary (which owns the
// HealthView: reports, quorum, overrides) sends over IPC whenever it changes. Freshness is
// already judged by the primary: the snapshot holds only eligibility and the RTTs of fresh
// reports, so a worker never ages anything itself and cannot disagree with /v1/health.
import type { PopHealth } from '../policy/types.js';
import { SnapshotAnycast, type AnycastAvailability, type AnycastSnapshot } from './anycast-view.js';

export interface HealthSnapshot {
  /** [pop, eligible, reason] */
  readonly eligibility: readonly (readonly [string, boolean, string])[];
  /** [vantage pop, [[resolver network, rtt ms], ...]] for vantages whose latest report is fresh. */
  readonly rtt: readonly (readonly [string, readonly (readonly [string, number])[]])[];
  /** Who announces each anycast address (anycast-view.ts); absent from a server without announcers. */
  readonly anycast?: AnycastSnapshot;
}

/** A worker's HealthSource, fed with snapshots. */
export class SnapshotHealth {
  private eligibility = new Map<string, PopHealth>();
  private rtt = new Map<string, Map<string, number>>();
  private readonly anycast = new SnapshotAnycast();

  /** Takes a new snapshot; true when any PoP's eligibility changed (decisions must go). */
  apply(s: HealthSnapshot): boolean {
    const next = new Map(s.eligibility.map(([pop, eligible, reason]) => [pop, { eligible, reason }]));
    const changed =
      next.size !== this.eligibility.size ||
      [...next].some(([pop, h]) => this.eligibility.get(pop)?.eligible !== h.eligible);
    this.eligibility = next;
    this.rtt = new Map(s.rtt.map(([pop, nets]) => [pop, new Map(nets)]));
    const anycastChanged = this.anycast.apply(s.anycast);
    return changed || anycastChanged;
  }

  healthOf(pop: string): PopHealth | undefined {
    return this.eligibility.get(pop);
  }

  measuredRttMs(pop: string, resolverNetwork: string): number | undefined {
    return this.rtt.get(pop)?.get(resolverNetwork);
  }

  anycastOf(address: string): AnycastAvailability {
    return this.anycast.availabilityOf(address);
  }
}
