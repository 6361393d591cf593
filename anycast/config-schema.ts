// The shape of the `anycast:` section (and of the file around it, for the topology): zod schemas
// and the types they give. Loading and compiling them for one PoP is config.ts; what needs the
// whole file (prefixes against PoPs' unicast addresses, ASNs, a PoP without BGP) is
// config-problems.ts. Both import from here, so neither imports the other.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { duration } from '../common/config-types.js';
import { probeSettingsSchema } from '../common/health-contract.js';
import { topologySchema } from '../common/topology.js';
import { parseCidr } from '../common/ip.js';

const network = z.string().transform((s, ctx) => {
  try {
    return { text: s, ...parseCidr(s) };
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const address = z
  .string()
  .refine((s) => isIPv4(s) || (isIPv6(s) && !s.includes('%')), { error: 'expected an IPv4 or IPv6 address' });

/** An ASN as a number; config-problems.ts refuses the reserved ones with a reason. */
const asn = z.number({ error: 'expected an AS number (1 to 4294967294), e.g. 65001' }).int();

/** Interface names are at most 15 bytes (IFNAMSIZ - 1) and name one interface. */
const ifname = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,15}$/, { error: 'expected an interface name of at most 15 letters, digits, ., - and _' });

const addressSchema = z.strictObject({
  address,
  /** dns: checked with the DNS check, served by `meridian dns`; edge: the HTTP check on an edge. */
  serves: z.enum(['dns', 'edge']),
  /** The local service's port (default 53 for dns, 80 for edge). */
  port: z.number().int().min(1).max(65535).optional(),
});

const prefixSchema = z.strictObject({
  prefix: network,
  addresses: z
    .array(addressSchema)
    .min(1, { error: 'a prefix needs at least one address (what would its route serve?)' }),
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
    .refine((t) => t.hold === 0 || (t.hold >= 3 && t.keepalive < t.hold), {
      error: 'hold must be 0 or at least 3 seconds and above keepalive (RFC 4271 §4.2)',
    })
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
  .refine((d) => d.reuse < d.suppress, {
    error: 'reuse must be below suppress, or a suppressed route could never come back',
  })
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
export const fileSchema = z.looseObject({
  ...topologySchema,
  zones: z.array(z.looseObject({ name: z.string() })).optional(),
  anycast: anycastSchema.optional(),
});
export type AnycastFile = z.output<typeof fileSchema>;
export type AnycastSection = z.output<typeof anycastSchema>;
export type BgpSettings = z.output<typeof bgpSchema>;
export type DampingSettings = z.output<typeof dampingSchema>;
