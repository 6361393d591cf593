// A seeded PRNG for generated bench inputs (the DNS bench's mixed query file).

/**
 * mulberry32: a tiny seeded PRNG, so generated inputs are the same on every run. The same
 * generator as test/helpers/prng.ts, which plain-JS benches cannot import (TypeScript, not in dist/).
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
