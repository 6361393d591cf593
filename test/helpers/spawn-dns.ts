// Starts the real `meridian dns` process on free loopback ports from a test's YAML, waits for its
// ready line, and reads the listeners and control URL from it.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { writeConfigDir, type ConfigDirOptions } from './config-dir.js';
import { parseListenerText, type Endpoint } from './endpoint.js';
import { collectLines, spawnMeridian, terminate } from './meridian-process.js';
import { REPO_ROOT } from './repo-paths.js';

const READY_MSG = 'meridian dns serving';
const READY_TIMEOUT_MS = 10_000;

export interface StartOptions extends Pick<ConfigDirOptions, 'files' | 'configName'> {
  /** `--listen` values; default one IPv4 loopback listener on a free port. */
  listen?: string[];
  /** `--control-listen`; default a free loopback port. */
  controlListen?: string;
  /** Extra environment for the process (MERIDIAN_CONTROL_TOKEN is removed unless given here). */
  env?: Record<string, string>;
  /** `--workers`; default 1 (one process; the multi-worker tests ask for more). */
  workers?: number | 'auto';
}

export interface RunningServer extends Endpoint {
  /** Every DNS listener from the ready line, in --listen order (udp+tcp share each port). */
  readonly listeners: readonly Endpoint[];
  readonly controlUrl: string;
  readonly configPath: string;
  /** The temp dir holding the config (undefined when an existing file was used). */
  readonly dir: string | undefined;
  readonly process: ChildProcess;
  /** stdout and stderr lines seen so far (the most recent, as meridian-process.ts keeps them). */
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after 3 s; removes the temp dir. Safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Starts a real DNS server process on free ports and waits for its ready line.
 * `configText` is YAML written to a temp dir; `{ file }` uses an existing config as is.
 */
export async function startServer(
  configText: string | { file: string },
  opts: StartOptions = {},
): Promise<RunningServer> {
  let dir: string | undefined;
  let configPath: string;
  if (typeof configText === 'string') {
    ({ dir, configPath } = writeConfigDir(configText, opts));
  } else {
    // Relative paths are taken from the repository root, where the process also runs.
    configPath = resolvePath(REPO_ROOT, configText.file);
  }
  const listen = opts.listen ?? ['127.0.0.1:0'];
  const args = [
    'dns',
    '--config',
    configPath,
    ...listen.flatMap((l) => ['--listen', l]),
    '--control-listen',
    opts.controlListen ?? '127.0.0.1:0',
    '--workers',
    String(opts.workers ?? 1),
  ];
  const child = spawnMeridian(args, opts.env);
  const stdout: string[] = [];
  const stderr: string[] = [];

  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });

  let readyLine: { dns: string[]; control: string } | undefined;
  const ready = new Promise<{ dns: string[]; control: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `meridian dns did not become ready within ${READY_TIMEOUT_MS} ms\nstderr:\n${stderr.join('\n')}\nstdout:\n${stdout.join('\n')}`,
        ),
      );
    }, READY_TIMEOUT_MS);
    collectLines(child.stdout, stdout, (line) => {
      if (readyLine || !line.includes(READY_MSG)) return;
      try {
        const parsed = JSON.parse(line) as { msg?: string; dns?: string[]; control?: string };
        if (parsed.msg === READY_MSG && Array.isArray(parsed.dns) && typeof parsed.control === 'string') {
          readyLine = { dns: parsed.dns, control: parsed.control };
          clearTimeout(timer);
          resolve(readyLine);
        }
      } catch {
        // not JSON: keep waiting
      }
    });
    collectLines(child.stderr, stderr);
    void exited.then((code) => {
      clearTimeout(timer);
      // A no-op when the ready line came first.
      reject(
        new Error(
          `meridian dns exited (${code}) before it was ready\nstderr:\n${stderr.join('\n')}\nstdout:\n${stdout.join('\n')}`,
        ),
      );
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await terminate(child, exited, 3000);
      if (dir) rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  live.add(stop);
  void exited.then(() => live.delete(stop));

  let info: { dns: string[]; control: string };
  try {
    info = await ready;
  } catch (e) {
    await stop();
    throw e;
  }
  const listeners = info.dns.map(parseListenerText);
  return {
    host: listeners[0]!.host,
    port: listeners[0]!.port,
    listeners,
    controlUrl: info.control,
    configPath,
    dir,
    process: child,
    stdout,
    stderr,
    exited,
    stop,
  };
}

const live = new Set<() => Promise<void>>();

/** Stops every server this module started that is still running (a belt to afterAll's braces). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...live].map((stop) => stop()));
}

// If the test worker goes away without afterAll running, do not leave servers behind.
process.once('exit', () => {
  for (const stop of live) void stop();
});
