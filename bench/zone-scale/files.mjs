// What one row of the zone-scale bench serves: an RFC 1035 master file as an operator imports
// one (issue 17: `h<i> IN A`, a TXT for every fourth name, so names = records / 1.25), Meridian's
// config around it, gdnsd's config dir serving the same records, and a query file of names spread
// over the whole zone (so most answers are not hot: the templates cache sees mostly misses).
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { HOST, mulberry32 } from '../lib.mjs';

export const ZONE = 'big.test';
const SOA = `@ 3600 IN SOA ns1.${ZONE}. admin.${ZONE}. 1 7200 3600 1209600 60`;
const QUERY_LINES = 20_000;

const address = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** Names in a zone of `records` records. */
export const namesFor = (records) => Math.round(records / 1.25);

/** Writes the zone body (records only) to `file`, streamed: a million lines need not sit in memory. */
async function writeBody(file, names, head = []) {
  const out = createWriteStream(file);
  for (const line of head) out.write(`${line}\n`);
  let chunk = '';
  for (let i = 0; i < names; i++) {
    chunk += `h${i} IN A ${address(i)}\n`;
    if (i % 4 === 0) chunk += `h${i} IN TXT "record ${i}"\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

/** Everything one row needs under `dir`; returns the paths. */
export async function writeRow(dir, records, gdnsdPort) {
  mkdirSync(dir, { recursive: true });
  const names = namesFor(records);
  const body = join(dir, `${ZONE}.body.zone`);
  await writeBody(body, names, ['$TTL 300']);
  const meridianConfig = join(dir, 'meridian.yaml');
  writeFileSync(
    meridianConfig,
    // dns.rrl on, as by default, but with rates dnsperf (one loopback client) never reaches: the
    // QPS column measures answering, not rate limiting (bench/README.md, bench:dns --rrl).
    `dns: { serverId: ns1.${ZONE}, rrl: { responsesPerSecond: 1000000 } }
pops: [{ id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.1] }]
pools: [{ id: global, members: [fra], fallback: fra }]
zones:
  - name: ${ZONE}
    ttl: 3600
    soa: { mname: ns1.${ZONE}., rname: admin.${ZONE}., serial: 1, refresh: 7200, retry: 3600, expire: 1209600, minimum: 60 }
    ns: [ns1.${ZONE}.]
    file: ${body}
`,
  );
  // gdnsd: the same records in one file with the SOA and NS in front.
  const gdnsdDir = join(dir, 'gdnsd');
  for (const sub of ['zones', 'run', 'state']) mkdirSync(join(gdnsdDir, sub), { recursive: true });
  await writeBody(join(gdnsdDir, 'zones', ZONE), names, [
    `$ORIGIN ${ZONE}.`,
    '$TTL 300',
    SOA,
    `@ 3600 IN NS ns1.${ZONE}.`,
  ]);
  writeFileSync(
    join(gdnsdDir, 'config'),
    `options => {
  listen => [ ${HOST}:${gdnsdPort} ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => "${join(gdnsdDir, 'run')}"
  state_dir => "${join(gdnsdDir, 'state')}"
}
`,
  );
  const rand = mulberry32(records);
  const lines = [];
  for (let i = 0; i < QUERY_LINES; i++) {
    const n = Math.floor(rand() * names);
    lines.push(i % 8 === 0 ? `h${n - (n % 4)}.${ZONE} TXT` : `h${n}.${ZONE} A`);
  }
  const queries = join(dir, 'queries.txt');
  writeFileSync(queries, `${lines.join('\n')}\n`);
  return { names, meridianConfig, gdnsdDir, queries };
}
