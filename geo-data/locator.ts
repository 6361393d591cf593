// Where is a client? Fallbacks in order: a `nets` override (CIDR → location or pool), the GeoIP
// databases (merged: the first that knows a field wins), the country or continent centroid, and
// finally nothing (the pool's fallback answers). The network that decided is returned too: its
// prefix is the ECS scope, the boundary within which the answer holds.
import type { Reader } from 'maxmind';
import type { Location } from '../common/topology.js';
import { continentCentroid, countryCentroid, type ContinentCode } from './centroids.js';
import { formatIp, fromBytes, parseCidr as parseNetwork, toBytes } from '../common/ip.js';

export interface NetOverride {
  readonly family: 4 | 6;
  readonly bytes: Buffer;
  readonly prefixLength: number;
  readonly text: string;
  readonly location: Location | null;
  readonly pool: string | null;
}

export interface Located {
  readonly location: Location | null;
  readonly country: string | null;
  readonly continent: string | null;
  readonly source: 'nets' | 'database' | 'country-centroid' | 'continent-centroid' | 'none';
  readonly prefixLength: number;
  readonly pool: string | null;
  /** Which database file answered, for explain. */
  readonly database: string | null;
}

export interface NamedReader {
  readonly file: string;
  readonly reader: Reader<Record<string, unknown>>;
}

/** A CIDR as bytes; throws naming the text when it is not one (host bits set included). */
export function parseCidr(text: string): { family: 4 | 6; bytes: Buffer; prefixLength: number } {
  const net = parseNetwork(text);
  return { family: net.family, bytes: toBytes(net.family, net.address), prefixLength: net.prefix };
}

export class GeoLocator {
  /** Most specific first, so the first match is the longest-prefix match. */
  private readonly nets: readonly NetOverride[];

  constructor(
    private readonly readers: readonly NamedReader[],
    nets: readonly NetOverride[],
  ) {
    this.nets = [...nets].sort((a, b) => b.prefixLength - a.prefixLength);
  }

  /** `address` holds 4 or 16 bytes, zeroed beyond `sourcePrefix`. */
  locate(address: Buffer, sourcePrefix: number): Located {
    const family = address.length === 4 ? 4 : 6;
    for (const net of this.nets) {
      if (
        net.family === family &&
        sourcePrefix >= net.prefixLength &&
        equalPrefix(address, net.bytes, net.prefixLength)
      ) {
        return {
          location: net.location,
          country: null,
          continent: null,
          source: 'nets',
          prefixLength: net.prefixLength,
          pool: net.pool,
          database: null,
        };
      }
    }
    const ip = addressText(address);
    let country: string | null = null;
    let continent: string | null = null;
    let location: Location | null = null;
    let prefixLength = -1;
    let database: string | null = null;
    for (const { file, reader } of this.readers) {
      // An IPv4-only file (ip-location-db ships them) would answer IPv6 lookups with garbage.
      if (family === 6 && reader.metadata.ipVersion === 4) continue;
      const [record, prefix] = reader.getWithPrefixLength(ip);
      if (!record) {
        // The gap we fell into is a decision boundary too (no data → fallback).
        if (prefixLength < 0) prefixLength = prefix;
        continue;
      }
      const fields = readFields(record);
      if (!location && fields.location) {
        location = fields.location;
        prefixLength = prefix;
        database = file;
      }
      country ??= fields.country;
      continent ??= fields.continent;
      if (database === null && prefixLength < 0) prefixLength = prefix;
      if (location && country && continent) break;
    }
    prefixLength = Math.max(0, prefixLength);
    if (location) return { location, country, continent, source: 'database', prefixLength, pool: null, database };
    const byCountry = country ? countryCentroid(country) : undefined;
    if (byCountry)
      return {
        location: { lat: byCountry.latitude, lon: byCountry.longitude },
        country,
        continent,
        source: 'country-centroid',
        prefixLength,
        pool: null,
        database: null,
      };
    const byContinent = continent ? continentCentroid(continent as ContinentCode) : undefined;
    if (byContinent)
      return {
        location: { lat: byContinent.latitude, lon: byContinent.longitude },
        country,
        continent,
        source: 'continent-centroid',
        prefixLength,
        pool: null,
        database: null,
      };
    return { location: null, country, continent, source: 'none', prefixLength, pool: null, database: null };
  }
}

/** Both schemas: MaxMind GeoIP2/GeoLite2 City/Country, and the flat ip-location-db one. */
function readFields(r: Record<string, unknown>): {
  location: Location | null;
  country: string | null;
  continent: string | null;
} {
  const loc = r['location'] as { latitude?: number; longitude?: number } | undefined;
  const lat = loc?.latitude ?? (r['latitude'] as number | undefined);
  const lon = loc?.longitude ?? (r['longitude'] as number | undefined);
  const country =
    (r['country'] as { iso_code?: string } | undefined)?.iso_code ?? (r['country_code'] as string | undefined) ?? null;
  const continent =
    (r['continent'] as { code?: string } | undefined)?.code ?? (r['continent_code'] as string | undefined) ?? null;
  return { location: typeof lat === 'number' && typeof lon === 'number' ? { lat, lon } : null, country, continent };
}

export function addressText(b: Buffer): string {
  const ip = fromBytes(b);
  return formatIp(ip.family, ip.address);
}

/** A copy of `b` with the bits beyond `prefix` cleared. */
export function truncate(b: Buffer, prefix: number): Buffer {
  const out = Buffer.from(b);
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

function equalPrefix(a: Buffer, b: Buffer, prefix: number): boolean {
  const full = prefix >> 3;
  for (let i = 0; i < full; i++) if (a[i] !== b[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[full]! ^ b[full]!) & mask) === 0;
}
