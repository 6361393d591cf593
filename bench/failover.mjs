#!/usr/bin/env node
// Failover bench: how long after a PoP's edge dies do new DNS answers stop naming it, and how
// long after it comes back do they name it again? Real processes in network namespaces, as in
// test/system/failover.test.ts: a bridge, the DNS server in its own namespace, three PoPs
// (Frankfurt A, New York B, London C) each with an edge on :80 and a prober, default health
// settings (interval 1 s, timeout 500 ms, fall 3, rise 2).
//
// Prints figures; it is not a test and never fails because of a number (see bench/README.md).
// Exits non-zero only when it cannot measure (not root, no `ip netns`, no dig, dist/ not built,
// a process that does not start).
//
//   npm run bench:failover           (builds first)
//   node bench/failover.mjs [--runs 5] [--outage both|kill|link]
//
// --outage both (default): kill, then link, each RUNS times, and a steady-state probe-rate line.
// --outage kill: SIGKILL the edge (connections refused at once), restart it.
// --outage link: down PoP A's link (the edge black-holed, A's own prober cut off), up again.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MERIDIAN_BIN as BIN, ROOT, distBuilt, sleep, stopChild, stopOnSignals, tempDir, track } from './lib.mjs';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '5' }, outage: { type: 'string', default: 'both' } } });
const RUNS = Number(args.runs);
const OUTAGES = args.outage === 'both' ? ['kill', 'link'] : [args.outage];
if (!(RUNS >= 1) || !OUTAGES.every((o) => ['kill', 'link'].includes(o))) die('usage: node bench/failover.mjs [--runs N] [--outage both|kill|link]');

// Own names and addresses (the system test uses mrd-fo- and 10.200/16): both can run at once.
const PREFIX = 'mrd-bf-';
const IP = { bridge: '10.201.0.1', dns: '10.201.0.2', a: '10.201.0.11', b: '10.201.0.12', c: '10.201.0.13' };
const POPS = ['a', 'b', 'c'];
const TOKEN = 'bench-token';
const CONTROL = `http://${IP.dns}:8053`;
const SETTINGS = { interval: 1000, timeout: 500, fall: 3, rise: 2, ttl: 30 };
/** Issue 14's goals (median): a killed edge out ≤ 2 s and back ≤ 3 s, a silent one out ≤ 3 s. */
const TARGETS = { kill: { out: 2000, back: 3000 }, link: { out: 3000, back: undefined } };
const RATE_WINDOW_MS = 20_000;
const POLL_MS = 100;
const BOUND_MS = 30_000;

const EDGE_JS = `
const http = require('node:http');
const [host, name] = process.argv.slice(1);
let healthz = 0;
http.createServer((req, res) => {
  if (req.url === '/stats') return res.writeHead(200, { connection: 'close', 'content-type': 'application/json' }).end(JSON.stringify({ healthz }));
  if (req.url === '/healthz') healthz++;
  res.writeHead(req.url === '/healthz' ? 200 : 404, { connection: 'close' }).end('ok\\n');
})
  .listen(80, host, () => console.log('edge ' + name + ' listening'));
process.once('SIGTERM', () => process.exit(0));`;

function die(msg) {
  process.stderr.write(`bench:failover: ${msg}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Namespaces (a small copy of test/helpers/netns.ts: bench scripts are plain JS)

function ip(...a) {
  const r = spawnSync('ip', a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}
const ipQuiet = (...a) => spawnSync('ip', a, { encoding: 'utf8' });

/**
 * Removes every namespace and link named PREFIX*, killing what still runs in those namespaces.
 * Synchronous: safe in 'exit' (where lib.mjs's handler, installed first, has already killed the
 * processes this script started).
 */
function cleanup() {
  const namespaces = (ipQuiet('netns', 'list').stdout ?? '').split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((n) => n?.startsWith(PREFIX));
  for (const ns of namespaces) {
    // Left by an earlier run of this bench that crashed: ours by name.
    for (const pid of (ipQuiet('netns', 'pids', ns).stdout ?? '').split(/\s+/).filter((p) => /^\d+$/.test(p))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  const links = (ipQuiet('-o', 'link', 'show').stdout ?? '').split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n) => n?.startsWith(PREFIX));
  for (const l of links) ipQuiet('link', 'del', l);
  forgetBridgedTraffic();
  for (const ns of namespaces) ipQuiet('netns', 'del', ns);
}

// Docker sets iptables' FORWARD policy to DROP and leaves bridge-nf-call-iptables on: frames
// between our namespaces would be dropped while dockerd runs (as test/helpers/netns.ts says).
// One ACCEPT rule for traffic within our bridge, removed with it.
const BRIDGE_RULE = ['FORWARD', '-i', `${PREFIX}br`, '-o', `${PREFIX}br`, '-j', 'ACCEPT'];
function forgetBridgedTraffic() {
  for (const cmd of ['iptables', 'ip6tables']) {
    for (let i = 0; i < 10; i++) if (spawnSync(cmd, ['-w', '-D', ...BRIDGE_RULE]).status !== 0) break;
  }
}

function createTopology() {
  cleanup();
  const br = `${PREFIX}br`;
  for (const cmd of ['iptables', 'ip6tables']) spawnSync(cmd, ['-w', '-I', ...BRIDGE_RULE]);
  ip('link', 'add', br, 'type', 'bridge');
  ip('link', 'set', br, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0');
  ip('addr', 'add', `${IP.bridge}/16`, 'dev', br);
  ip('link', 'set', br, 'up');
  for (const key of ['dns', ...POPS]) {
    const ns = `${PREFIX}${key}`;
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('link', 'add', `${ns}-h`, 'type', 'veth', 'peer', 'name', `${ns}-n`, 'netns', ns);
    ip('link', 'set', `${ns}-h`, 'master', br);
    ip('link', 'set', `${ns}-h`, 'up');
    ip('-n', ns, 'addr', 'add', `${IP[key]}/16`, 'dev', `${ns}-n`);
    ip('-n', ns, 'link', 'set', `${ns}-n`, 'up');
  }
}

/** Starts `node ...args` in namespace `key`; resolves once a line matches `ready`. */
function startIn(key, nodeArgs, ready, env = {}) {
  const child = spawn('ip', ['netns', 'exec', `${PREFIX}${key}`, process.execPath, ...nodeArgs], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  child.lines = [];
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${key}: not ready within 10 s:\n${child.lines.slice(-20).join('\n')}`)), 10_000);
    let buf = '';
    const onData = (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        child.lines.push(line);
        if (child.lines.length > 500) child.lines.shift();
        if (ready.test(line)) {
          clearTimeout(timer);
          resolveReady(child);
        }
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${key}: exited (${code ?? sig}) before it was ready:\n${child.lines.slice(-20).join('\n')}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring

/** www's A answer for a client in Mainz (ECS), or null when dig got no answer. */
function answer() {
  return new Promise((res) => {
    const c = spawn('dig', [`@${IP.dns}`, '-p', '53', '+norec', '+time=1', '+tries=1', '+short', '+subnet=10.77.0.0/24', 'www.mrd.test', 'A']);
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    c.once('exit', (code) => res(code === 0 ? out.trim().split('\n').filter(Boolean).join(',') : null));
    c.once('error', () => res(null));
  });
}

async function health() {
  const r = await fetch(`${CONTROL}/v1/health`, { signal: AbortSignal.timeout(2000) });
  return (await r.json()).pops;
}

/** Polls `check` every POLL_MS; resolves with ms since `t0` at the first true. */
async function until(what, t0, check) {
  while (performance.now() - t0 < BOUND_MS) {
    if (await check().catch(() => false)) return performance.now() - t0;
    await sleep(POLL_MS);
  }
  throw new Error(`${what}: not within ${BOUND_MS} ms`);
}

const steady = () =>
  until('steady state (every PoP up in three fresh votes, answer A)', performance.now(), async () => {
    const pops = await health();
    return pops.every((p) => p.verdict === 'up' && p.votes.filter((v) => v.fresh && v.up === true).length === 3) && (await answer()) === IP.a;
  });

function config() {
  return `
dns:
  serverId: ns1.mrd.test
  listen: ["${IP.dns}:53"]
  http: "${IP.dns}:8053"
  control: { token: ${TOKEN} }
pops:
  - { id: a, name: Frankfurt, location: { lat: 50.11, lon: 8.68 }, ipv4: [${IP.a}], edge: "http://${IP.a}" }
  - { id: b, name: New York, location: { lat: 40.71, lon: -74.01 }, ipv4: [${IP.b}], edge: "http://${IP.b}" }
  - { id: c, name: London, location: { lat: 51.51, lon: -0.13 }, ipv4: [${IP.c}], edge: "http://${IP.c}" }
pools:
  - { id: edge, members: [a, b, c], policy: nearest, fallback: a }
health:
  check: { type: http, path: /healthz }
  interval: ${SETTINGS.interval}ms
  timeout: ${SETTINGS.timeout}ms
  fall: ${SETTINGS.fall}
  rise: ${SETTINGS.rise}
  reportTo: ["${CONTROL}"]
  latency: { resolvers: 0 }
geo:
  nets: [{ network: 10.0.0.0/8, location: { lat: 49.99, lon: 8.27 } }]
zones:
  - name: mrd.test
    soa: { mname: ns1.mrd.test., rname: hostmaster.mrd.test., serial: 1 }
    ns: [ns1.mrd.test.]
    records: [{ name: ns1, type: A, value: ${IP.dns} }]
    routes: [{ name: www, pool: edge, ttl: ${SETTINGS.ttl} }]
`;
}

const edges = {};
const startEdge = async (pop) => (edges[pop] = await startIn(pop, ['-e', EDGE_JS, IP[pop], pop], /edge \w+ listening/));
/** Health checks every PoP's edge has answered since it started. */
async function edgeStats() {
  let n = 0;
  for (const pop of POPS) {
    const r = await fetch(`http://${IP[pop]}/stats`, { signal: AbortSignal.timeout(2000) });
    n += (await r.json()).healthz;
  }
  return n;
}

const fmt = (ms) => (ms / 1000).toFixed(2);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  if (process.platform !== 'linux') die('needs Linux network namespaces');
  if (process.getuid?.() !== 0) die('needs root (network namespaces, veth pairs, a bridge); run it as root');
  if (ipQuiet('netns', 'list').status !== 0) die("'ip netns' does not work here (install iproute2)");
  if (spawnSync('dig', ['-v']).error) die('dig not found (apt-get install bind9-dnsutils)');
  if (!distBuilt()) die('dist/ is not built: npm run build (or npm run bench:failover)');

  // On exit (also after Ctrl-C: exit 130 at once) lib.mjs kills our processes and removes the
  // temp dir, then cleanup() removes the namespaces.
  const dir = tempDir('meridian-bench-failover-');
  process.once('exit', cleanup);
  stopOnSignals({ now: true });

  const configPath = join(dir, 'meridian.yaml');
  writeFileSync(configPath, config());
  createTopology();
  for (const pop of POPS) await startEdge(pop);
  // The variable wins over dns.control.token: give every process the same one.
  await startIn('dns', [BIN, 'dns', '--config', configPath], /meridian dns serving/, { MERIDIAN_CONTROL_TOKEN: TOKEN });
  for (const pop of POPS) await startIn(pop, [BIN, 'health', '--config', configPath, '--pop', pop], /meridian health probing/, { MERIDIAN_CONTROL_TOKEN: TOKEN });

  const [load1] = os.loadavg();
  console.log(`bench:failover — ${RUNS} runs per outage (${OUTAGES.join(', ')}); median of ${RUNS}`);
  console.log(`health: interval ${SETTINGS.interval} ms, timeout ${SETTINGS.timeout} ms, fall ${SETTINGS.fall}, rise ${SETTINGS.rise} (fastInterval: the default); dig polled every ${POLL_MS} ms`);
  console.log(`machine: ${os.cpus().length} CPUs, load average ${load1.toFixed(2)}, Node ${process.version}, ${os.release()}`);

  // Steady-state probe traffic: health checks PoP A's edge answers in a quiet window, per prober.
  await steady();
  // Summed over the 9 prober→edge pairs: one pair's count in a window is off by up to one probe.
  const s0 = await edgeStats();
  const w0 = performance.now();
  await sleep(RATE_WINDOW_MS);
  const perPair = ((await edgeStats()) - s0) / (POPS.length * POPS.length) / ((performance.now() - w0) / 1000);
  const rateLine = `steady-state probe rate: ${perPair.toFixed(2)} health checks/s per prober per edge over ${RATE_WINDOW_MS / 1000} s (the steady interval alone gives ${(1000 / SETTINGS.interval).toFixed(2)})`;
  console.log(rateLine);

  const summary = [];
  for (const outage of OUTAGES) summary.push(await measure(outage));

  const line = (cells) => `| ${cells.join(' | ')} |`;
  console.log('');
  console.log(line(['outage', 'out: median (min–max) s', 'target', 'back: median (min–max) s', 'target']));
  console.log(line(['---', '---', '---', '---', '---']));
  for (const { outage, outs, backs } of summary) {
    const t = TARGETS[outage];
    const cell = (xs) => `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
    const meets = (xs, target) => (target === undefined ? '—' : `≤ ${fmt(target)} ${median(xs) <= target ? 'meets' : 'MISSES'}`);
    console.log(line([outage === 'kill' ? 'edge killed (RST)' : 'link down (silent)', cell(outs), meets(outs, t.out), cell(backs), meets(backs, t.back)]));
  }
  console.log('');
  console.log(rateLine);
  if (OUTAGES.includes('kill')) console.log('"back" for a killed edge includes restarting the edge process (node start-up).');
}

async function measure(outage) {
  console.log('');
  console.log(`outage: ${outage === 'kill' ? "SIGKILL PoP A's edge, then restart it" : "PoP A's link down (edge silent, A's prober cut off), then up"}`);
  const rows = [];
  for (let run = 1; run <= RUNS; run++) {
    await steady();
    // A random phase against the probers' schedules, so runs do not all hit the same instant.
    await sleep(Math.random() * SETTINGS.interval);
    const t0 = performance.now();
    if (outage === 'kill') await stopChild(edges.a, 'SIGKILL', 2000);
    else ip('link', 'set', `${PREFIX}a-h`, 'down');
    const out = await until('answers without A', t0, async () => {
      const a = await answer();
      return a !== null && a !== '' && !a.split(',').includes(IP.a);
    });
    // Let the outage settle a little, as a real one would last, then end it.
    await sleep(1000);
    const t1 = performance.now();
    if (outage === 'kill') await startEdge('a');
    else ip('link', 'set', `${PREFIX}a-h`, 'up');
    const restart = performance.now() - t1;
    const back = await until('answers with A again', t1, async () => (await answer()) === IP.a);
    rows.push({ run, out, back, restart });
    console.log(`  run ${run}: out ${fmt(out)} s, back ${fmt(back)} s${outage === 'kill' ? ` (edge restart took ${fmt(restart)} s of it)` : ''}`);
  }
  return { outage, outs: rows.map((r) => r.out), backs: rows.map((r) => r.back) };
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:failover: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
