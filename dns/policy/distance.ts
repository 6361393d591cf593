// Great-circle distance from the client to each member, turned into an estimated RTT: light in
// fibre covers ~200 km per ms one way, and real paths are longer than great circles, so
// RTT ≈ distance / 100 km·ms⁻¹ × 1.5 path stretch + a few ms of last-mile and queueing.
import type { Location } from '../../common/topology.js';
import type { PolicyStep } from './types.js';

const EARTH_RADIUS_KM = 6371;
const KM_PER_MS_RTT = 100;
const PATH_STRETCH = 1.5;
const BASE_RTT_MS = 5;

export function greatCircleKm(a: Location, b: Location): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function estimatedRttMs(km: number): number {
  return BASE_RTT_MS + (km / KM_PER_MS_RTT) * PATH_STRETCH;
}

export const distance: PolicyStep = {
  name: 'distance',
  run(ctx, candidates) {
    const from = ctx.client.location;
    if (!from) return candidates;
    for (const c of candidates) {
      const at = c.pop?.location ?? (c.member.kind === 'cname' ? c.member.location : undefined);
      if (!at) continue;
      c.distanceKm = Math.round(greatCircleKm(from, at));
      c.estimatedRttMs = Math.round(estimatedRttMs(c.distanceKm) * 10) / 10;
    }
    return candidates;
  },
};
