// Running wrk against one server and reading its report.
import { HOST, runClient } from '../lib.mjs';
import { OBJECT_PATH } from './origin.mjs';

export const WRK_THREADS = 2;
export const WRK_CONNECTIONS = 50;
export const WRK_SECONDS = 10;

const UNIT_MS = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const durationMs = (v, unit) => Number(v) * (UNIT_MS[unit] ?? NaN);

/** The figures of one wrk report (--latency): requests, req/s, latency percentiles, errors. */
function parseWrk(out) {
  const num = (re) => {
    const m = out.match(re);
    return m ? Number(m[1]) : NaN;
  };
  const pct = (p) => {
    const m = out.match(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm'));
    return m ? durationMs(m[1], m[2]) : NaN;
  };
  const avg = out.match(/^\s*Latency\s+([\d.]+)(us|ms|s|m|h)\s/m);
  const errs = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const reqs = out.match(/(\d+) requests in ([\d.]+)(us|ms|s|m|h)/);
  return {
    requests: reqs ? Number(reqs[1]) : NaN,
    seconds: reqs ? durationMs(reqs[2], reqs[3]) / 1000 : NaN,
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    avgMs: avg ? durationMs(avg[1], avg[2]) : NaN,
    p50Ms: pct(50),
    p90Ms: pct(90),
    p99Ms: pct(99),
    socketErrors: errs
      ? { connect: Number(errs[1]), read: Number(errs[2]), write: Number(errs[3]), timeout: Number(errs[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/) || 0,
  };
}

/**
 * One wrk run; under `sh`, whose `times` reports wrk's CPU (see runClient). `connections`: -c
 * (default WRK_CONNECTIONS); `script` and `scriptArgs`: a Lua script choosing each request (the
 * mix workload), else every request is for OBJECT_PATH.
 */
export async function wrk(port, seconds, { connections = WRK_CONNECTIONS, script, scriptArgs = [] } = {}) {
  const argv = [
    `-t${WRK_THREADS}`,
    `-c${connections}`,
    `-d${seconds}s`,
    // wrk's default socket timeout is 2 s; a request unanswered that long counts as "timeout".
    '--latency',
    ...(script ? ['-s', script] : []),
    `http://${HOST}:${port}${script ? '' : OBJECT_PATH}`,
    ...(scriptArgs.length ? ['--', ...scriptArgs] : []),
  ];
  const r = await runClient('wrk', argv, { timeoutMs: (seconds + 20) * 1000 });
  const res = parseWrk(r.out);
  res.clientCpuSeconds = r.cpuSeconds;
  res.command = `wrk ${argv.join(' ')}`;
  if (r.code !== 0 || !Number.isFinite(res.rps) || !Number.isFinite(res.requests)) {
    throw new Error(`${res.command} failed (exit ${r.code}):\n${r.out}${r.err}`);
  }
  return res;
}
