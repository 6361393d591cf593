#!/usr/bin/env node
// Topology-scale bench (issue 17 item 4): a DNS server with 1,000 PoPs, 100 pools, 10,000 routed
// names and the real GeoLite2 City database, beside a small topology of the same shape (10 PoPs,
// 2 pools, 20 names) in the same run. Per topology: load time (spawn to the first routed answer),
// RSS once serving, QPS of dnsperf over all the routed names with an ECS subnet (decisions are
// cached per client network and shared by names of one pool), and the latency of `explain`
// (every call decides afresh: a full locate + policy chain over the pool). Prints the figures and
// the large/small ratios; like the other benches it never fails because of a number.
//
//   npm run bench:topology-scale     (builds first; fetches GeoLite2 City once, ~30 MB)
//   node bench/topology-scale.mjs [--geo FILE.mmdb]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import {
  HOST,
  fmt2,
  fmtInt,
  formatTable,
  freePort,
  log,
  machineText,
  mulberry32,
  prerequisitesMet,
  rssMb,
  runMain,
  spawnMeridian,
  stopChild,
  stopOnSignals,
  tempDir,
  waitReady,
} from './lib.mjs';
import { geoLite2City } from './lib/geolite2.mjs';
import { dig } from './dns/dig.mjs';
import { DNSPERF_BASE, perf, runLine } from './dns/dnsperf.mjs';
import { ecsOption } from './dns/ecs.mjs';
import { LARGE, SMALL, ZONE, routedName, writeTopology } from './topology-scale/files.mjs';

const argv = process.argv.slice(2);
const geoFlag = argv.indexOf('--geo');
if (argv.some((a, i) => a !== '--geo' && i !== geoFlag + 1) || (geoFlag >= 0 && !argv[geoFlag + 1])) {
  process.stderr.write('usage: node bench/topology-scale.mjs [--geo FILE.mmdb]\n');
  process.exit(2);
}
stopOnSignals();

const LOAD_TIMEOUT_MS = 120_000;
const QPS_SECONDS = 5;
const QUERY_LINES = 20_000;
const EXPLAIN_CALLS = 300;
/** Tokyo: one ECS subnet for the dnsperf run (dnsperf -E sends the same option with every query). */
const ECS = ecsOption('203.0.113.0/24');

/** dnsperf's query file: routed names spread over all of them, A and (one in eight) AAAA. */
function writeQueries(dir, size) {
  const rand = mulberry32(size.routed);
  const lines = [];
  for (let i = 0; i < QUERY_LINES; i++)
    lines.push(`${routedName(Math.floor(rand() * size.routed))} ${i % 8 === 0 ? 'AAAA' : 'A'}`);
  const file = join(dir, 'queries.txt');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** `explain` over HTTP for random names and public client addresses: p50 and p99 in ms. */
async function explainLatency(control, size) {
  const rand = mulberry32(7);
  const ms = [];
  for (let i = 0; i < EXPLAIN_CALLS; i++) {
    const client = `${1 + Math.floor(rand() * 222)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.7`;
    const url = new URL('/v1/explain', control);
    url.searchParams.set('name', routedName(Math.floor(rand() * size.routed)));
    url.searchParams.set('client', client);
    const t0 = performance.now();
    const res = await request(url);
    await res.body.json();
    ms.push(performance.now() - t0);
    if (res.statusCode !== 200) throw new Error(`explain ${url.search}: HTTP ${res.statusCode}`);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length * 0.5)], p99: ms[Math.floor(ms.length * 0.99)] };
}

async function measure(label, size, geo, work, used) {
  const dir = join(work, label);
  const [port, http] = [await freePort(used, { udp: true }), await freePort(used)];
  mkdirSync(dir, { recursive: true });
  const config = writeTopology(dir, size, {
    geo,
    dnsListen: `${HOST}:${port}`,
    controlListen: `${HOST}:${http}`,
  });
  const queries = writeQueries(dir, size);
  const t0 = performance.now();
  const server = spawnMeridian(['dns', '--config', config, '--workers', '1']);
  const answered = async () =>
    (await dig(port, routedName(0), 'A').catch(() => ({ status: 'none' }))).status === 'NOERROR';
  await waitReady(server, `answer ${routedName(0)} A`, LOAD_TIMEOUT_MS, answered, 50);
  const loadS = (performance.now() - t0) / 1000;
  const r = await perf(server, port, { path: queries, procs: [[...DNSPERF_BASE, '-E', ECS.arg]] }, QPS_SECONDS, 0);
  log(runLine(`${label} routed+ECS`, 0, r));
  const rss = rssMb(server.pid);
  const explain = await explainLatency(`http://${HOST}:${http}`, size);
  server.assertAlive('explain');
  await stopChild(server.child);
  log(
    `bench: ${label}: load ${fmt2(loadS)} s, RSS ${fmtInt(rss)} MB, ${fmtInt(r.qps)} QPS, ` +
      `explain p50 ${fmt2(explain.p50)} ms p99 ${fmt2(explain.p99)} ms`,
  );
  return { loadS, rss, qps: r.qps, lost: r.lost, explain };
}

async function main() {
  if (!prerequisitesMet('dnsperf', 'bench:topology-scale')) return 1;
  const geo = geoFlag >= 0 ? argv[geoFlag + 1] : geoLite2City();
  if (!geo) return 1;
  const work = tempDir('meridian-bench-topology-');
  const used = new Set();
  const sizes = { small: SMALL, large: LARGE };
  const got = {};
  for (const [label, size] of Object.entries(sizes)) got[label] = await measure(label, size, geo, work, used);
  const { small, large } = got;
  const text = (s) => `${s.pops} PoPs, ${s.pools} pools, ${fmtInt(s.routed)} names`;
  const rows = [
    ['load (s)', fmt2(small.loadS), fmt2(large.loadS), fmt2(large.loadS / small.loadS)],
    ['RSS serving (MB)', fmtInt(small.rss), fmtInt(large.rss), fmt2(large.rss / small.rss)],
    ['QPS, routed + ECS', fmtInt(small.qps), fmtInt(large.qps), fmt2(large.qps / small.qps)],
    ['queries lost', fmtInt(small.lost), fmtInt(large.lost), ''],
    ['explain p50 (ms)', fmt2(small.explain.p50), fmt2(large.explain.p50), fmt2(large.explain.p50 / small.explain.p50)],
    ['explain p99 (ms)', fmt2(small.explain.p99), fmt2(large.explain.p99), fmt2(large.explain.p99 / small.explain.p99)],
  ];
  process.stdout.write(
    `\nTopology scale (${machineText()}; GeoLite2 City: ${geo}; zone ${ZONE})\n` +
      `small: ${text(SMALL)} · large: ${text(LARGE)}\n\n` +
      formatTable(['', 'small', 'large', 'large/small'], rows).join('\n') +
      '\n',
  );
  return 0;
}

runMain(main);
