#!/usr/bin/env node
// DNS bench: Meridian vs gdnsd, measured with dnsperf in the same run, over UDP on 127.0.0.1.
//
// Prints figures and ratios; it is not a test and never fails because of a number (see
// bench/README.md, which also explains every step and how to read the table). It exits non-zero
// only when it cannot measure at all (dnsperf missing, dist/ not built, a server that does not
// start or dies during the run).
//
//   npm run bench:dns            (builds first)
//   node bench/dns.mjs [--no-gdnsd] [--ecs-parallel] [--no-single] [--rrl=on|off]
//
// The steps, each in its own file under bench/dns/:
//   1. query files: static A, routed + ECS, mixed                         query-files.mjs, ecs.mjs
//   2. start Meridian: the defaults, and unless --no-single two variants  servers.mjs
//   3. gdnsd from the same config, routed names as Meridian answers them  gdnsd-config.mjs
//   4. same answers from both (dig), and dnsperf's ECS really steers     compare-answers.mjs, ecs.mjs
//   5. per server and file: max QPS with no loss, CPU per query at 40k    measure.mjs, dnsperf.mjs
//   6. the report                                                         report.mjs
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  HOST,
  busyBefore,
  clockTicks,
  cleanup,
  commandExists,
  freePort,
  log,
  parseFlags,
  prerequisitesMet,
  runMain,
  stopOnSignals,
  tempDir,
} from './lib.mjs';
import { CHECK_QUERIES, compareAnswers } from './dns/compare-answers.mjs';
import { answerText, digAnswer, digInstalled } from './dns/dig.mjs';
import { checkEcs, ecsRow } from './dns/ecs.mjs';
import { writeGdnsdConfig } from './dns/gdnsd-config.mjs';
import { cpuPerQuery, maxQps } from './dns/measure.mjs';
import { ROUTED_LINES, STATIC_LINES, writeQueryFiles } from './dns/query-files.mjs';
import { dnsReport, toolVersions } from './dns/report.mjs';
import { benchConfig, dgramConfig, meridianShape, rrlFor, startGdnsd, startMeridian } from './dns/servers.mjs';

const args = parseFlags(
  ['--no-gdnsd', '--ecs-parallel', '--no-single', '--rrl=on', '--rrl=off'],
  'usage: node bench/dns.mjs [--no-gdnsd] [--ecs-parallel] [--no-single] [--rrl=on|off]',
);
// Response rate limiting as the server defaults to (on), with nothing limited; or off. See rrlFor.
const rrlMode = args.has('--rrl=off') ? 'off' : 'on';
// Processes and temp dirs we own (see lib.mjs) all go away on exit, error, Ctrl-C.
stopOnSignals();

async function main() {
  if (!prerequisitesMet('dnsperf', 'bench:dns')) return 1;
  const wantGdnsd = !args.has('--no-gdnsd');
  const haveGdnsd = wantGdnsd && commandExists('gdnsd');
  const haveDig = digInstalled();
  if (wantGdnsd && !haveGdnsd) log('bench: gdnsd not installed (apt-get install gdnsd); measuring Meridian alone');
  const clkTck = clockTicks();
  const versions = toolVersions(haveGdnsd);
  const otherCpu = await busyBefore();
  const work = tempDir('meridian-bench-dns-');

  // 1. Query files.
  const ecs = ecsRow(args.has('--ecs-parallel'));
  const files = writeQueryFiles(work, ecs.procs);

  const used = new Set();
  const take = () => freePort(used, { udp: true });
  const mPort = await take();
  const mHttp = await take();
  const gPort = haveGdnsd ? await take() : 0;

  // 2. Meridian. "meridian" is the default (dns.workers: auto, dns.udpBatching: auto). For
  // comparison (skip with --no-single): "meridian-cores", one batched worker per core, and
  // "meridian-dgram", UDP through node:dgram (what runs where the addon was not built) with its
  // default workers.
  const rrl = rrlFor(rrlMode);
  const config = benchConfig(work, 'demo.yaml', { rrl });
  log(`bench: dns.rrl ${rrlMode === 'off' ? 'off' : 'on, rates too high to limit the bench'} (--rrl=${rrlMode})`);
  const meridian = await startMeridian(mPort, mHttp, 'auto', config);
  log(`bench: meridian (defaults: ${await meridianShape(mHttp)}) on ${HOST}:${mPort}`);
  const servers = [{ name: 'meridian', server: meridian, port: mPort }];
  if (!args.has('--no-single')) {
    const [cPort, cHttp, dPort, dHttp] = [await take(), await take(), await take(), await take()];
    servers.push({
      name: 'meridian-cores',
      server: await startMeridian(cPort, cHttp, availableParallelism(), config),
      port: cPort,
    });
    log(`bench: meridian-cores (${await meridianShape(cHttp)}) on ${HOST}:${cPort}`);
    servers.push({
      name: 'meridian-dgram',
      server: await startMeridian(dPort, dHttp, 'auto', dgramConfig(work, rrl)),
      port: dPort,
    });
    log(`bench: meridian-dgram (${await meridianShape(dHttp)}) on ${HOST}:${dPort}`);
  }

  // 3. gdnsd, serving what Meridian serves (its routed names as static records).
  let routeCount = 0;
  if (haveGdnsd) {
    const gdir = join(work, 'gdnsd');
    mkdirSync(gdir);
    routeCount = (await writeGdnsdConfig(gdir, gPort, mPort)).routes;
    log(`bench: starting gdnsd on ${HOST}:${gPort}`);
    servers.push({ name: 'gdnsd', server: await startGdnsd(gdir, gPort), port: gPort });
  }

  // 4. Do both answer alike? Without gdnsd, dig shows what Meridian answers.
  let diffs = null;
  if (haveDig && haveGdnsd) {
    diffs = await compareAnswers(mPort, gPort);
    log(
      `bench: dig: ${CHECK_QUERIES.length - diffs.length}/${CHECK_QUERIES.length} queries answered the same by both servers (TTLs ignored)`,
    );
    for (const d of diffs) log(`  differs: ${d.q}\n    meridian: ${d.m}\n    gdnsd:    ${d.g}`);
  } else if (haveDig) {
    for (const q of [STATIC_LINES[0], ROUTED_LINES[0]])
      log(`bench: dig ${q} -> ${answerText(await digAnswer(mPort, q))}`);
  }
  // The routed + ECS row measures what it claims only if dnsperf sends the ECS option and Meridian
  // answers it per subnet; otherwise the row is left out (and the report says why).
  const ecsCheck = await checkEcs(mPort, files.find((f) => f.key === 'routed').path, ecs.list);
  for (const l of ecsCheck.lines) log(`bench: ECS check: ${l}`);
  if (!ecsCheck.ok) log('bench: warning: the ECS check failed; the routed + ECS row is not measured');

  // 5. Measure one server at a time (the others sit idle).
  const results = new Map();
  for (const { name, server, port } of servers) {
    for (const f of files) {
      if (f.meridianOnly && !name.startsWith('meridian')) continue;
      if (f.key === 'routed' && !ecsCheck.ok) continue;
      const label = `${name} ${f.label}`;
      const search = await maxQps(server, port, label, f);
      const cpu = await cpuPerQuery(server, port, label, f, clkTck);
      results.set(`${name}/${f.key}`, { search, cpu });
    }
  }
  await cleanup();

  // 6. Report.
  const report = dnsReport({
    versions,
    otherCpu,
    haveGdnsd,
    haveDig,
    ecs,
    ecsCheck,
    files,
    routeCount,
    diffs,
    servers,
    results,
    rrlMode,
  });
  process.stdout.write(`${report.join('\n')}\n`);
  return 0;
}

runMain(main);
