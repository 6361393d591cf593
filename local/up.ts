// `meridian up`: the whole CDN of a topology file on this machine. Plan the processes, check
// their addresses are free, start the origin, the DNS server and the edges, then the probers
// (each a child `node bin/meridian.js <subcommand>`, as docker compose runs them), wait until all
// serve, print what runs where, and keep them running until Ctrl-C.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { request } from 'undici';
import { startControlServer, type ControlServer } from '../common/control-server.js';
import { resolveControlToken } from '../common/control-token.js';
import { formatHostPort, type HostPort } from '../common/host-port.js';
import { createLogger } from '../common/log.js';
import { assetPath } from '../origin/site.js';
import { renderBanner, type BannerExample } from './banner.js';
import { upControlRoutes } from './control.js';
import { Tail } from './lines.js';
import { clock, viewLine } from './log-view.js';
import { anycastPreflight } from './anycast-preflight.js';
import { leaveOutMissing } from './optional-listen.js';
import { planFor, type Plan, type ProcessPlan } from './plan.js';
import { unavailable } from './preflight.js';
import { waitForHttp } from './ready.js';
import { Supervisor } from './supervisor.js';

export interface UpOptions {
  readonly configFile: string;
  readonly controlListen: HostPort;
  /** True when --control-listen was not given (the printed drill commands then need no --control). */
  readonly defaultControl: boolean;
  readonly proberPort: number;
  readonly verbose: boolean;
  /** Also write every child's full output to DIR/<name>.log. */
  readonly logDir?: string | undefined;
  /** How long start-up may take before `up` gives up (default 60 s). */
  readonly startTimeoutMs?: number;
}

// dist/local/up.js → the repository (or installed package) root.
const ROOT = resolvePath(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MERIDIAN_BIN = join(ROOT, 'bin', 'meridian.js');
const ORPHAN_GUARD = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'orphan-guard.js')).href;
/** The example client of the banner: Tokyo in the test GeoIP database (TEST-NET-3). */
const EXAMPLE_SUBNET = '203.0.113.0/24';
/** A child that exits this many times in a row before ever serving will not start. */
const MAX_FAILED_STARTS = 3;
const LINES_KEPT = 12;
const SHOWN_PROBLEMS = 6;

class StartError extends Error {}

export async function up(opts: UpOptions): Promise<number> {
  const out = (lines: string[]): void => void (lines.length && process.stdout.write(`${lines.join('\n')}\n`));
  // Before the first line: up's own warnings (plan, preflight) are written to DIR/up.log too.
  if (opts.logDir) mkdirSync(opts.logDir, { recursive: true });
  const files = new Map<string, WriteStream>();
  const fileFor = (name: string): WriteStream | undefined => {
    if (!opts.logDir) return undefined;
    let f = files.get(name);
    if (!f)
      files.set(name, (f = createWriteStream(join(opts.logDir, `${name.replace(/\s+/g, '-')}.log`), { flags: 'a' })));
    return f;
  };
  // up's own log is pino too, rendered like the children's lines.
  const log = createLogger({
    service: 'up',
    destination: {
      write: (line: string) => {
        fileFor('up')?.write(line);
        out(viewLine('up', line.trimEnd(), { verbose: opts.verbose, fields: false }));
      },
    },
  });

  let plan: Plan;
  try {
    plan = await planFor(opts.configFile, { proberPort: opts.proberPort, controlListen: opts.controlListen });
  } catch (e) {
    process.stderr.write(`meridian up: ${(e as Error).message}\n`);
    return 2;
  }
  for (const w of plan.warnings) log.warn(w);
  const trimmed = await leaveOutMissing(plan);
  plan = trimmed.plan;
  for (const note of trimmed.notes) log.warn(note);
  // Announcers this machine cannot run are left out, one line per reason; the rest still starts.
  const anycast = await anycastPreflight(plan);
  plan = anycast.plan;
  for (const note of anycast.notes) log.warn(note);
  const other = await runningUp(opts.controlListen);
  if (other) {
    process.stderr.write(
      `meridian up: another \`meridian up\` is running (control http://${formatHostPort(opts.controlListen)}, config ${other}); stop it first (Ctrl-C in its terminal)\n`,
    );
    return 1;
  }
  const taken = await unavailable(plan.listeners);
  if (taken.length > 0) {
    const shown = taken
      .slice(0, SHOWN_PROBLEMS)
      .map((t) => `  ${t}\n`)
      .join('');
    const more = taken.length > SHOWN_PROBLEMS ? `  … and ${taken.length - SHOWN_PROBLEMS} more\n` : '';
    process.stderr.write(
      `meridian up: cannot start, ${taken.length === 1 ? 'an address is' : 'addresses are'} not available:\n${shown}${more}`,
    );
    return 1;
  }
  let stopping = false;
  const recent = new Map(plan.processes.map((p) => [p.name, new Tail(LINES_KEPT)]));
  const supervisor = new Supervisor({
    log,
    cwd: ROOT,
    onLine: (name, _stream, line) => {
      fileFor(name)?.write(`${line}\n`);
      recent.get(name)?.push(line);
      // While everything stops, children complain about each other going away: not news.
      if (!stopping) out(viewLine(name, line, { verbose: opts.verbose }));
    },
  });
  for (const p of plan.processes) {
    supervisor.add({
      name: p.name,
      command: process.execPath,
      args: ['--import', ORPHAN_GUARD, MERIDIAN_BIN, ...p.args],
      ready: (signal) => waitForHttp(p.readyUrl, signal),
    });
  }

  // From here on, whatever happens to `up`, its children go with it.
  process.on('exit', () => supervisor.killAllNow());
  const stop = new AbortController();
  const onSignal = (): void => {
    // A second Ctrl-C: stop waiting for graceful exits.
    if (stop.signal.aborted) supervisor.killAllNow();
    stop.abort();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);

  let started = false;
  let control: ControlServer | undefined;
  let code = 0;
  try {
    control = await startControlServer({
      ...opts.controlListen,
      token: resolveControlToken({}),
      routes: upControlRoutes({ plan, supervisor, started: () => started, log }),
      log,
    });
    const deadline = performance.now() + (opts.startTimeoutMs ?? 60_000);
    for (const stage of [0, 1, 2] as const) {
      const batch = plan.processes.filter((p) => p.stage === stage);
      if (batch.length === 0) continue;
      out([`${clock(Date.now())} [up] starting ${describe(batch)}…`]);
      for (const p of batch) supervisor.start(p.name);
      await allReady(supervisor, batch, deadline, stop.signal, recent);
    }
    started = true;
    const example = await exampleAnswer(plan);
    out([
      '',
      renderBanner({
        plan,
        controlUrl: control.url,
        defaultControl: opts.defaultControl,
        example,
        anycastNotes: anycast.notes,
        asset: assetPath('app.js'),
        verbose: opts.verbose,
        cwd: process.cwd(),
      }),
    ]);
    await new Promise<void>((resolve) =>
      stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve()),
    );
  } catch (e) {
    if (!stop.signal.aborted) {
      process.stderr.write(`meridian up: ${(e as Error).message}\n`);
      code = 1;
    }
  } finally {
    stopping = true;
    out([`stopping ${plan.processes.length} processes…`]);
    await supervisor.stopAll();
    await control?.close();
    for (const s of signals) process.off(s, onSignal);
    await Promise.all([...files.values()].map((f) => new Promise((resolve) => f.end(resolve))));
    if (code === 0) out(['stopped.']);
  }
  return code;
}

/** 'origin, dns, 6 edges', '3 probers, 1 anycast announcer' */
function describe(batch: readonly ProcessPlan[]): string {
  const parts = batch.filter((p) => p.pop === null).map((p) => p.name);
  for (const [role, what] of [
    ['edge', 'edge'],
    ['health', 'prober'],
    ['anycast', 'anycast announcer'],
  ] as const) {
    const n = batch.filter((p) => p.role === role).length;
    if (n) parts.push(`${n} ${what}${n === 1 ? '' : 's'}`);
  }
  return parts.join(', ');
}

async function allReady(
  supervisor: Supervisor,
  batch: readonly ProcessPlan[],
  deadline: number,
  stop: AbortSignal,
  recent: Map<string, Tail>,
): Promise<void> {
  for (;;) {
    if (stop.aborted) throw new StartError('stopped during start-up');
    const status = batch.map((p) => supervisor.status(p.name)[0]!);
    if (status.every((s) => s.ready)) return;
    const failing = status.find((s) => s.failedStarts >= MAX_FAILED_STARTS);
    if (failing)
      throw new StartError(
        `${failing.name} exited ${failing.failedStarts} times before serving; giving up (its errors are above)`,
      );
    if (performance.now() > deadline) {
      const late = status.filter((s) => !s.ready);
      throw new StartError(
        `not serving after the start-up timeout: ${late.map((s) => s.name).join(', ')}\n` +
          late.map((s) => `--- ${s.name}, last lines ---\n${recent.get(s.name)!.last().join('\n')}`).join('\n'),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The config file of a `meridian up` already answering on our control address, if one is. */
async function runningUp(control: HostPort): Promise<string | undefined> {
  try {
    const res = await request(`http://${formatHostPort(control)}/v1/processes`, {
      headersTimeout: 1000,
      bodyTimeout: 1000,
    });
    const body = (await res.body.json()) as { config?: unknown; processes?: unknown };
    return res.statusCode === 200 && typeof body.config === 'string' && Array.isArray(body.processes)
      ? body.config
      : undefined;
  } catch {
    return undefined;
  }
}

/** Asks the DNS server (explain) where the banner's example client is answered. */
async function exampleAnswer(plan: Plan): Promise<BannerExample> {
  // A wildcard route (*.cdn.demo.test) is asked for as one of its names.
  const name = plan.routedNames.find((n) => !n.startsWith('*')) ?? plan.routedNames[0]?.replace(/^\*/, 'www');
  const example: BannerExample = { name, subnet: EXAMPLE_SUBNET };
  if (name === undefined) return example;
  try {
    const url = new URL('/v1/explain', plan.dns.control);
    url.searchParams.set('name', name);
    url.searchParams.set('client', EXAMPLE_SUBNET);
    const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
    const body = (await res.body.json()) as {
      client?: { country?: string };
      decisions?: { chosen?: string[] }[];
      answer?: { type: string; data: string }[];
    };
    if (res.statusCode !== 200) return example;
    return {
      ...example,
      country: body.client?.country,
      pop: body.decisions?.[0]?.chosen?.[0],
      addresses: body.answer?.filter((a) => a.type === 'A').map((a) => a.data),
    };
  } catch {
    // The banner still works without it; it only cannot say which PoP answers.
    return example;
  }
}
