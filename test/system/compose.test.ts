// System test: README's "Docker compose" run for real, as a new user would, with whichever compose
// this machine has (`docker compose` v2, else `docker-compose` v1). One `up -d --build`, then the
// drills one after another, each timed (the figures README quotes are these, printed at the end):
//
//   README's dig examples against the published port 53 · a MISS then a HIT through an edge ·
//   the origin reached from the edges and from no other container · an edge stopped (the answer
//   moves) and started (it returns) · a prober killed (quorum holds, nothing moves) · an edge cut
//   off the backbone (a silent PoP: the answer moves, and returns) · README's drain and undrain,
//   and its state file · the DNS server restarted while a PoP is down (never a wrong answer once
//   it answers) · `down -v` leaving nothing.
//
// A project name of its own (meridian-test-<pid>), so a user's stack is never touched; but the
// compose file's fixed subnets and host ports mean a second stack cannot run beside it, so
// outside CI the test skips when they are taken. Clients here are dig and fetch on the Docker
// host, to 127.0.0.1's published ports and to the containers' 10.53.x addresses.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/repo-paths.js';
import { query } from '../helpers/dig.js';
import { composeCommand, dockerUnavailableReason, run, skipOutsideCi, type RunResult } from '../helpers/compose-cli.js';

const SUITE = 'test/system/compose.test.ts';
const PROJECT = `meridian-test-${process.pid}`;
const DNS = { host: '127.0.0.1', port: 53 };
const CONTROL = 'http://127.0.0.1:8053';
const EDGE = { fra: '10.53.0.11', iad: '10.53.0.12', sin: '10.53.0.13' } as const;
const SUBNET = { fra: '198.51.100.0/24', iad: '192.0.2.0/24', sin: '203.0.113.0/24' } as const;
const SERVICES = ['dns', 'origin', 'edge-fra', 'edge-iad', 'edge-sin', 'health-fra', 'health-iad', 'health-sin'];
/** Report interval 1 s, fall 3, rise 2 (config/compose.yaml): every move is expected in seconds. */
const MOVE_BOUND_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Can it run here?

/** Port 53 or 8053 on 127.0.0.1 held by something else, or the compose subnets in use. */
async function hostUnavailableReason(): Promise<string | null> {
  const udpTaken = await new Promise<boolean>((resolve) => {
    const s = createSocket('udp4');
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'));
    s.bind(53, '127.0.0.1', () => s.close(() => resolve(false)));
  });
  const tcpTaken = async (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const srv = createServer();
      srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
    });
  if (udpTaken || (await tcpTaken(53))) return 'port 53 on 127.0.0.1 is taken (the stack publishes DNS there)';
  if (await tcpTaken(8053)) return 'port 8053 on 127.0.0.1 is taken (the stack publishes its control port there)';
  const nets = await run('docker', ['network', 'ls', '-q']);
  const ids = nets.stdout.split('\n').filter(Boolean);
  if (ids.length > 0) {
    const subnets = await run('docker', [
      'network',
      'inspect',
      '--format',
      '{{.Name}} {{range .IPAM.Config}}{{.Subnet}} {{end}}',
      ...ids,
    ]);
    const clash = subnets.stdout.split('\n').find((l) => /\b10\.53\.[012]\.0\/24\b/.test(l));
    if (clash)
      return `Docker network ${clash.split(' ')[0]} already uses the compose subnets (another Meridian stack running?)`;
  }
  return null;
}

function setupReason(): string | null {
  const docker = dockerUnavailableReason();
  if (docker) return docker;
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
  } catch {
    return 'dig is not installed (bind9-dnsutils): the drills ask the DNS server with it';
  }
  return null;
}

const reason = setupReason();

// ---------------------------------------------------------------------------------------------
// The stack

const token = randomBytes(16).toString('hex');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  MERIDIAN_CONTROL_TOKEN: token,
  // The default (loopback); a user's .env saying otherwise must not move the test's stack.
  MERIDIAN_DNS_HOST_IP: '127.0.0.1',
};
delete env.COMPOSE_FILE;
delete env.COMPOSE_PROJECT_NAME;
let composeArgv: string[] = [];

async function compose(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  const [cmd, ...pre] = composeArgv;
  const files = ['docker-compose.yml', ...extraFiles].flatMap((f) => ['-f', join(REPO_ROOT, f)]);
  return run(cmd!, [...pre, '-p', PROJECT, ...files, ...args], {
    env,
    cwd: REPO_ROOT,
    timeoutMs,
  });
}

/** Override files in use: the anycast variant's, once its drill has started it (so `down` removes it too). */
const extraFiles: string[] = [];

async function mustCompose(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  const r = await compose(args, timeoutMs);
  if (r.code !== 0)
    throw new Error(`compose ${args.join(' ')} exited ${r.code}:\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`);
  return r;
}

async function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await run('docker', args, { timeoutMs });
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

const label = `label=com.docker.compose.project=${PROJECT}`;

/** Each service's container status (`Up 12 seconds (healthy)`), by compose's labels (v1 and v2 name containers differently). */
async function statuses(): Promise<Map<string, string>> {
  const out = await docker([
    'ps',
    '-a',
    '--filter',
    label,
    '--format',
    '{{.Label "com.docker.compose.service"}}\t{{.Status}}',
  ]);
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t') as [string, string]),
  );
}

async function containerOf(service: string): Promise<string> {
  const id = await docker(['ps', '-aq', '--filter', label, '--filter', `label=com.docker.compose.service=${service}`]);
  if (!id) throw new Error(`no container for ${service}`);
  return id.split('\n')[0]!;
}

async function networkOf(name: string): Promise<string> {
  const id = await docker([
    'network',
    'ls',
    '-q',
    '--filter',
    label,
    '--filter',
    `label=com.docker.compose.network=${name}`,
  ]);
  if (!id) throw new Error(`no network ${name}`);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Clients

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The A answer for www.demo.test for a client in `subnet` (ECS), or a status when there is none. */
async function answer(subnet: string): Promise<string[] | string> {
  try {
    const r = await query(DNS, ['www.demo.test', 'A', `+subnet=${subnet}`, '+time=1']);
    if (r.status !== 'NOERROR') return r.status ?? 'no status';
    return r.answer.filter((a) => a.type === 'A').map((a) => a.data);
  } catch (e) {
    return `no reply (${(e as Error).message.split('\n')[0]})`;
  }
}

interface Verdict {
  pop: string;
  verdict: string;
  votes: { vantage: string; up: boolean | null; fresh: boolean }[];
}

async function health(): Promise<Verdict[]> {
  const res = await fetch(`${CONTROL}/v1/health`, { signal: AbortSignal.timeout(3000) });
  return ((await res.json()) as { pops: Verdict[] }).pops;
}

/** Polls `get` until `ok`; the value and the seconds since `t0`. */
async function waitFor<T>(
  what: string,
  t0: number,
  get: () => Promise<T>,
  ok: (v: T) => boolean,
  boundMs = MOVE_BOUND_MS,
): Promise<{ value: T; s: number }> {
  let last: T | undefined;
  let lastErr: unknown;
  while (performance.now() - t0 < boundMs) {
    try {
      last = await get();
      if (ok(last)) return { value: last, s: (performance.now() - t0) / 1000 };
    } catch (e) {
      lastErr = e;
    }
    await sleep(200);
  }
  const hv = await health().catch((e: Error) => `(/v1/health: ${e.message})`);
  throw new Error(
    `${what}: not within ${boundMs / 1000} s; last ${JSON.stringify(last)}${lastErr ? ` (${String(lastErr)})` : ''}\n/v1/health ${JSON.stringify(hv)}`,
  );
}

/** Every PoP up with three fresh up votes: the steady state each drill starts from. */
async function allUp(what: string): Promise<void> {
  await waitFor(
    what,
    performance.now(),
    health,
    (pops) =>
      pops.length === 3 &&
      pops.every((p) => p.verdict === 'up' && p.votes.filter((v) => v.fresh && v.up === true).length === 3),
    60_000,
  );
}

function readmeSection(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const rest = readme.slice(readme.search(/^## Docker compose/m) + 3);
  return rest.slice(0, rest.search(/^## /m));
}

/** README's dig examples: each `dig @127.0.0.1 ARGS … # … → 10.53.0.N` line of "Docker compose". */
function readmeDigExamples(): { line: string; args: string[]; expected: string }[] {
  const section = readmeSection();
  const out: { line: string; args: string[]; expected: string }[] = [];
  for (const line of section.split('\n')) {
    const m = /^dig @127\.0\.0\.1 ([^#]+?)\s+#.*?→ (10\.53\.0\.\d+)\b/.exec(line);
    if (m) out.push({ line, args: m[1]!.split(/\s+/).filter((a) => a !== '+short'), expected: m[2]! });
  }
  return out;
}

const ANYCAST_SERVICES = ['fra', 'iad', 'sin']
  .flatMap((p) => [`bird-${p}`, `anycast-${p}`, `dns-${p}`])
  .concat('router');

/** Which PoP answers the anycast address from the router (the NSID: its hostname), or why none does. */
async function anycastServer(): Promise<string> {
  const r = await compose(
    ['exec', '-T', 'router', 'node', 'bin/meridian.js', 'query', 'demo.test', 'SOA', '--server', '198.51.100.53'],
    20_000,
  );
  return /^nsid:\s+(\S+)/m.exec(r.stdout)?.[1] ?? `no answer (${(r.stderr || r.stdout).trim().split('\n')[0]})`;
}

/** The PoPs the router has a path to 198.51.100.0/24 from (its BGP sessions). */
async function routerPaths(): Promise<string[]> {
  const r = await compose([
    'exec',
    '-T',
    'router',
    'birdc',
    '-s',
    '/run/bird/bird.ctl',
    'show',
    'route',
    '198.51.100.0/24',
  ]);
  return [...r.stdout.matchAll(/\[(pop_\w+)/g)].map((m) => m[1]!).sort();
}

// ---------------------------------------------------------------------------------------------

const figures: [string, string][] = [];
function figure(what: string, seconds: number | string): void {
  const text = typeof seconds === 'number' ? `${seconds.toFixed(1)} s` : seconds;
  figures.push([what, text]);
  console.log(`compose drill: ${what}: ${text}`);
}

describe.skipIf(skipOutsideCi(SUITE, reason, 'It runs README\'s "Docker compose" with a real Docker engine'))(
  'docker compose, run for real (system)',
  () => {
    let downDone = false;

    beforeAll(async () => {
      if (reason) throw new Error(`${SUITE} cannot run: ${reason}`);
      const hostReason = await hostUnavailableReason();
      if (hostReason) throw new Error(`${SUITE} cannot run: ${hostReason}`);
      const cmd = composeCommand();
      if (!Array.isArray(cmd)) throw new Error(cmd.reason);
      composeArgv = cmd;
      console.log(`compose drill: using \`${cmd.join(' ')}\`, project ${PROJECT}`);

      const t0 = performance.now();
      await mustCompose(['up', '-d', '--build'], 240_000);
      const tUp = performance.now();
      figure('`up -d --build` returned after', (tUp - t0) / 1000);
      const healthy = await waitFor(
        'every container healthy',
        tUp,
        statuses,
        (m) => SERVICES.every((s) => /\(healthy\)/.test(m.get(s) ?? '')),
        120_000,
      );
      figure('then every container healthy after', healthy.s);
      await allUp('every PoP up with three fresh votes');
    }, 400_000);

    afterAll(async () => {
      if (composeArgv.length > 0 && !downDone) {
        const logs = await compose(['logs', '--no-color', '--tail', '40'], 30_000);
        if (process.env.MERIDIAN_COMPOSE_LOGS === '1') console.log(logs.stdout);
        await compose(['down', '-v', '--remove-orphans', '--timeout', '5'], 120_000);
      }
      if (figures.length > 0)
        console.log(
          `compose drills (${composeArgv.join(' ')}):\n${figures.map(([w, t]) => `  ${t.padStart(8)}  ${w}`).join('\n')}`,
        );
    }, 150_000);

    it("README's dig examples answer as README says, on 127.0.0.1:53", async () => {
      const examples = readmeDigExamples();
      expect(examples.length).toBeGreaterThanOrEqual(4);
      for (const ex of examples) {
        const r = await query(DNS, ex.args);
        expect({
          line: ex.line,
          status: r.status,
          aa: r.flags.includes('aa'),
          answer: r.answer.filter((a) => a.type === 'A').map((a) => a.data),
        }).toEqual({ line: ex.line, status: 'NOERROR', aa: true, answer: [ex.expected] });
      }
      // Over TCP too: both protocols are published.
      expect(
        (await query(DNS, ['www.demo.test', 'A', `+subnet=${SUBNET.sin}`, '+tcp'])).answer.map((a) => a.data),
      ).toEqual([EDGE.sin]);
    }, 30_000);

    it('through an edge: a MISS, then a HIT', async () => {
      const url = `http://${EDGE.fra}:8080/api/products?compose-test=${PROJECT}`;
      const t0 = performance.now();
      const first = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await first.arrayBuffer();
      const second = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await second.arrayBuffer();
      figure('MISS then HIT through edge-fra (two requests)', (performance.now() - t0) / 1000);
      expect(first.status).toBe(200);
      expect(first.headers.get('cache-status')).toMatch(/^meridian-fra; fwd=uri-miss; fwd-status=200; stored/);
      expect(second.headers.get('cache-status')).toMatch(/^meridian-fra; hit/);
    }, 20_000);

    it('the origin: every edge reaches it, no other container does', async () => {
      // Exit 0 reached, 3 unreachable: anything else (exec failing) is neither.
      const probe =
        "fetch('http://10.53.1.10:8081/healthz',{signal:AbortSignal.timeout(3000)}).then((r)=>{console.log('reached',r.status);process.exit(0)},(e)=>{console.log('unreachable',e.cause?.code??e.name);process.exit(3)})";
      const t0 = performance.now();
      const results = await Promise.all(
        SERVICES.filter((s) => s !== 'origin').map(async (s) => {
          const r = await compose(['exec', '-T', s, 'node', '-e', probe], 30_000);
          return [
            s,
            r.code === 0 ? 'reached' : r.code === 3 ? 'unreachable' : `exec failed (${r.code}): ${r.stderr.trim()}`,
          ] as const;
        }),
      );
      figure('origin reachability from 7 containers', (performance.now() - t0) / 1000);
      expect(Object.fromEntries(results)).toEqual({
        dns: 'unreachable',
        'edge-fra': 'reached',
        'edge-iad': 'reached',
        'edge-sin': 'reached',
        'health-fra': 'unreachable',
        'health-iad': 'unreachable',
        'health-sin': 'unreachable',
      });
    }, 60_000);

    it('an edge stopped: the answer moves to the next nearest PoP; started: it returns', async () => {
      expect(await answer(SUBNET.fra)).toEqual([EDGE.fra]);
      const t0 = performance.now();
      await mustCompose(['stop', '-t', '5', 'edge-fra']);
      try {
        const moved = await waitFor(
          'answer moves off edge-fra',
          t0,
          () => answer(SUBNET.fra),
          (a) => Array.isArray(a) && a.length > 0 && !a.includes(EDGE.fra),
        );
        figure('edge-fra stopped → answer moved (stop included)', moved.s);
        expect(moved.value).toEqual([EDGE.iad]); // Ashburn is next nearest to Frankfurt
      } finally {
        const t1 = performance.now();
        await mustCompose(['start', 'edge-fra']);
        const back = await waitFor(
          'answer returns to edge-fra',
          t1,
          () => answer(SUBNET.fra),
          (a) => Array.isArray(a) && a[0] === EDGE.fra,
        );
        figure('edge-fra started → answer back (start included)', back.s);
      }
    }, 90_000);

    it('a prober killed: quorum holds, no answer moves', async () => {
      await allUp('every PoP up before the prober drill');
      const before = await Promise.all(Object.values(SUBNET).map(answer));
      expect(before).toEqual([[EDGE.fra], [EDGE.iad], [EDGE.sin]]);
      await mustCompose(['kill', 'health-sin']);
      try {
        // Several report intervals (1 s) and more than the staleness of its last report.
        const t0 = performance.now();
        let checks = 0;
        while (performance.now() - t0 < 8000) {
          expect(await Promise.all(Object.values(SUBNET).map(answer))).toEqual(before);
          checks++;
          await sleep(250);
        }
        const pops = await health();
        expect(pops.map((p) => [p.pop, p.verdict])).toEqual([
          ['fra', 'up'],
          ['iad', 'up'],
          ['sin', 'up'],
        ]);
        expect(pops.every((p) => p.votes.filter((v) => v.fresh).length === 2)).toBe(true);
        figure(`health-sin killed → answers unchanged (${checks} checks of 3 names)`, (performance.now() - t0) / 1000);
      } finally {
        const t1 = performance.now();
        await mustCompose(['start', 'health-sin']);
        await allUp('health-sin votes again');
        figure('health-sin started → its votes fresh again', (performance.now() - t1) / 1000);
      }
    }, 90_000);

    it('an edge cut off the backbone (a silent PoP): the answer moves, and returns with the link', async () => {
      await allUp('every PoP up before the silent-PoP drill');
      expect(await answer(SUBNET.iad)).toEqual([EDGE.iad]);
      const backbone = await networkOf('backbone');
      const edge = await containerOf('edge-iad');
      const t0 = performance.now();
      await docker(['network', 'disconnect', backbone, edge]);
      let connected = false;
      try {
        const moved = await waitFor(
          'answer moves off the silent edge-iad',
          t0,
          () => answer(SUBNET.iad),
          (a) => Array.isArray(a) && a.length > 0 && !a.includes(EDGE.iad),
        );
        figure('edge-iad off the backbone (silent) → answer moved', moved.s);
        expect(moved.value).toEqual([EDGE.fra]); // Frankfurt is next nearest to New York
        const t1 = performance.now();
        await docker(['network', 'connect', '--ip', EDGE.iad, backbone, edge]);
        connected = true;
        const back = await waitFor(
          'answer returns to edge-iad',
          t1,
          () => answer(SUBNET.iad),
          (a) => Array.isArray(a) && a[0] === EDGE.iad,
        );
        figure('edge-iad back on the backbone → answer back', back.s);
      } finally {
        if (!connected) await docker(['network', 'connect', '--ip', EDGE.iad, backbone, edge]).catch(() => undefined);
      }
    }, 90_000);

    it("README's drain: the answer moves, the override is in README's state file, undrain returns it", async () => {
      await allUp('every PoP up before the drain drill');
      expect(await answer(SUBNET.sin)).toEqual([EDGE.sin]);
      const stateFile = /`(config\/[\w.-]+\.state\.json)`/.exec(readmeSection())?.[1];
      expect(stateFile, 'README names the state file').toBeDefined();
      const t0 = performance.now();
      await mustCompose(['exec', '-T', 'dns', 'node', 'bin/meridian.js', 'pop', 'drain', 'sin']);
      try {
        const moved = await waitFor(
          'answer moves off the drained sin',
          t0,
          () => answer(SUBNET.sin),
          (a) => Array.isArray(a) && a.length > 0 && !a.includes(EDGE.sin),
        );
        figure('`pop drain sin` → answer moved (exec included)', moved.s);
        const exists = await compose([
          'exec',
          '-T',
          'dns',
          'node',
          '-e',
          `process.exit(require('node:fs').existsSync(${JSON.stringify(stateFile)})?0:3)`,
        ]);
        expect(exists.code, `${stateFile} in the dns container`).toBe(0);
      } finally {
        const t1 = performance.now();
        await mustCompose(['exec', '-T', 'dns', 'node', 'bin/meridian.js', 'pop', 'undrain', 'sin']);
        const back = await waitFor(
          'answer returns to sin',
          t1,
          () => answer(SUBNET.sin),
          (a) => Array.isArray(a) && a[0] === EDGE.sin,
        );
        figure('`pop undrain sin` → answer back (exec included)', back.s);
      }
    }, 60_000);

    it('the DNS server restarted while a PoP is down: once it answers, never the dead PoP', async () => {
      await allUp('every PoP up before the restart drill');
      await mustCompose(['stop', '-t', '5', 'edge-fra']);
      try {
        await waitFor(
          'answer moves off edge-fra',
          performance.now(),
          () => answer(SUBNET.fra),
          (a) => Array.isArray(a) && a.length > 0 && !a.includes(EDGE.fra),
        );
        const t0 = performance.now();
        // Ask all along, from before the restart until well after the first answer.
        const seen: { s: number; a: string[] | string }[] = [];
        let firstAnswer: number | undefined;
        let restarted = false;
        const polling = (async () => {
          while (!restarted || firstAnswer === undefined || performance.now() - firstAnswer < 10_000) {
            if (performance.now() - t0 > 60_000) break;
            const a = await answer(SUBNET.fra);
            const s = (performance.now() - t0) / 1000;
            seen.push({ s, a });
            if (restarted && firstAnswer === undefined && Array.isArray(a) && a.length > 0)
              firstAnswer = performance.now();
            await sleep(100);
          }
        })();
        await mustCompose(['restart', '-t', '5', 'dns']);
        const tRestarted = performance.now();
        restarted = true;
        await polling;
        figure('dns restarted (`restart` returned after)', (tRestarted - t0) / 1000);
        if (firstAnswer !== undefined) figure('dns restarted → first answer after', (firstAnswer - t0) / 1000);
        const afterFirst = seen.filter((x) => firstAnswer !== undefined && x.s >= (firstAnswer - t0) / 1000);
        const wrong = afterFirst.filter((x) => Array.isArray(x.a) && x.a.includes(EDGE.fra));
        figure(
          `answers in the 10 s after the first (${afterFirst.length}); naming the dead edge-fra`,
          String(wrong.length),
        );
        expect(firstAnswer, 'the DNS server answers again after its restart').toBeDefined();
        expect(
          wrong.map((x) => `${x.s.toFixed(1)} s: ${JSON.stringify(x.a)}`),
          'answers naming the stopped edge-fra after the restart',
        ).toEqual([]);
        expect(afterFirst.filter((x) => Array.isArray(x.a) && x.a.length > 0).length).toBeGreaterThan(0);
      } finally {
        await mustCompose(['start', 'edge-fra']);
      }
    }, 120_000);

    it("the anycast variant: every PoP announces 198.51.100.53, the router reaches fra; fra's DNS stopped, iad answers; started, fra again", async () => {
      // Over the running stack, from the image `up --build` made: README's anycast commands.
      extraFiles.push('docker-compose.anycast.yml');
      const t0 = performance.now();
      await mustCompose(['up', '-d', '--no-build', ...ANYCAST_SERVICES], 180_000);
      figure('anycast: `up -d` of the variant returned after', (performance.now() - t0) / 1000);
      const first = await waitFor('the router reaches pop-fra', t0, anycastServer, (s) => s === 'pop-fra', 120_000);
      figure('anycast: then pop-fra answers 198.51.100.53 after', first.s);
      await waitFor(
        'three paths at the router',
        performance.now(),
        routerPaths,
        (p) => p.join() === 'pop_fra,pop_iad,pop_sin',
      );

      const tStop = performance.now();
      await mustCompose(['stop', '-t', '5', 'dns-fra']);
      const moved = await waitFor('the router moves to pop-iad', tStop, anycastServer, (s) => s === 'pop-iad');
      figure('anycast: `stop dns-fra` → pop-iad answers (the stop included)', moved.s);
      expect(await routerPaths()).toEqual(['pop_iad', 'pop_sin']);

      const tStart = performance.now();
      await mustCompose(['start', 'dns-fra']);
      const back = await waitFor('back on pop-fra', tStart, anycastServer, (s) => s === 'pop-fra', 60_000);
      figure('anycast: `start dns-fra` → pop-fra again (rise + hold-down, the start included)', back.s);
    }, 300_000);

    it('`down -v` leaves no container, network or volume behind', async () => {
      const t0 = performance.now();
      await mustCompose(['down', '-v', '--remove-orphans', '--timeout', '5'], 120_000);
      downDone = true;
      figure('`down -v`', (performance.now() - t0) / 1000);
      expect(await docker(['ps', '-aq', '--filter', label])).toBe('');
      expect(await docker(['network', 'ls', '-q', '--filter', label])).toBe('');
      expect(await docker(['volume', 'ls', '-q', '--filter', label])).toBe('');
      expect(await hostUnavailableReason()).toBeNull();
    }, 150_000);
  },
);
