// Which resolver networks to measure: the busiest ones, pulled from the DNS servers'
// `GET /v1/resolvers?limit=N` at start and every `refresh`. With several DNS servers their lists
// are merged (query counts added up, one entry per network, the sample from the server that saw
// the network most) and cut to the `limit` busiest. A DNS server that cannot be reached keeps
// contributing the last list it gave: a control-port outage must not empty the measurements.
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { z } from 'zod';
import type { Logger } from '../common/log.js';
import { describeError } from '../common/describe-error.js';
import { readHead } from '../common/read-head.js';

export const RESOLVERS_PATH = '/v1/resolvers';

/** A DNS server whose list cannot be pulled is logged once per this many ms. */
export const LIST_FAILURE_LOG_INTERVAL_MS = 60_000;

/** 10,000 IPv6 entries are well under 2 MiB; anything bigger is not a resolver list. */
const MAX_BODY = 4 * 1024 * 1024;

export interface ResolverTarget {
  /** `198.51.100.0/24` or `2001:db8:1::/48`: the unit the DNS server steers by. */
  readonly network: string;
  /** A resolver address in it (the last one the DNS server saw): what is probed. */
  readonly sample: string;
  /** Queries counted for it (summed over DNS servers). */
  readonly queries: number;
}

// Loose objects: a DNS server may add fields. Entries must fit the report schema (network ≤ 64).
const responseSchema = z.looseObject({
  resolvers: z
    .array(
      z.looseObject({
        network: z.string().min(1).max(64),
        sample: z.string().refine((s) => isIP(s) !== 0, { error: 'expected an IP address' }),
        queries: z.number().min(0),
      }),
    )
    .max(10_000),
});

export interface ResolverListOptions {
  /** The DNS servers' control URLs (`health.reportTo`). */
  readonly reportTo: readonly string[];
  /** How many networks to ask each DNS server for, and to keep after merging. */
  readonly limit: number;
  /** Pull interval (ms). */
  readonly refresh: number;
  /** Per pull (ms); default min(refresh, 5 s). */
  readonly timeout?: number;
  readonly token?: string | undefined;
  readonly log: Logger;
  /** Called with the merged list whenever it changed; must not throw. */
  onList?(list: readonly ResolverTarget[]): void;
  /** Called once per pull attempt (for metrics); must not throw. */
  onResult?(url: string, ok: boolean): void;
}

export interface ResolverSourceStatus {
  readonly url: string;
  readonly lastPulledAt: string | null;
  readonly lastError: string | null;
  /** Networks in the last list this DNS server gave. */
  readonly networks: number;
}

export interface ResolverList {
  /** The merged list (busiest first); empty before the first successful pull. */
  current(): readonly ResolverTarget[];
  status(): ResolverSourceStatus[];
  /** Pulls from every DNS server now (the timer does the same); resolves when all are done. */
  pull(): Promise<void>;
  /** Stops the timer and abandons pulls in flight. */
  stop(): Promise<void>;
}

interface Source {
  readonly url: string;
  readonly endpoint: string;
  list: readonly ResolverTarget[];
  lastPulledAt: Date | null;
  lastError: string | null;
  lastLoggedAt: number;
  notLogged: number;
}

export function startResolverList(opts: ResolverListOptions): ResolverList {
  const { log, limit } = opts;
  const timeout = opts.timeout ?? Math.min(opts.refresh, 5000);
  const agent = new Agent({ connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout });
  const stopping = new AbortController();
  const headers: Record<string, string> = { accept: 'application/json' };
  // The route needs no token today; sending it costs nothing and survives it becoming protected.
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const sources: Source[] = opts.reportTo.map((url) => ({
    url,
    endpoint: `${url.replace(/\/+$/, '')}${RESOLVERS_PATH}?limit=${limit}`,
    list: [],
    lastPulledAt: null,
    lastError: null,
    lastLoggedAt: -Infinity,
    notLogged: 0,
  }));
  let merged: readonly ResolverTarget[] = [];
  let mergedKey = '';

  const fetchList = async (source: Source): Promise<ResolverTarget[]> => {
    const res = await request(source.endpoint, {
      method: 'GET',
      dispatcher: agent,
      headers,
      signal: AbortSignal.any([AbortSignal.timeout(timeout), stopping.signal]),
    });
    if (res.statusCode !== 200) {
      const text = (await readHead(res.body, 300)).trim();
      throw new Error(`HTTP ${res.statusCode}${text ? `: ${text}` : ''}`);
    }
    const text = await readHead(res.body, MAX_BODY);
    if (text.length >= MAX_BODY) throw new Error(`response larger than ${MAX_BODY} bytes`);
    const parsed = responseSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`unexpected response: ${issue.path.join('.')}: ${issue.message}`);
    }
    return parsed.data.resolvers.map((r) => ({
      network: r.network,
      sample: plainAddress(r.sample),
      queries: r.queries,
    }));
  };

  const pullFrom = async (source: Source): Promise<void> => {
    try {
      source.list = await fetchList(source);
      if (source.lastError !== null)
        log.info({ url: source.url, networks: source.list.length }, 'resolver list pulled again');
      source.lastPulledAt = new Date();
      source.lastError = null;
      opts.onResult?.(source.url, true);
    } catch (err) {
      if (stopping.signal.aborted) return;
      // The last list stays: better slightly old networks than none.
      source.lastError = describeError(err, timeout);
      opts.onResult?.(source.url, false);
      const now = performance.now();
      if (now - source.lastLoggedAt < LIST_FAILURE_LOG_INTERVAL_MS) {
        source.notLogged++;
        return;
      }
      log.warn(
        { url: source.url, error: source.lastError, keeping: source.list.length, failuresNotLogged: source.notLogged },
        'resolver list not pulled',
      );
      source.lastLoggedAt = now;
      source.notLogged = 0;
    }
  };

  const remerge = (): void => {
    const next = mergeLists(
      sources.map((s) => s.list),
      limit,
    );
    const key = next.map((t) => `${t.network} ${t.sample}`).join('\n');
    merged = next;
    if (key === mergedKey) return;
    mergedKey = key;
    opts.onList?.(next);
  };

  let round: Promise<void> | undefined;
  const pull = (): Promise<void> =>
    // A slow DNS server delays the next round rather than piling pulls up.
    (round ??= Promise.allSettled(sources.map(pullFrom))
      .then(() => {
        if (!stopping.signal.aborted) remerge();
      })
      .finally(() => (round = undefined)));

  void pull();
  const timer = setInterval(() => void pull(), opts.refresh);

  return {
    current: () => merged,
    status: () =>
      sources.map((s) => ({
        url: s.url,
        lastPulledAt: s.lastPulledAt?.toISOString() ?? null,
        lastError: s.lastError,
        networks: s.list.length,
      })),
    pull,
    async stop() {
      stopping.abort();
      clearInterval(timer);
      await round;
      await agent.close();
    },
  };
}

/** One entry per network, query counts summed, the busiest `limit` first. */
export function mergeLists(lists: readonly (readonly ResolverTarget[])[], limit: number): ResolverTarget[] {
  const byNetwork = new Map<string, { sample: string; queries: number; best: number }>();
  for (const list of lists) {
    for (const { network, sample, queries } of list) {
      const entry = byNetwork.get(network);
      if (!entry) byNetwork.set(network, { sample, queries, best: queries });
      else {
        entry.queries += queries;
        if (queries > entry.best) Object.assign(entry, { sample, best: queries });
      }
    }
  }
  return [...byNetwork]
    .sort((a, b) => b[1].queries - a[1].queries)
    .slice(0, limit)
    .map(([network, e]) => ({ network, sample: e.sample, queries: e.queries }));
}

/** `::ffff:192.0.2.1` (a v4 resolver seen on a dual-stack socket) is probed as 192.0.2.1. */
function plainAddress(ip: string): string {
  const v4 = ip.toLowerCase().startsWith('::ffff:') ? ip.slice(7) : ip;
  return isIP(v4) === 4 ? v4 : ip;
}
