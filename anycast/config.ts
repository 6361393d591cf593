// The announcer's part of the topology file: the `anycast:` section. Service prefixes and the
// addresses in them (each serving DNS or an edge), how the local service behind each is checked
// (the prober's checks and rise/fall), damping, and per PoP its BGP speaker (BIRD's control
// socket, local ASN, neighbours, BFD, timers). `--pop` picks the PoP this announcer runs in.
// Only the shape is checked here; what needs the whole file (prefixes against PoPs' unicast
// addresses, ASNs, a PoP without BGP) is config-problems.ts.
import { isIPv4, isIPv6 } from 'node:net';
import { dirname, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { ConfigError, parseWith, readYamlFile } from '../common/config-file.js';
import { duration } from '../common/config-types.js';
import { probeSettingsFor, probeSettingsSchema, type ProbeSettings } from '../common/health-contract.js';
import { topologySchema } from '../common/topology.js';
import { parseCidr, type IpNetwork } from '../common/ip.js';
import { anycastProblems, prefixWarnings } from './config-problems.js';

const network = z.string().transform((s, ctx) => {
  try {
    return { text: s, ...parseCidr(s) };
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const address = z.string().refine((s) => isIPv4(s) || (isIPv6(s) && !s.includes('%')), { error: 'expected an IPv4 or IPv6 address' });

/** An ASN as a number; config-problems.ts refuses the reserved ones with a reason. */
const asn = z.number({ error: 'expected an AS number (1 to 4294967294), e.g. 65001' }).int();

/** Interface names are at most 15 bytes (IFNAMSIZ - 1) and name one interface. */
const ifname = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, { error: 'expected an interface name of at most 15 letters, digits, ., - and _' });

const addressSchema = z.strictObject({
  address,
  /** dns: checked with the DNS check, served by `meridian dns`; edge: the HTTP check on an edge. */
  serves: z.enum(['dns', 'edge']),
  /** The local service's port (default 53 for dns, 80 for edge). */
  port: z.number().int().min(1).max(65535).optional(),
});

const prefixSchema = z.strictObject({
  prefix: network,
  addresses: z.array(addressSchema).min(1, { error: 'a prefix needs at least one address (what would its route serve?)' }),
});

const neighborSchema = z.strictObject({
  address,
  asn,
  /** BFD on this session (BIRD's `bfd`): a silent link is noticed in interval × multiplier. */
  bfd: z.boolean().default(false),
  /** eBGP across more than one hop (BIRD's `multihop`). */
  multihop: z.number().int().min(1).max(255).optional(),
});

const bgpSchema = z.strictObject({
  /** BIRD 2's control socket (`bird -s`). */
  socket: z.string().min(1),
  asn,
  /** BIRD's router id (an IPv4 address); BIRD picks one from the interfaces when unset. */
  routerId: z.string().refine(isIPv4, { error: 'expected an IPv4 address (BIRD router id)' }).optional(),
  neighbors: z.array(neighborSchema).min(1, { error: 'at least one BGP neighbour is needed to announce anything' }),
  /** BGP hold and keepalive time (RFC 4271 §4.2, §10): seconds, hold 0 or at least 3. */
  timers: z
    .strictObject({
      hold: z.number().int().min(0).max(65535).default(9),
      keepalive: z.number().int().min(1).max(21845).default(3),
    })
    .refine((t) => t.hold === 0 || (t.hold >= 3 && t.keepalive < t.hold), { error: 'hold must be 0 or at least 3 seconds and above keepalive (RFC 4271 §4.2)' })
    .default({ hold: 9, keepalive: 3 }),
  /** BFD timers for neighbours with `bfd: true` (RFC 5880 §6.8.4: detection = interval × multiplier). */
  bfd: z
    .strictObject({
      interval: duration.pipe(z.number().min(10, { error: 'at least 10 ms' })).default(100),
      multiplier: z.number().int().min(1).max(255).default(3),
    })
    .default({ interval: 100, multiplier: 3 }),
});

const popSchema = z.strictObject({
  pop: z.string().min(1),
  /** Optional: a PoP in the list without it is named by the error, rather than by zod's 'required'. */
  bgp: bgpSchema.optional(),
  /** The addresses this PoP serves; default every address of every prefix. */
  addresses: z.array(address).optional(),
});

/** RFC 2439's parameters, in its spirit: figures as Cisco's and BIRD's defaults scale them. */
const dampingSchema = z
  .strictObject({
    /** Added at each withdrawal (a flap). */
    penalty: z.number().min(0).default(1000),
    /** At or above it the route stays withdrawn, healthy or not. */
    suppress: z.number().positive().default(2000),
    /** A suppressed route may come back once the penalty has decayed below this. */
    reuse: z.number().positive().default(750),
    /** The penalty halves every halfLife. */
    halfLife: duration.pipe(z.number().min(1)).default(15_000),
    /** The longest a healthy route is held down, whatever the penalty (RFC 2439's max suppress time). */
    maxHoldDown: duration.default(60_000),
  })
  .refine((d) => d.reuse < d.suppress, { error: 'reuse must be below suppress, or a suppressed route could never come back' })
  .default({ penalty: 1000, suppress: 2000, reuse: 750, halfLife: 15_000, maxHoldDown: 60_000 });

export const anycastSchema = z.strictObject({
  prefixes: z.array(prefixSchema).min(1, { error: 'at least one anycast prefix is needed' }),
  /** How a DNS address's local server is checked (default: SOA of the first zone), over the `health` defaults. */
  dns: probeSettingsSchema.optional(),
  /** How an edge address's local edge is checked (default: the `health` check), over the `health` defaults. */
  edge: probeSettingsSchema.optional(),
  damping: dampingSchema,
  /** The dummy interface the addresses are put on, so local services accept their traffic. */
  interface: ifname.default('mrd-anycast'),
  /** The interface the routes hang on; it exists only while the announcer is alive (lease.ts). */
  lease: z
    .strictObject({
      interface: ifname.default('mrd-lease'),
      /** With no heartbeat from the announcer for this long, the lease lapses (a hung event loop). */
      timeout: duration.pipe(z.number().min(100).max(60_000)).default(1500),
    })
    .default({ interface: 'mrd-lease', timeout: 1500 }),
  pops: z.array(popSchema).min(1, { error: 'list the PoPs that announce, each with its bgp settings' }),
  /** How often the announcer reports its state to the DNS servers (`health.reportTo`). */
  reportInterval: duration.pipe(z.number().min(100).max(60_000)).default(1000),
});

// Loose: the other services' sections are theirs to check. `zones` only for the DNS check's default name.
const fileSchema = z.looseObject({
  ...topologySchema,
  zones: z.array(z.looseObject({ name: z.string() })).optional(),
  anycast: anycastSchema.optional(),
});
export type AnycastFile = z.output<typeof fileSchema>;
export type AnycastSection = z.output<typeof anycastSchema>;
export type BgpSettings = z.output<typeof bgpSchema>;
export type DampingSettings = z.output<typeof dampingSchema>;

export interface AnycastAddress {
  readonly address: string;
  readonly family: 4 | 6;
  readonly serves: 'dns' | 'edge';
  readonly port: number;
  /** The prober's settings for this address's check. */
  readonly settings: ProbeSettings;
}

export interface AnycastPrefix {
  /** As written, e.g. '198.51.100.0/24'. */
  readonly text: string;
  readonly network: IpNetwork;
  /** The addresses in it that this PoP serves (the route is announced while all are healthy). */
  readonly addresses: readonly AnycastAddress[];
}

export interface AnycastConfig {
  readonly file: string;
  readonly pop: string;
  readonly prefixes: readonly AnycastPrefix[];
  readonly bgp: BgpSettings;
  readonly damping: DampingSettings;
  readonly interface: string;
  readonly lease: { readonly interface: string; readonly timeout: number };
  /** The DNS servers' control URLs the state is reported to: `health.reportTo`, as the probers'. */
  readonly reportTo: readonly string[];
  readonly reportInterval: number;
  /** Absolute path of `health.tokenFile`, if set. */
  readonly tokenFile: string | undefined;
  /** Worth a log line, not a refusal (a lab's /32). */
  readonly warnings: readonly string[];
}

export async function loadAnycastConfig(file: string, popId: string): Promise<AnycastConfig> {
  return anycastConfigFrom(file, await readYamlFile(file), popId);
}

/** The parsing and checking of loadAnycastConfig, on data already read (tests). */
export function anycastConfigFrom(file: string, data: unknown, popId: string): AnycastConfig {
  const parsed = parseWith(file, fileSchema, data);
  const section = parsed.anycast;
  if (section === undefined) throw new ConfigError(`${file}: anycast: missing; the announcer needs an anycast section (prefixes, addresses, pops with bgp)`);
  const problems = anycastProblems(parsed, section);
  if (problems.length > 0) throw new ConfigError(problems.map(([path, msg]) => `${file}: ${path}: ${msg}`).join('\n'));
  const popIndex = section.pops.findIndex((p) => p.pop === popId);
  const entry = section.pops[popIndex];
  if (entry === undefined) {
    const known = section.pops.map((p) => p.pop).join(', ');
    throw new ConfigError(`${file}: anycast.pops: no entry for PoP '${popId}' (--pop), so it has no BGP settings; listed: ${known}`);
  }
  // anycastProblems refused an entry without bgp.
  const bgp = entry.bgp!;
  const served = entry.addresses === undefined ? undefined : new Set(entry.addresses);
  const settingsFor = (serves: 'dns' | 'edge'): ProbeSettings => {
    const own = serves === 'dns' ? section.dns : section.edge;
    const zone = parsed.zones?.[0]?.name;
    const fallbackCheck = serves === 'dns' && own?.check === undefined ? { check: { type: 'dns' as const, name: zone ?? '.', qtype: 'SOA' as const, port: 53 } } : {};
    return probeSettingsFor(parsed.health, undefined, { ...fallbackCheck, ...own });
  };
  const prefixes = section.prefixes
    .map((p) => ({
      text: p.prefix.text,
      network: { family: p.prefix.family, address: p.prefix.address, prefix: p.prefix.prefix },
      addresses: p.addresses
        .filter((a) => served === undefined || served.has(a.address))
        .map((a) => {
          const settings = settingsFor(a.serves);
          const port = a.port ?? (settings.check.type === 'dns' ? settings.check.port : a.serves === 'dns' ? 53 : 80);
          return { address: a.address, family: isIPv4(a.address) ? (4 as const) : (6 as const), serves: a.serves, port, settings };
        }),
    }))
    .filter((p) => p.addresses.length > 0);
  return {
    file,
    pop: popId,
    prefixes,
    bgp,
    damping: section.damping,
    interface: section.interface,
    lease: section.lease,
    // The same DNS servers the probers report to, with the same token: one list to keep, and
    // a server that judges a PoP's health is the one that answers its anycast pools.
    reportTo: parsed.health.reportTo,
    reportInterval: section.reportInterval,
    tokenFile: parsed.health.tokenFile === undefined ? undefined : resolvePath(dirname(file), parsed.health.tokenFile),
    warnings: prefixWarnings(section),
  };
}
