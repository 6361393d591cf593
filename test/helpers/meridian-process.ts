// Running the built `meridian` command as a child process: spawned with the test's environment
// (minus the control token, unless the test gives one), its output read line by line without
// ever letting a pipe fill, and stopped with SIGTERM, then SIGKILL if it lingers.
import { spawn, type ChildProcess } from 'node:child_process';
import { MERIDIAN_BIN, REPO_ROOT } from './repo-paths.js';
import type { Readable } from 'node:stream';
import { onLines } from '../../local/lines.js';

/** Log lines kept per process (stdout and stderr are drained continuously so the pipe never blocks). */
export const KEEP_LINES = 2000;

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MERIDIAN_CONTROL_TOKEN;
  return { ...env, ...extra };
}

/** Spawns `node bin/meridian.js ...args` in the repo root; stdout and stderr are pipes. */
export function spawnMeridian(args: string[], env?: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [MERIDIAN_BIN, ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the command to completion; for processes expected to exit by themselves. */
export function runMeridian(
  args: string[],
  timeoutMs = 10_000,
  env?: Record<string, string>,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnMeridian(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `meridian ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Appends each line of `stream` to `into` (the last KEEP_LINES), calling `onLine` for each: split as `meridian up` splits its children's output. */
export function collectLines(stream: Readable | null, into: string[], onLine?: (line: string) => void): void {
  if (!stream) return;
  onLines(stream, (line) => {
    into.push(line);
    if (into.length > KEEP_LINES) into.shift();
    onLine?.(line);
  });
}

/** SIGTERM, then SIGKILL after `killAfterMs`; resolves once `exited` has (at once if it already had). */
export async function terminate(child: ChildProcess, exited: Promise<unknown>, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(killer);
}
