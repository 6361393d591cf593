// The realistic mix (issue 18's workload): 2000 objects from nginx (mix-origin.mjs), Zipf-like
// popularity (mix.lua), each cache starting empty, in a fresh process: wrk 10 s cold (every
// object's first request is a miss) then 10 s warm, Meridian's edge and Varnish alternating, two
// rounds each. And many connections on one hot object: wrk -c1000, two runs each.
import { fileURLToPath } from 'node:url';
import { log, median, stopChild } from '../lib.mjs';
import { measure } from './measure.mjs';
import { MIX_OBJECTS, MIX_PATH_PREFIX } from './mix-origin.mjs';

export const MIX_SECONDS = 10;
export const MIX_ROUNDS = 2;
/** After the mix, on the same server: every request a URL not asked before (misses.lua). */
export const MISS_SECONDS = 5;
export const MANY_CONNECTIONS = 1000;
export const MANY_SECONDS = 8;
export const MANY_RUNS = 2;
const MIX_SCRIPT = fileURLToPath(new URL('./mix.lua', import.meta.url));
export const MIX_WRK = { script: MIX_SCRIPT, scriptArgs: [String(MIX_OBJECTS), MIX_PATH_PREFIX] };
const MISS_WRK = { ...MIX_WRK, script: fileURLToPath(new URL('./misses.lua', import.meta.url)) };

/**
 * `servers`: [{ name, start() }], start() resolving with { server, port } on an empty cache.
 * `origin`: { total } (requests the origin has served). Resolves with, per server name, its
 * rounds: [{ cold, warm, misses }] (measure() results; originRequests = the origin fetches of the
 * phase). `misses`: MISS_SECONDS of requests that are all misses, after the warm phase.
 */
export async function measureMix(servers, origin, clkTck) {
  const rounds = new Map(servers.map((s) => [s.name, []]));
  for (let i = 0; i < MIX_ROUNDS; i++) {
    for (const { name, start } of servers) {
      const s = { name, ...(await start()) };
      log(
        `bench: mix round ${i + 1}, ${name}: ${MIX_SECONDS} s cold, then ${MIX_SECONDS} s warm, then ${MISS_SECONDS} s of misses only`,
      );
      const cold = await measure(s, origin, clkTck, MIX_SECONDS, MIX_WRK, `${name} cold`);
      const warm = await measure(s, origin, clkTck, MIX_SECONDS, MIX_WRK, `${name} warm`);
      const misses = await measure(s, origin, clkTck, MISS_SECONDS, MISS_WRK, `${name} misses`);
      rounds.get(name).push({ cold, warm, misses });
      await stopChild(s.server.child);
    }
  }
  return rounds;
}

/** `subjects`: already warm on the hot object; MANY_RUNS runs each at -c MANY_CONNECTIONS, alternating. */
export async function measureMany(subjects, origin, clkTck) {
  const runs = new Map(subjects.map((s) => [s.name, []]));
  log(
    `bench: many connections: wrk -c${MANY_CONNECTIONS} -d${MANY_SECONDS}s on the hot object, ${MANY_RUNS} runs each`,
  );
  for (let i = 0; i < MANY_RUNS; i++) {
    for (const s of subjects)
      runs.get(s.name).push(await measure(s, origin, clkTck, MANY_SECONDS, { connections: MANY_CONNECTIONS }));
  }
  return runs;
}

/** Medians of a list of measure() results. */
export function mixSummary(results) {
  const pick = (f) => median(results.map(f));
  return {
    rps: pick((r) => r.rps),
    p50Ms: pick((r) => r.p50Ms),
    p99Ms: pick((r) => r.p99Ms),
    originRequests: pick((r) => r.originRequests),
    timeouts: results.reduce((a, r) => a + r.socketErrors.timeout, 0),
    errors: results.reduce(
      (a, r) => a + r.non2xx + r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write,
      0,
    ),
    cpuMsPer1000: pick((r) => r.cpuMsPer1000),
  };
}
