// Integration-test helpers: run the real `meridian dns` process on free loopback ports, query
// it with `dig`, and read dig's text output back into something a test can assert on.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolvePath(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MERIDIAN_BIN = join(REPO_ROOT, 'bin', 'meridian.js');

const READY_MSG = 'meridian dns serving';
const READY_TIMEOUT_MS = 10_000;
/** Log lines kept per server (stdout and stderr are drained continuously so the pipe never blocks). */
const KEEP_LINES = 2000;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface StartOptions {
  /** Extra files written next to the config, by relative name (e.g. a master zone file). */
  files?: Record<string, string>;
  /** `--listen` values; default one IPv4 loopback listener on a free port. */
  listen?: string[];
  /** `--http`; default a free loopback port. */
  http?: string;
  /** Extra environment for the process (MERIDIAN_CONTROL_TOKEN is removed unless given here). */
  env?: Record<string, string>;
  /** Name of the config file inside the temp dir. */
  configName?: string;
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
  /** stdout and stderr lines seen so far (most recent KEEP_LINES). */
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after 3 s; removes the temp dir. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Writes `configText` (and `opts.files`) to a fresh temp dir and returns the config path. */
export function writeConfigDir(configText: string, opts: Pick<StartOptions, 'files' | 'configName'> = {}): { dir: string; configPath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-it-'));
  const configPath = join(dir, opts.configName ?? 'meridian.yaml');
  writeFileSync(configPath, configText);
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return { dir, configPath };
}

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.MERIDIAN_CONTROL_TOKEN;
  return { ...env, ...extra };
}

function lineCollector(stream: NodeJS.ReadableStream | null, into: string[], onLine?: (line: string) => void): void {
  if (!stream) return;
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      into.push(line);
      if (into.length > KEEP_LINES) into.shift();
      onLine?.(line);
    }
  });
}

/** Splits `127.0.0.1:40123 (udp+tcp)` / `[::1]:40123 (udp+tcp)` into host and port. */
export function parseListenerText(text: string): Endpoint {
  const m = /^\[?([^\]\s]+?)\]?:(\d+)(?:\s|$)/.exec(text.trim());
  if (!m) throw new Error(`cannot parse listener '${text}'`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** Spawns `node bin/meridian.js dns` with its own extra args; for tests of start-up failures. */
export function spawnMeridian(args: string[], env?: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [MERIDIAN_BIN, ...args], { cwd: REPO_ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the command to completion; for processes expected to exit by themselves. */
export function runMeridian(args: string[], timeoutMs = 10_000, env?: Record<string, string>): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnMeridian(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`meridian ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Starts a real DNS server process on free ports and waits for its ready line.
 * `configText` is YAML written to a temp dir; `{ file }` uses an existing config as is.
 */
export async function startServer(configText: string | { file: string }, opts: StartOptions = {}): Promise<RunningServer> {
  let dir: string | undefined;
  let configPath: string;
  if (typeof configText === 'string') {
    ({ dir, configPath } = writeConfigDir(configText, opts));
  } else {
    // Relative paths are taken from the repository root, where the process also runs.
    configPath = resolvePath(REPO_ROOT, configText.file);
  }
  const listen = opts.listen ?? ['127.0.0.1:0'];
  const args = ['dns', '--config', configPath, ...listen.flatMap((l) => ['--listen', l]), '--http', opts.http ?? '127.0.0.1:0', '--workers', String(opts.workers ?? 1)];
  const child = spawnMeridian(args, opts.env);
  const stdout: string[] = [];
  const stderr: string[] = [];

  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });

  let readyLine: { dns: string[]; control: string } | undefined;
  const ready = new Promise<{ dns: string[]; control: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`meridian dns did not become ready within ${READY_TIMEOUT_MS} ms\nstderr:\n${stderr.join('\n')}\nstdout:\n${stdout.join('\n')}`));
    }, READY_TIMEOUT_MS);
    lineCollector(child.stdout, stdout, (line) => {
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
    lineCollector(child.stderr, stderr);
    void exited.then((code) => {
      clearTimeout(timer);
      // A no-op when the ready line came first.
      reject(new Error(`meridian dns exited (${code}) before it was ready\nstderr:\n${stderr.join('\n')}\nstdout:\n${stdout.join('\n')}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killer);
      }
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

// ---------------------------------------------------------------------------------------------
// dig

export const DIG_DEFAULTS = ['+norec', '+time=2', '+tries=1'];

/** Runs `dig @host -p port +norec +time=2 +tries=1 ...args` and returns its stdout. */
export function dig(server: Endpoint, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('dig', [`@${server.host}`, '-p', String(server.port), ...DIG_DEFAULTS, ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      // dig exits 9 on "no reply"; the output still says why, and some tests expect exactly that.
      if (err && !stdout) reject(new Error(`dig ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export interface DigRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  data: string;
}

export interface DigQuestion {
  name: string;
  class: string;
  type: string;
}

export interface DigEdns {
  version: number;
  flags: string[];
  udp: number;
}

export interface DigResponse {
  opcode: string;
  status: string;
  id: number;
  flags: string[];
  counts: { query: number; answer: number; authority: number; additional: number };
  edns: DigEdns | null;
  /** The NSID as text (dig prints hex and, when printable, the text in quotes). */
  nsid: string | null;
  /** e.g. `198.51.100.0/24/0` */
  clientSubnet: string | null;
  question: DigQuestion[];
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  /** Lines dig printed as warnings (`;; WARNING: ...`, `;; Truncated ...`). */
  warnings: string[];
  /** `;; SERVER: ...` transport, e.g. UDP or TCP. */
  transport: string | null;
  /** `;; MSG SIZE  rcvd: N` */
  size: number | null;
  raw: string;
}

const RR_LINE = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/;

function parseRecord(line: string): DigRecord {
  const m = RR_LINE.exec(line);
  if (!m) throw new Error(`cannot parse dig record line: ${line}`);
  return { name: m[1]!, ttl: Number(m[2]), class: m[3]!, type: m[4]!, data: m[5]!.trim() };
}

/** Parses every response in dig's output (one per `;; Got answer:`). */
export function parseDigAll(output: string): DigResponse[] {
  const parts = output.split(/^;; Got answer:\s*$/m).slice(1);
  return parts.map(parseOne);
}

/** Parses dig's output, which must hold exactly one response. */
export function parseDig(output: string): DigResponse {
  const all = parseDigAll(output);
  if (all.length !== 1) throw new Error(`expected one response in dig output, found ${all.length}:\n${output}`);
  return all[0]!;
}

function parseOne(text: string): DigResponse {
  const res: DigResponse = {
    opcode: '',
    status: '',
    id: -1,
    flags: [],
    counts: { query: 0, answer: 0, authority: 0, additional: 0 },
    edns: null,
    nsid: null,
    clientSubnet: null,
    question: [],
    answer: [],
    authority: [],
    additional: [],
    warnings: [],
    transport: null,
    size: null,
    raw: text,
  };
  type Section = 'question' | 'answer' | 'authority' | 'additional' | 'opt' | null;
  let section: Section = null;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trimEnd();
    let m: RegExpExecArray | null;
    if ((m = /^;; ->>HEADER<<- opcode: (\S+), status: (\S+), id: (\d+)/.exec(line))) {
      res.opcode = m[1]!;
      res.status = m[2]!;
      res.id = Number(m[3]);
    } else if ((m = /^;; flags:([^;]*); QUERY: (\d+), ANSWER: (\d+), AUTHORITY: (\d+), ADDITIONAL: (\d+)/.exec(line))) {
      res.flags = m[1]!.trim().split(/\s+/).filter(Boolean);
      res.counts = { query: Number(m[2]), answer: Number(m[3]), authority: Number(m[4]), additional: Number(m[5]) };
    } else if (line === ';; OPT PSEUDOSECTION:') {
      section = 'opt';
    } else if (line === ';; QUESTION SECTION:') {
      section = 'question';
    } else if (line === ';; ANSWER SECTION:') {
      section = 'answer';
    } else if (line === ';; AUTHORITY SECTION:') {
      section = 'authority';
    } else if (line === ';; ADDITIONAL SECTION:') {
      section = 'additional';
    } else if ((m = /^; EDNS: version: (\d+), flags:([^;]*); udp: (\d+)/.exec(line))) {
      res.edns = { version: Number(m[1]), flags: m[2]!.trim().split(/\s+/).filter(Boolean), udp: Number(m[3]) };
    } else if ((m = /^; NSID: (.*)$/.exec(line))) {
      const quoted = /\("(.*)"\)\s*$/.exec(m[1]!);
      res.nsid = quoted ? quoted[1]! : Buffer.from(m[1]!.replace(/[^0-9a-f]/gi, ''), 'hex').toString('utf8');
    } else if ((m = /^; CLIENT-SUBNET: (\S+)/.exec(line))) {
      res.clientSubnet = m[1]!;
    } else if ((m = /^;; SERVER: .*\((\w+)\)\s*$/.exec(line))) {
      res.transport = m[1]!;
    } else if ((m = /^;; MSG SIZE\s+rcvd: (\d+)/.exec(line))) {
      res.size = Number(m[1]);
    } else if (line.startsWith(';; WARNING') || line.startsWith(';; Truncated') || line.startsWith(';; Warning')) {
      res.warnings.push(line);
    } else if (line === '') {
      if (section !== 'opt') section = null;
    } else if (section === 'question' && line.startsWith(';')) {
      const q = /^;(\S+)\s+(\S+)\s+(\S+)/.exec(line);
      if (q) res.question.push({ name: q[1]!, class: q[2]!, type: q[3]! });
    } else if ((section === 'answer' || section === 'authority' || section === 'additional') && !line.startsWith(';')) {
      res[section].push(parseRecord(line));
    }
  }
  return res;
}

/** dig + parse in one step. */
export async function query(server: Endpoint, args: string[]): Promise<DigResponse> {
  return parseDig(await dig(server, args));
}

// ---------------------------------------------------------------------------------------------
// Control port

export async function control(server: { controlUrl: string }, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: unknown }> {
  const res = await fetch(new URL(path, server.controlUrl), { method, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** Sums the samples of `name` in Prometheus text whose labels include every pair in `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have.set(l[1]!, l[2]!);
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

export async function scrapeMetrics(server: { controlUrl: string }): Promise<string> {
  const res = await control(server, 'GET', '/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${res.text}`);
  return res.text;
}
