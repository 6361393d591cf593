// RRsetsByType reads as the Map it replaces: by type, in the order written, for 0, 1 and n RRsets.
import { describe, expect, it } from 'vitest';
import { Type } from '../wire/constants.js';
import type { RRset } from '../wire/rdata.js';
import { parseName } from './name-text.js';
import { RRsetsByType } from './rrsets.js';

const owner = parseName('a.example.', null);
const rrset = (type: number): RRset => ({ owner, type, ttl: 60, rdata: [] });

describe('RRsetsByType', () => {
  it.each([[[]], [[Type.TXT]], [[Type.TXT, Type.A, Type.MX]]])('reads like a Map of %j', (types) => {
    const list = types.map(rrset);
    const map = new Map(list.map((r) => [r.type, r]));
    const ours = types.length === 0 ? RRsetsByType.EMPTY : new RRsetsByType(list);
    expect(ours.size).toBe(map.size);
    expect([...ours]).toEqual([...map]);
    expect([...ours.keys()]).toEqual([...map.keys()]);
    expect([...ours.values()]).toEqual([...map.values()]);
    for (const type of [Type.A, Type.AAAA, Type.TXT, Type.MX]) {
      expect(ours.get(type)).toBe(map.get(type));
      expect(ours.has(type)).toBe(map.has(type));
    }
    const seen: number[] = [];
    ours.forEach((_, type) => seen.push(type));
    expect(seen).toEqual(types);
  });
});
