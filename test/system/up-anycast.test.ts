// System test: `meridian up` starts the announcer of a config with anycast, and its route
// appears. Real BIRD 2 on both ends; `up` itself runs as root inside a namespace (the "PoP
// host"), so the dummy and lease interfaces it makes and its loopback ports are the namespace's
// own. Needs root, iproute2, dig and bird2 (CI runs it; elsewhere it skips with the reason).
//
//   root namespace 10.204.0.1 ── bridge mrd-ua-br ──┬─ mrd-ua-h  10.204.0.11  `meridian up` (hybrid.yaml, fra announces) + BIRD AS 65001
//                                                    └─ mrd-ua-r  10.204.0.2   router: BIRD AS 65000, routes to the kernel; the client
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { needsNetns, run, Topology, type NsProcess } from '../helpers/netns.js';
import { MERIDIAN_BIN, REPO_ROOT } from '../helpers/repo-paths.js';
import { all, needs } from '../helpers/system-tools.js';
import { waitForValue } from '../helpers/wait-for.js';

const PREFIX = 'mrd-ua-';
const IP = { bridge: '10.204.0.1', h: '10.204.0.11', r: '10.204.0.2' } as const;
const ANYCAST = '198.51.100.53';

/** hybrid.yaml with a DNS and an edge anycast prefix, fast checks, fra's BIRD here and iad's BIRD nowhere. */
function configYaml(dir: string): string {
  const c = parse(readFileSync(join(REPO_ROOT, 'config', 'hybrid.yaml'), 'utf8')) as Record<string, any>;
  c.geo.databases = [join(REPO_ROOT, 'geo-data', 'test-city.mmdb')];
  const bgp = (pop: string, asn: number) => ({
    socket: join(dir, `${pop}.ctl`),
    asn,
    routerId: IP.h,
    neighbors: [{ address: IP.r, asn: 65000 }],
    timers: { hold: 3, keepalive: 1 },
  });
  c.anycast = {
    // The DNS address on a prefix of its own: `up`'s edges are on loopback, so an edge address keeps its prefix withdrawn.
    prefixes: [
      { prefix: '198.51.100.0/25', addresses: [{ address: ANYCAST, serves: 'dns' }] },
      { prefix: '198.51.100.128/25', addresses: [{ address: '198.51.100.180', serves: 'edge', port: 8080 }] },
    ],
    dns: { interval: '200ms', fastInterval: '100ms', timeout: '200ms', rise: 2, fall: 2 },
    interface: 'mrd-ua-any',
    lease: { interface: 'mrd-ua-lease', timeout: '600ms' },
    reportInterval: '200ms',
    pops: [
      { pop: 'fra', bgp: bgp('fra', 65001) },
      { pop: 'iad', bgp: bgp('iad', 65002) },
    ],
  };
  return stringify(c);
}

const ROUTER_CONF = `router id ${IP.r};
protocol device { scan time 10; }
protocol kernel { ipv4 { export all; }; }
protocol bgp pop_fra {
  local ${IP.r} as 65000;
  neighbor ${IP.h} as 65001;
  hold time 3; keepalive time 1; connect retry time 1;
  ipv4 { import all; export none; };
}
`;

describe('meridian up starts the announcer (system)', all(needs('dig', 'ip', 'bird'), needsNetns()), () => {
  let topo: Topology;
  let dir: string;
  let up: NsProcess;
  const birds: NsProcess[] = [];

  const startBird = (key: 'h' | 'r', name: string): void => {
    const ctl = join(dir, `${name}.ctl`);
    birds.push(
      topo.spawnIn(key, 'bird', ['-f', '-c', join(dir, `${name}.conf`), '-s', ctl, '-P', join(dir, `${name}.pid`)]),
    );
  };
  const routerNextHop = async (): Promise<string | null> =>
    /via (\S+)/.exec((await topo.exec('r', ['ip', 'route', 'show', '198.51.100.0/25'])).stdout)?.[1] ?? null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-up-anycast-'));
    topo = await Topology.create({
      prefix: PREFIX,
      bridgeAddress: `${IP.bridge}/24`,
      namespaces: (['h', 'r'] as const).map((key) => ({ key, address: `${IP[key]}/24` })),
    });
    const config = join(dir, 'hybrid.yaml');
    writeFileSync(config, configYaml(dir));
    const printed = await run(
      process.execPath,
      [MERIDIAN_BIN, 'anycast', '--config', config, '--pop', 'fra', '--print-bird-config'],
      60_000,
    );
    if (printed.code !== 0) throw new Error(`--print-bird-config failed (${printed.code}): ${printed.stderr}`);
    writeFileSync(join(dir, 'fra.conf'), printed.stdout);
    writeFileSync(join(dir, 'r.conf'), ROUTER_CONF);
    startBird('r', 'r');
    startBird('h', 'fra');
    await waitForValue(
      async () => (await run('birdc', ['-s', join(dir, 'fra.ctl'), 'show', 'status'])).code,
      (code) => code === 0,
      10_000,
      "fra's BIRD answering",
    );
    up = topo.spawnIn('h', process.execPath, [MERIDIAN_BIN, 'up', '--config', config, '--logs', join(dir, 'logs')], {
      cwd: REPO_ROOT,
    });
    await up.waitForLine(/^Meridian is up/, 90_000);
  }, 120_000);

  afterAll(async () => {
    await up?.stop('SIGKILL');
    await topo?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("starts fra's announcer, and says why iad's is not (its BIRD does not answer)", () => {
    const text = up.lines.join('\n');
    expect(text).toMatch(/starting 1 anycast announcer…/);
    expect(text).toMatch(
      /^ {2}fra +198\.51\.100\.0\/25 198\.51\.100\.128\/25 +\S+fra\.ctl +http:\/\/127\.0\.1\.1:8091$/m,
    );
    expect(text).toContain(
      'anycast fra: 198.51.100.128/25 stays withdrawn — its edge address 198.51.100.180 is checked on port 8080, and `up` runs the edges on loopback only',
    );
    expect(text).toContain(`anycast iad: not started — BIRD does not answer on ${join(dir, 'iad.ctl')} (ENOENT)`);
  });

  it('the route appears at the router once the DNS server answers on the anycast address, and the client is answered', async () => {
    expect(
      await waitForValue(routerNextHop, (h) => h === IP.h, 20_000, "the router's route to the anycast prefix"),
    ).toBe(IP.h);
    const soa = await topo.exec('r', ['dig', `@${ANYCAST}`, '+short', '+time=1', '+tries=2', 'hybrid.test', 'SOA']);
    expect(soa.stdout).toMatch(/^ns1\.hybrid\.test\. hostmaster\.hybrid\.test\. 2026120601 /);
  }, 30_000);

  it('SIGTERM to `up` withdraws the route and removes the anycast interface', async () => {
    // Not up.stop(): its SIGKILL after 2 s is shorter than up's own wait for its children.
    up.kill('SIGTERM');
    expect(await up.exited).toBe(0);
    // The withdrawal was sent before the announcer exited; the router's kernel table follows at once.
    await waitForValue(routerNextHop, (h) => h === null, 2000, 'the route withdrawn at the router');
    expect((await topo.exec('h', ['ip', 'link', 'show', 'mrd-ua-any'])).code).not.toBe(0);
    expect(readFileSync(join(dir, 'logs', 'anycast-fra.log'), 'utf8')).toContain('every prefix withdrawn');
  }, 30_000);
});
