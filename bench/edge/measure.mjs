// One measured wrk run against a server, with its CPU (the server's process tree from /proc, wrk's
// from `times`, the machine's) and the origin's request count around it; and a server's runs
// summed up as medians.
import { fmt1, fmt2, fmtInt, fmtMs, log, machineWindow, median, treeCpuTicks } from '../lib.mjs';
import { WRK_SECONDS, wrk } from './wrk.mjs';

// Per server: WARM_LOAD_SECONDS of unmeasured load (Node's JIT, Varnish's thread pools), then
// WRK_RUNS measured runs, the servers alternating so drift hits all alike; the medians of each
// server's runs are compared (one run's p99 is mostly scheduling noise on a machine that also
// runs wrk).
export const WARM_LOAD_SECONDS = 2;
export const WRK_RUNS = 3;

/**
 * One measured wrk run against a server, with CPU and origin accounting around it. `origin.total`:
 * the origin's request count so far; `wrkOptions`: see wrk(); `label`: what the progress line names.
 */
export async function measure(s, origin, clkTck, seconds = WRK_SECONDS, wrkOptions = {}, label = s.name) {
  const o0 = origin.total;
  const machine = machineWindow(clkTck);
  const c0 = treeCpuTicks(s.server.pid);
  const r = await wrk(s.port, seconds, wrkOptions);
  const c1 = treeCpuTicks(s.server.pid);
  const { wall, otherCores } = machine();
  s.server.assertAlive('wrk');
  r.serverCpuSeconds = (c1.ticks - c0.ticks) / clkTck;
  r.serverPids = c1.pids.length;
  r.cpuMsPer1000 = r.requests > 0 ? (r.serverCpuSeconds * 1e6) / r.requests : NaN;
  r.serverCores = r.serverCpuSeconds / wall;
  r.wrkCores = r.clientCpuSeconds / wall;
  // Whatever the machine did besides the server and wrk (this script and its origin, the idle other
  // server, and anything else running here).
  r.otherCores = otherCores(r.serverCpuSeconds, r.clientCpuSeconds);
  r.originRequests = origin.total - o0;
  const errs = Object.values(r.socketErrors).reduce((a, b) => a + b, 0);
  log(
    `  ${label.padEnd(9)} ${fmtInt(r.rps).padStart(8)} req/s, p50 ${fmtMs(r.p50Ms)}, p99 ${fmtMs(r.p99Ms)}, ${fmtInt(r.requests)} requests, ` +
      `non-2xx ${r.non2xx}, socket errors ${errs}, origin requests ${r.originRequests}; server CPU ${fmt2(r.serverCpuSeconds)} s ` +
      `(${fmt1(r.cpuMsPer1000)} ms/1000 req, ${(r.serverCores * 100).toFixed(0)}% of a core), wrk ${(r.wrkCores * 100).toFixed(0)}%, other work ~${Math.max(0, r.otherCores * 100).toFixed(0)}%`,
  );
  return r;
}

/** A server's runs as one row: the median of each figure, and the spread of req/s and p99. */
export function summarise(runs) {
  const pick = (f) => runs.map(f);
  return {
    rps: median(pick((r) => r.rps)),
    p99Ms: median(pick((r) => r.p99Ms)),
    cpuMsPer1000: median(pick((r) => r.cpuMsPer1000)),
    rpsRange: [Math.min(...pick((r) => r.rps)), Math.max(...pick((r) => r.rps))],
    p99Range: [Math.min(...pick((r) => r.p99Ms)), Math.max(...pick((r) => r.p99Ms))],
  };
}

/** A summarise() result as one line of the report. */
export const summaryText = (b) =>
  `${fmtInt(b.rps)} req/s [${fmtInt(b.rpsRange[0])}-${fmtInt(b.rpsRange[1])}], p99 ${fmtMs(b.p99Ms)} [${fmtMs(b.p99Range[0])}-${fmtMs(b.p99Range[1])}], ${fmt1(b.cpuMsPer1000)} ms CPU per 1000 requests`;
