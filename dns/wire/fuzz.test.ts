// Property tests of the hostile-input contract: the decoder and the whole query handler never
// throw, never stall, and always answer with something a standard client can parse. The inputs
// (valid queries and their mutations) are test/helpers/dns-fuzz-inputs.ts, shared with the
// campaign against the real server (test/security/dns-fuzz-campaign.test.ts).
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import dnsPacket from 'dns-packet';
import { decodeQuery } from './decode.js';
import { Rcode } from './constants.js';
import type { Decoded } from './query.js';
import { QueryHandler, TCP, UDP, type TransportId } from '../server/handle-query.js';
import { buildServingState } from '../server/state.js';
import { loadDnsConfig } from '../config.js';
import { mutatedQuery, plausibleGarbage, randomBytes, validQuery } from '../../test/helpers/dns-fuzz-inputs.js';

const SEED = 0x6d657269; // 'meri'
const DEMO_CONFIG = fileURLToPath(new URL('../testdata/static-zone.yaml', import.meta.url));
/** The resolver address handed to the handler (a documentation address). */
const CLIENT_IP = '192.0.2.1';
const MAX_UDP_PAYLOAD = 1232; // dns/testdata/static-zone.yaml
const STALL_MS = 50;

const decodedBytes = (): number => (dnsPacket.decode as unknown as { bytes: number }).bytes;

// ---- checks ----------------------------------------------------------------------------------

/** Runs decodeQuery and checks the outcome is one of the three, consistent with the input. */
function checkDecode(msg: Buffer): Decoded {
  const copy = Buffer.from(msg);
  let d: Decoded;
  expect(() => {
    d = decodeQuery(msg);
  }).not.toThrow();
  d = d!;
  expect(msg.equals(copy), 'decodeQuery must not modify its input').toBe(true);
  const isResponse = msg.length >= 12 && (msg[2]! & 0x80) !== 0;
  switch (d.kind) {
    case 'drop':
      expect(msg.length < 12 || isResponse).toBe(true);
      break;
    case 'error':
      expect(msg.length >= 12 && !isResponse).toBe(true);
      expect([Rcode.FORMERR, Rcode.NOTIMP]).toContain(d.rcode);
      expect(d.id).toBe(msg.readUInt16BE(0));
      expect(d.opcode).toBe((msg[2]! >> 3) & 0xf);
      expect(d.rcode === Rcode.NOTIMP).toBe(d.opcode !== 0);
      expect(d.questionEnd === 0 || (d.questionEnd >= 12 + 1 + 4 && d.questionEnd <= msg.length)).toBe(true);
      break;
    case 'query': {
      const q = d.query;
      expect(q.id).toBe(msg.readUInt16BE(0));
      expect(q.opcode).toBe(0);
      expect(msg.readUInt16BE(4)).toBe(1);
      expect(q.questionEnd).toBeGreaterThanOrEqual(17);
      expect(q.questionEnd).toBeLessThanOrEqual(msg.length);
      expect(q.qnameKey.length).toBe(q.questionEnd - 12 - 5);
      expect(q.qnameKey.length).toBeLessThanOrEqual(254);
      expect(q.qnameKey).toBe(q.qnameKey.replace(/[A-Z]/g, (c) => c.toLowerCase()));
      if (q.edns) {
        expect(q.edns.udpSize).toBeGreaterThanOrEqual(512);
        const ecs = q.edns.clientSubnet;
        if (ecs) {
          expect(ecs.address.length).toBe(Math.ceil(ecs.sourcePrefix / 8));
          expect(ecs.scopePrefix).toBe(0);
        }
      }
      break;
    }
    default:
      throw new Error(`unknown outcome ${JSON.stringify(d)}`);
  }
  return d;
}

describe('decodeQuery never throws', () => {
  it('on arbitrary bytes (0–600)', () => {
    const kinds = { query: 0, drop: 0, error: 0 };
    fc.assert(
      fc.property(randomBytes, (msg) => {
        kinds[checkDecode(msg).kind]++;
      }),
      { seed: SEED, numRuns: 3000 },
    );
    expect(kinds.drop).toBeGreaterThan(100);
    expect(kinds.error).toBeGreaterThan(100);
  });

  it('on a plausible header followed by arbitrary bytes', () => {
    fc.assert(
      fc.property(plausibleGarbage, (msg) => void checkDecode(msg)),
      { seed: SEED + 1, numRuns: 2000 },
    );
  });

  it('on unmutated valid queries, which all decode as queries', () => {
    fc.assert(
      fc.property(validQuery, (msg) => {
        expect(checkDecode(msg).kind).toBe('query');
      }),
      { seed: SEED + 2, numRuns: 500 },
    );
  });

  it('on mutated valid queries (bit flips, truncation, insertions, deletions, random counts)', () => {
    const kinds = { query: 0, drop: 0, error: 0 };
    fc.assert(
      fc.property(mutatedQuery, (msg) => {
        kinds[checkDecode(msg).kind]++;
      }),
      { seed: SEED + 3, numRuns: 3000 },
    );
    // The mutations must not be so destructive that the interesting paths are never reached.
    expect(kinds.query).toBeGreaterThan(200);
    expect(kinds.error).toBeGreaterThan(200);
  });
});

describe('QueryHandler.handle on hostile input', () => {
  let handler: QueryHandler;
  let maxMs = 0;

  beforeAll(async () => {
    handler = new QueryHandler(buildServingState(await loadDnsConfig(DEMO_CONFIG)));
    // Warm up so the first measured calls are not JIT compilation.
    const warm = fc.sample(validQuery, { seed: SEED, numRuns: 200 });
    for (const q of warm) handler.handle(q, UDP, CLIENT_IP);
  });

  function checkHandle(msg: Buffer, transport: TransportId): void {
    const copy = Buffer.from(msg);
    let res: Buffer | null = null;
    const t0 = performance.now();
    try {
      res = handler.handle(msg, transport, CLIENT_IP);
    } catch (e) {
      throw new Error(`handle threw on ${msg.toString('hex')}: ${(e as Error).stack}`);
    }
    const ms = performance.now() - t0;
    if (ms > maxMs) maxMs = ms;
    expect(msg.equals(copy), 'handle must not modify its input').toBe(true);

    const unanswerable = msg.length < 12 || (msg[2]! & 0x80) !== 0;
    if (res === null) {
      expect(unanswerable, `null for an answerable message ${msg.toString('hex')}`).toBe(true);
      return;
    }
    expect(unanswerable).toBe(false);
    let decoded: ReturnType<typeof dnsPacket.decode>;
    try {
      decoded = dnsPacket.decode(res);
    } catch (e) {
      throw new Error(
        `dns-packet cannot decode the response ${res.toString('hex')} to ${msg.toString('hex')}: ${(e as Error).message}`,
      );
    }
    expect(decodedBytes(), 'response has trailing bytes').toBe(res.length);
    expect(decoded.flag_qr).toBe(true);
    expect(decoded.id).toBe(msg.readUInt16BE(0));
    // RD is echoed for QUERY only (RFC 1035 §4.1.1).
    expect(decoded.flag_rd).toBe((msg[2]! & 0x01) !== 0 && (msg[2]! & 0x78) === 0);
    expect(decoded.flag_ra).toBe(false);
    expect((res[2]! >> 3) & 0xf, 'opcode echoed').toBe((msg[2]! >> 3) & 0xf);
    // A question, when echoed, is the query's bytes verbatim (case included).
    const qd = res.readUInt16BE(4);
    expect(qd === 0 || qd === 1).toBe(true);
    if (qd === 1) {
      const d = decodeQuery(msg);
      const questionEnd = d.kind === 'query' ? d.query.questionEnd : d.kind === 'error' ? d.questionEnd : 0;
      expect(questionEnd).toBeGreaterThan(0);
      expect(res.subarray(12, questionEnd).equals(msg.subarray(12, questionEnd))).toBe(true);
    }
    if (transport === UDP) {
      expect(res.length).toBeLessThanOrEqual(MAX_UDP_PAYLOAD);
      const d = decodeQuery(msg);
      if (d.kind === 'query' && d.query.edns === null) expect(res.length).toBeLessThanOrEqual(512);
      if (d.kind === 'query' && d.query.edns)
        expect(res.length).toBeLessThanOrEqual(Math.min(d.query.edns.udpSize, MAX_UDP_PAYLOAD));
    }
  }

  const transport = fc.constantFrom<TransportId>(UDP, TCP);

  it('answers valid queries with parseable responses', () => {
    fc.assert(
      fc.property(validQuery, transport, (msg, t) => checkHandle(msg, t)),
      { seed: SEED + 4, numRuns: 1500 },
    );
  });

  it('never throws on mutated queries and answers with parseable responses or nothing', () => {
    fc.assert(
      fc.property(mutatedQuery, transport, (msg, t) => checkHandle(msg, t)),
      { seed: SEED + 5, numRuns: 3000 },
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes, plausibleGarbage), transport, (msg, t) => checkHandle(msg, t)),
      {
        seed: SEED + 6,
        numRuns: 2000,
      },
    );
  });

  it(`never stalls: every call returned within ${STALL_MS} ms`, () => {
    // Runs after the properties above (vitest runs a file's tests in order).
    expect(maxMs).toBeGreaterThan(0);
    expect(maxMs).toBeLessThan(STALL_MS);
  });
});
