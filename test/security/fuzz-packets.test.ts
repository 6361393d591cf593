// The campaign's packet maker: the same seed makes the same packets (a failing run repeats),
// every kind is made, and its compression-pointer queries are valid before mutation.
import { describe, expect, it } from 'vitest';
import { decodeQuery } from '../../dns/wire/decode.js';
import { answerable, fuzzPackets, withPointerRecord } from './fuzz-packets.js';
import { encodeQuery } from '../helpers/dns-client.js';

describe('fuzzPackets', () => {
  it('makes the same packets from the same seed, and others from another', () => {
    const a = fuzzPackets(7);
    const b = fuzzPackets(7);
    const c = fuzzPackets(8);
    const first = Array.from({ length: 500 }, () => a.next());
    expect(Array.from({ length: 500 }, () => b.next())).toEqual(first);
    expect(Array.from({ length: 500 }, () => c.next())).not.toEqual(first);
  });

  it('makes every kind, and mostly packets the server owes an answer', () => {
    const f = fuzzPackets(1);
    const packets = Array.from({ length: 5000 }, () => f.next());
    for (const n of Object.values(f.made)) expect(n).toBeGreaterThan(250);
    expect(packets.filter(answerable).length).toBeGreaterThan(4000);
  });

  it('adds an additional record whose owner is a pointer to the question, still a valid query', () => {
    const q = encodeQuery(1, 'www.fuzz.test', 'A', { edns: true });
    const p = withPointerRecord(q);
    expect(p.readUInt16BE(10)).toBe(2);
    expect(p.subarray(q.indexOf(0, 12) + 5, q.indexOf(0, 12) + 7)).toEqual(Buffer.from([0xc0, 0x0c]));
    const d = decodeQuery(p);
    expect(d.kind).toBe('query');
    if (d.kind === 'query') expect(d.query.edns).not.toBeNull();
  });
});
