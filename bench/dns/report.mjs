// The DNS bench's report on stdout: what was run and how, the table (one row per server and query
// file), and the targets and ratios. Progress lines went to stderr while measuring.
import { spawnSync } from 'node:child_process';
import { busyBeforeText, fmt1, fmtInt, formatTable, machineText, otherWorkCell, otherWorkLegend } from '../lib.mjs';
import { CHECK_QUERIES } from './compare-answers.mjs';
import { DNSPERF_BASE } from './dnsperf.mjs';
import { ACHIEVED_FRACTION, CPU_RATE, CPU_SECONDS, MAX_SEARCH_RUNS, SEARCH_SECONDS } from './measure.mjs';
import { ROUTED_LINES, ROUTED_NAME, STATIC_LINES, STATIC_NAME, mixedDescription } from './query-files.mjs';

// The targets (bench/README.md, "Targets"). A figure never fails the bench; the report says
// whether it meets its target.
const TARGET_STATIC_QPS = 75_000;
const TARGET_CPU_RATIO = 2.5;
const TARGET_ROUTED_RATIO = 0.8; // Meridian routed + ECS max QPS / static A max QPS

/** dnsperf's and (when `withGdnsd`) gdnsd's versions, as their help texts print them ("?" if not found). */
export function toolVersions(withGdnsd) {
  const ver = (r, re) => (r ? `${r.stdout}${r.stderr}`.match(re)?.[1] : undefined) ?? '?';
  return {
    dnsperf: ver(spawnSync('dnsperf', ['-h'], { encoding: 'utf8' }), /Version ([\d.]+)/),
    gdnsd: withGdnsd ? ver(spawnSync('gdnsd', ['-h'], { encoding: 'utf8' }), /gdnsd version ([\d.]+)/) : '?',
  };
}

/**
 * The report's lines. `run`: { versions, otherCpu (busyBefore()), haveGdnsd, haveDig, ecs
 * (ecsRow()), ecsCheck, files, routeCount, diffs (null when not compared), servers, results (Map
 * "server/file key" -> { search, cpu }) }.
 */
export function dnsReport(run) {
  return ['', ...describeRun(run), '', ...resultsTable(run), '', ...targetLines(run)];
}

/** How the run was made: machine, tools, dnsperf options, query files, checks. */
function describeRun({ versions, otherCpu, haveGdnsd, haveDig, ecs, ecsCheck, files, routeCount, diffs, rrlMode }) {
  const { single: ecsSingle, list: ecsList, procs: ecsProcs } = ecs;
  const mixedFile = files.find((f) => f.key === 'mixed');
  const out = [];
  out.push('Meridian DNS bench (UDP over 127.0.0.1; dnsperf and the server share this machine)');
  out.push(
    `${machineText()}, ` + `dnsperf ${versions.dnsperf}${haveGdnsd ? `, gdnsd ${versions.gdnsd} (udp_threads 1)` : ''}`,
  );
  out.push(busyBeforeText(otherCpu));
  out.push(
    rrlMode === 'off'
      ? 'Meridian: dns.rrl off (--rrl=off)'
      : 'Meridian: dns.rrl on, as by default, with rates nothing here reaches (--rrl=on; --rrl=off to compare)',
  );
  out.push(
    `dnsperf: ${DNSPERF_BASE.join(' ')}; max QPS = highest -Q with 0 lost and >= ${ACHIEVED_FRACTION * 100}% achieved (-l ${SEARCH_SECONDS}, <= ${MAX_SEARCH_RUNS} runs); CPU at -Q ${CPU_RATE} -l ${CPU_SECONDS}`,
  );
  out.push(
    `query files: static A = ${STATIC_LINES.length} case variants of ${STATIC_NAME} A (a static record, both servers)`,
  );
  out.push(
    `             routed + ECS = ${ROUTED_LINES.length} case variants of ${ROUTED_NAME} A (a routed name) with EDNS Client Subnet, ` +
      (ecsSingle
        ? `ONE client subnet, ${ecsList[0].cidr} (${ecsList[0].where}): dnsperf ${DNSPERF_BASE.join(' ')} -E ${ecsList[0].arg}. ` +
          'Not varied: several dnsperf in parallel (one per subnet; --ecs-parallel) cost more client CPU on 2 cores and lowered the figures'
        : `${ecsList.length} dnsperf in parallel (--ecs-parallel), one per subnet (${ecsList.map((e) => `${e.cidr} ${e.where}`).join(', ')}), each ${ecsProcs[0].slice(0, 6).join(' ')} -E 8:<subnet>, rates split evenly, figures summed; ` +
          'on 2 cores the extra dnsperf processes take CPU from the server, so these figures read low'),
  );
  out.push(`             mixed = ${mixedFile.lines.length} lines: ${mixedDescription()}; no ECS`);
  if (ecsCheck.ok) {
    out.push(
      `ECS check: each subnet's dnsperf query carries the ECS option meant, and meridian answers it per subnet (scope > 0${haveDig ? ', same A as dig +subnet' : ''})`,
    );
  } else {
    out.push(`ECS check FAILED, routed + ECS not measured: ${ecsCheck.lines.at(-1) ?? '?'}`);
  }
  if (routeCount) {
    out.push(
      `routes: the zone has ${routeCount} routed name(s) (answered per client from a pool); in the mixed file gdnsd serves Meridian's answer to 127.0.0.1 for them as static records`,
    );
  }
  if (haveGdnsd) {
    out.push(
      "gdnsd has no routed + ECS row: answering per client subnet would need its geoip plugin (and a GeoIP database and map equivalent to Meridian's), which this bench does not set up",
    );
  }
  if (diffs)
    out.push(
      `answers: ${CHECK_QUERIES.length - diffs.length}/${CHECK_QUERIES.length} check queries identical on both servers (rcode, aa, answer RRs; TTLs ignored)`,
    );
  return out;
}

/** One row per server and query file measured, then the "other work" legend. */
function resultsTable({ servers, files, results }) {
  const out = [];
  const header = [
    'server',
    'queries',
    'max QPS (0 lost)',
    'at -Q',
    `CPU µs/query @${CPU_RATE / 1000}k`,
    'achieved @40k',
    'lost @40k',
    'server CPU',
    'other work',
    'resp bytes',
  ];
  const rows = [];
  for (const { name } of servers) {
    for (const f of files) {
      if (!results.has(`${name}/${f.key}`)) continue;
      const { search, cpu } = results.get(`${name}/${f.key}`);
      const b = search.best;
      rows.push([
        name,
        f.label,
        b ? fmtInt(b.r.qps) : 'none (losses)',
        b ? (b.rate ? fmtInt(b.rate) : 'unthrottled') : '-',
        fmt1(cpu.usPerQuery),
        fmtInt(cpu.r.qps),
        fmtInt(cpu.r.lost),
        `${cpu.corePct.toFixed(0)}% of a core`,
        otherWorkCell(cpu.otherCores),
        fmtInt(cpu.r.responseBytes),
      ]);
    }
  }
  out.push(...formatTable(header, rows, 2));
  out.push('');
  out.push(
    `other work = CPU used on the machine during the 40k run by anything but the server and dnsperf, in % of a core (+-20%)${otherWorkLegend([...results.values()].map((x) => x.cpu.otherCores))}`,
  );
  return out;
}

/** Each target against its figure, and the ratios between servers. */
function targetLines({ haveGdnsd, ecs, files, results }) {
  const { single: ecsSingle, list: ecsList } = ecs;
  const out = [];
  const ms = results.get('meridian/static');
  const msQps = ms.search.best?.r.qps ?? 0;
  out.push(
    `target: meridian static A >= ${fmtInt(TARGET_STATIC_QPS)} QPS with no loss: ${fmtInt(msQps)} (${msQps >= TARGET_STATIC_QPS ? 'meets it' : 'below it'})`,
  );
  const mr = results.get('meridian/routed');
  if (mr) {
    const mrQps = mr.search.best?.r.qps ?? 0;
    const ratio = msQps ? mrQps / msQps : NaN;
    const cpuRatio = mr.cpu.usPerQuery / ms.cpu.usPerQuery;
    out.push(
      `target: meridian routed + ECS / static A max QPS >= ${TARGET_ROUTED_RATIO.toFixed(2)}: ${fmtInt(mrQps)} / ${fmtInt(msQps)} = ` +
        `${Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a'} (${ratio >= TARGET_ROUTED_RATIO ? 'meets it' : 'below it'})` +
        `; CPU per query routed / static: ${Number.isFinite(cpuRatio) ? `${cpuRatio.toFixed(2)}x` : 'n/a'}` +
        (ecsSingle ? ` [one ECS subnet, ${ecsList[0].cidr}]` : ' [--ecs-parallel: reads low on 2 cores]'),
    );
  } else {
    out.push('target: meridian routed + ECS / static A max QPS: not measured (the ECS check failed, see above)');
  }
  if (haveGdnsd) {
    for (const f of files) {
      const m = results.get(`meridian/${f.key}`);
      const g = results.get(`gdnsd/${f.key}`);
      if (!m || !g) continue;
      const mq = m.search.best?.r.qps ?? 0;
      const gq = g.search.best?.r.qps ?? 0;
      const cpuRatio = m.cpu.usPerQuery / g.cpu.usPerQuery;
      const cpuText = Number.isFinite(cpuRatio) ? `${cpuRatio.toFixed(1)}x` : 'n/a';
      out.push(`${f.label}: meridian / gdnsd QPS: ${gq ? (mq / gq).toFixed(2) : 'n/a'}`);
      if (f.key === 'static') {
        out.push(
          `${f.label}: meridian / gdnsd CPU per query: ${cpuText} (target <= ${TARGET_CPU_RATIO}x: ${cpuRatio <= TARGET_CPU_RATIO ? 'meets it' : 'above it'})`,
        );
      } else {
        out.push(
          `${f.label}: meridian / gdnsd CPU per query: ${cpuText} (not like-for-like: Meridian routes the routed names per query, gdnsd serves them static; the ${TARGET_CPU_RATIO}x target is for static A)`,
        );
      }
    }
    for (const name of ['meridian-cores', 'meridian-dgram']) {
      const other = results.get(`${name}/static`);
      if (other)
        out.push(
          `static A: ${name} / gdnsd CPU per query: ${(other.cpu.usPerQuery / results.get('gdnsd/static').cpu.usPerQuery).toFixed(1)}x`,
        );
    }
    out.push(
      'note: gdnsd near ~140k QPS is usually limited by dnsperf on a 2-core machine, not by gdnsd; the CPU ratio is the steadier figure.',
    );
  }
  return out;
}
