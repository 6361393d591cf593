#!/usr/bin/env node
// Anycast failover bench (issue 16) on the anycast lab (test/lab/): a client next to PoP a (c1)
// sends 200 DNS queries a second to the anycast address and notes which PoP answers each (NSID).
// Two outages of PoP a, each RUNS times:
//   kill — SIGKILL of a's DNS server; the announcer withdraws a's DNS prefix; then a new DNS server
//          (revive), announced again after rise plus the damping hold-down;
//   link — a silent cut of a's link to its router (packets dropped, both ends up): BFD notices;
//          then the link restored (BGP re-establishes).
// Per run: "out" = from the outage to the first answer from another PoP, "lost" = queries sent
// in that window never answered (1 s timeout), "back" = from the revive/restore to the first
// answer from a again. Printed beside the DNS-failover figures of bench/RESULTS.md (2026-12-06,
// bench/failover.mjs: how long until new DNS answers leave a dead PoP, TTL not counted).
//
// Prints figures; never fails because of a number. Exits non-zero only when it cannot measure.
//
//   npm run bench:anycast            (builds first)
//   node bench/anycast.mjs [--runs 5] [--outage both|kill|link]
import { spawn } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, commandExists, distBuilt, machineText, median, sleep, stopOnSignals, tempDir } from './lib.mjs';
import { ANYCAST, HOLD_DOWN_MS, removeLab, startLab } from '../test/lab/anycast-lab.mjs';

const USAGE = 'usage: node bench/anycast.mjs [--runs N] [--outage both|kill|link]';
let args;
try {
  ({ values: args } = parseArgs({
    options: { runs: { type: 'string', default: '5' }, outage: { type: 'string', default: 'both' } },
  }));
} catch (e) {
  die(`${e.message}\n${USAGE}`);
}
const RUNS = Number(args.runs);
const OUTAGES = args.outage === 'both' ? ['kill', 'link'] : [args.outage];
if (!(RUNS >= 1) || !OUTAGES.every((o) => ['kill', 'link'].includes(o))) die(USAGE);

const LAB_PREFIX = 'mrd-alb-';
const RATE = 200;
const TIMEOUT_MS = 1000;
/** Between kills: lets the damping penalty decay (half-life 2 s), so each run's hold-down is the first-flap one. */
const KILL_SPACING_MS = 12_000;
/** Between link cuts: BIRD's error wait doubles for session failures less than 30 s apart (`error forget time`). */
const LINK_SPACING_MS = 32_000;
/** bench/RESULTS.md, 2026-12-06 failover, "after" column: medians (min–max) of 5, seconds. */
const DNS_FAILOVER = {
  kill: { out: '1.05 (0.79–1.20)', back: '1.03 (0.75–1.14)' },
  link: { out: '2.54 (2.42–2.87)', back: '0.99 (0.74–1.22)' },
};

function die(msg) {
  process.stderr.write(`bench:anycast: ${msg}\n`);
  process.exit(1);
}

/** The query stream in c1: resolves its handle; `waitFor(pattern)` resolves at a matching `switch` line's epoch ms. */
function startStream(lab) {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      lab.ns('c1'),
      process.execPath,
      join(ROOT, 'bench', 'anycast', 'stream.mjs'),
      '--server',
      ANYCAST.dns,
      '--rate',
      String(RATE),
      '--timeout',
      String(TIMEOUT_MS),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const switches = [];
  const waiters = new Set();
  let result;
  let buf = '';
  const done = new Promise((res) => child.once('exit', () => res(result)));
  child.stdout.setEncoding('utf8').on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^switch (\d+) (\S+)$/.exec(line);
      if (m) {
        switches.push({ at: Number(m[1]), server: m[2] });
        for (const w of waiters) w();
      } else if (line.startsWith('result ')) result = JSON.parse(line.slice(7));
    }
  });
  const waitFor = (test, after, boundMs) =>
    new Promise((res, rej) => {
      const check = () => {
        const hit = switches.find((s) => s.at >= after && test(s.server));
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(timer);
        res(hit.at);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        rej(new Error(`no answer matching within ${boundMs} ms (switches: ${JSON.stringify(switches.slice(-5))})`));
      }, boundMs);
      waiters.add(check);
      check();
    });
  const stop = () => {
    child.kill('SIGTERM');
    return done;
  };
  return { waitFor, stop };
}

/** One outage of PoP a: start it, wait for another PoP, end it, wait for a again. */
async function measure(lab, outage) {
  await lab.waitUntil('c1 on PoP a', 30_000, async () => (await lab.servedBy('c1')) === 'a');
  const stream = startStream(lab);
  await stream.waitFor((s) => s === 'pop-a', 0, 10_000);
  // A random phase against the announcer's check schedule.
  await sleep(1000 + Math.random() * 200);
  const t0 = Date.now();
  if (outage === 'kill') await lab.stop('dns-a', 'SIGKILL');
  else await lab.cutLink('a');
  const movedAt = await stream.waitFor((s) => s !== 'pop-a' && s !== '?', t0, 15_000);
  // The outage lasts a little, as a real one would.
  await sleep(2000);
  const t1 = Date.now();
  if (outage === 'kill') await lab.startDns('a');
  else await lab.restoreLink('a');
  const backAt = await stream.waitFor((s) => s === 'pop-a', t1, 30_000);
  await sleep(500);
  const sent = await stream.stop();
  const lostIn = (from, to) => sent.filter(([t, by]) => t >= from && t < to && by === null).length;
  return {
    out: movedAt - t0,
    lost: lostIn(t0 - TIMEOUT_MS, movedAt),
    lostBack: lostIn(t1, backAt + 500),
    back: backAt - t1,
    queries: sent.length,
  };
}

const cell = (xs, f = (x) => (x / 1000).toFixed(2)) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

async function main() {
  if (process.platform !== 'linux') die('needs Linux network namespaces');
  if (process.getuid?.() !== 0) die('needs root (network namespaces, BIRD, iptables); run it as root');
  for (const [tool, pkg] of [
    ['bird', 'bird2'],
    ['dig', 'bind9-dnsutils'],
    ['ip', 'iproute2'],
    ['iptables', 'iptables'],
    // The lab is dual-stack: a cut link drops IPv6 too.
    ['ip6tables', 'iptables'],
  ]) {
    if (!commandExists(tool)) die(`${tool} not found (apt-get install ${pkg})`);
  }
  if (!distBuilt()) die('dist/ is not built: npm run build (or npm run bench:anycast)');
  const dir = tempDir('meridian-bench-anycast-');
  process.once('exit', () => removeLab(LAB_PREFIX));
  stopOnSignals({ now: true });

  const lab = await startLab({ prefix: LAB_PREFIX, dir, log: (l) => process.stderr.write(`bench:anycast: ${l}\n`) });
  const [load1] = os.loadavg();
  console.log(
    `bench:anycast — ${RUNS} runs per outage (${OUTAGES.join(', ')}); client c1 sends ${RATE} queries/s (timeout ${TIMEOUT_MS} ms) to ${ANYCAST.dns}`,
  );
  console.log(
    `lab: announcer checks every 200 ms (fall 2, rise 2), BFD 100 ms × 3, BGP hold 3 s, damping hold-down after one flap ${HOLD_DOWN_MS} ms`,
  );
  console.log(`${machineText()}, load average ${load1.toFixed(2)}`);

  const summary = [];
  for (const outage of OUTAGES) {
    console.log('');
    console.log(
      `outage: ${outage === 'kill' ? "SIGKILL PoP a's DNS server, then start a new one" : "silent cut of PoP a's link to r1, then restore it"}`,
    );
    const rows = [];
    for (let run = 1; run <= RUNS; run++) {
      const started = Date.now();
      const r = await measure(lab, outage);
      rows.push(r);
      console.log(
        `  run ${run}: out ${(r.out / 1000).toFixed(2)} s, ${r.lost} queries lost; back ${(r.back / 1000).toFixed(2)} s, ${r.lostBack} lost on the way back (${r.queries} queries)`,
      );
      if (run < RUNS)
        await sleep(Math.max(0, (outage === 'kill' ? KILL_SPACING_MS : LINK_SPACING_MS) - (Date.now() - started)));
    }
    summary.push({ outage, rows });
  }

  const line = (cells) => `| ${cells.join(' | ')} |`;
  console.log('');
  console.log(
    line([
      'outage',
      'anycast out: median (min–max) s',
      `queries lost (of ${RATE}/s)`,
      'anycast back s',
      'DNS failover out s',
      'DNS failover back s',
    ]),
  );
  console.log(line(['---', '---', '---', '---', '---', '---']));
  for (const { outage, rows } of summary) {
    console.log(
      line([
        outage === 'kill' ? 'DNS server killed' : 'link cut (silent)',
        cell(rows.map((r) => r.out)),
        cell(
          rows.map((r) => r.lost),
          (x) => String(Math.round(x)),
        ),
        cell(rows.map((r) => r.back)),
        DNS_FAILOVER[outage].out,
        DNS_FAILOVER[outage].back,
      ]),
    );
  }
  console.log('');
  console.log(
    'DNS failover: bench/RESULTS.md 2026-12-06 (bench/failover.mjs, edge killed / link down): new answers only; clients also wait out the TTL.',
  );
  if (OUTAGES.includes('kill'))
    console.log(
      `anycast "back" after a kill includes starting the DNS server and the damping hold-down (${HOLD_DOWN_MS} ms after one flap).`,
    );
  lab.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:anycast: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
