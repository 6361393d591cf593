// System test of anycast (issue 16, first slice): real BIRD 2 everywhere, real BGP, real
// `meridian dns` on the anycast address, and `meridian anycast` deciding what is announced.
// Needs root, iproute2, dig and bird2 (CI runs it; elsewhere it skips with the reason).
//
//   root namespace 10.202.0.1 ── bridge mrd-ac-br ──┬─ mrd-ac-r  10.202.0.2   router: BIRD AS 65000, forwards
//                                                    ├─ mrd-ac-a  10.202.0.11  PoP a: BIRD AS 65001 + meridian dns on 198.51.100.53 + announcer
//                                                    ├─ mrd-ac-b  10.202.0.12  PoP b: BIRD AS 65002 + meridian dns on 198.51.100.53 + announcer
//                                                    └─ mrd-ac-c  10.202.0.20  client: 198.51.100.0/24 via the router
//
// The router prefers PoP a (local-pref 200 on a's session, 100 on b's): a is "nearer". Which
// PoP answered is `dig CH TXT id.server` (each PoP's DNS server has its own serverId). The
// client's replies come straight back over the bridge (asymmetric, as anycast often is).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsNetns, run, Topology, type NsProcess } from '../helpers/netns.js';
import { MERIDIAN_BIN } from '../helpers/repo-paths.js';
import { all, needs } from '../helpers/system-tools.js';
import { sleep } from '../helpers/wait-for.js';

const PREFIX = 'mrd-ac-';
const IP = { bridge: '10.202.0.1', r: '10.202.0.2', a: '10.202.0.11', b: '10.202.0.12', c: '10.202.0.20' } as const;
const ANYCAST = '198.51.100.53';
const POPS = ['a', 'b'] as const;
type Pop = (typeof POPS)[number];
const ASN: Record<Pop, number> = { a: 65001, b: 65002 };
/** Hold-down after one flap: halfLife × log2(penalty / reuse) = 2 s × log2(1000 / 250) = 4 s. */
const HOLD_DOWN_MS = 4000;

function configYaml(pop: Pop, dir: string): string {
  const bgp = (p: Pop): string =>
    `{ socket: ${join(dir, `${p}.ctl`)}, asn: ${ASN[p]}, routerId: ${IP[p]}, neighbors: [{ address: ${IP.r}, asn: 65000 }], timers: { hold: 3, keepalive: 1 } }`;
  return `
dns:
  serverId: pop-${pop}
  listen: ["${ANYCAST}:53"]
  control: { listen: "127.0.0.1:8053" }
  workers: 1
  log: { level: info }
pops:
  - { id: a, location: { lat: 50.11, lon: 8.68 }, ipv4: [${IP.a}] }
  - { id: b, location: { lat: 40.71, lon: -74.01 }, ipv4: [${IP.b}] }
# Each announcer reports to its own PoP's DNS server (drain reaches it in the reply).
health: { reportTo: ["http://127.0.0.1:8053"] }
zones:
  - name: mrd.test
    soa: { mname: ns1.mrd.test., rname: hostmaster.mrd.test., serial: 1 }
    ns: [ns1.mrd.test.]
    records: [{ name: ns1, type: A, value: ${ANYCAST} }]
anycast:
  prefixes:
    - prefix: 198.51.100.0/24
      addresses: [{ address: ${ANYCAST}, serves: dns }]
  dns: { interval: 200ms, fastInterval: 100ms, timeout: 200ms, rise: 2, fall: 2 }
  damping: { penalty: 1000, suppress: 1000, reuse: 250, halfLife: 2s, maxHoldDown: 10s }
  lease: { timeout: 600ms }
  reportInterval: 200ms
  pops:
    - { pop: a, bgp: ${bgp('a')} }
    - { pop: b, bgp: ${bgp('b')} }
`;
}

function routerConf(): string {
  const session = (p: Pop, pref: number): string => `
protocol bgp pop_${p} {
  local ${IP.r} as 65000;
  neighbor ${IP[p]} as ${ASN[p]};
  hold time 3; keepalive time 1; connect retry time 1;
  ipv4 { import filter { bgp_local_pref = ${pref}; accept; }; export none; };
}`;
  return `router id ${IP.r};
protocol device { scan time 10; }
protocol kernel { ipv4 { export all; }; }
${session('a', 200)}
${session('b', 100)}
`;
}

describe('anycast with BIRD 2 (system)', all(needs('dig', 'ip', 'bird'), needsNetns()), () => {
  let topo: Topology;
  let dir: string;
  const bird: Partial<Record<Pop | 'r', NsProcess>> = {};
  const dns: Partial<Record<Pop, NsProcess>> = {};
  const announcer: Partial<Record<Pop, NsProcess>> = {};

  const config = (pop: Pop): string => join(dir, `${pop}.yaml`);

  function startBird(key: Pop | 'r'): NsProcess {
    const p = topo.spawnIn(key, 'bird', [
      '-f',
      '-c',
      join(dir, `${key}.conf`),
      '-s',
      join(dir, `${key}.ctl`),
      '-P',
      join(dir, `${key}.pid`),
    ]);
    bird[key] = p;
    return p;
  }

  async function startAnnouncer(pop: Pop): Promise<NsProcess> {
    const p = topo.spawnIn(pop, process.execPath, [
      MERIDIAN_BIN,
      'anycast',
      '--config',
      config(pop),
      '--pop',
      pop,
      '--control-listen',
      '127.0.0.1:9180',
    ]);
    announcer[pop] = p;
    await p.waitForLine(/meridian anycast running/, 15_000);
    return p;
  }

  async function startDns(pop: Pop): Promise<NsProcess> {
    const p = topo.spawnIn(pop, process.execPath, [MERIDIAN_BIN, 'dns', '--config', config(pop)]);
    dns[pop] = p;
    await p.waitForLine(/meridian dns serving/, 15_000);
    return p;
  }

  /** Which PoP answers the client (its serverId), or null when none does within 1 s. */
  async function servedBy(): Promise<string | null> {
    const r = await topo.exec(
      'c',
      ['dig', `@${ANYCAST}`, '+short', '+time=1', '+tries=1', 'CH', 'TXT', 'id.server'],
      5000,
    );
    const m = /"pop-(\w+)"/.exec(r.stdout);
    return m ? m[1]! : null;
  }

  /** The router's next hop for the anycast prefix (the PoP's address), or null without a route. */
  async function routerNextHop(): Promise<string | null> {
    const r = await topo.exec('r', ['ip', 'route', 'show', '198.51.100.0/24']);
    return /via (\S+)/.exec(r.stdout)?.[1] ?? null;
  }

  /** The BGP sessions the router has the prefix from. */
  async function routerPaths(): Promise<string[]> {
    const r = await topo.exec('r', ['birdc', '-s', join(dir, 'r.ctl'), 'show', 'route', '198.51.100.0/24']);
    return [...r.stdout.matchAll(/\[(pop_\w+)/g)].map((m) => m[1]!).sort();
  }

  async function waitFor<T>(
    what: string,
    boundMs: number,
    get: () => Promise<T>,
    ok: (v: T) => boolean,
  ): Promise<{ value: T; ms: number }> {
    const t0 = performance.now();
    let last: T | undefined;
    while (performance.now() - t0 < boundMs) {
      last = await get();
      if (ok(last)) return { value: last, ms: Math.round(performance.now() - t0) };
      await sleep(50);
    }
    const logs = POPS.map(
      (p) => `--- announcer ${p}:\n${announcer[p]?.lines.slice(-15).join('\n') ?? '(not running)'}`,
    ).join('\n');
    throw new Error(`${what}: not within ${boundMs} ms; last ${JSON.stringify(last)}\n${logs}`);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-anycast-'));
    topo = await Topology.create({
      prefix: PREFIX,
      bridgeAddress: `${IP.bridge}/24`,
      namespaces: (['r', 'a', 'b', 'c'] as const).map((key) => ({ key, address: `${IP[key]}/24` })),
    });
    // The router forwards, and must not tell the client (on the same link) to skip it with a
    // redirect: every packet has to follow the router's current route.
    for (const sysctl of [
      'net.ipv4.ip_forward=1',
      'net.ipv4.conf.all.send_redirects=0',
      `net.ipv4.conf.${PREFIX}r-n.send_redirects=0`,
    ]) {
      await topo.exec('r', ['sysctl', '-qw', sysctl]);
    }
    await topo.exec('c', ['sysctl', '-qw', 'net.ipv4.conf.all.accept_redirects=0']);
    await topo.exec('c', ['ip', 'route', 'add', '198.51.100.0/24', 'via', IP.r]);
    writeFileSync(join(dir, 'r.conf'), routerConf());
    for (const pop of POPS) {
      writeFileSync(config(pop), configYaml(pop, dir));
      // Generous: a loaded CI machine can take seconds to start node.
      const printed = await run(
        process.execPath,
        [MERIDIAN_BIN, 'anycast', '--config', config(pop), '--pop', pop, '--print-bird-config'],
        60_000,
      );
      if (printed.code !== 0) throw new Error(`--print-bird-config failed (${printed.code}): ${printed.stderr}`);
      writeFileSync(join(dir, `${pop}.conf`), printed.stdout);
    }
    startBird('r');
    for (const pop of POPS) startBird(pop);
    // The announcer first: it puts the anycast address on the host, which the DNS server binds.
    for (const pop of POPS) await startAnnouncer(pop);
    for (const pop of POPS) await startDns(pop);
  }, 120_000);

  afterAll(async () => {
    await topo?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('both PoPs announce, and the client reaches the nearer one (local-pref)', async () => {
    await waitFor('both announced at the router', 20_000, routerPaths, (p) => p.join() === 'pop_a,pop_b');
    expect(await routerNextHop()).toBe(IP.a);
    expect((await waitFor('client answered', 5000, servedBy, (s) => s !== null)).value).toBe('a');
  }, 30_000);

  it('killing the DNS server in PoP a moves the client to PoP b within about a second', async () => {
    await dns.a!.stop('SIGKILL');
    const moved = await waitFor('client served by b', 5000, servedBy, (s) => s === 'b');
    console.log(`anycast failover: client served by b ${moved.ms} ms after the DNS server in a was killed`);
    expect(moved.ms).toBeLessThan(2000);
    expect(await routerPaths()).toEqual(['pop_b']);
  }, 30_000);

  it('revive brings it back after rise plus the hold-down, not before', async () => {
    await startDns('a');
    // Healthy again after rise, but held down by damping (the flap was at the kill, moments ago).
    await announcer.a!.waitForLine(/prefix held down by damping/, 5000);
    expect(await routerPaths()).toEqual(['pop_b']);
    // The control port listens on the PoP namespace's loopback: fetched from inside it.
    const fetchMetrics =
      "fetch('http://127.0.0.1:9180/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))";
    const metrics = (await topo.exec('a', [process.execPath, '-e', fetchMetrics])).stdout;
    expect(metrics).toMatch(/^meridian_anycast_suppressed\{prefix="198\.51\.100\.0\/24",service="anycast"\} 1$/m);
    expect(metrics).toMatch(/^meridian_anycast_announced\{prefix="198\.51\.100\.0\/24",service="anycast"\} 0$/m);
    expect(metrics).toMatch(/^meridian_anycast_flaps_total\{prefix="198\.51\.100\.0\/24",service="anycast"\} 1$/m);
    const back = await waitFor('client served by a again', HOLD_DOWN_MS + 5000, servedBy, (s) => s === 'a');
    console.log(
      `anycast revive: client back on a ${back.ms} ms after the hold-down began (hold-down ${HOLD_DOWN_MS} ms from the kill)`,
    );
    expect(back.ms).toBeGreaterThan(500);
  }, 30_000);

  it('SIGTERM withdraws before exit and removes the anycast address', async () => {
    await announcer.a!.stop('SIGTERM');
    expect(await announcer.a!.exited).toBe(0);
    expect(announcer.a!.lines.some((l) => l.includes('route withdrawn'))).toBe(true);
    const moved = await waitFor('router moved to b', 2000, routerNextHop, (h) => h === IP.b);
    console.log(`anycast SIGTERM: router on b ${moved.ms} ms after the announcer exited`);
    const left = await topo.exec('a', ['ip', '-o', 'addr', 'show', 'to', `${ANYCAST}/32`]);
    expect(left.stdout.trim()).toBe('');
    // Back for the next case: the address first, then a DNS server bound to it again.
    await dns.a!.stop();
    await startAnnouncer('a');
    await startDns('a');
    await waitFor('router back on a', 15_000, routerNextHop, (h) => h === IP.a);
  }, 45_000);

  it('SIGKILL of the announcer does not leave its route up', async () => {
    await announcer.a!.stop('SIGKILL');
    const moved = await waitFor('router moved to b', 3000, routerNextHop, (h) => h === IP.b);
    console.log(`anycast SIGKILL: route via a gone ${moved.ms} ms after the announcer was killed`);
    expect(moved.ms).toBeLessThan(1500);
    // BIRD still has the protocol enabled: only the lease took the route away.
    const proto = await topo.exec('a', [
      'birdc',
      '-s',
      join(dir, 'a.ctl'),
      'show',
      'protocols',
      'meridian_198_51_100_0_24',
    ]);
    expect(proto.stdout).toMatch(/meridian_198_51_100_0_24\s+Static\s+master4\s+up/);
    expect(await servedBy()).toBe('b');
    // A new announcer withdraws before it takes the lease, then announces after rise.
    await startAnnouncer('a');
    await waitFor('router back on a', 15_000, routerNextHop, (h) => h === IP.a);
  }, 45_000);

  it('a hung announcer (stopped event loop) lets the lease lapse, and recovers when it runs again', async () => {
    const pid = announcer.a!.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const moved = await waitFor('router moved to b', 4000, routerNextHop, (h) => h === IP.b);
      console.log(`anycast hang: route via a gone ${moved.ms} ms after the announcer stopped (lease timeout 600 ms)`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await announcer.a!.waitForLine(/lease lapsed/, 5000);
    await waitFor('router back on a', 15_000, routerNextHop, (h) => h === IP.a);
  }, 30_000);

  it('a restarted BIRD gets its routes back from the announcer (resync)', async () => {
    const before = announcer.a!.lines.length;
    await bird.a!.stop();
    await waitFor('router moved to b', 12_000, routerNextHop, (h) => h === IP.b);
    startBird('a');
    const resynced = async (): Promise<boolean> =>
      announcer.a!.lines.slice(before).some((l) => l.includes('connected to BIRD; resyncing'));
    await waitFor('announcer reconnected', 10_000, resynced, (ok) => ok);
    await waitFor('router back on a', 20_000, routerNextHop, (h) => h === IP.a);
    expect(announcer.a!.lines.slice(before).some((l) => l.includes('BIRD closed its control socket'))).toBe(true);
  }, 45_000);

  it("drain withdraws the PoP's route without a damping penalty; undrain brings it back after rise, with no hold-down", async () => {
    await waitFor('router on a', 15_000, routerNextHop, (h) => h === IP.a);
    // Both the DNS server and the announcer listen on the PoP namespace's loopback.
    const inA = async (code: string): Promise<string> =>
      (await topo.exec('a', [process.execPath, '-e', code], 15_000)).stdout;
    const flaps = async (): Promise<string> =>
      /^meridian_anycast_flaps_total\{[^}]*\} (\d+)$/m.exec(
        await inA("fetch('http://127.0.0.1:9180/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))"),
      )?.[1] ?? '?';
    const before = await flaps();
    const pop = async (action: string): Promise<void> => {
      const r = await topo.exec(
        'a',
        [process.execPath, MERIDIAN_BIN, 'pop', action, 'a', '--control', 'http://127.0.0.1:8053'],
        30_000,
      );
      if (r.code !== 0) throw new Error(`meridian pop ${action} a: ${r.code} ${r.stderr}`);
    };
    await pop('drain');
    const moved = await waitFor('router moved to b', 5000, routerNextHop, (h) => h === IP.b);
    console.log(`anycast drain: route via a gone ${moved.ms} ms after \`meridian pop drain a\``);
    expect(await servedBy()).toBe('b');
    await announcer.a!.waitForLine(/DNS servers say this PoP is drained/, 2000);
    expect(await flaps()).toBe(before);
    const status = JSON.parse(
      await inA("fetch('http://127.0.0.1:9180/v1/status').then((r) => r.text()).then((t) => process.stdout.write(t))"),
    ) as {
      override: string | null;
      prefixes: { reason: string }[];
    };
    expect(status).toMatchObject({
      override: 'drain',
      prefixes: [{ reason: 'drained by an operator (meridian pop drain)' }],
    });
    await pop('undrain');
    // rise 2 × 100-200 ms plus the report interval: well inside the 4 s a flap's hold-down would take.
    const back = await waitFor('router back on a', HOLD_DOWN_MS, routerNextHop, (h) => h === IP.a);
    console.log(`anycast undrain: route via a back ${back.ms} ms after \`meridian pop undrain a\``);
    expect(await flaps()).toBe(before);
    expect((await waitFor('client on a', 5000, servedBy, (s) => s === 'a')).value).toBe('a');
  }, 45_000);
});
