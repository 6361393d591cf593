import dnsPacket from 'dns-packet';
import { beforeAll, describe, expect, it } from 'vitest';
import { testState } from '../answer/testdata/serving-state.js';
import { respond } from '../answer/respond.js';
import type { Response } from '../answer/types.js';
import { decodeQuery } from '../wire/decode.js';
import { keyToText } from '../wire/name.js';
import type { Query } from '../wire/query.js';
import type { BuiltState } from '../server/state.js';
import { classify, Kind, KIND_NAMES, type Classified } from './classify.js';
import { rrlSchema, rrlSettings, type RrlSettings } from './config.js';
import { DROP, PASS, ResponseLimiter, SLIP, type RrlCounters } from './limiter.js';

let state: BuiltState;
beforeAll(async () => {
  state = await testState();
});

function ask(name: string, type = 'A'): { q: Query; response: Response } {
  const msg = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name, type: type as 'A', class: 'IN' }] });
  const decoded = decodeQuery(msg);
  if (decoded.kind !== 'query') throw new Error(`not a query: ${decoded.kind}`);
  return { q: decoded.query, response: respond(state, decoded.query, '192.0.2.9') };
}

function classified(name: string, type = 'A'): { kind: string; name: string; qtype: number } {
  const { q, response } = ask(name, type);
  const out: Classified = { kind: Kind.ERROR, name: '', qtype: 0 };
  classify(response, q, out);
  return { kind: KIND_NAMES[out.kind], name: out.name && keyToText(out.name), qtype: out.qtype };
}

describe('classify: the bucket a response counts in (BIND)', () => {
  it('a positive answer per name and type; a wildcard answer as the wildcard, whatever name was asked', () => {
    expect(classified('mail.example.test')).toEqual({ kind: 'answer', name: 'mail.example.test.', qtype: 1 });
    expect(classified('mail.example.test', 'AAAA').qtype).toBe(28);
    // Asked twice: once encoded in full, once from the template it left.
    expect(classified('txt.example.test', 'TXT')).toEqual(classified('txt.example.test', 'TXT'));
    expect(classified('one.wild.example.test')).toEqual({ kind: 'answer', name: '*.wild.example.test.', qtype: 1 });
    expect(classified('two.wild.example.test')).toEqual(classified('one.wild.example.test'));
  });

  it('NXDOMAIN and NODATA per zone, so random names do not each get a bucket', () => {
    expect(classified('nope1.example.test')).toEqual({ kind: 'nxdomain', name: 'example.test.', qtype: 0 });
    expect(classified('nope2.example.test')).toEqual(classified('nope1.example.test'));
    expect(classified('txt.example.test', 'AAAA')).toEqual({ kind: 'nodata', name: 'example.test.', qtype: 0 });
    // A template the second time: the same bucket.
    expect(classified('txt.example.test', 'AAAA')).toEqual(classified('mail.example.test', 'TXT'));
  });

  it('a referral per delegation, and every error the same whatever was asked', () => {
    expect(classified('host.sub.example.test')).toEqual({ kind: 'referral', name: 'sub.example.test.', qtype: 0 });
    expect(classified('other.sub.example.test', 'MX')).toEqual(classified('host.sub.example.test'));
    expect(classified('ns.sub.example.test')).toEqual(classified('host.sub.example.test'));
    expect(classified('example.org')).toEqual({ kind: 'error', name: '', qtype: 0 });
    expect(classified('example.test', 'AXFR')).toEqual(classified('example.org'));
  });
});

function settings(over: Record<string, unknown> = {}): RrlSettings {
  return rrlSettings(rrlSchema.parse({ responsesPerSecond: 5, slip: 2, ...over }));
}

class Count implements RrlCounters {
  limited = [0, 0, 0, 0, 0];
  slipped = 0;
  dropped = 0;
  exempt = { network: 0, cookie: 0 };
  rrlLimited(kind: Kind) {
    this.limited[kind]!++;
  }
  rrlSlipped() {
    this.slipped++;
  }
  rrlDropped() {
    this.dropped++;
  }
  rrlExempt(reason: 'network' | 'cookie') {
    this.exempt[reason]++;
  }
}

function limiter(over: Record<string, unknown> = {}, share = 1) {
  const counters = new Count();
  const clock = { now: 1000 };
  const l = new ResponseLimiter(settings(over), { counters, share, now: () => clock.now, seeds: [1, 2] });
  return { l, counters, clock };
}

/** How many of `n` identical responses to `from` are passed. */
function passes(l: ResponseLimiter, from: string, n: number, name = 'mail.example.test', type = 'A'): number {
  const { q, response } = ask(name, type);
  let passed = 0;
  for (let i = 0; i < n; i++) if (l.check(from, response, q) === PASS) passed++;
  return passed;
}

describe('ResponseLimiter', () => {
  it('limits per client network: /24 and /56 by default, other prefix lengths when set', () => {
    const { l } = limiter();
    expect(passes(l, '198.51.100.1', 10)).toBe(5);
    expect(passes(l, '198.51.100.200', 1)).toBe(0); // the same /24
    expect(passes(l, '198.51.101.1', 10)).toBe(5);
    expect(passes(l, '2001:db8:0:ff::1', 10)).toBe(5);
    expect(passes(l, '2001:db8:0:1::99', 1)).toBe(0); // the same /56
    expect(passes(l, '::ffff:198.51.100.7', 1)).toBe(0); // IPv4-mapped: the IPv4 network
    const per32 = limiter({ ipv4PrefixLength: 32 }).l;
    expect(passes(per32, '198.51.100.1', 10)).toBe(5);
    expect(passes(per32, '198.51.100.2', 10)).toBe(5);
  });

  it('keeps kinds and names apart, with a rate for each kind', () => {
    const { l } = limiter({ nxdomainsPerSecond: 2, errorsPerSecond: 3 });
    expect(passes(l, '198.51.100.1', 10, 'mail.example.test', 'A')).toBe(5);
    expect(passes(l, '198.51.100.1', 10, 'mail.example.test', 'AAAA')).toBe(5);
    expect(passes(l, '198.51.100.1', 10, 'nope1.example.test')).toBe(2);
    expect(passes(l, '198.51.100.1', 10, 'nope2.example.test')).toBe(0); // the zone's bucket is spent
    expect(passes(l, '198.51.100.1', 10, 'example.org')).toBe(3);
    expect(passes(l, '198.51.100.1', 10, 'example.net', 'MX')).toBe(0);
  });

  it('counts slipped and dropped responses by the slip rate', () => {
    const { l, counters } = limiter({ slip: 2 });
    const { q, response } = ask('mail.example.test');
    const actions = Array.from({ length: 9 }, () => l.check('198.51.100.1', response, q));
    expect(actions).toEqual([PASS, PASS, PASS, PASS, PASS, SLIP, DROP, SLIP, DROP]);
    expect(counters).toMatchObject({ slipped: 2, dropped: 2, limited: [4, 0, 0, 0, 0] });
  });

  it('never limits an exempt network, and counts it', () => {
    const { l, counters } = limiter({ exempt: ['198.51.100.0/25', '2001:db8::7'] });
    expect(passes(l, '198.51.100.1', 50)).toBe(50);
    expect(passes(l, '198.51.100.129', 50)).toBe(5); // outside the /25
    expect(passes(l, '2001:db8::7', 50)).toBe(50);
    expect(counters.exempt.network).toBe(100);
  });

  it('a rate of 0 does not limit that kind', () => {
    const { l } = limiter({ responsesPerSecond: 0, errorsPerSecond: 1 });
    expect(passes(l, '198.51.100.1', 100)).toBe(100);
    expect(passes(l, '198.51.100.1', 5, 'example.org')).toBe(1);
  });

  it('logOnly counts what it would limit and answers everything', () => {
    const { l, counters } = limiter({ logOnly: true });
    expect(passes(l, '198.51.100.1', 10)).toBe(10);
    expect(counters).toMatchObject({ slipped: 0, dropped: 0, limited: [5, 0, 0, 0, 0] });
  });

  it('shares the rate among serving workers, at least one a second each', () => {
    expect(passes(limiter({ responsesPerSecond: 10 }, 2).l, '198.51.100.1', 20)).toBe(5);
    expect(passes(limiter({ responsesPerSecond: 1 }, 4).l, '198.51.100.1', 20)).toBe(1);
  });

  it('holds no more buckets than tableSize when every query comes from another network', () => {
    const { l, clock } = limiter({ tableSize: 1024 });
    const { q, response } = ask('nope.example.test');
    for (let i = 0; i < 100_000; i++) {
      clock.now += 0.01;
      const from =
        i % 2 ? `${10 + ((i >> 16) & 3)}.${(i >> 8) & 255}.${i & 255}.1` : `2001:db8:${(i & 0xffff).toString(16)}::1`;
      l.check(from, response, q);
    }
    expect(l.bucketsUsed()).toBeLessThanOrEqual(1024);
    expect(l.bucketsUsed()).toBeGreaterThan(900);
  });

  it('recovers as time passes, and reports the networks it limits now', () => {
    const { l, clock } = limiter();
    passes(l, '198.51.100.1', 10);
    passes(l, '203.0.113.1', 10);
    passes(l, '192.0.2.1', 3);
    expect(l.limitedNetworks()).toBe(2);
    clock.now += 16_000;
    expect(l.limitedNetworks()).toBe(0);
    expect(passes(l, '198.51.100.1', 10)).toBe(5);
  });
});

describe('dns.rrl settings', () => {
  it('defaults every other rate to responsesPerSecond, as BIND', () => {
    const s = rrlSettings(rrlSchema.parse({ responsesPerSecond: 7, errorsPerSecond: 2 }));
    expect(s).toMatchObject({ nxdomainsPerSecond: 7, nodataPerSecond: 7, referralsPerSecond: 7, errorsPerSecond: 2 });
    expect(rrlSettings(rrlSchema.parse(undefined))).toMatchObject({
      enabled: true,
      responsesPerSecond: 100,
      window: 15,
      slip: 2,
      exempt: [],
    });
  });

  it('refuses what is not a network, with the reason', () => {
    const r = rrlSchema.safeParse({ exempt: ['10.0.0.1/8'] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(/host bits set.*10\.0\.0\.0\/8/);
    expect(rrlSchema.safeParse({ exempt: ['not-an-ip'] }).success).toBe(false);
    expect(rrlSchema.safeParse({ slip: 11 }).success).toBe(false);
    expect(rrlSchema.safeParse({ window: 0 }).success).toBe(false);
    expect(rrlSchema.safeParse({ ratePerSecond: 5 }).success).toBe(false);
  });
});
