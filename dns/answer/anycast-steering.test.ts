// Hybrid answers (issue 16 item 5): a pool with `policy: anycast` answers its anycast addresses
// while some PoP announces them and falls back to unicast steering when none does, per family;
// explain says which applied and why; and the config refuses an anycast pool with nothing to answer.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { loadDnsConfig } from '../config.js';
import type { AnycastAvailability } from '../pop-health/anycast-view.js';
import { QueryHandler, UDP } from '../server/handle-query.js';
import { buildServingState } from '../server/state.js';
import { explain } from './explain.js';
import { loadAnycastConfig } from '../../anycast/config.js';

const ANYCAST = `
anycast:
  prefixes:
    - prefix: 198.51.100.0/24
      addresses: [{ address: 198.51.100.53, serves: dns }, { address: 198.51.100.80, serves: edge }]
    - prefix: 2001:db8:80::/48
      addresses: [{ address: "2001:db8:80::80", serves: edge }]
  pops:
    - { pop: fra, bgp: { socket: /run/bird/fra.ctl, asn: 65001, neighbors: [{ address: 10.0.0.1, asn: 65000 }] } }
    - { pop: nyc, bgp: { socket: /run/bird/nyc.ctl, asn: 65002, neighbors: [{ address: 10.0.0.1, asn: 65000 }] } }
`;

const CONFIG = (pools: string, anycast = ANYCAST) => `
pops:
  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.1], ipv6: ["2001:db8:1::1"] }
  - { id: nyc, location: { lat: 40.71, lon: -74.01 }, ipv4: [192.0.2.2], ipv6: ["2001:db8:2::1"] }
pools:
${pools}
geo:
  nets: [{ network: 10.0.0.0/8, location: { lat: 50.0, lon: 8.0 } }]
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test., minimum: 60 }
    ns: [ns1.example.test.]
    routes:
      - { name: www, pool: unicast }
      - { name: "*.cdn", pool: small }
      - { name: ns1, pool: ns }
${anycast}`;

const POOLS = `
  - { id: unicast, members: [fra, nyc] }
  - { id: small, policy: anycast, members: [fra, nyc] }
  - { id: ns, policy: anycast, members: [fra, nyc], anycast: [198.51.100.53] }
`;

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-anycast-pool-'));
  writeFileSync(join(dir, 'c.yaml'), text);
  return join(dir, 'c.yaml');
}

/** Who announces what, as the announcers' reports would say; the test moves it. */
function announcers(): { set(address: string, pops: string[]): void; of(address: string): AnycastAvailability } {
  const by = new Map<string, string[]>();
  return {
    set: (address, pops) => void by.set(address, pops),
    of: (address) => {
      const pops = by.get(address) ?? [];
      return {
        announcedBy: pops,
        reason: pops.length
          ? `announced by ${pops.length} PoPs (${pops.join(', ')})`
          : 'withdrawn by every PoP reporting it: fra (drained)',
      };
    },
  };
}

async function setup() {
  const config = await loadDnsConfig(writeConfig(CONFIG(POOLS)));
  const world = announcers();
  const state = buildServingState(config, [], undefined, undefined, null, (a) => world.of(a));
  return { state, world, handler: new QueryHandler(state) };
}

function ask(h: QueryHandler, name: string, type: dnsPacket.RecordType, ecs?: string) {
  const [address, prefix] = ecs?.split('/') ?? [];
  const q = dnsPacket.encode({
    type: 'query',
    id: 7,
    flags: 0,
    questions: [{ type, name, class: 'IN' }],
    ...(ecs && {
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          options: [{ code: 'CLIENT_SUBNET', ip: address!, sourcePrefixLength: Number(prefix) }],
        },
      ],
    }),
  } as dnsPacket.Packet);
  const r = dnsPacket.decode(h.handle(q, UDP, '10.1.2.3')!) as dnsPacket.DecodedPacket;
  const opt = (r.additionals ?? []).find((a) => a.type === 'OPT') as
    { options?: { code: number; scopePrefixLength?: number }[] } | undefined;
  return {
    data: (r.answers ?? []).map((a) => (a as { data: unknown }).data),
    scope: opt?.options?.find((o) => o.code === 8)?.scopePrefixLength,
  };
}

describe('hybrid answers: policy anycast', () => {
  it('answers the anycast address while a PoP announces it, per family, and unicast otherwise', async () => {
    const { state, world, handler } = await setup();
    // No announcer reports at all (a laptop, `meridian up`): unicast, never an empty answer.
    expect(ask(handler, 'a.cdn.example.test', 'A').data).toEqual(['192.0.2.1']);
    expect(ask(handler, 'a.cdn.example.test', 'AAAA').data).toEqual(['2001:db8:1::1']);
    world.set('198.51.100.80', ['fra', 'nyc']);
    state.steering.clearCache();
    expect(ask(handler, 'a.cdn.example.test', 'A').data).toEqual(['198.51.100.80']);
    // The IPv6 prefix is withdrawn everywhere: AAAA stays unicast.
    expect(ask(handler, 'a.cdn.example.test', 'AAAA').data).toEqual(['2001:db8:1::1']);
    world.set('2001:db8:80::80', ['nyc']);
    state.steering.clearCache();
    expect(ask(handler, 'b.cdn.example.test', 'AAAA').data).toEqual(['2001:db8:80::80']);
    // A unicast pool is untouched by anycast.
    expect(ask(handler, 'www.example.test', 'A').data).toEqual(['192.0.2.1']);
    // Every PoP withdrew: back to unicast steering.
    world.set('198.51.100.80', []);
    state.steering.clearCache();
    expect(ask(handler, 'a.cdn.example.test', 'A').data).toEqual(['192.0.2.1']);
  });

  it('answers a pool its own listed addresses (name servers on the DNS anycast address)', async () => {
    const { state, world, handler } = await setup();
    world.set('198.51.100.53', ['fra']);
    world.set('198.51.100.80', ['fra']);
    state.steering.clearCache();
    expect(ask(handler, 'ns1.example.test', 'A').data).toEqual(['198.51.100.53']);
    // It lists no IPv6 anycast address: AAAA is unicast.
    expect(ask(handler, 'ns1.example.test', 'AAAA').data).toEqual(['2001:db8:1::1']);
  });

  it('gives an anycast answer ECS scope 0 (the same for every client), a unicast one the located scope', async () => {
    const { state, world, handler } = await setup();
    expect(ask(handler, 'a.cdn.example.test', 'A', '10.1.2.0/24').scope).toBe(8);
    world.set('198.51.100.80', ['fra']);
    state.steering.clearCache();
    expect(ask(handler, 'a.cdn.example.test', 'A', '10.1.2.0/24')).toEqual({ data: ['198.51.100.80'], scope: 0 });
  });

  it('explain says which applied and why', async () => {
    const { state, world } = await setup();
    const fallback = explain(state.zones, state.steering, 'x.cdn.example.test', '10.1.2.3', 'A');
    expect(fallback.decisions[0]).toMatchObject({
      pool: 'small',
      policy: 'anycast',
      anycast: [
        {
          type: 'A',
          applied: 'unicast',
          reason: 'fallback to unicast steering: 198.51.100.80 withdrawn by every PoP reporting it: fra (drained)',
        },
        { type: 'AAAA', applied: 'unicast' },
      ],
    });
    expect(fallback.answer.map((a) => a.data)).toEqual(['192.0.2.1']);
    world.set('198.51.100.80', ['fra', 'nyc']);
    const anycast = explain(state.zones, state.steering, 'x.cdn.example.test', '10.1.2.3', 'A');
    expect((anycast.decisions[0] as { anycast: unknown[] }).anycast[0]).toMatchObject({
      applied: 'anycast',
      answered: ['198.51.100.80'],
      reason: 'anycast 198.51.100.80 answered: announced by 2 PoPs (fra, nyc)',
    });
    expect(anycast.answer.map((a) => a.data)).toEqual(['198.51.100.80']);
  });

  it('refuses an anycast pool without an anycast address for it, naming file, field and problem', async () => {
    const errorOf = async (pools: string, anycast = ANYCAST): Promise<string> => {
      const file = writeConfig(CONFIG(pools, anycast));
      try {
        await loadDnsConfig(file);
      } catch (e) {
        return (e as Error).message.replace(file, 'FILE');
      }
      throw new Error('expected a config error');
    };
    expect(
      await errorOf(
        `  - { id: unicast, members: [fra] }\n  - { id: small, policy: anycast, members: [fra] }\n  - { id: ns, members: [fra] }`,
        '',
      ),
    ).toBe(
      "FILE: pools[1].policy: pool 'small' has policy anycast, but the file has no anycast: section with an address to answer",
    );
    const dnsOnly = ANYCAST.replace(
      '{ address: 198.51.100.80, serves: edge }',
      '{ address: 198.51.100.81, serves: dns }',
    ).replace(/ {4}- prefix: 2001[\s\S]*?serves: edge \}\]\n/, '');
    expect(
      await errorOf(
        `  - { id: unicast, members: [fra] }\n  - { id: small, policy: anycast, members: [fra] }\n  - { id: ns, members: [fra] }`,
        dnsOnly,
      ),
    ).toMatch(
      /^FILE: pools\[1\]\.anycast: pool 'small' has policy anycast, but anycast\.prefixes has no edge address to answer/,
    );
    expect(await errorOf(POOLS.replace('anycast: [198.51.100.53]', 'anycast: [198.51.100.99]'))).toBe(
      'FILE: pools[2].anycast[0]: 198.51.100.99 is not an address of anycast.prefixes (known: 198.51.100.53, 198.51.100.80, 2001:db8:80::80)',
    );
    expect(
      await errorOf(
        POOLS.replace(
          '{ id: unicast, members: [fra, nyc] }',
          '{ id: unicast, members: [fra, nyc], anycast: [198.51.100.80] }',
        ),
      ),
    ).toBe(
      "FILE: pools[0].anycast: anycast addresses are answered only with policy: anycast (pool 'unicast' has policy nearest)",
    );
  });

  it('config/hybrid.yaml (the split: name servers and *.cdn anycast, www unicast) loads for the DNS server and every announcer', async () => {
    const file = resolve(import.meta.dirname, '../../config/hybrid.yaml');
    const config = await loadDnsConfig(file);
    expect(config.topology.pools.find((p) => p.id === 'small')).toMatchObject({
      policy: 'anycast',
      anycast: ['198.51.100.80', '2001:db8:100::80'],
    });
    for (const pop of ['fra', 'iad', 'sin']) expect((await loadAnycastConfig(file, pop)).prefixes).toHaveLength(2);
    // No announcer reports (a laptop): *.cdn is answered by unicast steering.
    const h = new QueryHandler(buildServingState(config));
    expect(ask(h, 'img.cdn.hybrid.test', 'A').data).toEqual(['127.0.1.1']);
    expect(ask(h, 'ns1.hybrid.test', 'A').data).toEqual(['198.51.100.53']);
  });
});
