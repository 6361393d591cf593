#!/usr/bin/env node
// Edge bench: cache-hit throughput and latency of Meridian's edge, and of Varnish in front of the
// same origin when varnishd is installed, measured with wrk in the same run over 127.0.0.1.
//
// Prints figures and ratios; it is not a test and never fails because of a number (see
// bench/README.md, which also explains every step and how to read the table). It exits non-zero
// only when it cannot measure at all (wrk missing, dist/ not built, a server that does not start
// or dies during the run).
//
//   npm run bench:edge            (builds first)
//   node bench/edge.mjs [--no-varnish] [--baseline] [--default-only] [--hot-only | --mix-only]
//
// "meridian" is the edge as configured by default (edge.workers: auto, one serving process per
// core less one, at least one). For comparison (skip with --default-only), the other choice:
// "meridian-cores" (--workers = every core) when the default is one process, else "meridian-1"
// (--workers 1). --baseline adds a bare node:http server answering the same bytes from memory
// (no cache, no pipeline): the ceiling for one Node process on this machine (+ ~22 s).
//
// The steps, each in its own file under bench/edge/:
//   1. the origin: one 1 KiB cacheable object, every request counted     origin.mjs
//   2-3. Meridian's edge (and the other workers choice), Varnish, baseline servers.mjs
//   4. warm each cache: a miss, then a hit checked by its headers        warm.mjs, http.mjs
//   5. unmeasured load, then wrk runs, servers alternating; counters      measure.mjs, wrk.mjs, counters.mjs
//   6. many connections (-c1000) on the same hot object                  mix.mjs
//   7. the realistic mix: nginx with 2000 objects, Zipf-like popularity,  mix-origin.mjs, mix.lua,
//      each cache (both workers choices) started empty: 10 s cold, 10 s   mix.mjs, misses.lua
//      warm, then 5 s of misses only; two rounds
//   8. the report                                                         report.mjs
import os from 'node:os';
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
  fmtInt,
  runMain,
  stopChild,
  stopOnSignals,
  tempDir,
} from './lib.mjs';
import { meridianCounters, varnishCounters } from './edge/counters.mjs';
import { rawResponseBytes } from './edge/http.mjs';
import { WARM_LOAD_SECONDS, WRK_RUNS, measure, summarise } from './edge/measure.mjs';
import { OBJECT_BYTES, OBJECT_PATH, ORIGIN_CACHE_CONTROL, startOrigin } from './edge/origin.mjs';
import { measureMany, measureMix } from './edge/mix.mjs';
import { MIX_OBJECTS, startMixOrigin } from './edge/mix-origin.mjs';
import { edgeReport, manyReport, mixReport, toolVersions } from './edge/report.mjs';
import { startBaseline, startMeridianEdge, startVarnish } from './edge/servers.mjs';
import { warm } from './edge/warm.mjs';
import { WRK_CONNECTIONS, WRK_SECONDS, WRK_THREADS, wrk } from './edge/wrk.mjs';

const args = parseFlags(
  ['--no-varnish', '--baseline', '--default-only', '--hot-only', '--mix-only'],
  'usage: node bench/edge.mjs [--no-varnish] [--baseline] [--default-only] [--hot-only | --mix-only]',
);
// Processes, servers and temp dirs we own (see lib.mjs) all go away on exit, error, Ctrl-C.
stopOnSignals({ graceMs: 5000 });

async function main() {
  if (!prerequisitesMet('wrk', 'bench:edge')) return 1;
  const wantVarnish = !args.has('--no-varnish');
  const haveVarnish = wantVarnish && commandExists('varnishd');
  if (wantVarnish && !haveVarnish)
    log('bench: varnishd not installed (apt-get install varnish); measuring Meridian alone');
  const clkTck = clockTicks();
  const versions = toolVersions(haveVarnish);
  const loadBefore = os.loadavg();
  const otherCpu = await busyBefore();
  const work = tempDir('meridian-bench-edge-');
  const used = new Set();
  const nproc = os.availableParallelism();
  const env = {
    clkTck,
    versions,
    loadBefore,
    otherCpu,
    work,
    used,
    nproc,
    haveVarnish,
    ...(await workerChoices(nproc)),
  };
  const wantMix = !args.has('--hot-only');
  const haveNginx = wantMix && commandExists('nginx');
  if (wantMix && !haveNginx) log('bench: nginx not installed (apt-get install nginx-light); no mix workload');
  const hot = args.has('--mix-only') ? null : await hotObject(env);
  const mix = haveNginx ? await mixWorkload(env) : null;
  await cleanup();
  const report = [
    ...(hot ? edgeReport(hot) : []),
    ...(hot?.many ? ['', ...manyReport(hot)] : []),
    ...(mix ? ['', ...mixReport({ ...env, ...mix })] : []),
  ];
  process.stdout.write(`${report.join('\n')}\n`);
  return 0;
}

/**
 * The default edge's serving processes (edge.workers: auto, from the built code itself:
 * prerequisitesMet checked dist/) and the other choice measured beside it unless --default-only.
 */
async function workerChoices(nproc) {
  const { autoEdgeWorkers } = await import('../dist/edge/service.js');
  const defaultWorkers = autoEdgeWorkers();
  const otherWorkers = defaultWorkers === 1 ? nproc : 1;
  const otherName = otherWorkers === 1 ? 'meridian-1' : 'meridian-cores';
  const wantOther = !args.has('--default-only') && otherWorkers !== defaultWorkers;
  return { defaultWorkers, otherWorkers, otherName, wantOther };
}

/** The hot-object workload (steps 1-5), then many connections on the same object. */
async function hotObject(env) {
  const { clkTck, versions, loadBefore, otherCpu, work, used, nproc, haveVarnish } = env;
  const { defaultWorkers, otherWorkers, otherName, wantOther } = env;
  const originPort = await freePort(used);
  const mPort = await freePort(used);
  const mControl = await freePort(used);
  const vPort = haveVarnish ? await freePort(used) : 0;
  const sPort = wantOther ? await freePort(used) : 0;
  const sControl = wantOther ? await freePort(used) : 0;
  const wantBaseline = args.has('--baseline');
  const bPort = wantBaseline ? await freePort(used) : 0;

  // 1. The origin.
  const origin = await startOrigin(originPort);
  log(
    `bench: origin on ${HOST}:${originPort} serving ${OBJECT_PATH} (${OBJECT_BYTES} bytes, Cache-Control: ${ORIGIN_CACHE_CONTROL})`,
  );

  // 2-3. The servers under test, "meridian" (the default) first.
  log(
    `bench: starting meridian edge (default workers: auto = ${defaultWorkers}) on ${HOST}:${mPort} (control ${HOST}:${mControl})`,
  );
  const meridian = await startMeridianEdge(work, mPort, mControl, originPort);
  const subjects = [{ name: 'meridian', server: meridian, port: mPort, control: mControl }];
  if (wantOther) {
    log(`bench: starting ${otherName} (--workers ${otherWorkers}) on ${HOST}:${sPort} (control ${HOST}:${sControl})`);
    subjects.push({
      name: otherName,
      server: await startMeridianEdge(work, sPort, sControl, originPort, otherWorkers),
      port: sPort,
      control: sControl,
    });
  }
  if (haveVarnish) {
    log(`bench: starting varnishd on ${HOST}:${vPort}`);
    subjects.push({ name: 'varnish', server: await startVarnish(work, vPort, originPort), port: vPort });
  }
  if (wantBaseline) {
    log(`bench: starting the node:http baseline on ${HOST}:${bPort}`);
    subjects.push({ name: 'node:http', server: await startBaseline(bPort), port: bPort });
  }

  // 4. Warm each cache, and note the bytes one response takes on the wire.
  for (const s of subjects) {
    s.warm = await warm(s.name, s.port, origin);
    s.bytes = await rawResponseBytes(s.port, OBJECT_PATH).catch(() => ({ total: NaN, head: NaN }));
    s.runs = [];
  }

  // 5. Unmeasured load first (Node's JIT, Varnish's thread pools), then the measured runs, servers
  // alternating. The origin count must not move from here on.
  const originAfterWarm = origin.total;
  for (const s of subjects) {
    log(`bench: ${s.name}: ${WARM_LOAD_SECONDS} s of unmeasured load`);
    s.warmLoad = await wrk(s.port, WARM_LOAD_SECONDS);
    if (s.server.exited())
      throw new Error(`${s.name} died during the warm-up load (${s.server.exitText()}):\n${s.server.output()}`);
  }
  const originAfterWarmLoad = origin.total;
  log(
    `bench: measuring: wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${WRK_SECONDS}s --latency, ${WRK_RUNS} runs each, servers alternating`,
  );
  for (let i = 0; i < WRK_RUNS; i++) {
    for (const s of subjects) s.runs.push(await measure(s, origin, clkTck));
  }
  for (const s of subjects) {
    s.summary = summarise(s.runs);
    s.originDuringLoad = s.runs.reduce((a, r) => a + r.originRequests, 0);
    if (s.name.startsWith('meridian')) s.counters = await meridianCounters(s.control);
    else if (s.name === 'varnish') s.counters = await varnishCounters(s.server.dir);
  }
  const originDuringAll = origin.total - originAfterWarm;
  const originDuringWarmLoad = originAfterWarmLoad - originAfterWarm;
  // Many connections on the same (warm) object: Meridian's default and Varnish.
  const manySubjects = subjects.filter((s) => s.name === 'meridian' || s.name === 'varnish');
  const many = await measureMany(manySubjects, origin, clkTck);
  for (const s of manySubjects) s.server.assertAlive('the many-connections runs');
  // Out of the way of the mix workload.
  await Promise.all(subjects.map((s) => stopChild(s.server.child)));
  const other = wantOther ? { name: otherName, workers: otherWorkers } : null;
  return {
    versions,
    loadBefore,
    otherCpu,
    nproc,
    defaultWorkers,
    other,
    subjects,
    originDuringWarmLoad,
    originDuringAll,
    many,
  };
}

/**
 * The realistic mix: nginx with 2000 objects; Meridian (and the other workers choice) and Varnish
 * each started empty per round.
 */
async function mixWorkload({ clkTck, work, used, haveVarnish, otherWorkers, otherName, wantOther }) {
  const nginxPort = await freePort(used);
  const nginx = await startMixOrigin(work, nginxPort);
  log(
    `bench: mix origin: nginx on ${HOST}:${nginxPort}, ${MIX_OBJECTS} objects, ${fmtInt(nginx.bytesTotal)} bytes in all`,
  );
  let n = 0;
  const servers = [
    {
      name: 'meridian',
      start: async () => {
        const port = await freePort(used);
        const control = await freePort(used);
        return { server: await startMeridianEdge(work, port, control, nginxPort), port };
      },
    },
  ];
  if (wantOther)
    servers.push({
      name: otherName,
      start: async () => {
        const port = await freePort(used);
        const control = await freePort(used);
        return { server: await startMeridianEdge(work, port, control, nginxPort, otherWorkers), port };
      },
    });
  if (haveVarnish)
    servers.push({
      name: 'varnish',
      start: async () => {
        const port = await freePort(used);
        return { server: await startVarnish(work, port, nginxPort, `varnish-mix-${++n}`), port };
      },
    });
  const origin = {
    get total() {
      return nginx.fetches();
    },
  };
  return { rounds: await measureMix(servers, origin, clkTck), bytesTotal: nginx.bytesTotal };
}

runMain(main);
