// System-test helpers: a bridge in the root namespace and a few network namespaces, each with a
// veth into the bridge and an address; commands and long-running processes inside them; links
// down and up; and cleanup that also removes what a crashed run left behind. Needs root and
// iproute2 (`ip`). Every name starts with the caller's prefix, so two test files (or a test and
// a bench) never touch each other's namespaces.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { TestOptions } from 'vitest';
import { all, needs, skipFor } from './system-tools.js';
import { sleep } from './wait-for.js';

/** Interface names are at most 15 bytes (IFNAMSIZ - 1). */
const IFNAMSIZ = 15;
const IP_TIMEOUT_MS = 10_000;
const KEEP_LINES = 2000;

export interface NamespaceSpec {
  /** Short key, e.g. 'a' or 'dns': the namespace is `<prefix><key>`. */
  readonly key: string;
  /** Address with prefix length on the namespace's veth, e.g. '10.200.0.11/16'. */
  readonly address: string;
}

export interface Namespace {
  readonly key: string;
  /** The namespace's name (`ip netns exec NAME ...`). */
  readonly name: string;
  /** The address without its prefix length. */
  readonly ip: string;
  /** The veth end enslaved to the bridge, in the root namespace. */
  readonly hostVeth: string;
  /** The veth end inside the namespace. */
  readonly nsVeth: string;
}

export interface TopologyOptions {
  /** Prefix of every namespace, veth and bridge name, e.g. 'mrd-fo-'. At most 8 bytes. */
  readonly prefix: string;
  /** Address of the bridge in the root namespace (where the test runs), e.g. '10.200.0.1/16'. */
  readonly bridgeAddress: string;
  readonly namespaces: readonly NamespaceSpec[];
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A process running inside a namespace: a ChildProcess that keeps its output and can be awaited. */
export type NsProcess = ChildProcess & {
  /** stdout and stderr lines seen so far (most recent KEEP_LINES), in arrival order. */
  readonly lines: string[];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** Resolves with the first line (past or future) matching `pattern`; rejects on timeout or exit. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** SIGTERM (or `signal`), SIGKILL after 2 s; resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
};

// ---------------------------------------------------------------------------------------------
// Low level

/** Runs a command (no shell) and resolves with its exit code and output; never rejects on a non-zero exit. */
export function run(cmd: string, args: readonly string[], timeoutMs = IP_TIMEOUT_MS): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err); // ENOENT etc.
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `ip ARGS`, rejecting with the command and its stderr when it fails. */
export async function ip(...args: string[]): Promise<string> {
  const r = await run('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Runs `cmd` inside namespace `ns` (`ip netns exec`); resolves with code and output. */
export function exec(ns: string | Namespace, cmd: readonly string[], timeoutMs = IP_TIMEOUT_MS): Promise<ExecResult> {
  return run('ip', ['netns', 'exec', nsName(ns), ...cmd], timeoutMs);
}

function nsName(ns: string | Namespace): string {
  return typeof ns === 'string' ? ns : ns.name;
}

function ipSync(args: string[]): { ok: boolean; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync('ip', args, {
      encoding: 'utf8',
      timeout: IP_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true, stdout, stderr: '' };
  } catch (e) {
    const err = e as { stderr?: Buffer | string; message: string };
    return { ok: false, stdout: '', stderr: String(err.stderr ?? err.message).trim() };
  }
}

// ---------------------------------------------------------------------------------------------
// Can this machine run system tests?

let cachedReason: string | null | undefined;

/**
 * Why network-namespace tests cannot run here, or null when they can: they need root (uid 0)
 * and a working `ip netns` (iproute2, and a kernel/container that allows creating namespaces).
 */
export function netnsUnavailableReason(): string | null {
  if (cachedReason !== undefined) return cachedReason;
  cachedReason = (() => {
    if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
    if (typeof process.getuid !== 'function' || process.getuid() !== 0)
      return `not running as root (uid ${process.getuid?.() ?? '?'})`;
    const probe = `mrd-probe-${process.pid % 100000}`;
    const add = ipSync(['netns', 'add', probe]);
    if (!add.ok) return `'ip netns add' does not work here: ${add.stderr || 'is iproute2 installed?'}`;
    const lo = ipSync(['-n', probe, 'link', 'set', 'lo', 'up']);
    ipSync(['netns', 'del', probe]);
    if (!lo.ok) return `cannot configure links in a new namespace: ${lo.stderr}`;
    return null;
  })();
  return cachedReason;
}

/**
 * Options for a system-test suite: skipped, with the reason in the run's skip summary, where
 * network namespaces cannot be built (no iproute2, not root, a container without the
 * privilege); an error instead in CI (MERIDIAN_REQUIRE_TOOLS=1), which runs them as root.
 */
export function needsNetns(): TestOptions {
  return all(
    needs('ip'),
    skipFor(netnsUnavailableReason() && `system tests build network namespaces: ${netnsUnavailableReason()}`),
  );
}

/** True when the kernel has the netem qdisc (tried on `lo` in a throwaway namespace). */
export async function netemAvailable(prefix: string): Promise<{ available: boolean; detail: string }> {
  const name = `${prefix}netem`;
  await ip('netns', 'del', name).catch(() => undefined);
  await ip('netns', 'add', name);
  try {
    const r = await exec(name, ['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    return { available: r.code === 0, detail: r.code === 0 ? 'netem works' : r.stderr.trim() };
  } catch (e) {
    return { available: false, detail: (e as Error).message };
  } finally {
    await ip('netns', 'del', name).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup of anything carrying a prefix (a crashed earlier run, or this one)

/**
 * Removes every namespace, link and bridge whose name starts with `prefix`, after killing (by
 * pid) any process still running inside those namespaces: they can only have been started by an
 * earlier run of the same test, since the names are ours.
 */
export async function removeAll(prefix: string): Promise<void> {
  if (prefix.length < 4) throw new Error(`prefix '${prefix}' is too short to clean up safely`);
  const namespaces = (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(prefix));
  for (const ns of namespaces) {
    const pids = (await run('ip', ['netns', 'pids', ns])).stdout.split(/\s+/).filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  // Links first: deleting a veth removes its peer at once, while a namespace is torn down
  // asynchronously by the kernel (its veths would linger for a moment).
  for (const link of await linksWithPrefix(prefix)) {
    await run('ip', ['link', 'del', link]);
  }
  for (const ns of namespaces) await run('ip', ['netns', 'del', ns]);
  await forgetBridgedTraffic(`${prefix}br`);
  // A namespace's veth end vanishes with the namespace; wait for the kernel to finish so the
  // next run can reuse the names.
  const deadline = Date.now() + 5000;
  while ((await linksWithPrefix(prefix)).length > 0 && Date.now() < deadline) await sleep(50);
}

// With br_netfilter loaded and bridge-nf-call-iptables set (as Docker leaves them), frames
// crossing a bridge pass iptables' FORWARD chain, whose policy Docker sets to DROP: namespaces on
// our bridge could not reach each other while dockerd runs. One ACCEPT rule for traffic within
// our bridge (the bridge is the in and out device of a bridged packet), removed with it.
const IPTABLES = ['iptables', 'ip6tables'] as const;

function bridgeRule(bridge: string): string[] {
  return ['FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];
}

async function allowBridgedTraffic(bridge: string): Promise<void> {
  for (const cmd of IPTABLES) {
    // No iptables on the machine: nothing can filter the bridge either.
    await run(cmd, ['-w', '-I', ...bridgeRule(bridge)]).catch(() => undefined);
  }
}

async function forgetBridgedTraffic(bridge: string): Promise<void> {
  for (const cmd of IPTABLES) {
    // Every copy a crashed earlier run may have left.
    for (let i = 0; i < 10; i++) {
      const r = await run(cmd, ['-w', '-D', ...bridgeRule(bridge)]).catch(() => undefined);
      if (r === undefined || r.code !== 0) break;
    }
  }
}

async function linksWithPrefix(prefix: string): Promise<string[]> {
  const out = (await run('ip', ['-o', 'link', 'show'])).stdout;
  return out
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.startsWith(prefix));
}

// ---------------------------------------------------------------------------------------------
// The topology

const liveTopologies = new Set<Topology>();

export class Topology {
  readonly prefix: string;
  readonly bridge: string;
  /** The bridge's address in the root namespace (no prefix length). */
  readonly bridgeIp: string;
  readonly ns: Readonly<Record<string, Namespace>>;
  private readonly children = new Set<NsProcess>();
  private cleaning: Promise<void> | undefined;

  private constructor(opts: TopologyOptions, ns: Record<string, Namespace>) {
    this.prefix = opts.prefix;
    this.bridge = `${opts.prefix}br`;
    this.bridgeIp = opts.bridgeAddress.split('/')[0]!;
    this.ns = ns;
  }

  /**
   * Removes leftovers with the same prefix, then creates the bridge (with `bridgeAddress`, in
   * the root namespace) and one namespace per spec: `lo` up, a veth into the bridge, the address.
   * No default routes: nothing inside can reach beyond the bridge.
   */
  static async create(opts: TopologyOptions): Promise<Topology> {
    const { prefix } = opts;
    if (prefix.length > 8) throw new Error(`prefix '${prefix}' is longer than 8 bytes: interface names would not fit`);
    const names: Record<string, Namespace> = {};
    for (const spec of opts.namespaces) {
      const hostVeth = `${prefix}${spec.key}-h`;
      if (hostVeth.length > IFNAMSIZ) throw new Error(`interface name '${hostVeth}' is longer than ${IFNAMSIZ} bytes`);
      names[spec.key] = {
        key: spec.key,
        name: `${prefix}${spec.key}`,
        ip: spec.address.split('/')[0]!,
        hostVeth,
        nsVeth: `${prefix}${spec.key}-n`,
      };
    }
    await removeAll(prefix);
    const topo = new Topology(opts, names);
    liveTopologies.add(topo);
    try {
      await ip('link', 'add', topo.bridge, 'type', 'bridge');
      // Forward at once (no STP learning delay).
      await ip('link', 'set', topo.bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0');
      await ip('addr', 'add', opts.bridgeAddress, 'dev', topo.bridge);
      await ip('link', 'set', topo.bridge, 'up');
      await allowBridgedTraffic(topo.bridge);
      for (const spec of opts.namespaces) {
        const n = names[spec.key]!;
        await ip('netns', 'add', n.name);
        await ip('-n', n.name, 'link', 'set', 'lo', 'up');
        await ip('link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', n.nsVeth, 'netns', n.name);
        await ip('link', 'set', n.hostVeth, 'master', topo.bridge);
        await ip('link', 'set', n.hostVeth, 'up');
        await ip('-n', n.name, 'addr', 'add', spec.address, 'dev', n.nsVeth);
        await ip('-n', n.name, 'link', 'set', n.nsVeth, 'up');
      }
    } catch (e) {
      await topo.cleanup();
      throw e;
    }
    return topo;
  }

  get(key: string): Namespace {
    const n = this.ns[key];
    if (!n) throw new Error(`no namespace '${key}' in this topology`);
    return n;
  }

  /** Runs a command to completion inside the namespace `key`. */
  exec(key: string, cmd: readonly string[], timeoutMs?: number): Promise<ExecResult> {
    return exec(this.get(key), cmd, timeoutMs);
  }

  /**
   * Starts `cmd args` inside namespace `key` (`ip netns exec` execs it, so the child's pid is
   * the command's own). Output is collected; the process is stopped by cleanup().
   */
  spawnIn(
    key: string,
    cmd: string,
    args: readonly string[],
    opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
  ): NsProcess {
    const child = spawnInNamespace(this.get(key).name, cmd, args, opts);
    this.children.add(child);
    void child.exited.then(() => this.children.delete(child));
    return child;
  }

  /** Takes the namespace's link down (its bridge-side veth end): nothing in or out, like a pulled cable. */
  async linkDown(key: string): Promise<void> {
    await ip('link', 'set', this.get(key).hostVeth, 'down');
  }

  async linkUp(key: string): Promise<void> {
    await ip('link', 'set', this.get(key).hostVeth, 'up');
  }

  /** Cuts the namespace off the network entirely (alias of linkDown). */
  isolate(key: string): Promise<void> {
    return this.linkDown(key);
  }

  /**
   * Makes `addresses` unreachable from inside namespace `key` only, with a `prohibit` policy
   * rule per address (connects fail at once). With `tcpPort`, only TCP to that port is blocked:
   * what this namespace *originates* (e.g. its prober's HTTP checks to other PoPs' edges on :80),
   * while replies from its own servers to those addresses still flow. Without it, every packet
   * to the addresses is blocked, replies included.
   */
  async block(key: string, addresses: readonly string[], opts: { tcpPort?: number } = {}): Promise<void> {
    for (const a of addresses) await ip('-n', this.get(key).name, 'rule', 'add', ...blockSelector(a, opts), 'prohibit');
  }

  async unblock(key: string, addresses: readonly string[], opts: { tcpPort?: number } = {}): Promise<void> {
    for (const a of addresses) await ip('-n', this.get(key).name, 'rule', 'del', ...blockSelector(a, opts), 'prohibit');
  }

  /** Stops every process started here, then removes the namespaces, veths and bridge. Idempotent. */
  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      await Promise.all([...this.children].map((c) => c.stop()));
      await removeAll(this.prefix);
      liveTopologies.delete(this);
    })();
    return this.cleaning;
  }
}

function blockSelector(address: string, opts: { tcpPort?: number }): string[] {
  return [
    'to',
    `${address}/32`,
    ...(opts.tcpPort !== undefined ? ['ipproto', 'tcp', 'dport', String(opts.tcpPort)] : []),
  ];
}

function spawnInNamespace(
  ns: string,
  cmd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string },
): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const onLine = (line: string): void => {
    lines.push(line);
    if (lines.length > KEEP_LINES) lines.shift();
    for (const w of waiters) {
      if (w.pattern.test(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream!.setEncoding('utf8');
    stream!.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
    child.once('error', (err) => resolve(`spawn error: ${err.message}`));
  });
  const waitForLine = (pattern: RegExp, timeoutMs: number): Promise<string> => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pattern, resolve: (l: string) => (clearTimeout(timer), resolve(l)) };
      const fail = (why: string) => {
        waiters.delete(w);
        reject(
          new Error(`${cmd} ${args.join(' ')} in ${ns}: ${why} waiting for ${pattern}\n${lines.slice(-40).join('\n')}`),
        );
      };
      const timer = setTimeout(() => fail(`no match within ${timeoutMs} ms`), timeoutMs);
      waiters.add(w);
      void exited.then((code) => {
        if (!waiters.has(w)) return;
        clearTimeout(timer);
        fail(`exited (${code})`);
      });
    });
  };
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(killer);
      }
    })());
  return Object.assign(child, { lines, exited, waitForLine, stop });
}

// If the worker exits without afterAll, do not leave processes or namespaces behind.
process.once('exit', () => {
  for (const topo of liveTopologies) {
    for (const link of ['br']) ipSync(['link', 'del', `${topo.prefix}${link}`]);
    for (const n of Object.values(topo.ns)) {
      const pids = ipSync(['netns', 'pids', n.name])
        .stdout.split(/\s+/)
        .filter((p) => /^\d+$/.test(p));
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      }
      ipSync(['link', 'del', n.hostVeth]);
      ipSync(['netns', 'del', n.name]);
    }
  }
});
