// `ip` (iproute2) for the announcer's two host changes, the anycast addresses (host-address.ts)
// and the lease interface (lease.ts): run without a shell, bounded in time, and a failure
// carries the command and iproute2's own message, which is what an operator can act on.
import { execFile } from 'node:child_process';

const TIMEOUT_MS = 10_000;

export class IpCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`ip ${args.join(' ')}: ${stderr || 'failed'}`);
    this.name = 'IpCommandError';
  }
}

/** Runs `cmd args` (default `ip`); resolves with stdout, rejects with IpCommandError. */
export function runIp(args: readonly string[], cmd = 'ip'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) reject(new IpCommandError(cmd === 'ip' ? args : [cmd, ...args], String(stderr).trim() || err.message));
      else resolve(stdout);
    });
  });
}

/** Whether interface `name` exists. */
export async function linkExists(name: string): Promise<boolean> {
  try {
    await runIp(['link', 'show', 'dev', name]);
    return true;
  } catch {
    return false;
  }
}
