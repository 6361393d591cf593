// The source of the test databases: networks.csv, one network per row with
// `network,country,continent,latitude,longitude,city`. Everything is checked here, with the line
// number, so a typo fails the build with a message instead of producing a database that quietly
// answers wrong.
import { parseCidr, type IpNetwork } from '../common/ip.js';

export interface NetworkRow {
  /** The CIDR text as written. */
  readonly network: string;
  readonly net: IpNetwork;
  /** ISO 3166-1 alpha-2, upper case. */
  readonly country: string;
  /** GeoIP continent code: AF AN AS EU NA OC SA. */
  readonly continent: string;
  /** Absent when the row leaves latitude and longitude empty (the country is all that is known). */
  readonly location?: { readonly latitude: number; readonly longitude: number };
  readonly city?: string;
}

export const NETWORKS_CSV_HEADER = 'network,country,continent,latitude,longitude,city';
const CONTINENTS = new Set(['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA']);

export function parseNetworksCsv(text: string): NetworkRow[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== NETWORKS_CSV_HEADER) {
    throw new Error(`networks.csv line 1: expected the header '${NETWORKS_CSV_HEADER}', got '${lines[0] ?? ''}'`);
  }
  const rows: NetworkRow[] = [];
  lines.forEach((line, i) => {
    if (i === 0 || line.trim() === '') return;
    try {
      rows.push(parseRow(splitCsvLine(line)));
    } catch (err) {
      throw new Error(`networks.csv line ${i + 1}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return rows;
}

function parseRow(fields: string[]): NetworkRow {
  if (fields.length !== 6) throw new Error(`expected 6 fields, got ${fields.length}`);
  const [network, country, continent, lat, lon, city] = fields.map((f) => f.trim()) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const net = parseCidr(network);
  if (!/^[A-Z]{2}$/.test(country)) throw new Error(`country '${country}' is not an upper-case ISO 3166-1 alpha-2 code`);
  if (!CONTINENTS.has(continent))
    throw new Error(`continent '${continent}' is not one of ${[...CONTINENTS].join(' ')}`);
  if ((lat === '') !== (lon === '')) throw new Error('latitude and longitude must both be given or both be empty');
  const location =
    lat === ''
      ? undefined
      : { latitude: coordinate(lat, 90, 'latitude'), longitude: coordinate(lon, 180, 'longitude') };
  return { network, net, country, continent, ...(location && { location }), ...(city !== '' && { city }) };
}

function coordinate(text: string, limit: number, name: string): number {
  const n = Number(text);
  if (!/^-?\d+(\.\d+)?$/.test(text) || Math.abs(n) > limit)
    throw new Error(`${name} '${text}' is not a number from -${limit} to ${limit}`);
  return n;
}

/** RFC 4180 fields: commas separate, double quotes enclose, "" inside quotes is one quote. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c !== '"') field += c;
      else if (line[i + 1] === '"') field += line[++i];
      else quoted = false;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  fields.push(field);
  return fields;
}
