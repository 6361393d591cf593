// Running dnsperf and reading its report. One measurement of a query file may take several dnsperf
// processes at once (one per ECS subnet with --ecs-parallel); perf() adds their figures up.
import { HOST, fmtInt, runClient } from '../lib.mjs';

// Every row is loaded the same way: 4 clients, 200 outstanding queries. -t 1 makes a response
// later than 1 s count as lost (on loopback it is lost in any useful sense) and keeps a lossy run
// from adding 5 s of waiting.
export const DNSPERF_CLIENTS = 4;
export const DNSPERF_OUTSTANDING = 200;
export const DNSPERF_BASE = ['-c', String(DNSPERF_CLIENTS), '-q', String(DNSPERF_OUTSTANDING), '-t', '1'];

/** The figures of one dnsperf report (NaN for what it did not print). */
function parseDnsperf(out) {
  const num = (re) => {
    const m = out.match(re);
    return m ? Number(m[1]) : NaN;
  };
  const size = out.match(/Average packet size:\s+request (\d+), response (\d+)/);
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    runTime: num(/Run time \(s\):\s+([\d.]+)/),
    latency: num(/Average Latency \(s\):\s+([\d.]+)/),
    rcodes: out.match(/Response codes:\s+(.*)/)?.[1]?.trim() ?? '',
    responseBytes: size ? Number(size[2]) : NaN,
  };
}

/**
 * One dnsperf process. dnsperf runs under `sh`, whose `times` reports the CPU dnsperf used (so the
 * CPU runs can tell dnsperf's share of the machine from other work's; see runClient). `opts` are
 * its -c/-q/-t/-E options.
 */
async function dnsperf(server, port, file, seconds, rate, opts = DNSPERF_BASE) {
  const argv = ['-s', HOST, '-p', String(port), '-d', file, '-l', String(seconds), ...opts];
  if (rate) argv.push('-Q', String(rate));
  const r = await runClient('dnsperf', argv);
  const res = parseDnsperf(r.out);
  res.clientCpuSeconds = r.cpuSeconds;
  server.assertAlive('dnsperf');
  if (r.code !== 0 || !Number.isFinite(res.completed) || !Number.isFinite(res.qps)) {
    throw new Error(`dnsperf ${argv.join(' ')} failed (exit ${r.code}):\n${r.out}${r.err}`);
  }
  return res;
}

/** Adds up "NOERROR 123 (100.00%), NXDOMAIN 4 (...)" lines from several dnsperf processes. */
function mergeRcodes(lines) {
  const counts = new Map();
  for (const line of lines) {
    for (const m of line.matchAll(/(\w+) (\d+) \(/g)) counts.set(m[1], (counts.get(m[1]) ?? 0) + Number(m[2]));
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...counts].map(([k, n]) => `${k} ${n} (${((100 * n) / total).toFixed(2)}%)`).join(', ');
}

/**
 * One measurement of a query file: its dnsperf processes (`f.procs`, one list of options each)
 * run in parallel, the target rate split evenly between them, and their figures added up: sent,
 * completed, lost, QPS and dnsperf CPU are sums, latency and response size are averages weighted
 * by completed queries, run time the longest.
 */
export async function perf(server, port, f, seconds, rate) {
  const n = f.procs.length;
  const rs = await Promise.all(
    f.procs.map((opts) => dnsperf(server, port, f.path, seconds, rate ? Math.max(1, Math.round(rate / n)) : 0, opts)),
  );
  if (n === 1) return rs[0];
  const sum = (k) => rs.reduce((a, r) => a + r[k], 0);
  const completed = sum('completed');
  const weighted = (k) => (completed > 0 ? rs.reduce((a, r) => a + r[k] * r.completed, 0) / completed : NaN);
  return {
    sent: sum('sent'),
    completed,
    lost: sum('lost'),
    qps: sum('qps'),
    runTime: Math.max(...rs.map((r) => r.runTime)),
    latency: weighted('latency'),
    rcodes: mergeRcodes(rs.map((r) => r.rcodes)),
    responseBytes: weighted('responseBytes'),
    clientCpuSeconds: sum('clientCpuSeconds'),
  };
}

/** One progress line (stderr) for a measurement at `rate` (0: unthrottled). */
export function runLine(label, rate, r) {
  const target = rate ? `Q=${fmtInt(rate)}` : 'unthrottled';
  const lossPct = r.sent ? ((100 * r.lost) / r.sent).toFixed(2) : '0';
  return `  ${label.padEnd(22)} ${target.padEnd(14)} -> ${fmtInt(r.qps).padStart(8)} qps, ${fmtInt(r.lost)} lost (${lossPct}%), avg latency ${(r.latency * 1000).toFixed(2)} ms, ${r.rcodes}`;
}
