// Compiling in slices gives the event loop turns (a reloading server keeps answering), and
// gives the same zones as compiling in one go.
import { describe, expect, it } from 'vitest';
import { Type } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import { parseName } from './name-text.js';
import { compileZones, compileZonesInSlices, type SourceRecord, type ZoneSource } from './compile.js';
import { runInSlices, runNow, type Work } from './slices.js';

const name = (text: string): Name => parseName(`${text}.`, null);

/** A zone of `n` names with an A record each, built directly (no master file). */
function bigZone(n: number): ZoneSource {
  const origin = name('big.test');
  const soa = Buffer.alloc(20);
  soa.writeUInt32BE(60, 16);
  const records: SourceRecord[] = [
    {
      owner: origin,
      type: Type.SOA,
      ttl: 3600,
      rdata: [{ name: name('ns1.big.test'), compress: true }, { name: name('admin.big.test'), compress: true }, soa],
      where: 'soa',
    },
    { owner: origin, type: Type.NS, ttl: 3600, rdata: [{ name: name('ns1.big.test'), compress: true }], where: 'ns' },
  ];
  for (let i = 0; i < n; i++)
    records.push({
      owner: name(`h${i}.big.test`),
      type: Type.A,
      ttl: 300,
      rdata: [Buffer.of(10, 0, i >> 8, i & 255)],
      where: `r${i}`,
    });
  return { origin, where: 'zones[0]', records };
}

/** Counts the event loop's turns until stop() (a query being answered would take one). */
function countTurns(): { stop(): number } {
  let turns = 0;
  let done = false;
  const spin = (): void => {
    turns++;
    if (!done) setImmediate(spin);
  };
  setImmediate(spin);
  return {
    stop: () => {
      done = true;
      return turns;
    },
  };
}

describe('runInSlices', () => {
  it('runs the same work as runNow, giving the event loop a turn between slices', async () => {
    function* work(): Work<number> {
      let sum = 0;
      for (let i = 0; i < 10; i++) {
        sum += i;
        yield;
      }
      return sum;
    }
    const turns = countTurns();
    const result = await runInSlices(work(), 0);
    expect(turns.stop()).toBeGreaterThanOrEqual(9);
    expect(result).toBe(runNow(work()));
  });

  it('passes a throw through (a bad zone is refused the same way in slices)', async () => {
    function* failing(): Work<void> {
      yield;
      throw new Error('zones[0]: bad');
    }
    await expect(runInSlices(failing(), 0)).rejects.toThrow('zones[0]: bad');
  });
});

describe('compileZonesInSlices', () => {
  it('lets other work run while a 20,000-name zone compiles, and compiles the same zone', async () => {
    const source = bigZone(20_000);
    const turns = countTurns();
    const sliced = await compileZonesInSlices([source], 0);
    // A turn at least every 2,048 records, names or nodes: never one block.
    expect(turns.stop()).toBeGreaterThan(20);
    const whole = compileZones([source]);
    const key = name('h19999.big.test').key;
    const [a, b] = [sliced, whole].map((z) => z.get(name('big.test').key)!.nodes);
    expect(a!.size).toBe(b!.size);
    expect(a!.get(key)!.rrsets.get(Type.A)!.rdata).toEqual(b!.get(key)!.rrsets.get(Type.A)!.rdata);
  });
});
