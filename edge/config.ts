// The edge cache's part of the topology file: the `edge:` section (origin, byte budgets,
// timeouts, query normalisation, control port) and, per PoP, where it listens and whether it
// fetches from a shield PoP instead of the origin.
import { z } from 'zod';
import { ConfigError, parseWith, readYamlFile } from '../common/config-file.js';
import { allowedHosts, byteSize, duration, hostPort } from '../common/config-types.js';
import { parseCidr } from '../common/ip.js';
import type { HostPort } from '../common/host-port.js';
import { LOG_LEVELS } from '../common/log.js';
import { topologyProblems, topologySchema } from '../common/topology.js';
import { workersSetting, type WorkersSetting } from '../common/workers.js';

const paramPattern = z
  .string()
  .regex(/^[^&=*]+\*?$|^\*$/, { error: "expected a parameter name, optionally ending in '*'" });

const querySchema = z.union([
  z.strictObject({ deny: z.array(paramPattern) }),
  z.strictObject({ allow: z.array(paramPattern) }),
]);

const DEFAULT_DENY = ['utm_*', 'fbclid', 'gclid'];

// Set by the edge itself or hop-by-hop: listing one would be a promise the edge cannot keep.
const NOT_LISTABLE = new Set([
  'host',
  'via',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
]);

const cidr = z.string().superRefine((text, ctx) => {
  try {
    parseCidr(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const forwardedHeader = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected an HTTP header name' })
  .transform((h) => h.toLowerCase())
  .refine((h) => !NOT_LISTABLE.has(h), {
    error: 'the edge sets or strips this header itself; it cannot be forwarded from clients',
  });

const positiveDuration = duration.refine((ms) => ms > 0, { error: 'expected a duration above zero' });

const edgeSchema = z.strictObject({
  /** Where misses go (a shield PoP's edge replaces it for PoPs with `shield`). */
  origin: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  /** Host header sent to the origin; default: the client's. */
  originHost: z.string().min(1).optional(),
  maxBytes: byteSize.default(256 * 1024 * 1024),
  maxObjectBytes: byteSize.default(8 * 1024 * 1024),
  timeouts: z
    .strictObject({
      connect: duration.default(2000),
      headers: duration.default(10_000),
      body: duration.default(30_000),
    })
    .default({ connect: 2000, headers: 10_000, body: 30_000 }),
  /**
   * Client side: a request head must arrive within `headers`; a connection whose queued answer
   * makes no progress (the client takes no bytes) for `sendStall` is closed.
   */
  clientTimeouts: z
    .strictObject({ headers: positiveDuration.default(20_000), sendStall: positiveDuration.default(30_000) })
    .default({ headers: 20_000, sendStall: 30_000 }),
  /** Connections per upstream (origin or shield). */
  connections: z.number().int().min(1).max(10_000).default(64),
  query: querySchema.default({ deny: DEFAULT_DENY }),
  /** /healthz answers 503 once the origin has been unreachable this long. */
  originDownAfter: duration.default(30_000),
  /** How long an uncacheable answer lets requests for its URL skip collapsing. */
  hitForMiss: duration.default(10_000),
  /** Serving processes: 'auto' = one per core less one, at least one (node:cluster workers sharing the listener when > 1). */
  workers: workersSetting.default('auto'),
  /** Synthetic load each serving process answers on loopback before it listens (warm-up.ts); 0 for none. */
  warmUp: duration.default(1_000),
  /** Proxies in front (a TLS terminator, a load balancer) whose X-Forwarded-Proto/-For the edge believes. */
  trustedProxies: z.array(cidr).default([]),
  /** Client headers forwarded beyond the default rule (pipeline/forward-headers.ts); each keys the cache. */
  forwardHeaders: z.array(forwardedHeader).default([]),
  /**
   * A client's no-cache / max-age / min-fresh / Pragma against a stored response: 'ignore' (the
   * default, as the large CDNs do) serves it from storage while fresh; 'obey' follows RFC 9111
   * §5.2.1 and refetches, replacing the shared object.
   */
  requestCacheControl: z.enum(['ignore', 'obey']).default('ignore'),
  control: z
    .strictObject({
      listen: hostPort.optional(),
      token: z.string().min(1).optional(),
      tokenFile: z.string().optional(),
      allowedHosts,
      /** PURGE on the proxy port from a loopback address without the token (off: behind a TLS terminator on this host, loopback is everyone). */
      trustLoopback: z.boolean().default(false),
    })
    .default({ allowedHosts: [], trustLoopback: false }),
  log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).default({ level: 'info' }),
});

const popId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'expected a PoP id' });

// The shared PoP schema is strict; the edge adds `shield` to it for its own reading.
const popSchema = topologySchema.pops.unwrap().element.extend({ shield: popId.optional() });

// Loose: the other services' sections (dns, zones, geo, health) are theirs to check.
const fileSchema = z.looseObject({
  ...topologySchema,
  pops: z.array(popSchema).default([]),
  edge: edgeSchema,
});

export type QueryFilter = { readonly deny: readonly string[] } | { readonly allow: readonly string[] };

export interface EdgeConfig {
  readonly file: string;
  readonly pop: string;
  /** Where this edge accepts client requests. */
  readonly listen: HostPort;
  /** Where misses go: the origin, or the shield PoP's edge. */
  readonly upstream: URL;
  /** The shield PoP's id when `upstream` is a shield. */
  readonly shield: string | undefined;
  readonly originHost: string | undefined;
  readonly maxBytes: number;
  readonly maxObjectBytes: number;
  readonly timeouts: { readonly connect: number; readonly headers: number; readonly body: number };
  /** Client connections (ms): head arrival, and how long a queued answer may make no progress. */
  readonly clientTimeouts: { readonly headers: number; readonly sendStall: number };
  readonly connections: number;
  readonly query: QueryFilter;
  readonly originDownAfter: number;
  readonly hitForMiss: number;
  /** Serving processes (the CLI's --workers overrides it). */
  readonly workers: WorkersSetting;
  /** ms of synthetic loopback load before listening (warm-up.ts); 0 for none. */
  readonly warmUp: number;
  readonly trustedProxies: readonly string[];
  readonly forwardHeaders: readonly string[];
  readonly requestCacheControl: 'ignore' | 'obey';
  readonly control: {
    readonly listen?: HostPort | undefined;
    readonly token?: string | undefined;
    readonly tokenFile?: string | undefined;
    /** Host names the control port answers to besides IP addresses and localhost. */
    readonly allowedHosts?: readonly string[] | undefined;
    /** PURGE on the proxy port from loopback without the token. */
    readonly trustLoopback: boolean;
  };
  readonly logLevel: string;
  /** Every PoP id, so requests from our own edges (shield traffic) can be recognised. */
  readonly popIds: readonly string[];
}

export interface EdgeOverrides {
  listen?: HostPort;
  control?: HostPort;
}

export async function loadEdgeConfig(file: string, popId: string, overrides: EdgeOverrides = {}): Promise<EdgeConfig> {
  return edgeConfigFrom(file, await readYamlFile(file), popId, overrides);
}

export function edgeConfigFrom(file: string, data: unknown, popId: string, overrides: EdgeOverrides = {}): EdgeConfig {
  const parsed = parseWith(file, fileSchema, data);
  const fail = (path: string, message: string): never => {
    throw new ConfigError(`${file}: ${path}: ${message}`);
  };
  const problems = topologyProblems(parsed);
  if (problems.length > 0) throw new ConfigError(problems.map(([path, msg]) => `${file}: ${path}: ${msg}`).join('\n'));

  const { edge, pops } = parsed;
  const index = pops.findIndex((p) => p.id === popId);
  if (index < 0)
    fail('pops', `no PoP with id '${popId}' (--pop); known: ${pops.map((p) => p.id).join(', ') || 'none'}`);
  const pop = pops[index]!;

  pops.forEach((p, i) => {
    if (p.shield === undefined) return;
    const shield = pops.find((s) => s.id === p.shield);
    if (!shield) fail(`pops[${i}].shield`, `no PoP with id '${p.shield}'`);
    if (shield!.edge === undefined) fail(`pops[${i}].shield`, `shield PoP '${p.shield}' has no edge URL`);
    // Follow the chain: a cycle would send every miss round the PoPs forever.
    const seen = new Set([p.id]);
    for (let s: typeof p | undefined = shield; s?.shield !== undefined; s = pops.find((q) => q.id === s!.shield)) {
      if (seen.has(s.id)) fail(`pops[${i}].shield`, `shield chain loops: ${[...seen, s.id].join(' → ')}`);
      seen.add(s.id);
    }
  });

  if (edge.maxObjectBytes > edge.maxBytes)
    fail('edge.maxObjectBytes', `${edge.maxObjectBytes} is larger than edge.maxBytes (${edge.maxBytes})`);

  let listen = overrides.listen;
  if (!listen) {
    if (pop.edge === undefined)
      fail(`pops[${index}].edge`, `PoP '${popId}' has no edge URL to listen on; give --listen`);
    const url = new URL(pop.edge!);
    if (url.protocol !== 'http:')
      fail(`pops[${index}].edge`, `the edge serves plain HTTP; '${pop.edge}' needs TLS in front, or give --listen`);
    listen = { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port === '' ? 80 : Number(url.port) };
  }

  const shieldPop = pop.shield === undefined ? undefined : pops.find((p) => p.id === pop.shield);
  return {
    file,
    pop: popId,
    listen,
    upstream: new URL(shieldPop?.edge ?? edge.origin),
    shield: shieldPop?.id,
    originHost: edge.originHost,
    maxBytes: edge.maxBytes,
    maxObjectBytes: edge.maxObjectBytes,
    timeouts: edge.timeouts,
    clientTimeouts: edge.clientTimeouts,
    connections: edge.connections,
    query: edge.query,
    originDownAfter: edge.originDownAfter,
    hitForMiss: edge.hitForMiss,
    warmUp: edge.warmUp,
    workers: edge.workers,
    trustedProxies: edge.trustedProxies,
    forwardHeaders: [...new Set(edge.forwardHeaders)],
    requestCacheControl: edge.requestCacheControl,
    control: { ...edge.control, ...(overrides.control && { listen: overrides.control }) },
    logLevel: edge.log.level,
    popIds: pops.map((p) => p.id),
  };
}
