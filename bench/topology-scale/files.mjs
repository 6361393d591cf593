// The topology of the topology-scale bench (issue 17 item 4): 1,000 PoPs spread over the inhabited
// latitudes, 100 pools of 10–100 members each (nearest, weighted and ordered), 10,000 routed
// names spread over the pools, and the real GeoLite2 City database. Generated from a fixed seed:
// the same config on every run.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../lib/prng.mjs';

export const ZONE = 'scale.test';
/** Issue 17's scale, and a small topology of the same shape to compare it with in the same run. */
export const LARGE = { pops: 1000, pools: 100, routed: 10_000 };
export const SMALL = { pops: 10, pools: 2, routed: 20 };

const popId = (i) => `p${String(i).padStart(4, '0')}`;
/** Routed names: r<i>, in pool i % pools. */
export const routedName = (i) => `r${i}.${ZONE}`;

/** Writes the config of `size` ({ pops, pools, routed }) to `dir`/meridian.yaml; `geo` is the GeoIP database's path. */
export function writeTopology(dir, size, { geo, dnsListen, controlListen }) {
  const rand = mulberry32(17);
  const pops = [];
  for (let i = 0; i < size.pops; i++) {
    const lat = (rand() * 120 - 55).toFixed(2);
    const lon = (rand() * 360 - 180).toFixed(2);
    // Addresses from 10.0.0.0/8 and 2001:db8::/32, one of each per PoP.
    const v4 = `10.${(i >> 8) & 255}.${i & 255}.1`;
    const v6 = `2001:db8:${i.toString(16)}::1`;
    pops.push(`  - { id: ${popId(i)}, location: { lat: ${lat}, lon: ${lon} }, ipv4: [${v4}], ipv6: ["${v6}"] }`);
  }
  const policies = ['nearest', 'nearest', 'nearest', 'weighted', 'ordered'];
  const pools = [];
  for (let p = 0; p < size.pools; p++) {
    const members = new Set();
    const count = Math.min(size.pops, 10 + Math.floor(rand() * 91));
    while (members.size < count) members.add(popId(Math.floor(rand() * size.pops)));
    const list = [...members];
    const policy = policies[p % policies.length];
    const weighted = policy === 'weighted';
    const memberText = list.map((m) => (weighted ? `{ pop: ${m}, weight: ${1 + Math.floor(rand() * 200)} }` : m));
    pools.push(`  - { id: pool${p}, policy: ${policy}, fallback: ${list[0]}, members: [${memberText.join(', ')}] }`);
  }
  const routes = [];
  for (let i = 0; i < size.routed; i++)
    routes.push(`      - { name: r${i}, pool: pool${i % size.pools}, ttl: 30${i % 4 === 0 ? ', answers: 2' : ''} }`);
  const file = join(dir, 'meridian.yaml');
  writeFileSync(
    file,
    `dns:
  serverId: ns1.${ZONE}
  listen: ["${dnsListen}"]
  control: { listen: "${controlListen}" }
  # dnsperf is one loopback client: rates it never reaches, so QPS measures answering (bench/README.md).
  rrl: { responsesPerSecond: 1000000 }
pops:
${pops.join('\n')}
pools:
${pools.join('\n')}
geo:
  databases: [${geo}]
zones:
  - name: ${ZONE}
    soa: { mname: ns1.${ZONE}., rname: admin.${ZONE}., serial: 1 }
    ns: [ns1.${ZONE}.]
    records:
      - { name: ns1, type: A, value: 192.0.2.53 }
    routes:
${routes.join('\n')}
`,
  );
  return file;
}
