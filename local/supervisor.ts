// Child processes kept running: each is spawned, watched until it is ready, restarted with
// exponential backoff when it dies unexpectedly (one error line: which child, exit code or
// signal, its last stderr lines), and stopped with SIGTERM, then SIGKILL if it does not go.
// A child can be "killed" on purpose (a drill): stopped and kept down until it is revived.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../common/log.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from '../common/backoff.js';
import { onLines, Tail } from './lines.js';

export interface ChildSpec {
  /** Unique; used in logs and by `kill`/`revive` (e.g. 'edge fra'). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Resolves once the child serves; aborted when it exits. Without it, spawned = ready. */
  readonly ready?: (signal: AbortSignal) => Promise<void>;
}

/**
 * starting: spawned, not ready yet · running: ready · backoff: died, restart pending ·
 * killed: stopped on purpose, stays down until revived · stopped: supervisor shut down.
 */
export type ChildState = 'starting' | 'running' | 'backoff' | 'killed' | 'stopped';

export interface ChildStatus {
  readonly name: string;
  readonly state: ChildState;
  readonly pid: number | null;
  readonly ready: boolean;
  /** Unexpected exits so far (each one restarted). */
  readonly restarts: number;
  /** Exits in a row before becoming ready: a start-up that keeps failing. */
  readonly failedStarts: number;
  readonly startedAt: string | null;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null; readonly at: string } | null;
}

export interface SupervisorOptions {
  readonly log: Logger;
  /** Every line a child writes (after it is kept for the crash report). */
  readonly onLine?: (name: string, stream: 'stdout' | 'stderr', line: string) => void;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** SIGTERM, then SIGKILL after this long (default 5 s). */
  readonly stopTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
}

const STDERR_LINES_REPORTED = 8;
const SIGNAL_GRACE_MS = 150;

interface Slot {
  readonly spec: ChildSpec;
  readonly backoff: Backoff;
  readonly stderr: Tail;
  child: ChildProcess | undefined;
  /** Resolves when the current child has exited and its output is read. */
  exited: Promise<void>;
  state: ChildState;
  /** Should be running: false once killed on purpose or while the supervisor stops. */
  wanted: boolean;
  ready: boolean;
  restarts: number;
  failedStarts: number;
  startedAt: number | undefined;
  lastExit: ChildStatus['lastExit'];
  timer: NodeJS.Timeout | undefined;
}

export class Supervisor {
  private readonly slots = new Map<string, Slot>();
  private readonly stopTimeoutMs: number;

  constructor(private readonly opts: SupervisorOptions) {
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 5000;
  }

  add(spec: ChildSpec): void {
    if (this.slots.has(spec.name)) throw new Error(`duplicate child name '${spec.name}'`);
    this.slots.set(spec.name, {
      spec,
      backoff: new Backoff(this.opts.backoff ?? DEFAULT_BACKOFF),
      stderr: new Tail(STDERR_LINES_REPORTED),
      child: undefined,
      exited: Promise.resolve(),
      state: 'stopped',
      wanted: false,
      ready: false,
      restarts: 0,
      failedStarts: 0,
      startedAt: undefined,
      lastExit: null,
      timer: undefined,
    });
  }

  start(name: string): void {
    const slot = this.slot(name);
    slot.wanted = true;
    if (!slot.child && !slot.timer) this.spawn(slot);
  }

  /** Stops the child and keeps it down (no restart) until `revive`. */
  async kill(name: string): Promise<void> {
    const slot = this.slot(name);
    await this.stop(slot);
    slot.state = 'killed';
  }

  /** Starts a killed child again, with a fresh backoff. False when it was not killed. */
  async revive(name: string): Promise<boolean> {
    const slot = this.slot(name);
    if (slot.state !== 'killed') return false;
    // A kill still in progress: let the old process free its ports first.
    await slot.exited;
    slot.backoff.reset();
    slot.failedStarts = 0;
    this.start(name);
    return true;
  }

  /** True once the child is ready, false after `timeoutMs` (bounded, never hangs). */
  async waitReady(name: string, timeoutMs: number): Promise<boolean> {
    const slot = this.slot(name);
    const deadline = performance.now() + timeoutMs;
    while (!slot.ready) {
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return true;
  }

  status(name?: string): ChildStatus[] {
    const slots = name === undefined ? [...this.slots.values()] : [this.slot(name)];
    return slots.map((s) => ({
      name: s.spec.name,
      state: s.state,
      pid: s.child?.pid ?? null,
      ready: s.ready,
      restarts: s.restarts,
      failedStarts: s.failedStarts,
      startedAt: s.startedAt === undefined ? null : new Date(s.startedAt).toISOString(),
      lastExit: s.lastExit,
    }));
  }

  /** SIGTERM to every child at once, SIGKILL to those still there after the timeout. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        await this.stop(slot);
        if (slot.state !== 'killed') slot.state = 'stopped';
      }),
    );
  }

  /** Synchronous last resort for process exit: SIGKILL whatever is still running. */
  killAllNow(): void {
    for (const slot of this.slots.values()) {
      slot.wanted = false;
      clearTimeout(slot.timer);
      slot.child?.kill('SIGKILL');
    }
  }

  private slot(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`no child named '${name}'`);
    return slot;
  }

  private spawn(slot: Slot): void {
    const { spec } = slot;
    const { log } = this.opts;
    slot.timer = undefined;
    slot.stderr.clear();
    // Not detached: the children stay in our process group, so a Ctrl-C in the terminal reaches
    // them too, and nothing outlives the group by accident.
    const child = spawn(spec.command, [...spec.args], {
      cwd: this.opts.cwd,
      env: this.opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    slot.child = child;
    slot.state = 'starting';
    slot.ready = false;
    slot.startedAt = Date.now();
    onLines(child.stdout!, (line) => this.opts.onLine?.(spec.name, 'stdout', line));
    onLines(child.stderr!, (line) => {
      slot.stderr.push(line);
      this.opts.onLine?.(spec.name, 'stderr', line);
    });
    const readiness = new AbortController();
    // 'close', not 'exit': by then the last stderr lines (the reason it died) have been read.
    slot.exited = new Promise((resolve) =>
      child.once('close', (code, signal) => {
        readiness.abort();
        this.exitedChild(slot, child, code, signal);
        resolve();
      }),
    );
    child.once('error', (err) => log.error({ process: spec.name, err }, `${spec.name} could not be started`));
    (spec.ready ?? (() => Promise.resolve()))(readiness.signal).then(
      () => {
        if (slot.child !== child || readiness.signal.aborted) return;
        slot.state = 'running';
        slot.ready = true;
        slot.failedStarts = 0;
        if (slot.restarts > 0)
          log.info(
            { lifecycle: true, process: spec.name, childPid: child.pid, restarts: slot.restarts },
            `${spec.name} ready again (restart ${slot.restarts})`,
          );
      },
      // Aborted because the child exited: its exit is reported on its own.
      () => undefined,
    );
  }

  private exitedChild(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    const ranForMs = Date.now() - (slot.startedAt ?? Date.now());
    const wasReady = slot.ready;
    slot.child = undefined;
    slot.ready = false;
    slot.lastExit = { code, signal, at: new Date().toISOString() };
    if (!slot.wanted) return;
    slot.state = 'backoff';
    // A Ctrl-C reaches the children (our process group) and us at once, and their exits may be
    // seen first: give our own signal handler a moment before calling this a crash.
    slot.timer = setTimeout(() => this.crashed(slot, code, signal, ranForMs, wasReady), SIGNAL_GRACE_MS);
  }

  private crashed(
    slot: Slot,
    code: number | null,
    signal: NodeJS.Signals | null,
    ranForMs: number,
    wasReady: boolean,
  ): void {
    if (!wasReady) slot.failedStarts++;
    slot.restarts++;
    const delay = slot.backoff.next(ranForMs);
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    this.opts.log.error(
      { process: slot.spec.name, code, signal, ranForMs, restartInMs: delay, tail: slot.stderr.last() },
      `${slot.spec.name} exited unexpectedly (${how}); restarting in ${(delay / 1000).toFixed(1)} s`,
    );
    slot.timer = setTimeout(() => this.spawn(slot), delay);
  }

  private async stop(slot: Slot): Promise<void> {
    slot.wanted = false;
    clearTimeout(slot.timer);
    slot.timer = undefined;
    const child = slot.child;
    if (!child) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      this.opts.log.warn(
        { process: slot.spec.name, childPid: child.pid },
        `${slot.spec.name} did not stop within ${this.stopTimeoutMs} ms; SIGKILL`,
      );
      child.kill('SIGKILL');
    }, this.stopTimeoutMs);
    await slot.exited;
    clearTimeout(killer);
  }
}
