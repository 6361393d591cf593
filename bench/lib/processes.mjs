// The processes and temp dirs a bench owns, and their cleanup on exit, error and Ctrl-C; running
// commands and load generators; starting servers and waiting until they are ready.
//
// Importing this module installs one 'exit' handler (the last-resort cleanup below) and nothing
// else; signal handling is opt-in with stopOnSignals().
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { MERIDIAN_BIN, ROOT } from './setup.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
  "trap 'kill $p 2>/dev/null; wait $p; exit 143' TERM INT HUP",
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
    exitText: () =>
      exitInfo?.error ? String(exitInfo.error.message) : `code ${exitInfo?.code}, signal ${exitInfo?.signal}`,
    output: () => {
      const s = `${out.text}${err.text}`.trim();
      return s
        ? s
            .split('\n')
            .slice(-30)
            .map((l) => `    | ${l}`)
            .join('\n')
        : '    (no output)';
    },
    assertAlive: (during) => {
      if (server.exited())
        throw new Error(`${label} died during ${during} (${server.exitText()}):\n${server.output()}`);
    },
  };
  return server;
}

/** startServer() for `node bin/meridian.js ...argv`, run from the repository root, labelled "meridian". */
export const spawnMeridian = (argv) =>
  startServer('meridian', process.execPath, [MERIDIAN_BIN, ...argv], { cwd: ROOT });

/**
 * Resolves once `probe()` resolves true, retrying after `pauseMs`; rejects when `server` exits or
 * after `timeoutMs` ("LABEL did not WHAT within N s", with the server's output).
 */
export async function waitReady(server, what, timeoutMs, probe, pauseMs = 0) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exited())
      throw new Error(`${server.label} exited during startup (${server.exitText()}):\n${server.output()}`);
    if (Date.now() > deadline)
      throw new Error(`${server.label} did not ${what} within ${timeoutMs / 1000} s:\n${server.output()}`);
    if (await probe()) return;
    if (pauseMs) await sleep(pauseMs);
  }
}

/** Resident set of a process now (VmRSS) or at its peak (VmHWM), from /proc (MB). */
export function rssMb(pid, field = 'VmRSS') {
  const kb = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`))?.[1]);
  return kb / 1024;
}
