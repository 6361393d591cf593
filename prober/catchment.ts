// Catchment measurement: "who answers this anycast address from here". Every catchment interval
// the prober asks each anycast address of the config once — a DNS address with a query carrying
// the NSID option (RFC 5001), an edge address with GET /healthz — and reads which PoP answered
// from the NSID or the Cache-Status/Via of the response (common/catchment.ts has both formats).
// The latest observation per address goes into every report, with its age; an unanswered
// question is reported as such (pop null, with why), never as the previous answer.
//
// Fresh connections and sockets each time: a pooled connection would stay with the PoP it
// reached first after the routers moved us. Questions run one after another: there are only a
// few anycast addresses, and catchment is slow news.
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { Agent, request } from 'undici';
import { popFromNsid, popFromServedBy } from '../common/catchment.js';
import type { HealthReport } from '../common/health-contract.js';
import { describeError } from '../common/describe-error.js';
import { udpExchange } from './net-probes.js';

export interface AnycastAddress {
  readonly address: string;
  readonly serves: 'dns' | 'edge';
  /** Where the service listens on it (default 53 for dns, 80 for edge). */
  readonly port: number;
}

export interface CatchmentOptions {
  readonly addresses: readonly AnycastAddress[];
  /** The config's PoP ids: an answer naming anything else names no PoP. */
  readonly pops: readonly string[];
  readonly interval: number;
  readonly timeout: number;
  /** Told after every round (the reporter sends the news at once). */
  onRound?(): void;
}

export interface Observation {
  readonly address: string;
  readonly serves: 'dns' | 'edge';
  readonly pop: string | null;
  readonly detail?: string | undefined;
  readonly at: number;
}

export interface Catchment {
  /** The report part; undefined before the first round. */
  report(): HealthReport['catchment'];
  status(): { interval: number; observations: (Observation & { ageMs: number })[] };
  stop(): Promise<void>;
}

type Answer = { pop: string | null; detail?: string };

export function startCatchment(opts: CatchmentOptions): Catchment {
  const latest = new Map<string, Observation>();
  const stopping = new AbortController();
  const agent = new Agent({
    connect: { timeout: opts.timeout },
    headersTimeout: opts.timeout,
    bodyTimeout: opts.timeout,
    pipelining: 0,
  });

  const ask = (a: AnycastAddress): Promise<Answer> =>
    a.serves === 'dns'
      ? askDns(a, opts.pops, opts.timeout, stopping.signal)
      : askEdge(a, opts.pops, opts.timeout, agent, stopping.signal);

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const round = async (): Promise<void> => {
    for (const a of opts.addresses) {
      const answer = await ask(a);
      if (stopping.signal.aborted) return;
      latest.set(a.address, { address: a.address, serves: a.serves, ...answer, at: Date.now() });
    }
    opts.onRound?.();
  };
  const next = (delay: number): void => {
    timer = setTimeout(() => {
      running = round().finally(() => {
        running = undefined;
        if (!stopping.signal.aborted) next(opts.interval);
      });
    }, delay);
  };
  if (opts.addresses.length > 0) next(0);

  return {
    report() {
      if (latest.size === 0) return undefined;
      const now = Date.now();
      return {
        interval: opts.interval,
        observations: [...latest.values()].map((o) => ({
          address: o.address,
          pop: o.pop,
          ageMs: Math.max(0, now - o.at),
          ...(o.detail !== undefined && { detail: o.detail }),
        })),
      };
    },
    status() {
      const now = Date.now();
      return {
        interval: opts.interval,
        observations: [...latest.values()].map((o) => ({ ...o, ageMs: Math.max(0, now - o.at) })),
      };
    },
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await running;
      await agent.close();
    },
  };
}

/** `id.server. CH TXT` with the NSID option: the NSID names the PoP (the TXT answer too, for a server without EDNS). */
async function askDns(
  a: AnycastAddress,
  pops: readonly string[],
  timeout: number,
  signal: AbortSignal,
): Promise<Answer> {
  const id = randomInt(0, 0x10000);
  const query = dnsPacket.encode({
    type: 'query',
    id,
    flags: 0,
    questions: [{ type: 'TXT', name: 'id.server', class: 'CH' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: 1232,
        flags: 0,
        options: [{ code: 3, data: Buffer.alloc(0) }],
      } as unknown as dnsPacket.Answer,
    ],
  } as dnsPacket.Packet);
  let identity: string | undefined;
  const judge = (msg: Buffer) => {
    let decoded: dnsPacket.DecodedPacket;
    try {
      decoded = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    if (decoded.id !== id || !decoded.flag_qr) return undefined;
    identity = nsidOf(decoded) ?? txtOf(decoded);
    return { ok: true };
  };
  const r = await udpExchange(a.address, a.port, query, judge, timeout, signal);
  if (!r.ok) return { pop: null, detail: r.detail ?? 'no answer' };
  if (identity === undefined) return { pop: null, detail: 'answered without NSID or id.server' };
  const pop = popFromNsid(identity, pops);
  return pop === null
    ? { pop: null, detail: `answered by '${identity.slice(0, 100)}', which names no PoP of the config` }
    : { pop };
}

function nsidOf(p: dnsPacket.DecodedPacket): string | undefined {
  const opt = (p.additionals ?? []).find((rr) => rr.type === 'OPT') as
    { options?: { code: number; data?: Buffer }[] } | undefined;
  const data = opt?.options?.find((o) => o.code === 3)?.data;
  return data && data.length > 0 ? data.toString('utf8') : undefined;
}

function txtOf(p: dnsPacket.DecodedPacket): string | undefined {
  const txt = (p.answers ?? []).find((rr) => rr.type === 'TXT') as { data?: Buffer[] | Buffer } | undefined;
  const data = txt?.data;
  if (data === undefined) return undefined;
  return (Array.isArray(data) ? Buffer.concat(data) : data).toString('utf8');
}

/** GET /healthz: the edge answers it itself, naming its PoP in Cache-Status (any status will do). */
async function askEdge(
  a: AnycastAddress,
  pops: readonly string[],
  timeout: number,
  agent: Agent,
  signal: AbortSignal,
): Promise<Answer> {
  const host = isIPv6(a.address) ? `[${a.address}]` : a.address;
  try {
    const res = await request(`http://${host}:${a.port}/healthz`, {
      dispatcher: agent,
      headers: { 'user-agent': 'meridian-health (catchment)', connection: 'close' },
      signal: AbortSignal.any([AbortSignal.timeout(timeout), signal]),
    });
    await res.body.dump();
    const header = (name: string) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    const pop = popFromServedBy(header('cache-status'), header('via'), pops);
    return pop === null
      ? { pop: null, detail: `HTTP ${res.statusCode} without a Cache-Status or Via naming a PoP of the config` }
      : { pop };
  } catch (e) {
    return { pop: null, detail: describeError(e, timeout) };
  }
}
