// Compiled zones passed between threads: each zone as its apex, negative TTL and packed arrays
// (packed-nodes.ts), whose buffers move to the receiving thread without a copy. The SOA and the
// apex name are found again in the packed nodes.
import { Type } from '../wire/constants.js';
import { PackedNodes, type PackedData } from './packed-nodes.js';
import type { Zone } from './zone.js';

export interface ZoneData {
  readonly apexKey: string;
  readonly negativeTtl: number;
  readonly nodes: PackedData;
}

/** The zones as data, and the buffers to transfer with them. */
export function handOver(zones: ReadonlyMap<string, Zone>): { data: ZoneData[]; transfer: ArrayBuffer[] } {
  const data: ZoneData[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const zone of zones.values()) {
    if (!(zone.nodes instanceof PackedNodes)) throw new Error('only packed zones can be handed over');
    data.push({ apexKey: zone.apex.key, negativeTtl: zone.negativeTtl, nodes: zone.nodes.data });
    transfer.push(...zone.nodes.transfer);
  }
  return { data, transfer };
}

/** The zones `handOver` gave, in the receiving thread. */
export function takeOver(data: readonly ZoneData[]): Map<string, Zone> {
  const zones = new Map<string, Zone>();
  for (const d of data) {
    const zone = { negativeTtl: d.negativeTtl } as { -readonly [K in keyof Zone]: Zone[K] };
    zone.nodes = PackedNodes.fromData(zone, d.nodes);
    const apex = zone.nodes.get(d.apexKey);
    const soa = apex?.rrsets.get(Type.SOA);
    if (!apex || !soa) throw new Error(`zone data for ${JSON.stringify(d.apexKey)} has no SOA at its apex`);
    zone.apex = apex.name;
    zone.soa = soa;
    zones.set(d.apexKey, zone);
  }
  return zones;
}
