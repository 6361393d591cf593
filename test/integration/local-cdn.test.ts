// `meridian up` end to end: the whole CDN of the demo topology (origin, DNS server, six edges,
// six probers) as real processes on loopback, on ports this test chooses. Clients on three
// continents are answered their nearest PoP; an object is fetched through it (MISS, then HIT);
// `meridian pop kill` takes that PoP's edge down and the answer moves to the next PoP, which
// serves the object too; `pop revive` brings the answer back; SIGINT stops every process.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { assetPath } from '../../origin/site.js';
import { REPO_ROOT } from '../helpers/repo-paths.js';
import { query } from '../helpers/dig.js';
import { runMeridian, spawnMeridian } from '../helpers/meridian-process.js';
import { needs } from '../helpers/system-tools.js';

// Six PoP addresses on loopback (all of 127/8 is local on Linux; no root needed), apart from the
// demo's 127.0.x.1 so a `npm start` running beside the test does not collide with it.
const POPS = ['fra', 'iad', 'gru', 'sin', 'syd', 'jnb'] as const;
type Pop = (typeof POPS)[number];
const ADDR = Object.fromEntries(POPS.map((p, i) => [p, `127.61.${i + 1}.1`])) as Record<Pop, string>;
const START_TIMEOUT_MS = 60_000;
const FAILOVER_MS = 15_000;

interface Ports {
  dns: number;
  dnsHttp: number;
  origin: number;
  up: number;
  edge: number;
  prober: number;
}

let dir: string;
let ports: Ports;
let upProcess: ChildProcess | undefined;
let upExited: Promise<{ code: number | null; signal: string | null }> | undefined;
const output: string[] = [];
let childPids: number[] = [];

const dns = () => ({ host: '127.0.0.1', port: ports.dns });
const upUrl = () => `http://127.0.0.1:${ports.up}`;
const edgeUrl = (pop: Pop) => `http://${ADDR[pop]}:${ports.edge}`;
const popOf = (address: string | undefined) => POPS.find((p) => ADDR[p] === address);

/** The PoP a client in `subnet` is answered, by its address. */
async function answeredPop(subnet: string): Promise<Pop | undefined> {
  const res = await query(dns(), ['www.demo.test', 'A', `+subnet=${subnet}`]);
  expect(res.status).toBe('NOERROR');
  return popOf(res.answer.find((r) => r.type === 'A')?.data);
}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  get: () => Promise<T>,
  done: (v: T) => boolean,
): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  let last: T | undefined;
  while (performance.now() - t0 < timeoutMs) {
    last = await get();
    if (done(last)) return { value: last, ms: Math.round(performance.now() - t0) };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function get(
  url: string,
): Promise<{ status: number; header: (name: string) => string | undefined; text: string }> {
  const res = await request(url, { headersTimeout: 5000, bodyTimeout: 5000, reset: true });
  const text = await res.body.text();
  return { status: res.statusCode, text, header: (name) => [res.headers[name]].flat()[0] };
}

async function processes(): Promise<{
  ready: boolean;
  processes: { name: string; pop: string | null; state: string; pid: number | null; restarts: number }[];
}> {
  const res = await get(`${upUrl()}/v1/processes`);
  return JSON.parse(res.text) as Awaited<ReturnType<typeof processes>>;
}

/**
 * A port nothing listens on at any of `hosts` (TCP, and UDP too when asked). Chosen below the
 * kernel's ephemeral range: the edges' control ports are ephemeral (demo.yaml: port 0), and one
 * must not be handed a port this test reserved for a process that has not bound it yet.
 */
async function freePort(hosts: readonly string[], udp = false): Promise<number> {
  const { createSocket } = await import('node:dgram');
  const tryTcp = (host: string, port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
    });
  const tryUdp = (host: string, port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, host, () => s.close(() => resolve(true)));
    });
  const high = ephemeralLow();
  const low = high > 12_000 ? 10_000 : 1024;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (reserved.has(port)) continue;
    let ok = true;
    for (const h of hosts) ok &&= (await tryTcp(h, port)) && (!udp || (await tryUdp(h, port)));
    if (ok) {
      reserved.add(port);
      return port;
    }
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}`);
}

const reserved = new Set<number>();

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

/** The demo topology with this test's addresses, ports and fast health settings. */
function testConfig(): string {
  const demo = parse(readFileSync(join(REPO_ROOT, 'config', 'demo.yaml'), 'utf8')) as Record<string, any>;
  demo.dns.listen = [`127.0.0.1:${ports.dns}`];
  delete demo.up; // its optional [::1]:5353 is no longer listened on
  demo.dns.control = { listen: `127.0.0.1:${ports.dnsHttp}` };
  for (const pop of demo.pops as { id: Pop; ipv4: string[]; edge: string }[]) {
    pop.ipv4 = [ADDR[pop.id]];
    pop.edge = edgeUrl(pop.id);
  }
  demo.edge.origin = `http://127.0.0.1:${ports.origin}`;
  // Quick verdicts: a dead edge is down after 2 failed probes 250 ms apart. No RTT measuring.
  demo.health = {
    ...demo.health,
    interval: '250ms',
    timeout: '200ms',
    fall: 2,
    rise: 2,
    reportTo: [`http://127.0.0.1:${ports.dnsHttp}`],
    latency: { resolvers: 0 },
  };
  demo.geo.databases = [join(REPO_ROOT, 'geo-data', 'test-city.mmdb')];
  demo.zones[0].file = join(REPO_ROOT, 'config', 'zones', 'demo.test.extra.zone');
  return stringify(demo);
}

function dump(): string {
  const parts = [`--- meridian up (last 80 lines) ---\n${output.slice(-80).join('\n')}`];
  const logs = join(dir, 'logs');
  if (existsSync(logs)) {
    for (const f of readdirSync(logs))
      parts.push(
        `--- ${f} (last 8 lines) ---\n${readFileSync(join(logs, f), 'utf8').trimEnd().split('\n').slice(-8).join('\n')}`,
      );
  }
  return parts.join('\n');
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('meridian up: the whole CDN on loopback', () => {
  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist', 'local', 'up.js')))
      throw new Error('dist/ is not built: run `npm run build` first');
    dir = mkdtempSync(join(tmpdir(), 'meridian-up-'));
    ports = {
      dns: await freePort(['127.0.0.1'], true),
      dnsHttp: await freePort(['127.0.0.1']),
      origin: await freePort(['127.0.0.1']),
      up: await freePort(['127.0.0.1']),
      edge: await freePort(Object.values(ADDR)),
      prober: await freePort(Object.values(ADDR)),
    };
    const configPath = join(dir, 'cdn.yaml');
    writeFileSync(configPath, testConfig());
    const child = spawnMeridian([
      'up',
      '--config',
      configPath,
      '--control-listen',
      `127.0.0.1:${ports.up}`,
      '--prober-port',
      String(ports.prober),
      '--logs',
      join(dir, 'logs'),
    ]);
    upProcess = child;
    upExited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)));
    }
    const banner = await Promise.race([
      waitFor(
        'the ready banner',
        START_TIMEOUT_MS,
        async () => output.some((l) => l.startsWith('Meridian is up')),
        Boolean,
      ),
      upExited.then((e) => {
        throw new Error(`meridian up exited (${e.code ?? e.signal}) before it was ready\n${dump()}`);
      }),
    ]).catch((e: Error) => {
      throw new Error(`${e.message}\n${dump()}`);
    });
    console.log(`[up] ready after ${banner.ms} ms`);
    childPids = (await processes()).processes.map((p) => p.pid!);
  }, START_TIMEOUT_MS + 10_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(dump());
  });

  afterAll(async () => {
    if (upProcess && upProcess.exitCode === null && upProcess.signalCode === null) {
      upProcess.kill('SIGTERM');
      const killer = setTimeout(() => upProcess?.kill('SIGKILL'), 15_000);
      await upExited;
      clearTimeout(killer);
    }
    // Belt and braces: nothing this test started may outlive it.
    for (const pid of childPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('prints what runs where and the commands to try', () => {
    const text = output.join('\n');
    expect(text).toContain(`origin  http://127.0.0.1:${ports.origin}`);
    for (const pop of POPS)
      expect(text).toMatch(
        new RegExp(
          `${pop} .* ${edgeUrl(pop).replace(/\./g, '\\.')}\\s+http://${ADDR[pop].replace(/\./g, '\\.')}:${ports.prober}`,
        ),
      );
    expect(text).toContain(`dig @127.0.0.1 -p ${ports.dns} www.demo.test +subnet=203.0.113.0/24 +short`);
    expect(text).toContain(`a client in JP is answered sin (Singapore): ${ADDR.sin}`);
    expect(text).toContain(`curl -si ${edgeUrl('sin')}${assetPath('app.js')}`);
    expect(text).toContain(`node bin/meridian.js pop kill sin --control ${upUrl()}`);
  });

  it('runs every process of the topology, each ready', async () => {
    const list = await processes();
    expect(list.ready).toBe(true);
    expect(list.processes.map((p) => p.name).sort()).toEqual(
      ['dns', 'origin', ...POPS.map((p) => `edge ${p}`), ...POPS.map((p) => `health ${p}`)].sort(),
    );
    expect(list.processes.every((p) => p.state === 'running' && p.restarts === 0)).toBe(true);
  });

  it('answers clients on three continents with their nearest PoP', needs('dig'), async () => {
    expect(await answeredPop('203.0.113.0/24')).toBe('sin'); // Tokyo
    expect(await answeredPop('192.0.2.0/24')).toBe('iad'); // New York
    expect(await answeredPop('41.0.5.0/24')).toBe('jnb'); // Johannesburg
  });

  it(
    'a PoP outage drill: kill sin, the answer moves and the next PoP serves; revive, it returns',
    { ...needs('dig'), timeout: 60_000 },
    async () => {
      const tokyo = '203.0.113.0/24';
      const asset = assetPath('app.js');
      expect(await answeredPop(tokyo)).toBe('sin');
      const miss = await get(edgeUrl('sin') + asset);
      expect(miss.status).toBe(200);
      expect(miss.header('cache-status')).toMatch(/^meridian-sin; fwd=uri-miss; fwd-status=200; stored/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const hit = await get(edgeUrl('sin') + asset);
      expect(hit.header('cache-status')).toMatch(/^meridian-sin; hit;/);
      expect(hit.header('x-origin-time')).toBe(miss.header('x-origin-time'));

      const killed = await runMeridian(['pop', 'kill', 'sin', '--control', upUrl()], 20_000);
      expect(killed.stderr).toBe('');
      expect(killed.code).toBe(0);
      expect(killed.stdout).toContain('sin: edge killed');
      const moved = await waitFor(
        'the Tokyo answer to leave sin',
        FAILOVER_MS,
        () => answeredPop(tokyo),
        (pop) => pop !== undefined && pop !== 'sin',
      );
      console.log(`[drill] sin killed → Tokyo answered ${moved.value} after ${moved.ms} ms`);
      expect(moved.value).toBe('syd'); // next nearest to Tokyo
      await expect(get(edgeUrl('sin') + asset)).rejects.toThrow(/ECONNREFUSED/);
      const fromSyd = await get(edgeUrl('syd') + asset);
      expect(fromSyd.status).toBe(200);
      expect(fromSyd.header('cache-status')).toMatch(/^meridian-syd; /);
      expect(fromSyd.text).toBe(miss.text);
      // Killed means kept down: the supervisor does not restart it.
      const sin = (await processes()).processes.find((p) => p.name === 'edge sin')!;
      expect(sin).toMatchObject({ state: 'killed', pid: null, restarts: 0 });
      expect(output.join('\n')).toMatch(/\[dns\] PoP health verdict changed pop=sin from=up to=down/);

      // The old spelling still works, saying what to write instead.
      const revived = await runMeridian(['pop', 'revive', 'sin', '--up', upUrl()], 30_000);
      expect(revived.code).toBe(0);
      expect(revived.stderr).toBe('meridian: --up is deprecated; use --control\n');
      expect(revived.stdout).toContain(`sin: edge serving again on ${edgeUrl('sin')}`);
      const back = await waitFor(
        'the Tokyo answer to return to sin',
        FAILOVER_MS,
        () => answeredPop(tokyo),
        (pop) => pop === 'sin',
      );
      console.log(`[drill] sin revived → Tokyo answered sin again after ${back.ms} ms`);
      childPids.push((await processes()).processes.find((p) => p.name === 'edge sin')!.pid!);
    },
  );

  it('pop kill names the PoPs up runs when given another, and says when up is not there', async () => {
    const unknown = await runMeridian(['pop', 'kill', 'xyz', '--up', upUrl()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("runs no PoP 'xyz' (it runs: fra, iad, gru, sin, syd, jnb)");
    const closed = await freePort(['127.0.0.1']);
    const nobody = await runMeridian(['pop', 'kill', 'sin', '--control', `http://127.0.0.1:${closed}`]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(
      /cannot reach `meridian up` at http:\/\/127\.0\.0\.1:\d+ \(nothing listens there\)\. Is it running\?/,
    );
  });

  it('a second up on the same control address is refused with a clear message', async () => {
    const second = await runMeridian(
      [
        'up',
        '--config',
        join(dir, 'cdn.yaml'),
        '--control',
        `127.0.0.1:${ports.up}`,
        '--prober-port',
        String(ports.prober),
      ],
      20_000,
    );
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('meridian: --control is deprecated; use --control-listen\n');
    expect(second.stderr).toContain('another `meridian up` is running');
  });

  it('SIGINT stops every process it started, and up exits 0', async () => {
    expect(childPids.filter(alive)).toHaveLength(14);
    upProcess!.kill('SIGINT');
    const exited = await Promise.race([
      upExited!,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000)),
    ]);
    expect(exited).toEqual({ code: 0, signal: null });
    expect(childPids.filter(alive)).toEqual([]);
    expect(output.slice(-2)).toEqual(['stopping 14 processes…', 'stopped.']);
  }, 30_000);
});
