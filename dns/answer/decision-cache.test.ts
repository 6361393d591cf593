// The routing decision cache at the scale of issue 17 (10,000 routed names over 100 pools): one
// bounded cache for every name, shared by the names that decide alike, and never an answer of
// one pool or TTL given for another.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GeoLocator } from '../../geo-data/locator.js';
import { loadDnsConfig } from '../config.js';
import type { ClientSubnet } from '../wire/query.js';
import type { Route } from '../zone/zone.js';
import { Steering } from './steering.js';

const CONFIG = `
pops:
  - { id: tyo, location: { lat: 35.68, lon: 139.69 }, ipv4: [192.0.2.10] }
  - { id: nyc, location: { lat: 40.71, lon: -74.01 }, ipv4: [192.0.2.20] }
pools:
  - { id: near, members: [tyo, nyc] }
  - { id: first, policy: ordered, members: [nyc, tyo] }
geo:
  nets:
    - { network: 10.0.0.0/8, location: { lat: 34.69, lon: 135.50 } }
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.1 }]
`;

/** Counts the client locations the cache did not save. */
class CountingLocator extends GeoLocator {
  calls = 0;
  override locate(address: Buffer, sourcePrefix: number) {
    this.calls++;
    return super.locate(address, sourcePrefix);
  }
}

async function steering() {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-decisions-'));
  writeFileSync(join(dir, 'c.yaml'), CONFIG);
  const config = await loadDnsConfig(join(dir, 'c.yaml'));
  const locator = new CountingLocator([], config.geo.nets);
  return { locator, steering: new Steering(config.topology.pops, config.topology.pools, locator) };
}

const ecs = (a: number): ClientSubnet => ({
  family: 1,
  sourcePrefix: 24,
  scopePrefix: 0,
  address: Buffer.from([10, a, 0]),
});

describe('the decision cache', () => {
  it('decides once per client network for 10,000 names of one pool, TTL and answer count', async () => {
    const { locator, steering: s } = await steering();
    const routes: Route[] = Array.from({ length: 10_000 }, () => ({ pool: 'near', ttl: 30, answers: 1 }));
    for (const route of routes) s.decide(route, '127.0.0.1', ecs(1));
    for (const route of routes) s.decide(route, '127.0.0.1', ecs(2));
    expect(locator.calls).toBe(2);
  });

  it('keeps names apart that differ in pool, TTL or answer count', async () => {
    const { steering: s } = await steering();
    const near = s.decide({ pool: 'near', ttl: 30, answers: 1 }, '127.0.0.1', ecs(1));
    const first = s.decide({ pool: 'first', ttl: 30, answers: 1 }, '127.0.0.1', ecs(1));
    const longer = s.decide({ pool: 'near', ttl: 300, answers: 1 }, '127.0.0.1', ecs(1));
    const two = s.decide({ pool: 'near', ttl: 30, answers: 2 }, '127.0.0.1', ecs(1));
    // Osaka (10/8): nearest is Tokyo; the ordered pool answers New York first.
    expect(near.steered.chosen.map((c) => c.pop?.id)).toEqual(['tyo']);
    expect(first.steered.chosen.map((c) => c.pop?.id)).toEqual(['nyc']);
    expect(longer.a?.ttl).toBe(300);
    expect(near.a?.ttl).toBe(30);
    expect(two.a?.rdata).toHaveLength(2);
  });

  it('is one bounded cache: a flood of client networks over many names does not grow it without end', async () => {
    const { steering: s } = await steering();
    const route: Route = { pool: 'near', ttl: 30, answers: 1 };
    // 150,000 distinct /24s, more than the cache holds, for one name.
    for (let i = 0; i < 150_000; i++) {
      const address = Buffer.from([10 + (i >> 16), (i >> 8) & 255, i & 255]);
      s.decide(route, '127.0.0.1', { family: 1, sourcePrefix: 24, scopePrefix: 0, address });
    }
    expect(s.cachedDecisions).toBe(100_000);
  });
});
