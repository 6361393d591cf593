import { describe, expect, it } from 'vitest';
import type { Pool, Pop } from '../../common/topology.js';
import { steer } from './chain.js';
import { greatCircleKm } from './distance.js';
import type { ClientLocation, SteeringContext } from './types.js';

const pop = (id: string, lat: number, lon: number, extra: Partial<Pop> = {}): Pop => ({
  id,
  location: { lat, lon },
  ipv4: ['192.0.2.1'],
  ipv6: [],
  weight: 100,
  enabled: true,
  ...extra,
});
const POPS = [
  pop('fra', 50.11, 8.68),
  pop('iad', 39.04, -77.49),
  pop('sin', 1.35, 103.82),
  pop('gru', -23.55, -46.63),
  pop('syd', -33.87, 151.21),
];
const popMap = new Map(POPS.map((p) => [p.id, p]));
const pool = (extra: Partial<Pool> = {}): Pool => ({
  id: 'global',
  policy: 'nearest',
  members: POPS.map((p) => ({ kind: 'pop' as const, pop: p.id, weight: undefined })),
  ...extra,
});
const at = (lat: number, lon: number): ClientLocation => ({
  location: { lat, lon },
  country: null,
  continent: null,
  source: 'database',
  network: '192.0.2.0/24',
  prefixLength: 24,
  pool: null,
});
const nowhere: ClientLocation = {
  location: null,
  country: null,
  continent: null,
  source: 'none',
  network: '0.0.0.0/0',
  prefixLength: 0,
  pool: null,
};
const ctx = (client: ClientLocation, p: Pool = pool(), extra: Partial<SteeringContext> = {}): SteeringContext => ({
  pool: p,
  client,
  clientKey: client.network,
  answers: 1,
  healthOf: () => undefined,
  measuredRttMs: () => undefined,
  ...extra,
});
const chosen = (c: SteeringContext) => steer(c, popMap).chosen.map((x) => x.id);

describe('great-circle distance', () => {
  it('matches known city distances within 1%', () => {
    // Frankfurt–New York is about 6200 km; Sydney–Singapore about 6300 km.
    expect(greatCircleKm({ lat: 50.11, lon: 8.68 }, { lat: 40.71, lon: -74.01 })).toBeGreaterThan(6140);
    expect(greatCircleKm({ lat: 50.11, lon: 8.68 }, { lat: 40.71, lon: -74.01 })).toBeLessThan(6260);
    expect(greatCircleKm({ lat: -33.87, lon: 151.21 }, { lat: 1.35, lon: 103.82 })).toBeCloseTo(6300, -2);
  });
});

describe('steering chain', () => {
  it('answers each client with the PoP a person would expect', () => {
    expect(chosen(ctx(at(48.86, 2.35)))).toEqual(['fra']); // Paris
    expect(chosen(ctx(at(40.71, -74.01)))).toEqual(['iad']); // New York
    expect(chosen(ctx(at(35.68, 139.69)))).toEqual(['sin']); // Tokyo
    expect(chosen(ctx(at(-34.6, -58.38)))).toEqual(['gru']); // Buenos Aires
    expect(chosen(ctx(at(-36.85, 174.76)))).toEqual(['syd']); // Auckland
  });

  it('ranks all members with distances and estimated RTTs for explain', () => {
    const s = steer(ctx(at(48.86, 2.35)), popMap);
    expect(s.ranked.map((c) => c.id)).toEqual(['fra', 'iad', 'gru', 'sin', 'syd']);
    const fra = s.ranked[0]!;
    expect(fra.distanceKm).toBeGreaterThan(400);
    expect(fra.distanceKm).toBeLessThan(500);
    expect(fra.estimatedRttMs).toBeGreaterThan(5);
  });

  it('answers several PoPs in order when asked', () => {
    expect(chosen(ctx(at(48.86, 2.35), pool(), { answers: 2 }))).toEqual(['fra', 'iad']);
  });

  it('skips disabled and down PoPs, noting why', () => {
    const pops = new Map(popMap);
    pops.set('fra', { ...popMap.get('fra')!, enabled: false });
    const s = steer(
      ctx(at(48.86, 2.35), pool(), {
        healthOf: (id) => (id === 'iad' ? { eligible: false, reason: 'down: 2 of 3' } : undefined),
      }),
      pops,
    );
    expect(s.chosen.map((c) => c.id)).toEqual(['gru']);
    expect(s.ranked.find((c) => c.id === 'fra')!.notes).toContain('disabled in config');
    expect(s.ranked.find((c) => c.id === 'iad')!.notes).toContain('down: 2 of 3');
  });

  it('fails open to the fallback when nothing is eligible', () => {
    const s = steer(
      ctx(at(48.86, 2.35), pool({ fallback: 'syd' }), { healthOf: () => ({ eligible: false, reason: 'down' }) }),
      popMap,
    );
    expect(s.chosen.map((c) => c.id)).toEqual(['syd']);
    expect(s.usedFallback).toBe(true);
  });

  it('keeps config order for a client it cannot locate, so the first PoP answers', () => {
    expect(chosen(ctx(nowhere))).toEqual(['fra']);
  });

  it('ordered policy takes the first eligible member regardless of distance', () => {
    expect(chosen(ctx(at(-33.87, 151.21), pool({ policy: 'ordered' })))).toEqual(['fra']);
    expect(
      chosen(
        ctx(at(-33.87, 151.21), pool({ policy: 'ordered' }), {
          healthOf: (id) => (id === 'fra' ? { eligible: false, reason: 'down' } : undefined),
        }),
      ),
    ).toEqual(['iad']);
  });

  it('weighted policy sticks per client network and follows the weights', () => {
    const p = pool({
      policy: 'weighted',
      members: [
        { kind: 'pop', pop: 'fra', weight: 300 },
        { kind: 'pop', pop: 'iad', weight: 100 },
      ],
    });
    const counts = { fra: 0, iad: 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) {
      const client = { ...nowhere, network: `10.${i >> 8}.${i & 255}.0/24` };
      const first = chosen(ctx(client, p))[0]!;
      expect(chosen(ctx(client, p))[0]).toBe(first);
      counts[first]!++;
    }
    expect(counts['fra']! / 4000).toBeGreaterThan(0.7);
    expect(counts['fra']! / 4000).toBeLessThan(0.8);
  });

  it('ranks by measured RTT when every eligible PoP has one, switching only when clearly better', () => {
    const paris = at(48.86, 2.35);
    const rtt = (m: Record<string, number>) => ({ measuredRttMs: (id: string) => m[id] });
    // iad measured much faster than fra (e.g. a better peering path): switch.
    const s = steer(ctx(paris, pool(), rtt({ fra: 40, iad: 12, gru: 200, sin: 180, syd: 300 })), popMap);
    expect(s.chosen.map((c) => c.id)).toEqual(['iad']);
    expect(s.rankedBy).toBe('measured-latency');
    expect(s.ranked[0]!.notes[0]).toMatch(/measured RTT 12 ms beats fra \(40 ms\)/);
    // Only slightly faster: stay with the distance leader (no flapping on noise).
    expect(chosen(ctx(paris, pool(), rtt({ fra: 40, iad: 36, gru: 200, sin: 180, syd: 300 })))).toEqual(['fra']);
    // Partial measurements: distance decides.
    const partial = steer(ctx(paris, pool(), rtt({ iad: 1 })), popMap);
    expect(partial.chosen.map((c) => c.id)).toEqual(['fra']);
    expect(partial.rankedBy).toBe('distance');
  });

  it('answers an external CDN as the only member when it comes first', () => {
    const p = pool({
      policy: 'ordered',
      members: [
        { kind: 'cname', cname: 'edge.other-cdn.example.', weight: 100, location: undefined },
        { kind: 'pop', pop: 'fra', weight: undefined },
      ],
    });
    expect(chosen(ctx(at(0, 0), p, { answers: 2 }))).toEqual(['edge.other-cdn.example.']);
  });
});

describe('checked CNAME members (other CDNs)', () => {
  const other = { kind: 'cname' as const, cname: 'edge.other-cdn.example.', id: 'other', weight: 1000 };
  // Weighted, so that a heavy CNAME member comes first for most client networks.
  const multi = pool({
    policy: 'weighted',
    members: [{ kind: 'pop', pop: 'fra', weight: 100 }, { kind: 'pop', pop: 'iad', weight: 100 }, other],
  });
  const clients = Array.from({ length: 50 }, (_, i) => ({ ...at(48.86, 2.35), network: `198.51.${i}.0/24` }));
  const down = (ids: string[]) => (id: string) =>
    ids.includes(id)
      ? { eligible: false, reason: 'down: 2 of 3 expected vantage points see it down (2 report, quorum 2)' }
      : { eligible: true, reason: 'up: 0 of 3' };

  it('answers the member while its id is up, and drops it from the weighted set when it is down', () => {
    const upAnswers = clients.map(
      (c) => steer(ctx(c, multi, { clientKey: c.network, healthOf: down([]) }), popMap).chosen.map((x) => x.id)[0],
    );
    expect(upAnswers.filter((a) => a === 'edge.other-cdn.example.').length).toBeGreaterThan(25);
    const downAnswers = clients.map((c) =>
      steer(ctx(c, multi, { clientKey: c.network, healthOf: down(['other']) }), popMap),
    );
    expect(downAnswers.every((s) => s.chosen.length === 1 && s.chosen[0]!.member.kind === 'pop')).toBe(true);
    const note = downAnswers[0]!.ranked.find((c) => c.id === 'edge.other-cdn.example.')!;
    expect(note.eligible).toBe(false);
    expect(note.notes).toContain('member other: down: 2 of 3 expected vantage points see it down (2 report, quorum 2)');
  });

  it('asks the health view by member id, not by cname; a member without an id is always eligible', () => {
    const asked: string[] = [];
    const p = pool({
      members: [
        { kind: 'pop', pop: 'fra', weight: undefined },
        other,
        { kind: 'cname', cname: 'plain.example.', weight: 100 },
      ],
    });
    steer(ctx(at(48.86, 2.35), p, { healthOf: (id) => (asked.push(id), undefined) }), popMap);
    expect(asked).toEqual(['fra', 'other']);
  });

  it('fails open to the fallback PoP when every member, PoPs and CNAMEs, is down', () => {
    const s = steer(ctx(at(48.86, 2.35), multi, { healthOf: down(['fra', 'iad', 'other']) }), popMap);
    expect(s.chosen.map((c) => c.id)).toEqual(['fra']);
    expect(s.usedFallback).toBe(true);
  });

  it('answers the member alone when only it is up', () => {
    const s = steer(ctx(at(48.86, 2.35), multi, { healthOf: down(['fra', 'iad']) }), popMap);
    expect(s.chosen.map((c) => c.id)).toEqual(['edge.other-cdn.example.']);
  });
});
