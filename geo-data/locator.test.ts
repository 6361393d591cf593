import { readFileSync } from 'node:fs';
import { Reader } from 'maxmind';
import { describe, expect, it } from 'vitest';
import { ipBytes } from '../common/ip.js';
import { GeoLocator, parseCidr, type NamedReader, type NetOverride } from './locator.js';
import { writeMmdb } from './mmdb-writer.js';

const open = (file: string): NamedReader => ({ file, reader: new Reader<Record<string, unknown>>(readFileSync(file)) });
const city = open('geo-data/test-city.mmdb');
const flatV4 = open('geo-data/test-flat-ipv4.mmdb');
const flatV6 = open('geo-data/test-flat-ipv6.mmdb');
const at = (ip: string) => ipBytes(ip)!;
const net = (cidr: string, extra: Partial<NetOverride>): NetOverride => ({
  ...parseCidr(cidr),
  text: cidr,
  location: null,
  pool: null,
  ...extra,
});

describe('locating a client', () => {
  it('reads MaxMind City records: location, country, continent and the deciding prefix', () => {
    const got = new GeoLocator([city], []).locate(at('203.0.113.9'), 32);
    expect(got).toMatchObject({
      source: 'database',
      country: 'JP',
      continent: 'AS',
      location: { lat: 35.68, lon: 139.69 },
      prefixLength: 24,
    });
  });

  it('reads the flat ip-location-db schema, choosing the file by address family', () => {
    const locator = new GeoLocator([flatV4, flatV6], []);
    expect(locator.locate(at('198.51.100.1'), 32)).toMatchObject({
      source: 'database',
      country: 'DE',
      location: { lat: 50.11, lon: 8.68 },
    });
    // The IPv4-only file is skipped for IPv6 (it would answer with garbage).
    expect(locator.locate(at('2001:db8:5::1'), 128)).toMatchObject({
      source: 'database',
      country: 'AU',
      database: 'geo-data/test-flat-ipv6.mmdb',
    });
  });

  it('merges databases: the first that knows a field wins, location decides the prefix', () => {
    const countryOnly = writeMmdb([{ network: '192.0.2.0/24', data: { country: { iso_code: 'CA' } } }], {
      databaseType: 'Test-Country',
    });
    const first: NamedReader = { file: 'country.mmdb', reader: new Reader<Record<string, unknown>>(countryOnly) };
    const got = new GeoLocator([first, city], []).locate(at('192.0.2.1'), 32);
    expect(got).toMatchObject({
      country: 'CA',
      continent: 'NA',
      location: { lat: 40.71, lon: -74.01 },
      database: 'geo-data/test-city.mmdb',
    });
  });

  it('falls back to the country centroid when the database has no coordinates', () => {
    const got = new GeoLocator([city], []).locate(at('31.209.130.1'), 32);
    expect(got.source).toBe('country-centroid');
    expect(got.country).toBe('IS');
    expect(got.location!.lat).toBeGreaterThan(63);
    expect(got.location!.lat).toBeLessThan(67);
  });

  it('falls back to the continent centroid when only the continent is known', () => {
    const db = writeMmdb([{ network: '192.0.2.0/24', data: { continent: { code: 'OC' } } }], {
      databaseType: 'Test-Continent',
    });
    const got = new GeoLocator([{ file: 'c.mmdb', reader: new Reader<Record<string, unknown>>(db) }], []).locate(
      at('192.0.2.1'),
      32,
    );
    expect(got.source).toBe('continent-centroid');
    expect(got.location!.lat).toBeLessThan(0);
  });

  it('knows nothing of an address no source covers, and reports the gap it fell into', () => {
    const got = new GeoLocator([city], []).locate(at('10.1.2.3'), 32);
    expect(got).toMatchObject({ source: 'none', location: null });
    expect(got.prefixLength).toBeGreaterThan(0);
    expect(got.prefixLength).toBeLessThanOrEqual(32);
  });

  it('checks nets overrides first, most specific first, and only when the source prefix covers them', () => {
    const locator = new GeoLocator(
      [city],
      [
        net('198.51.0.0/16', { location: { lat: 1, lon: 1 } }),
        net('198.51.100.0/24', { pool: 'europe', location: null }),
      ],
    );
    expect(locator.locate(at('198.51.100.7'), 32)).toMatchObject({ source: 'nets', pool: 'europe', prefixLength: 24 });
    expect(locator.locate(at('198.51.7.7'), 32)).toMatchObject({
      source: 'nets',
      location: { lat: 1, lon: 1 },
      prefixLength: 16,
    });
    // A /8 ECS subnet does not say which /16 the client is in: the override cannot apply.
    expect(locator.locate(at('198.0.0.0'), 8).source).not.toBe('nets');
  });
});
