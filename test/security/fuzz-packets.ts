// The packets of the server fuzz campaign (dns-fuzz-campaign.test.ts): valid queries as real
// clients send them (test/helpers/dns-fuzz-inputs.ts: EDNS, Client Subnet, cookies, NSID), some
// with compression pointers, then mutated — bit flips, truncations, insertions, splices of two
// packets, count fields set wild, pointers into the void and pointer loops. Every choice comes
// from one seed, so a failing run is repeated exactly by giving its seed again.
import fc from 'fast-check';
import { prng } from '../helpers/prng.js';
import { mutate, validQuery, type Mutation } from '../helpers/dns-fuzz-inputs.js';

/** Distinct valid queries the mutations start from (more adds generation time, not coverage). */
const CORPUS_SIZE = 1500;

/** Bytes that mean something to a DNS parser: label-length edges, pointer prefix, OPT, ECS. */
const MEANINGFUL = [0x00, 0x01, 0x3f, 0x40, 0x80, 0xbf, 0xc0, 0xff, 0x29, 0x08, 0x03];

export interface FuzzPackets {
  /** The next hostile packet. */
  next(): Buffer;
  /** How many of each kind `next` has made so far. */
  readonly made: Record<Kind, number>;
}

type Kind = 'mutated' | 'splice' | 'pointer' | 'counts' | 'truncated';

/** Whether the server owes `msg` an answer: a readable header that is not a response. */
export const answerable = (msg: Buffer): boolean => msg.length >= 12 && (msg[2]! & 0x80) === 0;

export function fuzzPackets(seed: number): FuzzPackets {
  const rand = prng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const corpus = fc.sample(validQuery, { seed, numRuns: CORPUS_SIZE });
  corpus.push(...corpus.slice(0, CORPUS_SIZE / 5).map(withPointerRecord));
  const made: Record<Kind, number> = { mutated: 0, splice: 0, pointer: 0, counts: 0, truncated: 0 };

  /** One mutation of the codec fuzz's kinds, drawn from this seed. */
  const mutation = (): Mutation => {
    const pos = int(1 << 16);
    switch (int(6)) {
      case 0:
        return { kind: 'flip', pos, bit: int(8) };
      case 1:
        return { kind: 'truncate', pos };
      case 2:
        return { kind: 'insert', pos, bytes: Uint8Array.from({ length: 1 + int(12) }, () => int(256)) };
      case 3:
        return { kind: 'delete', pos, count: 1 + int(8) };
      case 4:
        return { kind: 'set', pos, byte: pick(MEANINGFUL) };
      default:
        return { kind: 'count', field: int(4), value: rand() < 0.5 ? int(4) : int(0x10000) };
    }
  };
  const mutations = (max: number): Mutation[] => Array.from({ length: 1 + int(max) }, mutation);

  /** Two packets joined at random cut points: a header from one, a body from the other. */
  const splice = (a: Buffer, b: Buffer): Buffer =>
    Buffer.concat([a.subarray(0, int(a.length + 1)), b.subarray(int(b.length + 1))]);

  /** A compression pointer written over the message: to itself, a loop of two, or anywhere. */
  const pointer = (msg: Buffer): Buffer => {
    const out = Buffer.from(msg);
    if (out.length < 14) return out;
    const at = 12 + int(out.length - 13);
    const style = int(3);
    if (style === 0) out.writeUInt16BE(0xc000 | at, at);
    else if (style === 1 && at + 4 <= out.length) {
      out.writeUInt16BE(0xc000 | (at + 2), at);
      out.writeUInt16BE(0xc000 | at, at + 2);
    } else out.writeUInt16BE(0xc000 | int(0x4000), at);
    return out;
  };

  const wildCounts = (msg: Buffer): Buffer => {
    const out = Buffer.from(msg);
    if (out.length >= 12) for (let f = 0; f < 4; f++) if (rand() < 0.6) out.writeUInt16BE(int(0x10000), 4 + 2 * f);
    return out;
  };

  const next = (): Buffer => {
    const base = pick(corpus);
    const r = rand();
    let kind: Kind;
    let msg: Buffer;
    if (r < 0.45) [kind, msg] = ['mutated', mutate(base, mutations(4))];
    else if (r < 0.6) [kind, msg] = ['splice', splice(base, pick(corpus))];
    else if (r < 0.75) [kind, msg] = ['pointer', pointer(base)];
    else if (r < 0.9) [kind, msg] = ['counts', wildCounts(base)];
    else [kind, msg] = ['truncated', base.subarray(0, int(base.length))];
    // A little more damage on top now and then, so the kinds also meet.
    if (rand() < 0.2) msg = mutate(msg, mutations(2));
    made[kind]++;
    return msg;
  };
  return { next, made };
}

/**
 * The query with an A record in the additional section whose owner is a compression pointer to
 * the question's name (offset 12), as a compressing client would write it: the parser must
 * follow pointers in records it skips, and the mutations then have pointers to break.
 */
export function withPointerRecord(query: Buffer): Buffer {
  let end = 12;
  while (end < query.length && query[end] !== 0) end += query[end]! + 1;
  const questionEnd = end + 5;
  if (questionEnd > query.length) return query;
  const record = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
  // The record goes first in the additional section, so an OPT after it keeps its place last.
  const out = Buffer.concat([query.subarray(0, questionEnd), record, query.subarray(questionEnd)]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}
