// RTT from this PoP to the busiest resolver networks, for latency steering on the DNS servers.
// One probe at a time is started, evenly spaced: each network about once per report interval
// when `rate` allows it, else as fast as `rate` allows, round-robin (networks new to the list
// first). Probes have their own timers and sockets, apart from the edge probes' scheduler, so
// measuring never holds up an edge probe.
//
// A probe is one UDP DNS query (`. NS`, RD=0) to the network's sample address, where any
// response with our id counts (a resolver that REFUSES us still answered), or a TCP connect to
// sample:port. The figure is a moving average (EWMA, α = 0.3) of successful probes; a network
// that never answered has no figure, and one that stops answering loses its figure after
// FORGET_AFTER_FAILURES failed probes in a row: no figure beats a wrong one.
import { randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import * as dnsPacket from 'dns-packet';
import type { HealthReport, LatencySettings } from '../common/health-contract.js';
import { describeError } from '../common/describe-error.js';
import { tcpConnect, udpExchange } from './net-probes.js';

export const RTT_ALPHA = 0.3;
/** A figure is dropped after this many failed probes in a row (a lost datagram or two is not enough). */
export const FORGET_AFTER_FAILURES = 3;

export interface RttProbeResult {
  readonly ok: boolean;
  readonly rttMs: number;
  readonly detail?: string;
}

/** Measures one address; never rejects. */
export type RttProbe = (host: string, port: number, timeoutMs: number, signal: AbortSignal) => Promise<RttProbeResult>;

export interface ResolverRttOptions extends Pick<LatencySettings, 'method' | 'port' | 'rate' | 'timeout'> {
  /** The report interval (ms): each network is measured about once per interval if `rate` allows. */
  readonly interval: number;
  /** For tests: replaces the real probe. */
  readonly probe?: RttProbe;
  /** Called after every probe (for metrics); must not throw. */
  onProbe?(ok: boolean): void;
}

export interface ResolverRttStatus {
  readonly network: string;
  readonly sample: string;
  readonly rttMs: number | null;
  readonly consecutiveFailures: number;
  readonly lastDetail: string | null;
  readonly lastProbeAt: string | null;
}

export interface ResolverRtt {
  /** The networks to measure (busiest first); networks not in it are forgotten. */
  setTargets(list: readonly { readonly network: string; readonly sample: string }[]): void;
  /** Figures for a report: measured networks only, in list order. */
  figures(): HealthReport['resolvers'];
  /** Networks in the list, and how many of them have a figure. */
  counts(): { listed: number; measured: number };
  /** Time between probe starts (ms) for the current list; Infinity with no networks. */
  readonly gapMs: number;
  status(): ResolverRttStatus[];
  /** Stops probing and waits for probes in flight (they are aborted). */
  stop(): Promise<void>;
}

interface NetworkState {
  readonly network: string;
  sample: string;
  rttMs: number | null;
  consecutiveFailures: number;
  lastDetail: string | undefined;
  lastProbeAt: Date | undefined;
  inFlight: boolean;
}

export function startResolverRtt(opts: ResolverRttOptions): ResolverRtt {
  const { port, timeout, interval } = opts;
  const probe = opts.probe ?? (opts.method === 'tcp' ? probeTcp : probeDns);
  const minGap = 1000 / opts.rate;
  const stopping = new AbortController();
  // Every probe in flight listens on it: up to rate × timeout of them, more than the default 10.
  setMaxListeners(0, stopping.signal);
  const states = new Map<string, NetworkState>();
  /** Round-robin order; `cursor` is the next one to probe. */
  let order: string[] = [];
  let listOrder: string[] = [];
  let cursor = 0;
  let lastStart = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  const gap = (): number => (order.length === 0 ? Infinity : Math.max(minGap, interval / order.length));

  const arm = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (stopping.signal.aborted || order.length === 0) return;
    timer = setTimeout(tick, Math.max(0, lastStart + gap() - performance.now()));
  };

  const tick = (): void => {
    timer = undefined;
    const now = performance.now();
    // Timers may fire a hair early; the rate is a promise, so wait out the rest.
    if (now < lastStart + minGap) return arm();
    lastStart = now;
    // The next network without a probe in flight (a slow one is skipped, not probed twice).
    for (let i = 0; i < order.length; i++) {
      const state = states.get(order[cursor]!)!;
      cursor = (cursor + 1) % order.length;
      if (state.inFlight) continue;
      launch(state);
      break;
    }
    arm();
  };

  const launch = (state: NetworkState): void => {
    state.inFlight = true;
    const run = probe(state.sample, port, timeout, stopping.signal)
      .catch((err: unknown): RttProbeResult => ({ ok: false, rttMs: 0, detail: describeError(err, timeout) }))
      .then((result) => {
        state.inFlight = false;
        // Stopped, or the network left the list meanwhile: the result is nobody's.
        if (stopping.signal.aborted || states.get(state.network) !== state) return;
        record(state, result);
        opts.onProbe?.(result.ok);
      })
      .finally(() => inFlight.delete(run));
    inFlight.add(run);
  };

  const record = (state: NetworkState, result: RttProbeResult): void => {
    state.lastProbeAt = new Date();
    if (result.ok) {
      state.rttMs = state.rttMs === null ? result.rttMs : state.rttMs + RTT_ALPHA * (result.rttMs - state.rttMs);
      state.consecutiveFailures = 0;
      state.lastDetail = undefined;
    } else {
      state.lastDetail = result.detail;
      if (++state.consecutiveFailures >= FORGET_AFTER_FAILURES) state.rttMs = null;
    }
  };

  return {
    setTargets(list) {
      const incoming = new Map(list.map((t) => [t.network, t.sample]));
      for (const network of states.keys()) if (!incoming.has(network)) states.delete(network);
      // Carry on where the rotation was, with networks new to the list at its head.
      const rotation = [...order.slice(cursor), ...order.slice(0, cursor)].filter((n) => incoming.has(n));
      const fresh: string[] = [];
      for (const [network, sample] of incoming) {
        const state = states.get(network);
        if (state) state.sample = sample;
        else {
          states.set(network, {
            network,
            sample,
            rttMs: null,
            consecutiveFailures: 0,
            lastDetail: undefined,
            lastProbeAt: undefined,
            inFlight: false,
          });
          fresh.push(network);
        }
      }
      order = [...fresh, ...rotation];
      listOrder = [...incoming.keys()];
      cursor = 0;
      // The gap depends on the list's length: re-aim the next probe.
      arm();
    },
    figures: () =>
      listOrder.flatMap((network) => {
        const rtt = states.get(network)?.rttMs ?? null;
        return rtt === null ? [] : [{ network, rttMs: Math.round(rtt * 100) / 100 }];
      }),
    counts() {
      let measured = 0;
      for (const s of states.values()) if (s.rttMs !== null) measured++;
      return { listed: states.size, measured };
    },
    get gapMs() {
      return gap();
    },
    status: () =>
      listOrder.map((network) => {
        const s = states.get(network)!;
        return {
          network,
          sample: s.sample,
          rttMs: s.rttMs === null ? null : Math.round(s.rttMs * 100) / 100,
          consecutiveFailures: s.consecutiveFailures,
          lastDetail: s.lastDetail ?? null,
          lastProbeAt: s.lastProbeAt?.toISOString() ?? null,
        };
      }),
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      timer = undefined;
      await Promise.allSettled([...inFlight]);
    },
  };
}

/**
 * One UDP query for `. NS` without recursion: cheap for any server to answer, and any response
 * with our id counts, REFUSED included. The socket is connected, so datagrams from anyone else
 * are dropped and an ICMP port-unreachable ends the probe at once.
 */
export const probeDns: RttProbe = (host, port, timeoutMs, signal) => {
  const id = randomInt(0, 0x10000);
  const query = dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type: 'NS', name: '.', class: 'IN' }] });
  // Header only: our id and the QR bit. Anything else (a late reply to an earlier probe) is ignored.
  const judge = (msg: Buffer) =>
    msg.length >= 12 && msg.readUInt16BE(0) === id && (msg[2]! & 0x80) !== 0 ? { ok: true } : undefined;
  return udpExchange(host, port, query, judge, timeoutMs, signal);
};

/** A TCP connect: the handshake is one round trip. The connection is dropped at once. */
export const probeTcp: RttProbe = (host, port, timeoutMs, signal) => tcpConnect(host, port, timeoutMs, signal);
