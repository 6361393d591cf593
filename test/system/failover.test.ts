// System tests: the real DNS server and three real probers, each PoP in its own network
// namespace on a bridge, an edge (a tiny HTTP server, fixtures/edge.mjs) in every PoP. Outages
// are real: a killed edge process, a downed link, a prober cut off from the other PoPs, an edge
// that fails a fifth of its health checks. Latency steering is checked with real, different RTTs
// from each PoP to a resolver (netem when the kernel has it, else a responder that holds its
// answers back per asking address). Needs root, iproute2 and dig (CI runs as root); skipped otherwise.
//
//   root namespace (this test, the dig client) 10.200.0.1 ── bridge mrd-fo-br ──┬─ mrd-fo-dns 10.200.0.2  meridian dns :53, control :8053
//                                                                              ├─ mrd-fo-a   10.200.0.11 edge :80 + prober --pop a  (Frankfurt)
//                                                                              ├─ mrd-fo-b   10.200.0.12 edge :80 + prober --pop b  (New York)
//                                                                              ├─ mrd-fo-c   10.200.0.13 edge :80 + prober --pop c  (London)
//                                                                              └─ mrd-fo-res 10.200.1.2  a recursive resolver (latency test)
//
// Clients are placed in Mainz by `geo.nets` (10.0.0.0/8): nearest is A (Frankfurt), then C
// (London), then B (New York). Timings are logged; the bounds asserted are generous (10 s).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DIG_DEFAULTS, query } from '../helpers/dig.js';
import { MERIDIAN_BIN, REPO_ROOT } from '../helpers/repo-paths.js';
import { parseDig } from '../helpers/dig-output.js';
import { needsNetns, netemAvailable, Topology, type NsProcess } from '../helpers/netns.js';
import { sleep } from '../helpers/wait-for.js';
import { all, needs } from '../helpers/system-tools.js';

const PREFIX = 'mrd-fo-';
const IP = {
  bridge: '10.200.0.1',
  dns: '10.200.0.2',
  a: '10.200.0.11',
  b: '10.200.0.12',
  c: '10.200.0.13',
  res: '10.200.1.2',
} as const;
const POPS = ['a', 'b', 'c'] as const;
type Pop = (typeof POPS)[number];
const TOKEN = 'systest-token';
const DNS = { host: IP.dns, port: 53 };
const CONTROL = `http://${IP.dns}:8053`;
const FIXTURES = join(REPO_ROOT, 'test', 'system', 'fixtures');
/** A client subnet in 10.0.0.0/8 (Mainz): ECS keeps the answer on distance, never on resolver RTTs. */
const ECS = '+subnet=10.77.0.0/24';

interface HealthOptions {
  interval?: string;
  timeout?: string;
  fall?: number;
  rise?: number;
  /** Extra YAML lines inside `health:` (e.g. `latency: {...}`), indented by the caller. */
  extra?: string;
}

function configYaml(h: HealthOptions = {}): string {
  return `
dns:
  serverId: ns1.mrd.test
  listen: ["${IP.dns}:53"]
  control: { listen: "${IP.dns}:8053", token: ${TOKEN} }
  log: { level: info }
pops:
  - { id: a, name: Frankfurt, location: { lat: 50.11, lon: 8.68 }, ipv4: [${IP.a}], edge: "http://${IP.a}" }
  - { id: b, name: New York, location: { lat: 40.71, lon: -74.01 }, ipv4: [${IP.b}], edge: "http://${IP.b}" }
  - { id: c, name: London, location: { lat: 51.51, lon: -0.13 }, ipv4: [${IP.c}], edge: "http://${IP.c}" }
pools:
  - { id: edge, members: [a, b, c], policy: nearest, fallback: a }
health:
  check: { type: http, path: /healthz, expectStatus: 200 }
  interval: ${h.interval ?? '1s'}
  timeout: ${h.timeout ?? '500ms'}
  fall: ${h.fall ?? 3}
  rise: ${h.rise ?? 2}
  reportTo: ["${CONTROL}"]
${h.extra ?? ''}
geo:
  nets: [{ network: 10.0.0.0/8, location: { lat: 49.99, lon: 8.27 } }]
zones:
  - name: mrd.test
    ttl: 60
    soa: { mname: ns1.mrd.test., rname: hostmaster.mrd.test., serial: 1 }
    ns: [ns1.mrd.test.]
    records: [{ name: ns1, type: A, value: ${IP.dns} }]
    routes: [{ name: www, pool: edge, ttl: 5 }]
`;
}

// ---------------------------------------------------------------------------------------------
// Control port and DNS helpers

interface Vote {
  vantage: string;
  up: boolean | null;
  fresh: boolean;
  detail?: string;
}
interface PopVerdict {
  pop: string;
  verdict: 'up' | 'down';
  eligible: boolean;
  reason: string;
  votes: Vote[];
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${CONTROL}${path}`, { signal: AbortSignal.timeout(3000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

const health = async (): Promise<PopVerdict[]> => (await getJson<{ pops: PopVerdict[] }>('/v1/health')).pops;

/** The A answer for www as seen by a client in Mainz (ECS), in the order given. */
async function answer(): Promise<string[]> {
  return (await query(DNS, ['www.mrd.test', 'A', ECS])).answer.map((r) => r.data);
}

/** Polls `get` every `pollMs` until `ok`; resolves with the value and the ms since `t0`. */
async function waitFor<T>(
  what: string,
  t0: number,
  boundMs: number,
  get: () => Promise<T>,
  ok: (v: T) => boolean,
  pollMs = 100,
): Promise<{ value: T; ms: number }> {
  let last: T | undefined;
  let lastErr: unknown;
  while (performance.now() - t0 < boundMs) {
    try {
      last = await get();
      if (ok(last)) return { value: last, ms: Math.round(performance.now() - t0) };
    } catch (e) {
      lastErr = e;
    }
    await sleep(pollMs);
  }
  const hv = await health().catch((e: Error) => `(GET /v1/health failed: ${e.message})`);
  throw new Error(
    `${what}: not within ${boundMs} ms; last value ${JSON.stringify(last)}${lastErr ? `; last error ${String(lastErr)}` : ''}\n` +
      `/v1/health: ${JSON.stringify(hv, null, 1)}`,
  );
}

// ---------------------------------------------------------------------------------------------

describe('failover across PoP namespaces (system)', all(needs('dig', 'ip'), needsNetns()), () => {
  let topo: Topology;
  let dir: string;
  const edges: Partial<Record<Pop, NsProcess>> = {};
  let dns: NsProcess | undefined;
  let probers: NsProcess[] = [];

  async function startEdgeService(pop: Pop, extra: string[] = []): Promise<NsProcess> {
    const p = topo.spawnIn(pop, process.execPath, [
      join(FIXTURES, 'edge.mjs'),
      '--host',
      IP[pop],
      '--port',
      '80',
      '--name',
      pop,
      ...extra,
    ]);
    await p.waitForLine(/edge \w+ listening/, 10_000);
    edges[pop] = p;
    return p;
  }

  /** The DNS server (own namespace) and one prober per PoP, on `config`; resolves once every PoP has three fresh up votes. */
  async function startStack(config: string): Promise<void> {
    const configPath = join(dir, `meridian-${Date.now()}.yaml`);
    writeFileSync(configPath, config);
    const env = { ...process.env };
    delete env.MERIDIAN_CONTROL_TOKEN;
    dns = topo.spawnIn('dns', process.execPath, [MERIDIAN_BIN, 'dns', '--config', configPath], { env, cwd: REPO_ROOT });
    await dns.waitForLine(/meridian dns serving/, 10_000);
    probers = POPS.map((pop) =>
      topo.spawnIn(pop, process.execPath, [MERIDIAN_BIN, 'health', '--config', configPath, '--pop', pop], {
        env: { ...env, MERIDIAN_CONTROL_TOKEN: TOKEN },
        cwd: REPO_ROOT,
      }),
    );
    await Promise.all(probers.map((p) => p.waitForLine(/meridian health probing/, 10_000)));
    await waitFor('three fresh up votes for every PoP', performance.now(), 10_000, health, (pops) =>
      pops.every((p) => p.verdict === 'up' && p.votes.filter((v) => v.fresh && v.up === true).length === 3),
    );
  }

  async function stopStack(): Promise<void> {
    await Promise.all([...probers, ...(dns ? [dns] : [])].map((p) => p.stop()));
    probers = [];
    dns = undefined;
  }

  /** When each prober saw A go down and when the DNS server's verdict changed, in ms since `t0` (wall clock). */
  function timeline(t0: number): string {
    const events: [number, string][] = [];
    const scan = (who: string, lines: string[], re: RegExp) => {
      for (const l of lines) {
        if (!re.test(l)) continue;
        try {
          const j = JSON.parse(l) as {
            time: number;
            pop?: string;
            to?: string;
            detail?: string;
            msg: string;
            vantage?: string;
          };
          if (j.time >= t0)
            events.push([
              j.time - t0,
              `${who}: ${j.msg}${j.pop ? ` ${j.pop} → ${j.to}` : ''}${j.detail ? ` (${j.detail})` : ''}`,
            ]);
        } catch {
          // not JSON
        }
      }
    };
    probers.forEach((p, i) => scan(`prober ${POPS[i]}`, p.lines, /health state change|not delivered|delivered again/));
    if (dns) scan('dns', dns.lines, /verdict changed/);
    return events
      .sort((x, y) => x[0] - y[0])
      .map(([ms, what]) => `  +${ms} ms ${what}`)
      .join('\n');
  }

  /** On failure, the last lines of every process help more than the assertion alone. */
  function dumpLogs(): string {
    const parts = [`--- dns ---\n${dns?.lines.slice(-30).join('\n')}`];
    probers.forEach((p, i) => parts.push(`--- prober ${POPS[i]} ---\n${p.lines.slice(-15).join('\n')}`));
    return parts.join('\n');
  }

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')))
      throw new Error('dist/ is not built: run `npm run build` first');
    dir = mkdtempSync(join(tmpdir(), 'meridian-sys-'));
    topo = await Topology.create({
      prefix: PREFIX,
      bridgeAddress: `${IP.bridge}/16`,
      namespaces: [
        { key: 'dns', address: `${IP.dns}/16` },
        { key: 'a', address: `${IP.a}/16` },
        { key: 'b', address: `${IP.b}/16` },
        { key: 'c', address: `${IP.c}/16` },
        { key: 'res', address: `${IP.res}/16` },
      ],
    });
    for (const pop of POPS) await startEdgeService(pop);
  }, 60_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(dumpLogs());
    await stopStack();
    // Put the topology back the way the next test expects it.
    for (const pop of POPS) {
      await topo.linkUp(pop);
      if (
        !edges[pop] ||
        edges[pop]!.exitCode !== null ||
        edges[pop]!.signalCode !== null ||
        edges[pop]!.spawnargs.includes('--fail-rate')
      ) {
        await edges[pop]?.stop();
        await startEdgeService(pop);
      }
    }
  }, 30_000);

  afterAll(async () => {
    await stopStack();
    await topo?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('a killed edge: the answer moves to the next nearest PoP, and back when the edge returns', async () => {
    await startStack(configYaml());
    expect(await answer()).toEqual([IP.a]);

    const t0 = performance.now();
    await edges.a!.stop('SIGKILL');
    const out = await waitFor('answer moves off A', t0, 10_000, answer, (ips) => ips.length > 0 && !ips.includes(IP.a));
    console.log(
      `[failover] edge A killed → answer ${out.value.join(',')} after ${out.ms} ms (README: new answers stop using a killed edge's PoP after ≤ ~1.5 s)`,
    );
    expect(out.value).toEqual([IP.c]); // London is next nearest to Mainz
    const a = (await health()).find((p) => p.pop === 'a')!;
    expect(a.verdict).toBe('down');
    // A quorum (2 of 3) took it out; the third prober may still be counting up to `fall`.
    expect(a.votes.filter((v) => v.fresh && v.up === false).length).toBeGreaterThanOrEqual(2);
    expect(a.votes.map((v) => v.detail).join(' ')).toMatch(/ECONNREFUSED/);

    const t1 = performance.now();
    await startEdgeService('a');
    const back = await waitFor('answer returns to A', t1, 10_000, answer, (ips) => ips[0] === IP.a);
    console.log(`[failover] edge A restarted → answer ${back.value.join(',')} after ${back.ms} ms (restart included)`);
    expect((await health()).find((p) => p.pop === 'a')!.verdict).toBe('up');
    expect(dns!.lines.join('\n')).toMatch(/"pop":"a","from":"up","to":"down".*PoP health verdict changed/);
  }, 45_000);

  it('a downed link (PoP A unreachable from every prober, its own prober cut off): the answer moves, and returns with the link', async () => {
    await startStack(configYaml());
    expect(await answer()).toEqual([IP.a]);

    const t0 = performance.now();
    const t0wall = Date.now();
    await topo.linkDown('a');
    // 15 s, not 10: a silent edge costs each probe its timeout (with the hedged retry, ~600 ms):
    // the probers need up to interval + 3 × 600 ms for fall 3 (~2.8 s); measured ~2-3 s, with room for a busy machine.
    const out = await waitFor('answer moves off A', t0, 15_000, answer, (ips) => ips.length > 0 && !ips.includes(IP.a));
    console.log(`[link down] A's link down → answer ${out.value.join(',')} after ${out.ms} ms`);
    console.log(timeline(t0wall));
    expect(out.value).toEqual([IP.c]);
    const a = (await health()).find((p) => p.pop === 'a')!;
    expect(a.verdict).toBe('down');
    // B and C see A's edge time out; A's own prober cannot report at all.
    expect(
      a.votes
        .filter((v) => v.fresh && v.up === false)
        .map((v) => v.vantage)
        .sort(),
    ).toEqual(['b', 'c']);

    const t1 = performance.now();
    await topo.linkUp('a');
    const back = await waitFor('answer returns to A', t1, 10_000, answer, (ips) => ips[0] === IP.a);
    console.log(`[link down] A's link up → answer ${back.value.join(',')} after ${back.ms} ms`);
    // B and C are still up: A's prober, back on the network, does not drag them down.
    const after = await health();
    expect(after.map((p) => [p.pop, p.verdict])).toEqual([
      ['a', 'up'],
      ['b', 'up'],
      ['c', 'up'],
    ]);
  }, 45_000);

  it('quorum: one prober that sees every other PoP down does not take them out', async () => {
    await startStack(configYaml());
    // C's prober loses its paths to A's and B's edges (and only those: TCP to :80 that C starts;
    // it still reports to the DNS server, and C's own edge still answers A's and B's probes).
    await topo.block('c', [IP.a, IP.b], { tcpPort: 80 });
    try {
      const t0 = performance.now();
      await waitFor("C's prober votes A and B down", t0, 10_000, health, (pops) =>
        ['a', 'b'].every((id) =>
          pops.find((p) => p.pop === id)!.votes.some((v) => v.vantage === 'c' && v.fresh && v.up === false),
        ),
      );
      console.log(
        `[quorum] C's prober votes A and B down after ${Math.round(performance.now() - t0)} ms; observing for 8 s`,
      );

      const seenAnswers = new Set<string>();
      const seenVerdicts = new Set<string>();
      let polls = 0;
      const end = performance.now() + 8000;
      while (performance.now() < end) {
        const [ips, pops] = await Promise.all([answer(), health()]);
        seenAnswers.add(ips.join(','));
        for (const p of pops) seenVerdicts.add(`${p.pop}:${p.verdict}:${p.eligible}`);
        // The isolated prober keeps voting (fresh), it is just outvoted.
        expect(pops.find((p) => p.pop === 'a')!.votes.find((v) => v.vantage === 'c')).toMatchObject({
          fresh: true,
          up: false,
        });
        polls++;
        await sleep(200);
      }
      console.log(
        `[quorum] ${polls} polls: answers ${[...seenAnswers].join(' | ')}; verdicts ${[...seenVerdicts].join(' ')}`,
      );
      expect([...seenAnswers]).toEqual([IP.a]);
      expect([...seenVerdicts].sort()).toEqual(['a:up:true', 'b:up:true', 'c:up:true']);
      expect(dns!.lines.join('\n')).not.toMatch(/PoP health verdict changed/);
    } finally {
      await topo.unblock('c', [IP.a, IP.b], { tcpPort: 80 });
    }
  }, 45_000);

  it('no flapping: an edge failing 20% of health checks at random stays up over ~60 probes per prober', async () => {
    // 200 ms interval: 60 probes in ~12 s. fall 3, rise 2 as in the defaults, and the default
    // fastInterval (50 ms here): every failed probe is followed by one 50 ms later (confirm.ts
    // has the arithmetic: a probe fails at 4%, a false `fall` run every ~16,000 probes).
    await edges.a!.stop();
    await startEdgeService('a', ['--fail-rate', '0.2', '--seed', '20261122']);
    await startStack(configYaml({ interval: '200ms', timeout: '150ms', fall: 3, rise: 2 }));
    const before = await getEdgeStats('a');

    const seenAnswers = new Set<string>();
    const seenVerdicts = new Set<string>();
    let polls = 0;
    // At least 12 s, and on until the edge has seen 60 probes from each prober with their
    // confirming retries (~3 × 60 × 1.2 requests): a busy machine probes a little late.
    const t0 = performance.now();
    let after = before;
    while (
      performance.now() - t0 < 12_000 ||
      (after.healthz - before.healthz < 216 && performance.now() - t0 < 25_000)
    ) {
      const [ips, pops, stats] = await Promise.all([answer(), health(), getEdgeStats('a')]);
      seenAnswers.add(ips.join(','));
      seenVerdicts.add(pops.find((p) => p.pop === 'a')!.verdict);
      after = stats;
      polls++;
      await sleep(100);
    }
    const checks = after.healthz - before.healthz;
    const failed = after.failed - before.failed;
    const proberFlips = probers.map(
      (p, i) =>
        `${POPS[i]}:${p.lines.filter((l) => l.includes('health state change') && l.includes('"pop":"a"')).length}`,
    );
    console.log(
      `[no flapping] in ${Math.round(performance.now() - t0)} ms edge A answered ${checks} health checks, failed ${failed} (${((100 * failed) / Math.max(1, checks)).toFixed(1)}%); ` +
        `${polls} polls: answers ${[...seenAnswers].join(' | ')}, verdicts ${[...seenVerdicts].join(' ')}; per-prober up/down flips for A ${proberFlips.join(' ')}`,
    );
    // ~60 probes from each of 3 probers, plus confirming retries.
    expect(checks).toBeGreaterThanOrEqual(180);
    expect(failed / checks).toBeGreaterThan(0.1);
    expect([...seenVerdicts]).toEqual(['up']);
    expect([...seenAnswers]).toEqual([IP.a]);
    expect(dns!.lines.join('\n')).not.toMatch(/PoP health verdict changed/);
  }, 60_000);

  async function getEdgeStats(pop: Pop): Promise<{ healthz: number; failed: number }> {
    const res = await fetch(`http://${IP[pop]}/stats`, { signal: AbortSignal.timeout(3000) });
    return (await res.json()) as { healthz: number; failed: number };
  }

  it('latency steering with real RTTs: a resolver nearest A by distance is answered B, the PoP it is fastest from', async () => {
    // Path latency from each PoP to the resolver: netem on the PoPs' links when the kernel has it,
    // else the resolver holds its answers back per asking address (same RTTs, made in user space).
    const delays: Record<Pop, number> = { a: 80, b: 10, c: 60 };
    const netem = await netemAvailable(PREFIX);
    const how = netem.available
      ? 'netem delay on each PoP link'
      : `delayed answers in the resolver (no netem: ${netem.detail})`;
    console.log(`[latency] path latency emulated by ${how}`);
    const resolverDelays = netem.available ? {} : Object.fromEntries(POPS.map((pop) => [IP[pop], delays[pop]]));
    const resolver = topo.spawnIn('res', process.execPath, [
      join(FIXTURES, 'resolver.mjs'),
      '--host',
      IP.res,
      '--port',
      '53',
      '--delays',
      JSON.stringify(resolverDelays),
    ]);
    await resolver.waitForLine(/resolver listening/, 10_000);
    if (netem.available) {
      for (const pop of POPS) {
        const r = await topo.exec(pop, [
          'tc',
          'qdisc',
          'add',
          'dev',
          topo.get(pop).nsVeth,
          'root',
          'netem',
          'delay',
          `${delays[pop]}ms`,
        ]);
        if (r.code !== 0) throw new Error(`tc netem in ${pop}: ${r.stderr}`);
      }
    }
    try {
      await startStack(
        configYaml({
          extra: '  latency: { resolvers: 10, refresh: 1s, method: dns, port: 53, rate: 20, timeout: 1s }',
        }),
      );
      // The client is the resolver itself (no ECS), querying from its own namespace.
      const fromResolver = async (): Promise<string[]> => {
        const r = await topo.exec(
          'res',
          ['dig', `@${IP.dns}`, '-p', '53', ...DIG_DEFAULTS, 'www.mrd.test', 'A'],
          10_000,
        );
        return parseDig(r.stdout).answer.map((x) => x.data);
      };
      expect(await fromResolver()).toEqual([IP.a]); // by distance: Mainz → Frankfurt
      const listed = await getJson<{ resolvers: { network: string; sample: string }[] }>('/v1/resolvers');
      expect(listed.resolvers.map((r) => [r.network, r.sample])).toContainEqual(['10.200.1.0/24', IP.res]);

      const t0 = performance.now();
      // Keep the resolver querying (it is what keeps it on the list), as a real one would.
      const moved = await waitFor(
        'the resolver is answered B',
        t0,
        25_000,
        fromResolver,
        (ips) => ips[0] === IP.b,
        250,
      );
      console.log(`[latency] resolver ${IP.res}: answer ${moved.value.join(',')} after ${moved.ms} ms`);

      const explained = await getJson<{
        decisions: {
          rankedBy: string;
          chosen: string[];
          candidates: { id: string; measuredRttMs: number | null; notes: string[] }[];
        }[];
      }>(`/v1/explain?name=www.mrd.test&client=${IP.res}`);
      const d = explained.decisions[0]!;
      const rtts = Object.fromEntries(d.candidates.map((c) => [c.id, c.measuredRttMs]));
      console.log(
        `[latency] explain: rankedBy ${d.rankedBy}, chosen ${d.chosen.join(',')}, measured RTTs ${JSON.stringify(rtts)}`,
      );
      expect(d.rankedBy).toBe('measured-latency');
      expect(d.chosen).toEqual(['b']);
      expect(d.candidates[0]!.id).toBe('b');
      // Real round trips: at least the emulated delay, and not wildly above it (a busy machine adds some).
      for (const pop of POPS) {
        expect(rtts[pop]).toBeGreaterThanOrEqual(delays[pop] * 0.9);
        expect(rtts[pop]).toBeLessThan(delays[pop] + 100);
      }
      // With ECS the client is not the resolver: distance decides again.
      expect(await answer()).toEqual([IP.a]);
    } finally {
      await resolver.stop();
      if (netem.available)
        for (const pop of POPS) await topo.exec(pop, ['tc', 'qdisc', 'del', 'dev', topo.get(pop).nsVeth, 'root']);
    }
  }, 60_000);
});
