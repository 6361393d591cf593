// Tests that need something the machine may lack: a system tool (`dig`, `python3`, `ip`), root
// with network namespaces, an IPv6 loopback. On a fresh machine README's `npm test` must pass,
// so such a test is skipped, and the reason (with the Debian package that brings the tool) is
// kept in the test's meta for the skip summary printed at the end of the run
// (test/reporters/skip-summary.ts). Where `.ci/run` sets MERIDIAN_REQUIRE_TOOLS=1, a missing
// tool or privilege is an error instead: CI installs everything, so a skip there would hide
// a broken install.
//
//   describe('geo steering', needs('dig'), () => { ... });
//   it('drops port 0', needs('dig', 'python3'), async () => { ... });
import { accessSync, constants } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestOptions } from 'vitest';
import { batchingUnavailable, loadUdpBatch } from '../../dns/server/udp-batch.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Why this test was skipped on this machine (set by the helpers below). */
    skipReason?: string;
  }
}

/** The tools tests run, and the Debian package each comes from. */
export const TOOL_PACKAGES = {
  dig: 'bind9-dnsutils',
  kdig: 'knot-dnsutils',
  python3: 'python3',
  ip: 'iproute2',
  bird: 'bird2',
  curl: 'curl',
  iptables: 'iptables',
  ip6tables: 'iptables',
} as const;
export type Tool = keyof typeof TOOL_PACKAGES;

export const REQUIRE_VARIABLE = 'MERIDIAN_REQUIRE_TOOLS';
const required = (): boolean => process.env[REQUIRE_VARIABLE] === '1';

const found = new Map<string, boolean>();

/** True when `name` is an executable file in a PATH directory (what execFile would run). */
export function onPath(name: string): boolean {
  let hit = found.get(name);
  if (hit === undefined) {
    hit = (process.env.PATH ?? '').split(delimiter).some((dir) => {
      try {
        accessSync(join(dir || '.', name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    found.set(name, hit);
  }
  return hit;
}

/** Why `tools` cannot run here ("dig not found (apt-get install bind9-dnsutils)"), or null. */
export function missingTools(...tools: Tool[]): string | null {
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length === 0) return null;
  const packages = [...new Set(missing.map((t) => TOOL_PACKAGES[t]))];
  return `${missing.join(', ')} not found (apt-get install ${packages.join(' ')})`;
}

/**
 * Test or suite options that skip it when a tool is missing, with the reason kept for the
 * summary; `{}` when every tool is here. Throws under MERIDIAN_REQUIRE_TOOLS=1.
 */
export function needs(...tools: Tool[]): TestOptions {
  return skipFor(missingTools(...tools));
}

/**
 * The same for any reason a test cannot run here (null: it can). `requiredInCi: false` is for
 * what CI machines may honestly lack too (an IPv6 loopback in a container): it always skips.
 */
export function skipFor(reason: string | null, { requiredInCi = true } = {}): TestOptions {
  if (reason === null) return {};
  if (requiredInCi && required()) {
    throw new Error(`${reason}: ${REQUIRE_VARIABLE}=1 (set by .ci/run) says this machine must run every test`);
  }
  return { skip: true, meta: { skipReason: reason } };
}

/** Whether this machine has an IPv6 loopback; Docker containers and some CI machines do not. */
export function hasLoopback6(): boolean {
  return Object.values(networkInterfaces()).some((list) =>
    list?.some((a) => a.family === 'IPv6' && a.address === '::1'),
  );
}

/** Options for a test that needs ::1: skipped (CI included) on a machine without it. */
export function needsLoopback6(): TestOptions {
  return skipFor(hasLoopback6() ? null : 'no IPv6 loopback (::1) on this machine, as in a Docker container', {
    requiredInCi: false,
  });
}

/**
 * Options for a test of the batched UDP addon (native/udp_batch.c): skipped where `npm install`
 * could not build it. CI's check is dns/server/udp-batch.test.ts (MERIDIAN_REQUIRE_NATIVE).
 */
export function needsUdpBatch(): TestOptions {
  const reason = loadUdpBatch() ? null : `the batched UDP addon is not here: ${batchingUnavailable()}`;
  return skipFor(reason, { requiredInCi: false });
}

/** The first of `options` that skips (a test needing dig and ::1), or `{}`. */
export function all(...options: TestOptions[]): TestOptions {
  return options.find((o) => o.skip) ?? {};
}
