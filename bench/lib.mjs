// Helpers shared by the bench scripts (dns.mjs, edge.mjs, failover.mjs): the processes and temp
// dirs a bench owns and their cleanup, free ports, readiness waits, CPU accounting from /proc,
// report formatting and a seeded PRNG. Plain JS like the scripts (they run without a build step).
//
// Importing this module installs one 'exit' handler (the last-resort cleanup below) and nothing
// else; signal handling is opt-in with stopOnSignals().
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The Meridian CLI (it runs dist/: see distBuilt()). */
export const MERIDIAN_BIN = join(ROOT, 'bin', 'meridian.js');
/** Where the loopback benches listen and connect. */
export const HOST = '127.0.0.1';

// Cores of unrelated CPU use above which a figure is flagged. The "other work" estimate mixes
// tick-sampled machine counters with per-process times and is only good to ~±0.2 of a core.
const OTHER_WORK_LIMIT = 0.5;
const BUSY_BEFORE_LIMIT = 0.2;

// ---------------------------------------------------------------------------------------------
// Processes and temp dirs we own; all of them go away on exit, error, Ctrl-C.

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
const tempDirs = [];
const cleanupHooks = [];
let cleaningUp = null;
let stopping = null; // the signal that stops the run, once one arrived
let stopGraceMs = 3000; // SIGTERM to SIGKILL in cleanup(); see stopOnSignals()

function throwIfStopped() {
  if (stopping) throw new Error(`stopped by ${stopping}`);
}

/** Registers `child` so that cleanup() stops it and the 'exit' handler kills it; forgotten once it exits. */
export function track(child) {
  children.add(child);
  const forget = () => children.delete(child);
  child.once('exit', forget);
  child.once('error', forget);
  return child;
}

/** A new temp dir under os.tmpdir(), removed by cleanup() and on exit. */
export function tempDir(prefix) {
  const d = mkdtempSync(join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/** Registers async teardown (e.g. closing an in-process server) run by cleanup() after the children stop. */
export function onCleanup(fn) {
  cleanupHooks.push(fn);
}

/**
 * Stops every tracked child (SIGTERM, SIGKILL if still there after stopOnSignals()'s `graceMs`),
 * runs the onCleanup() hooks and removes the temp dirs. Idempotent: later calls return the first
 * call's promise.
 */
export function cleanup() {
  cleaningUp ??= (async () => {
    await Promise.all([...children].map((child) => stopChild(child, 'SIGTERM', stopGraceMs)));
    await Promise.all(cleanupHooks.splice(0).map((fn) => fn()));
    for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  })();
  return cleaningUp;
}

/** Sends `signal` to `child` and resolves once it exited; SIGKILL if it is still there after `graceMs`. */
export function stopChild(child, signal = 'SIGTERM', graceMs = 3000) {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      res();
    });
    child.kill(signal);
  });
}

process.on('exit', () => {
  // Last resort if something exits synchronously before the async cleanup ran.
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * On SIGINT, SIGTERM or SIGHUP: say so on stderr, cleanup(), exit 130. Once a signal arrived,
 * run(), runClient() and startServer() refuse to go on ("stopped by SIGINT"). `graceMs`: how long
 * cleanup() gives a child between SIGTERM and SIGKILL (also in the cleanup after runMain()).
 * With `{ now: true }` it exits 130 at once, silently: the 'exit' handlers (the one above and the
 * script's own) SIGKILL the children and remove the temp dirs synchronously.
 */
export function stopOnSignals({ graceMs = 3000, now = false } = {}) {
  stopGraceMs = graceMs;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    if (now) {
      process.once(sig, () => process.exit(130));
      continue;
    }
    process.on(sig, () => {
      if (stopping) return; // e.g. timeout(1) signals us and then our whole process group
      stopping = sig;
      process.stderr.write(`\nbench: ${sig}, stopping everything\n`);
      cleanup().finally(() => process.exit(130));
    });
  }
}

/**
 * Runs `main` (which resolves with an exit code), then cleans up and exits with that code; an
 * error is printed as `bench: message` and exits 1. After a signal the signal handler exits.
 */
export function runMain(main) {
  main().then(
    async (code) => {
      if (stopping) return; // the signal handler cleans up and exits
      await cleanup();
      process.exit(code);
    },
    async (err) => {
      if (stopping) return;
      process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
      await cleanup();
      process.exit(1);
    },
  );
}

/** Keeps the last `max` bytes of a stream's output. */
function tail(stream, max = 64 * 1024) {
  const t = { text: '' };
  stream?.setEncoding('utf8');
  stream?.on('data', (d) => {
    t.text += d;
    if (t.text.length > max) t.text = t.text.slice(-max);
  });
  return t;
}

/** Runs a command to completion (killed after `timeoutMs`, when given); resolves with its output. */
export function run(cmd, argv, { timeoutMs, ...opts } = {}) {
  return new Promise((res, rej) => {
    throwIfStopped(); // rejects the promise
    const child = track(spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }));
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, out, err });
    });
  });
}

// Runs a load generator, passes a stop signal on to it, then prints its CPU time (`times`).
const TIMES_SH = [
  'trap \'kill $p 2>/dev/null; wait $p; exit 143\' TERM INT HUP',
  '"$@" & p=$!',
  'wait $p; s=$?',
  'echo @@times >&2; times >&2; exit $s',
].join('\n');

/**
 * run() for a load generator (dnsperf, wrk): it runs under `sh`, whose `times` reports the CPU the
 * tool used, so a measurement can tell the client's share of the machine from other work's.
 * Resolves with run()'s result plus `cpuSeconds` (user+sys, NaN if unknown), with `err` cut
 * before the `times` output. Throws if a signal stopped the run meanwhile.
 */
export async function runClient(cmd, argv, opts = {}) {
  const r = await run('sh', ['-c', TIMES_SH, 'sh', cmd, ...argv], opts);
  throwIfStopped();
  const times = r.err.slice(r.err.lastIndexOf('@@times')).trim().split('\n')[2] ?? '';
  const t = times.match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
  const cpuSeconds = t ? Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]) : NaN;
  return { ...r, err: r.err.slice(0, r.err.lastIndexOf('@@times')), cpuSeconds };
}

/**
 * Spawns a long-running server (tracked, its output's tail kept). Returns a handle: label, pid,
 * child, exited(), exitText(), output() (its last 30 lines, indented, for error messages) and
 * assertAlive(during), which throws "LABEL died during DURING" once it exited.
 */
export function startServer(label, cmd, argv, opts = {}) {
  throwIfStopped();
  const child = track(spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }));
  const out = tail(child.stdout);
  const err = tail(child.stderr);
  let exitInfo = null;
  child.once('exit', (code, signal) => (exitInfo = { code, signal }));
  child.once('error', (e) => (exitInfo = { code: null, signal: null, error: e }));
  const server = {
    label,
    pid: child.pid,
    child,
    exited: () => exitInfo !== null,
    exitText: () => (exitInfo?.error ? String(exitInfo.error.message) : `code ${exitInfo?.code}, signal ${exitInfo?.signal}`),
    output: () => {
      const s = `${out.text}${err.text}`.trim();
      return s ? s.split('\n').slice(-30).map((l) => `    | ${l}`).join('\n') : '    (no output)';
    },
    assertAlive: (during) => {
      if (server.exited()) throw new Error(`${label} died during ${during} (${server.exitText()}):\n${server.output()}`);
    },
  };
  return server;
}

/** startServer() for `node bin/meridian.js ...argv`, run from the repository root, labelled "meridian". */
export const spawnMeridian = (argv) => startServer('meridian', process.execPath, [MERIDIAN_BIN, ...argv], { cwd: ROOT });

/**
 * Resolves once `probe()` resolves true, retrying after `pauseMs`; rejects when `server` exits or
 * after `timeoutMs` ("LABEL did not WHAT within N s", with the server's output).
 */
export async function waitReady(server, what, timeoutMs, probe, pauseMs = 0) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exited()) throw new Error(`${server.label} exited during startup (${server.exitText()}):\n${server.output()}`);
    if (Date.now() > deadline) throw new Error(`${server.label} did not ${what} within ${timeoutMs / 1000} s:\n${server.output()}`);
    if (await probe()) return;
    if (pauseMs) await sleep(pauseMs);
  }
}

/** Resolves once `port` on HOST accepts a TCP connection; rejects when the server exits or after the timeout. */
export function waitForPort(server, port, timeoutMs) {
  const connects = () =>
    new Promise((res) => {
      const s = net.connect(port, HOST);
      s.setTimeout(500);
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
      s.once('timeout', () => {
        s.destroy();
        res(false);
      });
    });
  return waitReady(server, `accept connections on ${HOST}:${port}`, timeoutMs, connects, 100);
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

export function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** True once `npm run build` has produced dist/. */
export const distBuilt = () => existsSync(join(ROOT, 'dist', 'cli', 'main.js'));

/**
 * For a loopback bench that reads /proc: false, with the reason on stderr, when `tool` is missing
 * (apt package of the same name), dist/ is not built (`npmScript` builds, then runs the bench) or
 * there is no Linux /proc.
 */
export function prerequisitesMet(tool, npmScript) {
  let missing = null;
  if (!commandExists(tool)) missing = `${tool} is not installed. Install it with:  apt-get install ${tool}`;
  else if (!distBuilt()) missing = `dist/ is not built. Run \`npm run build\` first (or use \`npm run ${npmScript}\`).`;
  else if (process.platform !== 'linux' || !existsSync('/proc/self/stat')) missing = 'needs Linux /proc to read server CPU time';
  if (missing) process.stderr.write(`bench: ${missing}\n`);
  return !missing;
}

/**
 * The command line's flags as a Set, when each is one of `allowed`; otherwise prints `usage` (to
 * stdout for -h/--help, exit 0; to stderr, exit 2) and exits.
 */
export function parseFlags(allowed, usage) {
  const args = new Set(process.argv.slice(2));
  if (args.has('-h') || args.has('--help') || [...args].some((a) => !allowed.includes(a))) {
    const ok = args.has('-h') || args.has('--help');
    (ok ? process.stdout : process.stderr).write(`${usage}\n`);
    process.exit(ok ? 0 : 2);
  }
  return args;
}

export function log(msg) {
  process.stderr.write(`${msg}\n`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const fmt1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

/**
 * A port on HOST that is free for TCP (and, with `udp`, for UDP too: bound to port 0 over UDP,
 * then the same port tried over TCP), not in `used`; added to `used`.
 */
export async function freePort(used = new Set(), { udp = false } = {}) {
  const listen = (srv, port) =>
    new Promise((res) => {
      srv.once('error', () => res(false));
      srv.listen(port, HOST, () => res(true));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    let port;
    let ok = true;
    if (udp) {
      const sock = dgram.createSocket('udp4');
      port = await new Promise((res, rej) => {
        sock.once('error', rej);
        sock.bind(0, HOST, () => res(sock.address().port));
      });
      const tcp = net.createServer();
      ok = await listen(tcp, port);
      await new Promise((res) => sock.close(res));
      if (ok) await new Promise((res) => tcp.close(res));
    } else {
      const tcp = net.createServer();
      port = await new Promise((res, rej) => {
        tcp.once('error', rej);
        tcp.listen(0, HOST, () => res(tcp.address().port));
      });
      await new Promise((res) => tcp.close(res));
    }
    if (ok && !used.has(port)) {
      used.add(port);
      return port;
    }
  }
  throw new Error(`could not find a free ${udp ? 'UDP+TCP' : 'TCP'} port on ${HOST}`);
}

/**
 * mulberry32: a tiny seeded PRNG, so generated inputs are the same on every run. The same
 * generator as test/helpers/prng.ts, which plain-JS benches cannot import (TypeScript, not in dist/).
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc.

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
  if (cores > BUSY_BEFORE_LIMIT) log(`bench: warning: the machine is already busy (${(cores * 100).toFixed(0)}% of a core in use before starting); other work skews every figure`);
  return cores;
}

// ---------------------------------------------------------------------------------------------
// Report.

/** "machine: nproc N (CPU model), OS release, node vX" (the caller appends tool versions). */
export function machineText() {
  const cpuModel = os.cpus()[0]?.model?.trim() ?? '?';
  return `machine: nproc ${os.availableParallelism()} (${cpuModel}), ${os.type()} ${os.release()}, node ${process.version}`;
}

/** The report's line on busyBefore()'s sample, flagged above BUSY_BEFORE_LIMIT. */
export const busyBeforeText = (cores) =>
  `CPU in use by other work just before the run: ${(cores * 100).toFixed(0)}% of a core` +
  (cores > BUSY_BEFORE_LIMIT ? '  <-- the machine was busy: treat these figures as unreliable' : '');

/** An "other work" table cell: % of a core, "!" above OTHER_WORK_LIMIT. */
export const otherWorkCell = (cores) => (Number.isFinite(cores) ? `${Math.max(0, cores * 100).toFixed(0)}%${cores > OTHER_WORK_LIMIT ? ' !' : ''}` : 'n/a');

/** The legend for otherWorkCell()'s "!", when any row has one. */
export const otherWorkLegend = (coresList) =>
  coresList.some((c) => c > OTHER_WORK_LIMIT) ? `; "!" = over ${OTHER_WORK_LIMIT * 100}%: that row is unreliable` : '';

/**
 * A plain-text table: header, a dashed rule, rows; columns two spaces apart, the first
 * `leftColumns` padded on the right (text), the others on the left (figures). Returns its lines.
 */
export function formatTable(header, rows, leftColumns = 1) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmtRow = (r) => r.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmtRow(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmtRow)];
}
