// CPU accounting from /proc: a process tree's utime+stime, the machine's busy CPU, and how much of
// it went to work other than the server and the load generator being measured.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { sleep } from './processes.mjs';
import { BUSY_BEFORE_LIMIT, log } from './report.mjs';

/** Clock ticks per second of the /proc counters (`getconf CLK_TCK`, 100 if unknown). */
export const clockTicks = () => Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** The machine's CPU counters (all CPUs, in clock ticks) from the first line of /proc/stat. */
function machineCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal (guest is already in user)
  return { total, busy: total - f[3] - f[4] };
}

/** Cores' worth of CPU busy on the whole machine over `ms`, e.g. 0.3 = 30% of one core. */
async function machineBusyCores(ms) {
  const a = machineCpu();
  await sleep(ms);
  const b = machineCpu();
  const total = b.total - a.total;
  return total > 0 ? ((b.busy - a.busy) / total) * os.availableParallelism() : 0;
}

/** utime+stime (all threads) of one process, in clock ticks, and its parent; throws when it is gone. */
function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); ppid is field 4, utime field 14, stime field 15.
  return { ppid: Number(fields[4 - 3]), ticks: Number(fields[14 - 3]) + Number(fields[15 - 3]) };
}

/** CPU ticks (utime+stime, all threads) of one process; throws when it is gone. */
export const cpuTicks = (pid) => procStat(pid).ticks;

/** CPU ticks of a process and all its descendants (varnishd is a manager and a cache child), and their pids. */
export function treeCpuTicks(rootPid) {
  const byParent = new Map();
  const ticks = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let s;
    try {
      s = procStat(Number(name));
    } catch {
      continue; // exited meanwhile
    }
    ticks.set(Number(name), s.ticks);
    if (!byParent.has(s.ppid)) byParent.set(s.ppid, []);
    byParent.get(s.ppid).push(Number(name));
  }
  let total = 0;
  const todo = [rootPid];
  const pids = [];
  while (todo.length) {
    const pid = todo.pop();
    if (!ticks.has(pid)) continue;
    total += ticks.get(pid);
    pids.push(pid);
    todo.push(...(byParent.get(pid) ?? []));
  }
  return { ticks: total, pids };
}

/**
 * Starts watching the machine's busy CPU and the wall clock. The returned function ends the
 * stretch and returns `{ wall }` (seconds) and `otherCores(...cpuSeconds)`: the machine's busy
 * CPU over the stretch minus the CPU seconds given (what the caller accounted for: the server,
 * the load generator), in cores.
 */
export function machineWindow(clkTck) {
  const m0 = machineCpu();
  const t0 = process.hrtime.bigint();
  return () => {
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const m1 = machineCpu();
    const busySeconds = (m1.busy - m0.busy) / clkTck;
    return { wall, otherCores: (...cpuSeconds) => cpuSeconds.reduce((rest, s) => rest - s, busySeconds) / wall };
  };
}

/**
 * How busy the machine is before a bench starts (1 s sample, in cores); warns on stderr above
 * BUSY_BEFORE_LIMIT.
 */
export async function busyBefore() {
  const cores = await machineBusyCores(1000);
  if (cores > BUSY_BEFORE_LIMIT)
    log(
      `bench: warning: the machine is already busy (${(cores * 100).toFixed(0)}% of a core in use before starting); other work skews every figure`,
    );
  return cores;
}
