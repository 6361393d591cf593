// The DNS server's part of the topology file: its `dns:` settings and the `zones:` it serves.
// Parsing turns every zone (inline records and RFC 1035 master files) into ZoneSource records,
// so one compiler and one set of rules apply to both.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { nsidText } from '../common/catchment.js';
import { ConfigError, parseWith, readYamlFile } from '../common/config-file.js';
import { allowedHosts, hostPort } from '../common/config-types.js';
import { DEFAULT_DNS_CONTROL_LISTEN } from '../common/control-defaults.js';
import type { Deprecation } from '../common/deprecation.js';
import { parseHostPort, type HostPort } from '../common/host-port.js';
import { workersSetting, type WorkersSetting } from '../common/workers.js';
import type { HealthSettings } from '../common/health-contract.js';
import { locationSchema, topologyProblems, topologySchema, type Topology } from '../common/topology.js';
import { parseCidr, type NetOverride } from '../geo-data/locator.js';
import { rrlSchema, rrlSettings, type RrlSettings } from './rrl/config.js';
import { anycastAddressesSchema, anycastPoolProblems, withAnycastAddresses } from './anycast-pools.js';
import { Type, typeFromName, typeName } from './wire/constants.js';
import { wireToText, type Name } from './wire/name.js';
import type { RData } from './wire/rdata.js';
import type { SourceRecord, ZoneSource } from './zone/compile.js';
import { readMasterFileInSlices, MasterFileError, type MasterRecord } from './zone/masterfile.js';
import { parseName } from './zone/name-text.js';
import { SUPPORTED_TYPES, parseRdata, txtRdata } from './zone/rdata-text.js';
import { TextError, parseTtl, tokenizeLine } from './zone/text.js';

const ttl = z.union([
  z.number().int().min(0).max(2_147_483_647),
  z.string().transform((s, ctx) => {
    try {
      return parseTtl(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  }),
]);

const recordValue = z.union([z.string().min(1), z.number()]).transform(String);

const recordSchema = z
  .strictObject({
    name: z.string().min(1),
    type: z.string().refine((t) => typeFromName(t) !== undefined && SUPPORTED_TYPES.has(typeFromName(t)!), {
      error: `expected one of ${[...SUPPORTED_TYPES]
        .filter((t) => t !== Type.SOA)
        .map(typeName)
        .join(', ')} (SOA is set with 'soa')`,
    }),
    ttl: ttl.optional(),
    value: recordValue.optional(),
    values: z.array(recordValue).min(1).optional(),
  })
  .refine((r) => (r.value === undefined) !== (r.values === undefined), {
    error: "give exactly one of 'value' or 'values'",
  });

/** A name answered per client with the addresses of the chosen PoPs of a pool (A/AAAA). */
const routeSchema = z.strictObject({
  name: z.string().min(1),
  pool: z.string().min(1),
  ttl: ttl.default(30),
  /** How many PoPs to answer with (more gives resolvers something to fail over to). */
  answers: z.number().int().min(1).max(8).default(1),
});

const soaSchema = z.strictObject({
  mname: z.string(),
  rname: z.string(),
  serial: z.number().int().min(0).max(0xffffffff).default(1),
  refresh: ttl.default(7200),
  retry: ttl.default(3600),
  expire: ttl.default(1209600),
  minimum: ttl.default(300),
  ttl: ttl.optional(),
});

const zoneSchema = z.strictObject({
  name: z.string().min(1),
  ttl: ttl.default(3600),
  soa: soaSchema.optional(),
  ns: z.array(z.string()).min(1).optional(),
  file: z.string().optional(),
  records: z.array(recordSchema).default([]),
  routes: z.array(routeSchema).default([]),
});

const cidr = z.string().transform((s, ctx) => {
  try {
    return { text: s, ...parseCidr(s) };
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const geoSchema = z.strictObject({
  /** MaxMind DB files (GeoIP2/GeoLite2 City or Country, or ip-location-db flat files), relative to this file. */
  databases: z.array(z.string().min(1)).default([]),
  /** Overrides by client network, checked before the databases (private and loopback resolvers). */
  nets: z
    .array(
      z
        .strictObject({ network: cidr, location: locationSchema.optional(), pool: z.string().optional() })
        .refine((n) => n.location !== undefined || n.pool !== undefined, { error: "give 'location' or 'pool'" }),
    )
    .default([]),
});

const dnsSchema = z.strictObject({
  serverId: z.string().min(1).max(255).optional(),
  /** The PoP this server runs in (or `meridian dns --pop`): NSID and id.server then name it. */
  pop: z.string().min(1).max(100).optional(),
  version: z.string().max(255).nullable().default(null),
  listen: z
    .array(hostPort)
    .min(1)
    .default([parseHostPort('127.0.0.1:5353'), parseHostPort('[::1]:5353')]),
  /** Deprecated spelling of control.listen (said once at start-up by the service). */
  http: hostPort.optional(),
  maxUdpPayload: z.number().int().min(512).max(4096).default(1232),
  /** Serving processes sharing the listeners: `auto` = one per CPU core; 1 = serve in-process. */
  workers: workersSetting.default('auto'),
  /** `auto`: UDP through recvmmsg/sendmmsg (native/udp_batch.c) when it was built; `off`: node:dgram. */
  udpBatching: z.enum(['auto', 'off']).default('auto'),
  tcp: z
    .strictObject({
      idleTimeout: z.number().int().min(100).max(300_000).default(10_000),
      maxConnections: z.number().int().min(1).max(100_000).default(1000),
      /** Connections at once from one client network (/24 IPv4, /56 IPv6); more are closed at once. */
      maxConnectionsPerNetwork: z.number().int().min(1).max(100_000).default(32),
      /** ms a connection may sit on part of a length prefix or message (slowloris) before it is closed. */
      readTimeout: z.number().int().min(100).max(300_000).default(5000),
      /** Answers per connection queued and not yet taken by the client; then reading stops until they drain. */
      maxInFlight: z.number().int().min(1).max(65_535).default(64),
    })
    .default({
      idleTimeout: 10_000,
      maxConnections: 1000,
      maxConnectionsPerNetwork: 32,
      readTimeout: 5000,
      maxInFlight: 64,
    }),
  control: z
    .strictObject({
      listen: hostPort.optional(),
      token: z.string().min(1).optional(),
      tokenFile: z.string().optional(),
      allowedHosts,
    })
    .default({ allowedHosts: [] }),
  /** DNS Cookies (RFC 7873, RFC 9018 server cookies). */
  cookies: z
    .strictObject({
      enabled: z.boolean().default(true),
      /**
       * A file holding the 16-byte SipHash key as 32 hex digits, shared by every server of an
       * anycast address (RFC 9018 §5); without it each server makes its own, rotated hourly.
       */
      secretFile: z.string().min(1).optional(),
    })
    .default({ enabled: true }),
  /** Response rate limiting over UDP (dns/rrl/config.ts): on by default. */
  rrl: rrlSchema,
  /** HTTP redirect steering: GET /r/<path> → 302 to the chosen PoP's edge (off unless set). */
  redirect: z.strictObject({ listen: hostPort, pool: z.string().min(1), ttl: ttl.default(30) }).optional(),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      querySampleRate: z.number().min(0).max(1).default(0),
    })
    .default({ level: 'info', querySampleRate: 0 }),
});

const fileSchema = z.looseObject({
  dns: dnsSchema.default(dnsSchema.parse({})),
  ...topologySchema,
  geo: geoSchema.default({ databases: [], nets: [] }),
  zones: z.array(zoneSchema).min(1, { error: 'at least one zone is needed' }),
  /** Only its addresses, for `policy: anycast` pools (anycast-pools.ts). */
  anycast: anycastAddressesSchema.optional(),
});

export interface DnsSettings {
  readonly serverId: string;
  /** The PoP this server runs in (`dns.pop`, or --pop over it); answers name it in NSID. */
  readonly pop?: string | undefined;
  readonly version: string | null;
  readonly listen: readonly HostPort[];
  readonly maxUdpPayload: number;
  readonly workers: WorkersSetting;
  readonly udpBatching: 'auto' | 'off';
  readonly tcp: {
    readonly idleTimeout: number;
    readonly maxConnections: number;
    readonly maxConnectionsPerNetwork: number;
    readonly readTimeout: number;
    readonly maxInFlight: number;
  };
  readonly control: {
    /** The HTTP control port (`dns.control.listen`; `dns.http` before). */
    readonly listen: HostPort;
    readonly token?: string | undefined;
    readonly tokenFile?: string | undefined;
    /** Host names the control port answers to besides IP addresses and localhost; read at start-up. */
    readonly allowedHosts?: readonly string[] | undefined;
  };
  readonly log: { readonly level: string; readonly querySampleRate: number };
  readonly cookies: {
    readonly enabled: boolean;
    /** From `dns.cookies.secretFile`: the SipHash key; null to generate and rotate one. */
    readonly secret: Buffer | null;
  };
  readonly rrl: RrlSettings;
  readonly redirect?: { readonly listen: HostPort; readonly pool: string; readonly ttl: number } | undefined;
}

export interface GeoSettings {
  /** Absolute paths. */
  readonly databases: readonly string[];
  readonly nets: readonly NetOverride[];
}

export interface DnsConfig {
  readonly file: string;
  readonly settings: DnsSettings;
  readonly zones: readonly ZoneSource[];
  readonly topology: Topology;
  readonly health: HealthSettings;
  readonly geo: GeoSettings;
  /** Every address of `anycast.prefixes` (catchment is shown for each). */
  readonly anycastAddresses: readonly string[];
  /** Old spellings this file uses, for the service to say once. */
  readonly deprecated: readonly Deprecation[];
}

/**
 * Lets the parsed zone records go once they are compiled (dns/server/core.ts): compiled zones
 * hold all that queries need, packed, while a parsed record costs ~300 bytes of heap and a
 * million of them must not stay alive for as long as the config does (issue 17). Routes stay
 * (few, and `meridian up` lists them). The record count is kept for status.
 */
export function dropZoneRecords(config: DnsConfig): void {
  (config as { zones: readonly ZoneSource[] }).zones = config.zones.map((z) => ({ ...z, records: [] }));
}

export interface DnsConfigOverrides {
  /** `meridian dns --pop ID`: over `dns.pop`. */
  readonly pop?: string | undefined;
  /**
   * false: leave the zones' records (master files, `records:`) unread, for a worker thread reads
   * and compiles them (dns/server/load-serving.ts); the zones keep their SOA, NS and routes.
   */
  readonly zoneRecords?: boolean;
  /** The file's YAML as another thread already parsed it (load-serving.ts): not read again. */
  readonly raw?: unknown;
}

export async function loadDnsConfig(file: string, overrides: DnsConfigOverrides = {}): Promise<DnsConfig> {
  const parsed = parseWith(file, fileSchema, overrides.raw ?? (await readYamlFile(file)));
  const problems = topologyProblems(parsed);
  const pop = overrides.pop ?? parsed.dns.pop;
  if (pop !== undefined && !parsed.pops.some((p) => p.id === pop)) {
    const known = parsed.pops.map((p) => p.id).join(', ') || 'none';
    problems.push([
      overrides.pop !== undefined ? 'pops (--pop)' : 'dns.pop',
      `no PoP with id '${pop}' (known: ${known})`,
    ]);
  }
  problems.push(...anycastPoolProblems(parsed.pools, parsed.anycast));
  parsed.geo.nets.forEach((n, i) => {
    if (n.pool !== undefined && !parsed.pools.some((p) => p.id === n.pool))
      problems.push([`geo.nets[${i}].pool`, `no pool with id '${n.pool}'`]);
  });
  // A TXT string holds 255 bytes: a longer identity would lose the PoP at its end.
  const identity = nsidText(parsed.dns.serverId ?? hostname(), pop);
  if (Buffer.byteLength(identity) > 255)
    problems.push(['dns.serverId', `'${identity}' (with the PoP) is longer than 255 bytes; shorten the serverId`]);
  if (parsed.dns.http && parsed.dns.control.listen)
    problems.push(['dns.http', 'give dns.control.listen only (dns.http is its old spelling)']);
  if (parsed.dns.redirect && !parsed.pools.some((p) => p.id === parsed.dns.redirect!.pool)) {
    problems.push(['dns.redirect.pool', `no pool with id '${parsed.dns.redirect.pool}'`]);
  }
  parsed.zones.forEach((z, i) =>
    z.routes.forEach((r, j) => {
      if (!parsed.pools.some((p) => p.id === r.pool))
        problems.push([`zones[${i}].routes[${j}].pool`, `no pool with id '${r.pool}'`]);
    }),
  );
  if (problems.length > 0) throw new ConfigError(problems.map(([path, msg]) => `${file}: ${path}: ${msg}`).join('\n'));
  const baseDir = dirname(file);
  const zones: ZoneSource[] = [];
  const withRecords = overrides.zoneRecords !== false;
  for (const [i, zone] of parsed.zones.entries())
    zones.push(await zoneSource(file, baseDir, `zones[${i}]`, zone, withRecords));
  const { http, ...dns } = parsed.dns;
  const control = dns.control;
  const cookieSecret = dns.cookies.secretFile
    ? await readCookieSecret(file, resolvePath(baseDir, dns.cookies.secretFile))
    : null;
  return {
    file,
    settings: {
      ...dns,
      serverId: dns.serverId ?? hostname(),
      pop,
      control: {
        listen: control.listen ?? http ?? DEFAULT_DNS_CONTROL_LISTEN,
        token: control.token,
        tokenFile: control.tokenFile && resolvePath(baseDir, control.tokenFile),
        allowedHosts: control.allowedHosts,
      },
      cookies: { enabled: dns.cookies.enabled, secret: cookieSecret },
      rrl: rrlSettings(dns.rrl),
    },
    zones,
    topology: { pops: parsed.pops, pools: withAnycastAddresses(parsed.pools, parsed.anycast) },
    health: parsed.health,
    anycastAddresses: (parsed.anycast?.prefixes ?? []).flatMap((p) => p.addresses.map((a) => a.address)),
    geo: {
      databases: parsed.geo.databases.map((d) => resolvePath(baseDir, d)),
      nets: parsed.geo.nets.map((n) => ({
        family: n.network.family,
        bytes: n.network.bytes,
        prefixLength: n.network.prefixLength,
        text: n.network.text,
        location: n.location ?? null,
        pool: n.pool ?? null,
      })),
    },
    deprecated: http ? [{ old: 'dns.http', replacement: 'dns.control.listen' }] : [],
  };
}

/** `dns.cookies.secretFile`: 32 hex digits (surrounding whitespace ignored). */
async function readCookieSecret(file: string, path: string): Promise<Buffer> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (e) {
    throw new ConfigError(`${file}: dns.cookies.secretFile: cannot read ${path}: ${(e as Error).message}`);
  }
  if (!/^[0-9a-fA-F]{32}$/.test(text))
    throw new ConfigError(
      `${file}: dns.cookies.secretFile: ${path} must hold 32 hex digits (a 16-byte SipHash key; e.g. openssl rand -hex 16)`,
    );
  return Buffer.from(text, 'hex');
}

type ZoneInput = z.output<typeof zoneSchema>;

async function zoneSource(
  file: string,
  baseDir: string,
  path: string,
  zone: ZoneInput,
  withRecords: boolean,
): Promise<ZoneSource> {
  const at = (p: string) => `${file}: ${p}`;
  const origin = textOr(at(`${path}.name`), () =>
    parseName(zone.name.endsWith('.') ? zone.name : `${zone.name}.`, null),
  );
  const records: SourceRecord[] = [];
  const add = (where: string, owner: Name, type: number, recordTtl: number, rdata: RData) =>
    records.push({ owner, type, ttl: recordTtl, rdata, where });

  if (zone.soa) {
    const s = zone.soa;
    const where = at(`${path}.soa`);
    const tokens = tokenizeLine(`${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`);
    add(
      where,
      origin,
      Type.SOA,
      s.ttl ?? zone.ttl,
      textOr(where, () => parseRdata(Type.SOA, tokens, origin)),
    );
  }
  for (const [i, ns] of (zone.ns ?? []).entries()) {
    const where = at(`${path}.ns[${i}]`);
    add(
      where,
      origin,
      Type.NS,
      zone.ttl,
      textOr(where, () => parseRdata(Type.NS, tokenizeLine(ns), origin)),
    );
  }
  // Appended one by one: spreading a file's records as arguments overflowed the stack at ~120k.
  if (zone.file && withRecords) await masterFileRecords(resolvePath(baseDir, zone.file), origin, zone.ttl, records);
  for (const [i, rec] of (withRecords ? zone.records : []).entries()) {
    const recPath = `${path}.records[${i}]`;
    const owner = textOr(at(`${recPath}.name`), () => parseName(rec.name, origin));
    const type = typeFromName(rec.type)!;
    const values = rec.values ?? [rec.value!];
    for (const [j, value] of values.entries()) {
      const where = at(rec.values ? `${recPath}.values[${j}]` : `${recPath}.value`);
      // In YAML a TXT value is the text itself, not zone-file syntax: no quoting needed.
      const rdata = textOr(where, () =>
        type === Type.TXT ? txtRdata(value) : parseRdata(type, tokenizeLine(value), origin),
      );
      add(where, owner, type, rec.ttl ?? zone.ttl, rdata);
    }
  }
  const routes = zone.routes.map((r, i) => {
    const where = at(`${path}.routes[${i}]`);
    return {
      owner: textOr(`${where}.name`, () => parseName(r.name, origin)),
      pool: r.pool,
      ttl: r.ttl,
      answers: r.answers,
      where,
    };
  });
  return { origin, where: at(path), records, routes };
}

/** Appends a master file's records to `records`, converting each as it is read. */
async function masterFileRecords(
  path: string,
  origin: Name,
  defaultTtl: number,
  records: SourceRecord[],
): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read zone file: ${(e as Error).message}`);
  }
  // Records come in runs with one $ORIGIN and often one owner: parse each once, which also lets
  // a name's records share one Name.
  let lastOrigin = { text: '', name: origin };
  let lastOwner = { text: '', name: origin };
  // One try per record rather than textOr's closures and a file:line string: a million records.
  const convert = (r: MasterRecord): void => {
    const type = typeFromName(r.type);
    if (type === undefined) throw new ConfigError(`${r.file}:${r.line}: unknown type ${r.type}`);
    try {
      if (r.origin !== lastOrigin.text) lastOrigin = { text: r.origin, name: parseName(r.origin, null) };
      if (r.owner !== lastOwner.text) lastOwner = { text: r.owner, name: parseName(r.owner, null) };
      records.push(
        new FileRecord(lastOwner.name, type, r.ttl, parseRdata(type, r.rdata, lastOrigin.name), r.file, r.line),
      );
    } catch (e) {
      if (e instanceof TextError) throw new ConfigError(`${r.file}:${r.line}: ${e.message}`);
      throw e;
    }
  };
  try {
    // In slices: a reload parses while the server answers from the zones it has.
    await readMasterFileInSlices(
      text,
      {
        origin: wireToText(origin.wire),
        defaultTtl,
        file: path,
        readInclude: (p) => readFileSync(resolvePath(dirname(path), p), 'utf8'),
      },
      convert,
    );
  } catch (e) {
    if (e instanceof MasterFileError) throw new ConfigError(e.message);
    throw e;
  }
}

/** A master-file record, kept for the life of the config: its `file:line` is spelled out only for an error. */
class FileRecord implements SourceRecord {
  constructor(
    readonly owner: Name,
    readonly type: number,
    readonly ttl: number,
    readonly rdata: RData,
    private readonly file: string,
    private readonly line: number,
  ) {}

  get where(): string {
    return `${this.file}:${this.line}`;
  }
}

/** Runs a presentation-format parse, turning its TextError into a ConfigError at `where`. */
function textOr<T>(where: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof TextError) throw new ConfigError(`${where}: ${e.message}`);
    throw e;
  }
}
