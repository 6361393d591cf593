#!/usr/bin/env node
// Failover bench: how long after a PoP's edge dies do new DNS answers stop naming it, and how
// long after it comes back do they name it again? Real processes in network namespaces, as in
// test/system/failover.test.ts: a bridge, the DNS server in its own namespace, three PoPs
// (Frankfurt A, New York B, London C) each with an edge on :80 and a prober, default health
// settings (interval 1 s, timeout 500 ms, fall 3, rise 2).
//
// Prints figures; it is not a test and never fails because of a number (see bench/README.md).
// Exits non-zero only when it cannot measure (not root, no `ip netns`, no dig, dist/ not built,
// a process that does not start).
//
//   npm run bench:failover           (builds first)
//   node bench/failover.mjs [--runs 5] [--outage both|kill|link]
//
// --outage both (default): kill, then link, each RUNS times, and a steady-state probe-rate line.
// --outage kill: SIGKILL the edge (connections refused at once), restart it.
// --outage link: down PoP A's link (the edge black-holed, A's own prober cut off), up again.
//
// The parts, each in its own file under bench/failover/: the namespaces (netns.mjs), the config
// every process reads (config.mjs), the PoPs' tiny edges (edges.mjs), the measurements
// (measure.mjs) and the summary table (report.mjs).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MERIDIAN_BIN as BIN, distBuilt, stopOnSignals, tempDir } from './lib.mjs';
import { SETTINGS, TOKEN, configYaml } from './failover/config.mjs';
import { startEdgeService } from './failover/edges.mjs';
import { POLL_MS, measureOutage, probeRate } from './failover/measure.mjs';
import { POPS, createTopology, ipQuiet, removeTopology, startIn } from './failover/netns.mjs';
import { rateLine, summaryTable } from './failover/report.mjs';

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, outage: { type: 'string', default: 'both' } },
});
const RUNS = Number(args.runs);
const OUTAGES = args.outage === 'both' ? ['kill', 'link'] : [args.outage];
if (!(RUNS >= 1) || !OUTAGES.every((o) => ['kill', 'link'].includes(o)))
  die('usage: node bench/failover.mjs [--runs N] [--outage both|kill|link]');

function die(msg) {
  process.stderr.write(`bench:failover: ${msg}\n`);
  process.exit(1);
}

async function main() {
  if (process.platform !== 'linux') die('needs Linux network namespaces');
  if (process.getuid?.() !== 0) die('needs root (network namespaces, veth pairs, a bridge); run it as root');
  if (ipQuiet('netns', 'list').status !== 0) die("'ip netns' does not work here (install iproute2)");
  if (spawnSync('dig', ['-v']).error) die('dig not found (apt-get install bind9-dnsutils)');
  if (!distBuilt()) die('dist/ is not built: npm run build (or npm run bench:failover)');

  // On exit (also after Ctrl-C: exit 130 at once) lib.mjs kills our processes and removes the
  // temp dir, then removeTopology() removes the namespaces.
  const dir = tempDir('meridian-bench-failover-');
  process.once('exit', removeTopology);
  stopOnSignals({ now: true });

  // The topology, the PoPs' edges, the DNS server, a prober in every PoP.
  const configPath = join(dir, 'meridian.yaml');
  writeFileSync(configPath, configYaml());
  createTopology();
  for (const pop of POPS) await startEdgeService(pop);
  // The variable wins over dns.control.token: give every process the same one.
  await startIn('dns', [BIN, 'dns', '--config', configPath], /meridian dns serving/, { MERIDIAN_CONTROL_TOKEN: TOKEN });
  for (const pop of POPS)
    await startIn(pop, [BIN, 'health', '--config', configPath, '--pop', pop], /meridian health probing/, {
      MERIDIAN_CONTROL_TOKEN: TOKEN,
    });

  const [load1] = os.loadavg();
  console.log(`bench:failover — ${RUNS} runs per outage (${OUTAGES.join(', ')}); median of ${RUNS}`);
  console.log(
    `health: interval ${SETTINGS.interval} ms, timeout ${SETTINGS.timeout} ms, fall ${SETTINGS.fall}, rise ${SETTINGS.rise} (fastInterval: the default); dig polled every ${POLL_MS} ms`,
  );
  console.log(
    `machine: ${os.cpus().length} CPUs, load average ${load1.toFixed(2)}, Node ${process.version}, ${os.release()}`,
  );

  // Steady-state probe traffic first, then each outage RUNS times.
  const rate = rateLine(await probeRate());
  console.log(rate);
  const summary = [];
  for (const outage of OUTAGES) summary.push(await measureOutage(outage, RUNS));

  console.log('');
  for (const l of summaryTable(summary)) console.log(l);
  console.log('');
  console.log(rate);
  if (OUTAGES.includes('kill'))
    console.log('"back" for a killed edge includes restarting the edge process (node start-up).');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:failover: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
