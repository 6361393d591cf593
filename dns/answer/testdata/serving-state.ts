// A small serving state for the query path's table tests (resolve.test.ts, handle-query.test.ts):
// one zone with a case of every kind, three PoPs on three continents and the deterministic test
// GeoIP database, built the way the server builds it (config file → loadDnsConfig → state).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GeoDatabases } from '../../../geo-data/databases.js';
import { loadDnsConfig } from '../../config.js';
import type { ResolverTable } from '../../pop-health/resolvers.js';
import { buildServingState, type BuiltState } from '../../server/state.js';

const GEO_DB = resolve(import.meta.dirname, '../../../geo-data/test-city.mmdb');

/** 20 TXT strings of 40 bytes: a response over 512 bytes and under 1232 (truncation tests). */
const BIG_TXT = Array.from({ length: 20 }, (_, i) => `"${String(i).padStart(2, '0')}${'x'.repeat(38)}"`).join(', ');

export const CONFIG = `
dns: { serverId: ns1.example.test, version: "meridian-test", maxUdpPayload: 1232 }
pops:
  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.1], ipv6: ["2001:db8:1::1"] }
  - { id: nyc, location: { lat: 40.71, lon: -74.01 }, ipv4: [192.0.2.2], ipv6: ["2001:db8:2::1"] }
  - { id: tyo, location: { lat: 35.68, lon: 139.69 }, ipv4: [192.0.2.3] }
pools:
  - { id: global, members: [fra, nyc, tyo], fallback: fra }
  - { id: cdn, policy: ordered, members: [{ cname: edge.other-cdn.example., weight: 1 }, fra] }
geo:
  databases: [${GEO_DB}]
  # A private resolver network placed in Tokyo.
  nets: [{ network: 10.0.0.0/8, location: { lat: 35.68, lon: 139.69 } }]
zones:
  - name: example.test
    ttl: 3600
    soa: { mname: ns1.example.test., rname: admin.example.test., minimum: 60 }
    ns: [ns1.example.test.]
    records:
      - { name: ns1, type: A, value: 192.0.2.53 }
      - { name: "@", type: MX, value: "10 mail.example.test." }
      - { name: mail, type: A, value: 192.0.2.25 }
      - { name: mail, type: AAAA, value: "2001:db8::25" }
      - { name: txt, type: TXT, value: "hello" }
      - { name: alias, type: CNAME, value: txt }
      - { name: away, type: CNAME, value: host.elsewhere.example. }
      - { name: "*.wild", type: A, value: 192.0.2.99 }
      - { name: big, type: TXT, values: [${BIG_TXT}] }
      - { name: sub, type: NS, value: ns.sub.example.test. }
      - { name: ns.sub, type: A, value: 192.0.2.54 }
      - { name: toroute, type: CNAME, value: www }
    routes:
      - { name: www, pool: global, ttl: 30 }
      - { name: multi, pool: cdn, ttl: 30 }
      - { name: "*.r", pool: global, ttl: 20 }
`;

export async function testState(resolvers: ResolverTable | null = null): Promise<BuiltState> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-query-path-'));
  writeFileSync(join(dir, 'meridian.yaml'), CONFIG);
  const config = await loadDnsConfig(join(dir, 'meridian.yaml'));
  const geo = await GeoDatabases.open(config.geo.databases);
  return buildServingState(config, geo.readers, undefined, undefined, resolvers);
}
