// System test of the anycast lease (anycast/lease.ts) on a real kernel: each case runs the built
// takeLease() in a child process inside a fresh network namespace (`unshare --net`), with one of
// the tools it runs replaced on PATH to make the hard cases happen every time:
// - an `unshare` slow to make the holder's namespace (a busy host): the lease interface's peer
//   must still end up in the holder's namespace, not in ours, or the pair outlives the holder and
//   every later take fails with "interface exists" (seen in CI: an announcer that never held a
//   lease again after a lapse);
// - an `nsenter` that fails after the pair was made: the take fails, and leaves nothing behind.
// Needs root and iproute2 (CI runs it; elsewhere it skips with the reason).
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsNetns, run } from '../helpers/netns.js';
import { REPO_ROOT } from '../helpers/repo-paths.js';

const LEASE = 'mrd-t-lease';

/** Takes and releases a lease in the child; prints what happened as one JSON line. */
const SCRIPT = `
import { execFileSync } from 'node:child_process';
const { takeLease } = await import(${JSON.stringify(join(REPO_ROOT, 'dist', 'anycast', 'lease.js'))});
const log = { info() {}, warn() {}, error() {}, debug() {} };
const exists = () => {
  try { execFileSync('ip', ['link', 'show', 'dev', '${LEASE}'], { stdio: 'ignore' }); return true; } catch { return false; }
};
const out = {};
try {
  const lease = await takeLease({ interface: '${LEASE}', timeoutMs: 600, log });
  out.held = lease.held;
  await lease.release();
} catch (e) {
  out.error = e.message;
}
out.leftBehind = exists();
console.log(JSON.stringify(out));
`;

let dir: string;
let realUnshare: string;

/** Runs SCRIPT in a new network namespace, with `fakes` (name → sh script body) first on PATH. */
function inNamespace(fakes: Record<string, string>): Promise<{ held?: boolean; error?: string; leftBehind: boolean }> {
  const bin = mkdtempSync(join(dir, 'bin-'));
  for (const [name, body] of Object.entries(fakes)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return new Promise((resolve, reject) => {
    execFile(
      realUnshare,
      ['--net', process.execPath, '--input-type=module', '-e', SCRIPT],
      { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stdout}${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      },
    );
  });
}

describe('the anycast lease on a real kernel (system)', needsNetns(), () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-lease-'));
    const found = await run('sh', ['-c', 'command -v unshare']);
    realUnshare = found.stdout.trim();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is taken when the holder is slow to make its namespace, and leaves nothing when released', async () => {
    const r = await inNamespace({ unshare: `sleep 0.3\nexec ${realUnshare} "$@"` });
    expect(r).toEqual({ held: true, leftBehind: false });
  });

  it('a take that fails after making the interface leaves none behind', async () => {
    const r = await inNamespace({ nsenter: 'echo "nsenter: refused by the test" >&2\nexit 1' });
    expect(r.error).toMatch(/cannot take the anycast lease on mrd-t-lease: .*refused by the test/);
    expect(r.leftBehind).toBe(false);
  });
});
