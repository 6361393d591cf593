// Types for the tests that load the bench's topology (dns/answer/topology-scale.test.ts).
export interface TopologySize {
  readonly pops: number;
  readonly pools: number;
  readonly routed: number;
}
export const ZONE: string;
export const LARGE: TopologySize;
export const SMALL: TopologySize;
export function routedName(i: number): string;
export function writeTopology(
  dir: string,
  size: TopologySize,
  listen: { geo: string; dnsListen: string; controlListen: string },
): string;
