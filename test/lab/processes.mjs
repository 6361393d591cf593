// Processes inside the lab's namespaces: long-running ones (BIRD, Meridian, the edges) write to a
// log file each and run in a session of their own, so `up` can return and leave them running and
// a test's Ctrl-C does not reach them; readiness is a line in that log. Short commands (dig,
// birdc, iptables) run to completion and return their output. Nothing here throws on a non-zero
// exit: callers decide what a failure means.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `cmd` inside namespace `ns`; resolves with { code, stdout, stderr }. */
export function execIn(ns, cmd, timeoutMs = 10_000) {
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', ns, ...cmd],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (err && code !== 0 ? err.message : '') });
      },
    );
  });
}

/** The same, rejecting with the command and its stderr when it fails. */
export async function mustExecIn(ns, cmd, timeoutMs) {
  const r = await execIn(ns, cmd, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} in ${ns} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * Starts `cmd args` in namespace `ns`, stdout and stderr appended to `logFile`. `ip netns exec`
 * execs the command, so the pid is the command's own (SIGKILL, SIGSTOP reach it). Returns
 * { pid, child, logFile, exited }.
 */
export function spawnIn(ns, cmd, args, logFile, env = process.env) {
  const fd = openSync(logFile, 'a');
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', fd, fd], detached: true, env });
  closeSync(fd);
  child.unref();
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
    child.once('error', (err) => resolve(`spawn error: ${err.message}`));
  });
  return { pid: child.pid, child, logFile, exited };
}

/** The log's lines (empty when it does not exist yet). */
export function logLines(logFile) {
  try {
    return readFileSync(logFile, 'utf8').split('\n');
  } catch {
    return [];
  }
}

/**
 * Resolves with the first line of `proc`'s log from line `from` on matching `pattern`; rejects
 * (with the log's tail) after `timeoutMs` or when the process exits first.
 */
export async function waitForLog(proc, pattern, timeoutMs, from = 0) {
  let gone;
  void proc.exited.then((code) => (gone = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = logLines(proc.logFile);
    const hit = lines.slice(from).find((l) => pattern.test(l));
    if (hit !== undefined) return hit;
    const why =
      gone !== undefined ? `exited (${gone})` : Date.now() > deadline ? `no match within ${timeoutMs} ms` : undefined;
    if (why) throw new Error(`${proc.logFile}: ${why} waiting for ${pattern}\n${lines.slice(-30).join('\n')}`);
    await sleep(50);
  }
}

/** Sends `signal`; SIGKILL after `graceMs` if it is still there; resolves once it has exited. */
export async function stopProcess(proc, signal = 'SIGTERM', graceMs = 3000) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  try {
    process.kill(proc.pid, signal);
  } catch {
    return; // gone
  }
  const killer = setTimeout(() => {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }, graceMs);
  await proc.exited;
  clearTimeout(killer);
}
