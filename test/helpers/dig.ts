// Asking a DNS server with `dig` (bind9-dnsutils; tests that use it declare needs('dig')).
import { execFile } from 'node:child_process';
import { parseDig, type DigResponse } from './dig-output.js';
import type { Endpoint } from './endpoint.js';

export const DIG_DEFAULTS = ['+norec', '+time=2', '+tries=1'];

/** Runs `dig @host -p port +norec +time=2 +tries=1 ...args` and returns its stdout. */
export function dig(server: Endpoint, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'dig',
      [`@${server.host}`, '-p', String(server.port), ...DIG_DEFAULTS, ...args],
      { timeout: 15_000 },
      (err, stdout, stderr) => {
        // dig exits 9 on "no reply"; the output still says why, and some tests expect exactly that.
        if (err && !stdout) reject(new Error(`dig ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** Knot's kdig against `server` (a second client implementation, for interoperability); its stdout. */
export function kdig(server: Endpoint, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'kdig',
      [`@${server.host}`, '-p', String(server.port), '+timeout=2', '+retry=0', ...args],
      { timeout: 15_000 },
      (err, stdout, stderr) => {
        if (err && !stdout) reject(new Error(`kdig ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** dig + parse in one step. */
export async function query(server: Endpoint, args: string[]): Promise<DigResponse> {
  return parseDig(await dig(server, args));
}
