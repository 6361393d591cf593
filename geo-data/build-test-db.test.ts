import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Reader } from 'maxmind';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from './build-test-db-cli.js';
import { TEST_DB_BUILD_EPOCH, TEST_DB_FILES, buildTestDatabases } from './build-test-db.js';
import { countryCentroid } from './centroids.js';
import { parseNetworksCsv } from './networks-csv.js';

type Data = Record<string, unknown>;

const here = dirname(fileURLToPath(import.meta.url));
const csv = readFileSync(join(here, 'networks.csv'), 'utf8');
const built = buildTestDatabases(csv);
const committed = (key: keyof typeof TEST_DB_FILES): Buffer => readFileSync(join(here, TEST_DB_FILES[key]));

describe('committed test databases', () => {
  it.each(Object.keys(TEST_DB_FILES) as (keyof typeof TEST_DB_FILES)[])(
    '%s equals a fresh build from networks.csv',
    (key) => {
      const stale = `geo-data/${TEST_DB_FILES[key]} is stale: run npm run build && node dist/geo-data/build-test-db-cli.js`;
      expect(committed(key).equals(built[key]), stale).toBe(true);
    },
  );

  it('are small and reproducible', () => {
    for (const key of Object.keys(TEST_DB_FILES) as (keyof typeof TEST_DB_FILES)[])
      expect(built[key].length).toBeLessThan(16 * 1024);
    const again = buildTestDatabases(csv);
    expect(
      again.city.equals(built.city) && again.flatV4.equals(built.flatV4) && again.flatV6.equals(built.flatV6),
    ).toBe(true);
  });

  it('carry the expected metadata', () => {
    const city = new Reader<Data>(built.city).metadata;
    const v4 = new Reader<Data>(built.flatV4).metadata;
    const v6 = new Reader<Data>(built.flatV6).metadata;
    expect([city.databaseType, city.ipVersion, city.languages]).toEqual(['GeoLite2-City', 6, ['en']]);
    expect([v4.databaseType, v4.ipVersion]).toEqual(['geolite2-city-ipv4', 4]);
    expect([v6.databaseType, v6.ipVersion]).toEqual(['geolite2-city-ipv6', 6]);
    expect(city.buildEpoch).toEqual(new Date(TEST_DB_BUILD_EPOCH * 1000));
  });
});

// One address per continent and family, with what both schemas must say about it.
const EXPECTED = [
  { ip: '192.0.2.10', prefix: 24, country: 'US', continent: 'NA', lat: 40.71, lon: -74.01, city: 'New York' },
  { ip: '177.40.1.1', prefix: 11, country: 'BR', continent: 'SA', lat: -23.55, lon: -46.63, city: 'São Paulo' },
  { ip: '198.51.100.7', prefix: 24, country: 'DE', continent: 'EU', lat: 50.11, lon: 8.68, city: 'Frankfurt' },
  { ip: '105.115.3.4', prefix: 12, country: 'NG', continent: 'AF', lat: 6.52, lon: 3.38, city: 'Lagos' },
  { ip: '203.0.113.200', prefix: 24, country: 'JP', continent: 'AS', lat: 35.68, lon: 139.69, city: 'Tokyo' },
  { ip: '1.121.0.1', prefix: 13, country: 'AU', continent: 'OC', lat: -33.87, lon: 151.21, city: 'Sydney' },
  { ip: '8.8.8.8', prefix: 24, country: 'US', continent: 'NA', lat: 37.39, lon: -122.08, city: 'Mountain View' },
  { ip: '2001:db8::1', prefix: 48, country: 'US', continent: 'NA', lat: 40.71, lon: -74.01, city: 'New York' },
  { ip: '2001:db8:1::1', prefix: 48, country: 'DE', continent: 'EU', lat: 50.11, lon: 8.68, city: 'Frankfurt' },
  { ip: '2001:db8:2:ab::1', prefix: 48, country: 'JP', continent: 'AS', lat: 35.68, lon: 139.69, city: 'Tokyo' },
  { ip: '2001:db8:3::1', prefix: 48, country: 'BR', continent: 'SA', lat: -23.55, lon: -46.63, city: 'São Paulo' },
  { ip: '2001:db8:4::1', prefix: 48, country: 'ZA', continent: 'AF', lat: -26.2, lon: 28.05, city: 'Johannesburg' },
  { ip: '2001:db8:5::1', prefix: 48, country: 'AU', continent: 'OC', lat: -33.87, lon: 151.21, city: 'Sydney' },
  { ip: '2001:db8:ffff::1', prefix: 33, country: 'NL', continent: 'EU', lat: 52.37, lon: 4.9, city: 'Amsterdam' },
  { ip: '2406:e000::1', prefix: 32, country: 'NZ', continent: 'OC', lat: -36.85, lon: 174.76, city: 'Auckland' },
];

describe('lookups', () => {
  const city = new Reader<Data>(built.city);
  const flatV4 = new Reader<Data>(built.flatV4);
  const flatV6 = new Reader<Data>(built.flatV6);

  it.each(EXPECTED)(
    'GeoLite2-City schema: $ip is $city, $country',
    ({ ip, prefix, country, continent, lat, lon, city: name }) => {
      expect(city.getWithPrefixLength(ip)).toEqual([
        {
          city: { names: { en: name } },
          continent: { code: continent },
          country: { iso_code: country },
          location: { accuracy_radius: 50, latitude: lat, longitude: lon },
        },
        prefix,
      ]);
    },
  );

  it.each(EXPECTED)('flat schema: $ip is $city, $country', ({ ip, prefix, country, lat, lon, city: name }) => {
    const flat = ip.includes(':') ? flatV6 : flatV4;
    expect(flat.getWithPrefixLength(ip)).toEqual([
      { country_code: country, city: name, latitude: lat, longitude: lon },
      prefix,
    ]);
  });

  it('finds IPv4 through the IPv4-mapped alias in the city database', () => {
    expect(city.get('::ffff:192.0.2.10')).toEqual(city.get('192.0.2.10'));
  });

  it('keeps a country-only network without coordinates, so the centroid fallback applies', () => {
    expect(city.get('31.209.130.1')).toEqual({ continent: { code: 'EU' }, country: { iso_code: 'IS' } });
    expect(flatV4.get('31.209.130.1')).toEqual({ country_code: 'IS' });
    expect(countryCentroid('IS')).toBeDefined();
  });

  it('gives a country-level point without a city a wide accuracy radius', () => {
    expect(city.get('41.184.0.1')).toEqual({
      continent: { code: 'AF' },
      country: { iso_code: 'NG' },
      location: { accuracy_radius: 1000, latitude: 9.08, longitude: 8.68 },
    });
  });

  it('knows nothing outside the listed networks, and nothing of the other family in the flat files', () => {
    for (const reader of [city, flatV4]) expect(reader.get('1.1.1.1')).toBeNull();
    expect(city.get('2001:db9::1')).toBeNull();
    expect(flatV6.get('192.0.2.10')).toBeNull();
  });
});

describe('networks.csv', () => {
  const rows = parseNetworksCsv(csv);

  it('has at least three networks, and an IPv6 one, on every inhabited continent', () => {
    for (const continent of ['NA', 'SA', 'EU', 'AF', 'AS', 'OC']) {
      const here = rows.filter((r) => r.continent === continent);
      expect(here.filter((r) => r.net.family === 4).length, continent).toBeGreaterThanOrEqual(3);
      expect(
        here.some((r) => r.net.family === 6),
        continent,
      ).toBe(true);
    }
  });

  it('places every city plausibly: within 4000 km of its country centroid', () => {
    for (const row of rows) {
      const centroid = countryCentroid(row.country);
      expect(centroid, row.country).toBeDefined();
      if (row.location) expect(distanceKm(row.location, centroid!), row.network).toBeLessThan(4000);
    }
  });

  it.each([
    ['a wrong header', 'network,country\n', /line 1: expected the header/],
    ['too few fields', 'HEADER\n192.0.2.0/24,US,NA,1,2\n', /line 2: expected 6 fields, got 5/],
    ['a bad network', 'HEADER\n192.0.2.1/24,US,NA,1,2,X\n', /line 2: '192.0.2.1\/24' has host bits set/],
    ['a lower-case country', 'HEADER\n192.0.2.0/24,us,NA,1,2,X\n', /line 2: country 'us'/],
    ['an unknown continent', 'HEADER\n192.0.2.0/24,US,XX,1,2,X\n', /line 2: continent 'XX'/],
    ['half a location', 'HEADER\n\n192.0.2.0/24,US,NA,1,,X\n', /line 3: latitude and longitude must both be given/],
    ['a latitude out of range', 'HEADER\n192.0.2.0/24,US,NA,91,2,X\n', /latitude '91' is not a number from -90 to 90/],
    ['an unterminated quote', 'HEADER\n192.0.2.0/24,US,NA,1,2,"X\n', /unterminated quoted field/],
  ])('refuses %s with its line number', (_name, text, message) => {
    const header = 'network,country,continent,latitude,longitude,city';
    expect(() => parseNetworksCsv(text.replace('HEADER', header))).toThrow(message);
  });

  it('reads quoted fields', () => {
    const [row] = parseNetworksCsv(
      'network,country,continent,latitude,longitude,city\r\n192.0.2.0/24,US,NA,1,2,"Washington, ""D.C."""\r\n',
    );
    expect(row?.city).toBe('Washington, "D.C."');
  });
});

describe('build-test-db-cli', () => {
  let dir: string | undefined;

  it("checks the repository's geo-data folder by default", () => {
    const lines: string[] = [];
    expect(main(['--check'], (l) => lines.push(l))).toBe(0);
    expect(lines.map((l) => l.replace(/^.*\//, ''))).toEqual(Object.values(TEST_DB_FILES));
  });

  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the three databases, then reports them up to date or stale', () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-geo-'));
    copyFileSync(join(here, 'networks.csv'), join(dir, 'networks.csv'));
    const lines: string[] = [];
    expect(main([dir, '--check'], (l) => lines.push(l))).toBe(1);
    expect(main([dir], (l) => lines.push(l))).toBe(0);
    for (const key of Object.keys(TEST_DB_FILES) as (keyof typeof TEST_DB_FILES)[]) {
      expect(readFileSync(join(dir, TEST_DB_FILES[key])).equals(built[key])).toBe(true);
    }
    expect(main([dir, '--check'], (l) => lines.push(l))).toBe(0);
    writeFileSync(join(dir, TEST_DB_FILES.flatV6), 'not a database');
    expect(main([dir, '--check'], (l) => lines.push(l))).toBe(1);
    // Three missing files at first, then the one overwritten.
    expect(lines.filter((l) => l.startsWith('STALE'))).toHaveLength(4);
  });
});

function distanceKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = Math.PI / 180;
  const h =
    Math.sin(((b.latitude - a.latitude) * rad) / 2) ** 2 +
    Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(((b.longitude - a.longitude) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}
