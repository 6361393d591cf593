// The two figures of each row: the highest rate the server answers with no lost queries (a
// bounded binary search with dnsperf), and its CPU per query at a fixed rate (from /proc).
import { fmt1, log, machineWindow, treeCpuTicks } from '../lib.mjs';
import { perf, runLine } from './dnsperf.mjs';

// Max QPS: dnsperf -l 3, first unthrottled (a ceiling), then a binary search on -Q RATE, at most
// 8 runs in all, for the highest rate with 0 lost and >= 97% of RATE achieved. Above a server's
// capacity a throttled dnsperf often achieves *less* than an unthrottled one (both fight for the
// CPUs), hence the achieved-fraction rule.
export const SEARCH_SECONDS = 3;
export const MAX_SEARCH_RUNS = 8; // including the unthrottled one
export const ACHIEVED_FRACTION = 0.97;
// CPU per query: dnsperf -Q 40000 -l 5, the same fixed rate for every server and row.
export const CPU_RATE = 40_000;
export const CPU_SECONDS = 5;

/** Highest rate with 0 lost and >= 97% of the target achieved; at most MAX_SEARCH_RUNS dnsperf runs. */
export async function maxQps(server, port, label, f) {
  const runs = [];
  const first = await perf(server, port, f, SEARCH_SECONDS, 0);
  runs.push({ rate: 0, r: first });
  log(runLine(label, 0, first));
  let best = first.lost === 0 ? { rate: 0, r: first } : null;
  let lo = best ? Math.floor(first.qps) : 0; // highest rate known to pass
  let hi = best ? Math.ceil(first.qps * 1.5) : Math.ceil(first.qps); // first rate assumed to fail
  while (runs.length < MAX_SEARCH_RUNS && hi - lo > Math.max(1000, lo * 0.02)) {
    const rate = Math.round((lo + hi) / 2 / 500) * 500;
    if (rate <= lo || rate >= hi) break;
    const r = await perf(server, port, f, SEARCH_SECONDS, rate);
    runs.push({ rate, r });
    const ok = r.lost === 0 && r.qps >= ACHIEVED_FRACTION * rate;
    log(`${runLine(label, rate, r)}  ${ok ? 'ok' : 'FAIL'}`);
    if (ok) {
      lo = rate;
      if (!best || r.qps > best.r.qps) best = { rate, r };
    } else {
      hi = rate;
    }
  }
  return { best, runs };
}

/**
 * CPU per query at a fixed CPU_RATE: the server's process tree's utime+stime around one dnsperf
 * run, divided by the queries completed; with the machine's other work over the same stretch.
 */
export async function cpuPerQuery(server, port, label, f, clkTck) {
  const machine = machineWindow(clkTck);
  // The whole process tree: with workers, the primary's children answer the queries.
  const before = treeCpuTicks(server.pid).ticks;
  const r = await perf(server, port, f, CPU_SECONDS, CPU_RATE);
  const after = treeCpuTicks(server.pid).ticks;
  const { otherCores: others } = machine();
  const cpuSeconds = (after - before) / clkTck;
  const usPerQuery = r.completed > 0 ? (cpuSeconds * 1e6) / r.completed : NaN;
  // Whatever the machine did besides the server and dnsperf (this script, the idle other server,
  // and anything else running here) while the CPU figure was taken.
  const otherCores = others(cpuSeconds, r.clientCpuSeconds);
  log(
    `${runLine(label, CPU_RATE, r)}  cpu ${cpuSeconds.toFixed(2)} s -> ${fmt1(usPerQuery)} µs/query` +
      ` (dnsperf ${r.clientCpuSeconds.toFixed(2)} s, other work ~${Math.max(0, otherCores * 100).toFixed(0)}% of a core)`,
  );
  return { r, cpuSeconds, usPerQuery, corePct: (100 * cpuSeconds) / r.runTime, otherCores };
}
