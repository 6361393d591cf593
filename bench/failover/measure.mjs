// What the failover bench measures, from the root namespace: the DNS answer a client near PoP A
// gets (dig, polled every POLL_MS), the DNS server's health view, the steady-state probe rate, and
// the out/back times of each outage.
import { spawn } from 'node:child_process';
import { fmt2, sleep, stopChild } from '../lib.mjs';
import { CONTROL, SETTINGS } from './config.mjs';
import { edgeStats, edges, startEdgeService } from './edges.mjs';
import { IP, POPS, PREFIX, ip } from './netns.mjs';

export const RATE_WINDOW_MS = 20_000;
export const POLL_MS = 100;
const BOUND_MS = 30_000;

/** www's A answer for a client in Mainz (ECS), or null when dig got no answer. */
function answer() {
  return new Promise((res) => {
    const c = spawn('dig', [
      `@${IP.dns}`,
      '-p',
      '53',
      '+norec',
      '+time=1',
      '+tries=1',
      '+short',
      '+subnet=10.77.0.0/24',
      'www.mrd.test',
      'A',
    ]);
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    c.once('exit', (code) => res(code === 0 ? out.trim().split('\n').filter(Boolean).join(',') : null));
    c.once('error', () => res(null));
  });
}

/** The DNS server's health view (GET /v1/health): each PoP's verdict and the votes behind it. */
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

/** Every PoP up in three fresh votes, and the answer is A: where each outage starts from. */
const steady = () =>
  until('steady state (every PoP up in three fresh votes, answer A)', performance.now(), async () => {
    const pops = await health();
    return (
      pops.every((p) => p.verdict === 'up' && p.votes.filter((v) => v.fresh && v.up === true).length === 3) &&
      (await answer()) === IP.a
    );
  });

/**
 * Health checks each edge answers per second per prober in a quiet RATE_WINDOW_MS of steady
 * state: a faster failover that cost steady probe traffic would show here. Summed over the 9
 * prober→edge pairs: one pair's count in a window is off by up to one probe.
 */
export async function probeRate() {
  await steady();
  const s0 = await edgeStats();
  const w0 = performance.now();
  await sleep(RATE_WINDOW_MS);
  return ((await edgeStats()) - s0) / (POPS.length * POPS.length) / ((performance.now() - w0) / 1000);
}

/**
 * `runs` outages of one kind (`kill` or `link`) of PoP A, each from the steady state: how long until
 * new answers leave A (out), and how long after the outage ends until they name A again (back).
 */
export async function measureOutage(outage, runs) {
  console.log('');
  console.log(
    `outage: ${outage === 'kill' ? "SIGKILL PoP A's edge, then restart it" : "PoP A's link down (edge silent, A's prober cut off), then up"}`,
  );
  const rows = [];
  for (let run = 1; run <= runs; run++) {
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
    if (outage === 'kill') await startEdgeService('a');
    else ip('link', 'set', `${PREFIX}a-h`, 'up');
    const restart = performance.now() - t1;
    const back = await until('answers with A again', t1, async () => (await answer()) === IP.a);
    rows.push({ run, out, back, restart });
    console.log(
      `  run ${run}: out ${fmt2(out / 1000)} s, back ${fmt2(back / 1000)} s${outage === 'kill' ? ` (edge restart took ${fmt2(restart / 1000)} s of it)` : ''}`,
    );
  }
  return { outage, outs: rows.map((r) => r.out), backs: rows.map((r) => r.back) };
}
