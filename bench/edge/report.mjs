// The edge bench's report on stdout: what was run and how, one table row per measured run, the
// checks that only hits were measured, the medians against the targets, and a note on cores.
// Progress lines went to stderr while measuring.
import { spawnSync } from 'node:child_process';
import {
  busyBeforeText,
  fmt1,
  fmt2,
  fmtInt,
  fmtMs,
  formatTable,
  machineText,
  otherWorkCell,
  otherWorkLegend,
} from '../lib.mjs';
import { WARM_LOAD_SECONDS, WRK_RUNS, summaryText } from './measure.mjs';
import {
  MANY_CONNECTIONS,
  MANY_RUNS,
  MANY_SECONDS,
  MISS_SECONDS,
  MIX_ROUNDS,
  MIX_SECONDS,
  mixSummary,
} from './mix.mjs';
import { MIX_CACHE_CONTROL, MIX_OBJECTS } from './mix-origin.mjs';
import { OBJECT_BYTES, OBJECT_PATH, ORIGIN_CACHE_CONTROL } from './origin.mjs';
import { POP } from './servers.mjs';
import { hitHeader } from './warm.mjs';
import { WRK_CONNECTIONS, WRK_SECONDS, WRK_THREADS } from './wrk.mjs';

// The targets (bench/README.md, "Targets"); p99: no worse than Varnish's. A figure never fails the
// bench; the report says whether it meets its target.
const TARGET_RPS_RATIO = 0.75; // meridian / varnish hit req/s

export const processesText = (n) => (n === 1 ? 'one Node process' : `${n} serving workers`);

/** wrk's and (when `withVarnish`) varnishd's versions ("?" if not found; varnish null without it). */
export function toolVersions(withVarnish) {
  const wrkV = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return {
    wrk: `${wrkV.stdout}${wrkV.stderr}`.match(/wrk (?:\S*\/)?(\d[\w.+~-]*)/)?.[1] ?? '?',
    varnish: withVarnish
      ? ((spawnSync('varnishd', ['-V'], { encoding: 'utf8' }).stderr ?? '').match(/varnish-([\d.]+)/)?.[1] ?? '?')
      : null,
  };
}

/**
 * The report's lines. `run`: { versions, loadBefore (os.loadavg()), otherCpu (busyBefore()),
 * nproc, defaultWorkers, other ({ name, workers } of the second Meridian row, or null), subjects
 * (every server measured: name, server, runs, warm, bytes, warmLoad, summary, originDuringLoad,
 * counters), originDuringWarmLoad, originDuringAll }.
 */
export function edgeReport(run) {
  return [
    '',
    ...describeRun(run),
    '',
    ...runsTable(run),
    '',
    ...hitChecks(run),
    '',
    ...medianLines(run),
    '',
    ...noteLines(run),
  ];
}

/** How the run was made: machine, tools, the object, the servers, the load, the warm-ups. */
function describeRun({ versions, loadBefore, otherCpu, defaultWorkers, other, subjects }) {
  const { wrk: wrkVersion, varnish: varnishVersion } = versions;
  const haveVarnish = varnishVersion !== null;
  const wantOther = other !== null;
  const { name: otherName, workers: otherWorkers } = other ?? {};
  const varnishSubject = subjects.find((s) => s.name === 'varnish');
  const baselineSubject = subjects.find((s) => s.name === 'node:http');
  const out = [];
  out.push('Meridian edge bench: cache hits over 127.0.0.1 (wrk, the servers and the origin share this machine)');
  out.push(`${machineText()}, wrk ${wrkVersion}` + (haveVarnish ? `, varnish ${varnishVersion}` : ''));
  out.push(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; ${busyBeforeText(otherCpu)}`);
  out.push(
    `object: GET ${OBJECT_PATH}, ${OBJECT_BYTES} bytes, Cache-Control: ${ORIGIN_CACHE_CONTROL}, from an origin inside the bench process`,
  );
  out.push(
    `meridian: node bin/meridian.js edge --pop ${POP} (default edge settings: edge.workers auto = ${processesText(defaultWorkers)})` +
      (wantOther ? `; ${otherName}: the same with --workers ${otherWorkers} (${processesText(otherWorkers)})` : '') +
      (varnishSubject
        ? `; varnish: varnishd ${varnishSubject.server.argv.map((a) => (a.startsWith('/') ? '<tmp>' : a)).join(' ')} (builtin VCL, default thread pools)`
        : ''),
  );
  if (baselineSubject) {
    out.push(
      'node:http (--baseline): a bare node:http server, one process, answering the same bytes from memory (no cache, no pipeline): the ceiling for one Node process here',
    );
  }
  out.push(
    `load: wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${WRK_SECONDS}s --latency, after ${WARM_LOAD_SECONDS} s unmeasured; ${WRK_RUNS} runs per server, alternating; medians compared`,
  );
  for (const s of subjects) {
    out.push(
      `warm-up ${s.name}: ${s.name === 'node:http' ? 'answers 200 with the object' : s.warm.ok ? 'second request was a hit' : 'second request was NOT a hit'} (${hitHeader[s.name](s.warm.second.headers)}); ` +
        `${s.warm.originRequests} origin request(s); response on the wire ${fmtInt(s.bytes.total)} bytes (${fmtInt(s.bytes.head)} of status line and headers)`,
    );
  }
  return out;
}

/** One row per measured run, then the legend. */
function runsTable({ subjects }) {
  const out = [];
  const header = [
    'server',
    'req/s',
    'p50',
    'p90',
    'p99',
    'avg',
    'requests',
    'non-2xx',
    'sock err',
    'origin req',
    'CPU ms/1000 req',
    'server CPU',
    'wrk CPU',
    'other work',
  ];
  const rows = [];
  for (const s of subjects) {
    s.runs.forEach((r, i) => {
      const errs = r.socketErrors;
      const errText =
        errs.connect + errs.read + errs.write + errs.timeout === 0
          ? '0'
          : `c${errs.connect} r${errs.read} w${errs.write} t${errs.timeout}`;
      rows.push([
        `${s.name} #${i + 1}`,
        fmtInt(r.rps),
        fmtMs(r.p50Ms),
        fmtMs(r.p90Ms),
        fmtMs(r.p99Ms),
        fmtMs(r.avgMs),
        fmtInt(r.requests),
        fmtInt(r.non2xx),
        errText,
        fmtInt(r.originRequests),
        fmt1(r.cpuMsPer1000),
        `${(r.serverCores * 100).toFixed(0)}%`,
        `${(r.wrkCores * 100).toFixed(0)}%`,
        otherWorkCell(r.otherCores),
      ]);
    });
  }
  out.push(...formatTable(header, rows, 1));
  out.push('');
  out.push(
    `each server's figures below are the medians of its ${WRK_RUNS} runs (a single run's p99 moves by tens of per cent with scheduling here, Varnish's too);`,
  );
  out.push('server CPU / wrk CPU = utime+stime over the run (server: its whole process tree) in % of one core;');
  out.push(
    `other work = the machine's busy CPU minus the server's and wrk's (this script, the idle other server, anything else), +-20% of a core${otherWorkLegend(subjects.flatMap((s) => s.runs.map((r) => r.otherCores)))}`,
  );
  return out;
}

/** Did we measure hits, and only hits? The origin's count and each server's own counters. */
function hitChecks({ subjects, originDuringWarmLoad, originDuringAll }) {
  const out = [];

  // Did we measure hits, and only hits?
  for (const s of subjects) {
    if (s.name === 'node:http') continue; // no cache, no origin
    const c = s.counters ?? {};
    const measured = s.runs.reduce((a, r) => a + r.requests, 0) + s.warmLoad.requests;
    let counterText;
    if (c.error) counterText = `own counters unavailable (${c.error})`;
    else if (s.name.startsWith('meridian')) {
      const other = Object.entries(c).filter(([k, v]) => k !== 'hit' && v > 0);
      counterText = `its counters: ${fmtInt(c.hit ?? 0)} hits${other.length ? `, ${other.map(([k, v]) => `${fmtInt(v)} ${k}`).join(', ')}` : ''} (wrk counted ${fmtInt(measured)} under load; it does not count the responses in flight when it stops, nor the warm-up requests)`;
    } else {
      counterText = `its counters: ${fmtInt(c.client_req ?? NaN)} client requests, ${fmtInt(c.cache_hit ?? NaN)} hits, ${fmtInt(c.cache_miss ?? NaN)} misses, ${fmtInt(c.backend_req ?? NaN)} backend requests, ${fmtInt(c.threads ?? NaN)} worker threads (wrk counted ${fmtInt(measured)} under load, without those in flight at its end)`;
    }
    const bad = s.runs.some((r) => r.non2xx > 0 || Object.values(r.socketErrors).some((n) => n > 0));
    out.push(
      `hits only, ${s.name}: origin requests during its measured runs: ${s.originDuringLoad}${s.originDuringLoad === 0 ? ' (all hits)' : '  <-- the origin was asked during the measurement'}` +
        `; ${bad ? 'ERRORS under load (see non-2xx / sock err)' : 'no non-2xx, no socket errors'}; ${counterText}`,
    );
  }
  out.push(
    `origin requests: ${originDuringWarmLoad} during the unmeasured load, ${originDuringAll} in all after the warm-up requests${originDuringAll === 0 ? ' (the origin saw only the warm-up requests)' : ''}`,
  );
  return out;
}

/** Each server's medians, the targets against Varnish, the --baseline comparison. */
function medianLines({ defaultWorkers, other: otherRow, subjects }) {
  const otherWorkers = otherRow?.workers;
  const m = subjects[0];
  const other = subjects.find((s) => s.name === otherRow?.name);
  const varnishSubject = subjects.find((s) => s.name === 'varnish');
  const baselineSubject = subjects.find((s) => s.name === 'node:http');
  const out = [];
  out.push(`medians of ${WRK_RUNS} runs (range in brackets):`);
  out.push(`meridian:   ${summaryText(m.summary)} (${processesText(defaultWorkers)})`);
  if (other) out.push(`${other.name}: ${summaryText(other.summary)} (${processesText(otherWorkers)})`);
  if (varnishSubject) {
    const v = varnishSubject;
    const ratio = m.summary.rps / v.summary.rps;
    const cpuRatio = m.summary.cpuMsPer1000 / v.summary.cpuMsPer1000;
    out.push(`varnish:    ${summaryText(v.summary)}`);
    out.push(
      `target: meridian / varnish hit req/s >= ${TARGET_RPS_RATIO}: ${fmt2(ratio)} (${ratio >= TARGET_RPS_RATIO ? 'meets it' : 'below it'})`,
    );
    out.push(
      `target: meridian p99 no worse than varnish's: ${fmtMs(m.summary.p99Ms)} vs ${fmtMs(v.summary.p99Ms)} = ${fmt2(m.summary.p99Ms / v.summary.p99Ms)}x ` +
        `(${m.summary.p99Ms <= v.summary.p99Ms ? 'meets it' : 'worse'})`,
    );
    out.push(
      `CPU per request: meridian / varnish = ${Number.isFinite(cpuRatio) ? `${cpuRatio.toFixed(2)}x` : 'n/a'} (no target)`,
    );
    if (other)
      out.push(
        `${other.name} (${processesText(otherWorkers)}) / varnish hit req/s = ${fmt2(other.summary.rps / v.summary.rps)}, p99 ${fmt2(other.summary.p99Ms / v.summary.p99Ms)}x; meridian / ${other.name} req/s = ${fmt2(m.summary.rps / other.summary.rps)}`,
      );
  } else {
    out.push('varnish: not measured (varnishd not installed, or --no-varnish); no ratio');
  }
  if (baselineSubject) {
    const b = baselineSubject.summary;
    out.push(
      `node:http baseline: ${fmtInt(b.rps)} req/s, p99 ${fmtMs(b.p99Ms)}, ${fmt1(b.cpuMsPer1000)} ms CPU per 1000 requests; ` +
        `meridian / baseline req/s = ${fmt2(m.summary.rps / b.rps)}, CPU per request ${fmt2(m.summary.cpuMsPer1000 / b.cpuMsPer1000)}x` +
        (varnishSubject
          ? `; baseline / varnish req/s = ${fmt2(b.rps / varnishSubject.summary.rps)} (what one Node process can reach at best)`
          : ''),
    );
  }
  return out;
}

/** Why the servers' figures are not only about the servers: processes, threads and wrk on the same cores. */
function noteLines({ nproc }) {
  const out = [];
  out.push(
    `note: one Node process has one JS thread (at most ~1 core plus libuv/GC threads); with more, node:cluster workers (one JS thread each) ` +
      `serve and a primary hands out connections and coordinates; Varnish is multi-threaded. ` +
      `wrk (-t${WRK_THREADS}) runs on the same ${nproc} cores, so the client takes CPU the servers would otherwise get.`,
  );
  return out;
}

/** Many connections on the hot object: each run, the medians, the targets against Varnish. */
export function manyReport({ many }) {
  const out = [
    `Many connections: wrk -t${WRK_THREADS} -c${MANY_CONNECTIONS} -d${MANY_SECONDS}s --latency on ${OBJECT_PATH} (warm), ${MANY_RUNS} runs each, alternating`,
  ];
  const rows = [];
  for (const [name, runs] of many)
    runs.forEach((r, i) =>
      rows.push([
        `${name} #${i + 1}`,
        fmtInt(r.rps),
        fmtMs(r.p50Ms),
        fmtMs(r.p99Ms),
        fmtInt(r.socketErrors.timeout),
        fmtInt(r.non2xx + r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write),
      ]),
    );
  out.push(...formatTable(['server', 'req/s', 'p50', 'p99', 'timed out', 'other errors'], rows, 1));
  out.push(
    'timed out: wrk counts, every 2 s, each connection whose request has waited 2 s or more (a starved connection counts once per check)',
  );
  const m = many.get('meridian');
  const v = many.get('varnish');
  if (m && v) {
    const ms = mixSummary(m);
    const vs = mixSummary(v);
    out.push(
      `target: no request timed out: meridian ${ms.timeouts}, varnish ${vs.timeouts} (${ms.timeouts === 0 ? 'meets it' : 'misses it'})`,
      `target: meridian p99 no worse than varnish's: ${fmtMs(ms.p99Ms)} vs ${fmtMs(vs.p99Ms)} (${ms.p99Ms <= vs.p99Ms ? 'meets it' : 'worse'}); req/s ${fmt2(ms.rps / vs.rps)}x varnish's`,
    );
  }
  return out;
}

/** The realistic mix: each round's cold and warm phase, the medians, the targets against Varnish. */
export function mixReport({ rounds, bytesTotal, otherName, otherWorkers }) {
  const out = [
    `Realistic mix: ${MIX_OBJECTS} objects (60% 1 KiB, 30% 16 KiB, 10% 256 KiB; ${fmtInt(bytesTotal)} bytes in all) from nginx, Cache-Control: ${MIX_CACHE_CONTROL};`,
    `request for object floor(${MIX_OBJECTS}^u) - 1, u uniform (Zipf-like: object 0 the most asked); each server started empty, wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS}`,
    `-d${MIX_SECONDS}s cold (first requests are misses) then -d${MIX_SECONDS}s warm; ${MIX_ROUNDS} rounds, servers alternating; medians compared;`,
    `then -d${MISS_SECONDS}s of misses only (each request a URL not asked before: an object of the mix with a query of its own)`,
  ];
  const rows = [];
  for (const [name, list] of rounds)
    list.forEach(({ cold, warm, misses }, i) => {
      for (const [phase, r] of [
        ['cold', cold],
        ['warm', warm],
        ['misses', misses],
      ])
        rows.push([
          `${name} #${i + 1} ${phase}`,
          fmtInt(r.rps),
          fmtMs(r.p50Ms),
          fmtMs(r.p90Ms),
          fmtMs(r.p99Ms),
          fmtInt(r.originRequests),
          fmtInt(r.non2xx + Object.values(r.socketErrors).reduce((a, b) => a + b, 0)),
          fmt1(r.cpuMsPer1000),
          otherWorkCell(r.otherCores),
        ]);
    });
  out.push(
    ...formatTable(
      ['server', 'req/s', 'p50', 'p90', 'p99', 'origin fetches', 'errors', 'CPU ms/1000 req', 'other work'],
      rows,
      1,
    ),
  );
  const m = rounds.get('meridian');
  const v = rounds.get('varnish');
  if (m && v) {
    const [mc, mw, vc, vw] = [
      m.map((r) => r.cold),
      m.map((r) => r.warm),
      v.map((r) => r.cold),
      v.map((r) => r.warm),
    ].map(mixSummary);
    const meets = (ok) => (ok ? 'meets it' : 'misses it');
    out.push(
      `medians: meridian cold ${fmtInt(mc.rps)} req/s p99 ${fmtMs(mc.p99Ms)}, warm ${fmtInt(mw.rps)} req/s p99 ${fmtMs(mw.p99Ms)}; varnish cold ${fmtInt(vc.rps)} req/s p99 ${fmtMs(vc.p99Ms)}, warm ${fmtInt(vw.rps)} req/s p99 ${fmtMs(vw.p99Ms)}`,
      `target: warm req/s >= 1.0x varnish: ${fmt2(mw.rps / vw.rps)}x (${meets(mw.rps >= vw.rps)})`,
      `target: warm p99 <= varnish's: ${fmt2(mw.p99Ms / vw.p99Ms)}x (${meets(mw.p99Ms <= vw.p99Ms)})`,
      `target: cold p99 <= 2x varnish's: ${fmt2(mc.p99Ms / vc.p99Ms)}x (${meets(mc.p99Ms <= 2 * vc.p99Ms)})`,
      `target: origin fetches (cold + warm) no more than varnish's: ${fmtInt(mc.originRequests + mw.originRequests)} vs ${fmtInt(vc.originRequests + vw.originRequests)} (${meets(mc.originRequests + mw.originRequests <= vc.originRequests + vw.originRequests)})`,
      `CPU per request, warm: meridian / varnish = ${fmt2(mw.cpuMsPer1000 / vw.cpuMsPer1000)}x; cold: ${fmt2(mc.cpuMsPer1000 / vc.cpuMsPer1000)}x (no target)`,
    );
    // What a miss costs, alone: the cold phase's misses come in its first seconds, among hits.
    const [mm, vm] = [m.map((r) => r.misses), v.map((r) => r.misses)].map(mixSummary);
    out.push(
      `misses only (no target): meridian ${fmtInt(mm.rps)} req/s p99 ${fmtMs(mm.p99Ms)}, ${fmt1(mm.cpuMsPer1000)} ms CPU per 1000; varnish ${fmtInt(vm.rps)} req/s p99 ${fmtMs(vm.p99Ms)}, ${fmt1(vm.cpuMsPer1000)} ms; req/s ${fmt2(mm.rps / vm.rps)}x, CPU per miss ${fmt2(mm.cpuMsPer1000 / vm.cpuMsPer1000)}x`,
    );
    // The other workers choice: the default on a machine with more (or fewer) cores, no target.
    const o = rounds.get(otherName);
    if (o) {
      const [oc, ow] = [o.map((r) => r.cold), o.map((r) => r.warm)].map(mixSummary);
      out.push(
        `${otherName} (--workers ${otherWorkers}, no target): warm req/s ${fmt2(ow.rps / vw.rps)}x varnish, warm p99 ${fmt2(ow.p99Ms / vw.p99Ms)}x, cold p99 ${fmt2(oc.p99Ms / vc.p99Ms)}x, origin fetches ${fmtInt(oc.originRequests + ow.originRequests)} vs ${fmtInt(vc.originRequests + vw.originRequests)}`,
      );
    }
  } else out.push('varnish: not measured; no ratio');
  return out;
}
