// The compose command of this machine, and when the compose tests may skip. docker-compose.yml
// and README are written for both `docker compose` (v2, the Docker CLI plugin) and
// `docker-compose` (v1, 1.29.2, what Debian ships); the tests use whichever is here, v2 first.
import { execFile, execFileSync } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args`, never rejecting: a failure is a non-zero code (124 on timeout) and its output. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; killed?: boolean }) | null;
        const code = !e ? 0 : e.killed ? 124 : typeof e.code === 'number' ? e.code : 127;
        resolve({
          code,
          stdout: String(stdout),
          stderr: String(stderr) || (e && typeof e.code === 'string' ? e.message : ''),
        });
      },
    );
  });
}

function works(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** argv prefix of the compose command (`['docker', 'compose']` or `['docker-compose']`), or why there is none. */
export function composeCommand(): string[] | { reason: string } {
  if (works('docker', ['compose', 'version'])) return ['docker', 'compose'];
  if (works('docker-compose', ['version'])) return ['docker-compose'];
  return { reason: 'neither `docker compose` (v2) nor `docker-compose` (v1) is installed' };
}

/** Why a compose system test cannot run here (no Docker engine, no compose), or null. */
export function dockerUnavailableReason(): string | null {
  if (!works('docker', ['--version'])) return 'the docker CLI is not installed (docker.io)';
  if (!works('docker', ['info', '--format', '{{.ServerVersion}}']))
    return 'no Docker engine answers (`docker info` fails: is dockerd running?)';
  const compose = composeCommand();
  return Array.isArray(compose) ? null : compose.reason;
}

/**
 * For `describe.skipIf(...)`: outside CI, a test that cannot run here skips and says why. In CI
 * (CI=true) it never skips: the suite runs and its setup fails with the same reason, so a CI
 * machine that lost Docker shows up red instead of quietly green.
 */
export function skipOutsideCi(suite: string, reason: string | null, what: string): boolean {
  if (reason === null) return false;
  if (process.env.CI === 'true') return false;
  console.warn(
    `[system tests] skipping '${suite}': ${reason}. ${what} (CI installs what it needs and runs it; CI=true never skips).`,
  );
  return true;
}
