// Config → ServingState: everything the query path reads, built off the hot path and swapped in
// whole. Building throws on a bad config, so the caller keeps serving the previous state.
import { buildChaosTable } from '../answer/chaos.js';
import { buildTemplates } from '../answer/templates.js';
import type { DnsConfig } from '../config.js';
import { compileZones } from '../zone/compile.js';
import type { ServingState } from './handle-query.js';

export interface BuiltState extends ServingState {
  readonly zoneCount: number;
  readonly recordCount: number;
}

export function buildServingState(config: DnsConfig): BuiltState {
  const zones = compileZones(config.zones);
  const { serverId, version, maxUdpPayload } = config.settings;
  return {
    zones,
    templates: buildTemplates(zones),
    chaos: buildChaosTable(serverId, version),
    nsid: Buffer.from(serverId, 'utf8'),
    maxUdpPayload,
    zoneCount: zones.size,
    recordCount: config.zones.reduce((n, z) => n + z.records.length, 0),
  };
}
