#!/usr/bin/env node
// Zone-scale bench (issue 17): Meridian and gdnsd serving the same generated master file of 10k,
// 100k and 1M records, in the same run. Per server and size: load time (spawn to the first
// answer from the zone), RSS once loaded, QPS of an unthrottled dnsperf over names spread
// across the whole zone, and the worst query latency while the zone is reloaded (a steady 500
// queries/s; Meridian: SIGHUP, gdnsd: gdnsdctl reload-zones). Prints the figures and
// Meridian/gdnsd ratios; like bench/dns.mjs it never fails because of a number, only when it
// cannot measure.
//
//   npm run bench:zone-scale     (builds first)
//   node bench/zone-scale.mjs [--no-gdnsd] [--no-1m]
//
// Meridian runs one process (--workers 1) so RSS compares one serving copy of the zone with
// gdnsd's (udp_threads 1).
import { join } from 'node:path';
import {
  HOST,
  commandExists,
  fmt1,
  fmt2,
  fmtInt,
  formatTable,
  freePort,
  log,
  machineText,
  parseFlags,
  prerequisitesMet,
  rssMb,
  run,
  runMain,
  sleep,
  spawnMeridian,
  startServer,
  stopChild,
  stopOnSignals,
  tempDir,
  waitReady,
} from './lib.mjs';
import { dig } from './dns/dig.mjs';
import { DNSPERF_BASE, perf, runLine } from './dns/dnsperf.mjs';
import { ZONE, writeRow } from './zone-scale/files.mjs';
import { latencyDuringReload } from './zone-scale/reload.mjs';

const args = parseFlags(['--no-gdnsd', '--no-1m'], 'usage: node bench/zone-scale.mjs [--no-gdnsd] [--no-1m]');
stopOnSignals();

const SIZES = args.has('--no-1m') ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
const LOAD_TIMEOUT_MS = 180_000;
const QPS_SECONDS = 5;

/** Meridian reloads on SIGHUP and logs "config reloaded" when the new zone serves. */
async function reloadMeridian(server) {
  const before = server.output().split('config reloaded').length;
  process.kill(server.pid, 'SIGHUP');
  await waitReady(
    server,
    'reload',
    LOAD_TIMEOUT_MS,
    async () => server.output().split('config reloaded').length > before,
    20,
  );
}

/** gdnsdctl returns once gdnsd has loaded the zones again. */
async function reloadGdnsd(gdnsdDir) {
  const r = await run('gdnsdctl', ['-c', gdnsdDir, 'reload-zones'], { timeoutMs: LOAD_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`gdnsdctl reload-zones failed: ${r.err || r.out}`);
}

/**
 * Starts a server, times it until it answers from the zone, then measures RSS, QPS and the
 * latency during a reload; stops it.
 */
async function measure(label, start, port, queries, names, reload) {
  const t0 = performance.now();
  const server = start();
  const answered = async () =>
    (await dig(port, `h0.${ZONE}`, 'A').catch(() => ({ status: 'none' }))).status === 'NOERROR';
  await waitReady(server, `answer h0.${ZONE} A`, LOAD_TIMEOUT_MS, answered, 50);
  const loadS = (performance.now() - t0) / 1000;
  const r = await perf(server, port, { path: queries, procs: [DNSPERF_BASE] }, QPS_SECONDS, 0);
  log(runLine(label, 0, r));
  // Once serving: the load's garbage is given back to the system over the next seconds, so RSS is
  // read after the QPS run, and the peak (the most the machine must have) beside it.
  const rss = rssMb(server.pid);
  const peak = rssMb(server.pid, 'VmHWM');
  await sleep(500);
  const during = await latencyDuringReload(port, names, () => reload(server));
  log(
    `bench: ${label}: reload ${fmt2(during.reloadS)} s; worst query ${fmt1(during.worstMs)} ms, ` +
      `p99 ${fmt1(during.p99Ms)} ms, ${fmtInt(during.lost)} of ${fmtInt(during.sent)} lost`,
  );
  server.assertAlive('the reload');
  await stopChild(server.child);
  return { loadS, rss, peak, qps: r.qps, lost: r.lost, rcodes: r.rcodes, reload: during };
}

async function main() {
  if (!prerequisitesMet('dnsperf', 'bench:zone-scale')) return 1;
  const withGdnsd = !args.has('--no-gdnsd') && commandExists('gdnsd');
  const work = tempDir('meridian-bench-zone-scale-');
  const used = new Set();
  const rows = [];
  for (const records of SIZES) {
    const [mPort, mHttp, gPort] = [
      await freePort(used, { udp: true }),
      await freePort(used),
      await freePort(used, { udp: true }),
    ];
    log(`bench: writing a ${fmtInt(records)}-record zone`);
    const row = await writeRow(join(work, String(records)), records, gPort);
    const listen = ['--listen', `${HOST}:${mPort}`, '--control-listen', `${HOST}:${mHttp}`, '--workers', '1'];
    const m = await measure(
      `meridian ${fmtInt(records)}`,
      () => spawnMeridian(['dns', '--config', row.meridianConfig, ...listen]),
      mPort,
      row.queries,
      row.names,
      reloadMeridian,
    );
    log(
      `bench: meridian ${fmtInt(records)} records: load ${fmt2(m.loadS)} s, RSS ${fmtInt(m.rss)} MB (peak ${fmtInt(m.peak)})`,
    );
    const g = withGdnsd
      ? await measure(
          `gdnsd ${fmtInt(records)}`,
          () => startServer('gdnsd', 'gdnsd', ['-c', row.gdnsdDir, 'start']),
          gPort,
          row.queries,
          row.names,
          () => reloadGdnsd(row.gdnsdDir),
        )
      : null;
    if (g)
      log(
        `bench: gdnsd ${fmtInt(records)} records: load ${fmt2(g.loadS)} s, RSS ${fmtInt(g.rss)} MB (peak ${fmtInt(g.peak)})`,
      );
    rows.push({ records, names: row.names, m, g });
  }
  const reloadCell = (r) => `${fmt1(r.worstMs)}${r.lost ? ` (${fmtInt(r.lost)} lost)` : ''}`;
  const ratio = (a, b) => (b ? `${fmt2(a / b)}x` : 'n/a');
  const table = formatTable(
    [
      'records',
      'names',
      'Meridian load s',
      'RSS (peak) MB',
      'QPS (lost)',
      'worst ms in reload',
      'gdnsd load s',
      'RSS (peak) MB',
      'QPS (lost)',
      'worst ms in reload',
      'load ratio',
      'RSS ratio',
      'QPS ratio',
    ],
    rows.map(({ records, names, m, g }) => [
      fmtInt(records),
      fmtInt(names),
      fmt2(m.loadS),
      `${fmtInt(m.rss)} (${fmtInt(m.peak)})`,
      `${fmtInt(m.qps)} (${fmtInt(m.lost)})`,
      reloadCell(m.reload),
      g ? fmt2(g.loadS) : 'n/a',
      g ? `${fmtInt(g.rss)} (${fmtInt(g.peak)})` : 'n/a',
      g ? `${fmtInt(g.qps)} (${fmtInt(g.lost)})` : 'n/a',
      g ? reloadCell(g.reload) : 'n/a',
      g ? ratio(m.loadS, g.loadS) : 'n/a',
      g ? ratio(m.rss, g.rss) : 'n/a',
      g ? ratio(m.qps, g.qps) : 'n/a',
    ]),
    0,
  );
  process.stdout.write(`\nZone scale, ${machineText()}\n${table.join('\n')}\n`);
  process.stdout.write(
    'Load: spawn to the first answer from the zone (includes process start). RSS: after the QPS run ' +
      '(peak: the most it held, load included). QPS: one unthrottled dnsperf, ' +
      `${QPS_SECONDS} s, over 20,000 names spread across the zone. Worst ms in reload: the slowest answer to a ` +
      'steady 500 queries/s from 0.5 s before the reload is asked for to 0.5 s after it serves the new zone ' +
      '(lost: no answer within 2 s). Meridian: one process; gdnsd: one UDP thread.\n',
  );
  return 0;
}

runMain(main);
