// DNS counters kept in a typed array on the hot path (an index and an add, no label hashing)
// and turned into Prometheus series only when /metrics is scraped.
import { Counter, Gauge, type Registry } from 'prom-client';
import { FastHistogram, type HistogramSnapshot } from '../../common/histogram.js';
import { RcodeName, Type, typeName } from '../wire/constants.js';
import { KIND_NAMES, type Kind } from '../rrl/classify.js';
import type { RrlCounters } from '../rrl/limiter.js';

export type Transport = 'udp' | 'tcp';
const TRANSPORTS: readonly Transport[] = ['udp', 'tcp'];

/** QTYPEs reported by name; the rest are counted as "other" so label cardinality stays bounded. */
const REPORTED_TYPES = [
  Type.A,
  Type.AAAA,
  Type.CNAME,
  Type.NS,
  Type.SOA,
  Type.MX,
  Type.TXT,
  Type.SRV,
  Type.CAA,
  Type.PTR,
  Type.ANY,
  Type.HTTPS,
  Type.SVCB,
  Type.DS,
  Type.AXFR,
  Type.IXFR,
];
const TYPE_LABELS = [...REPORTED_TYPES.map(typeName), 'other'];
const typeIndex = new Uint8Array(65536).fill(REPORTED_TYPES.length);
REPORTED_TYPES.forEach((t, i) => (typeIndex[t] = i));

const RCODES = [0, 1, 2, 3, 4, 5, 9, 16, 23];
const rcodeIndex = new Uint8Array(4096).fill(RCODES.length);
RCODES.forEach((r, i) => (rcodeIndex[r] = i));
const RCODE_LABELS = [...RCODES.map((r) => RcodeName[r]!), 'other'];

const NT = TYPE_LABELS.length;
const NR = RCODE_LABELS.length;

export type DropReason = 'malformed' | 'response' | 'spoofed_port' | 'oversize';

/** A worker's counters as plain data, summed into the primary's /metrics. */
export interface DnsMetricsSnapshot {
  readonly answered: number[];
  readonly dropped: [DropReason, number][];
  readonly truncated: number;
  readonly tcpOpen: number;
  readonly tcpTotal: number;
  readonly tcpRefused: number;
  readonly tcpRefusedNetwork: number;
  readonly tcpReadTimeouts: number;
  readonly rrl: RrlSnapshot;
  readonly latency: HistogramSnapshot;
}

/** Response rate limiting (dns/rrl/): what it did, and the networks it limits now. */
export interface RrlSnapshot {
  /** Responses over their rate, by kind (KIND_NAMES order); log-only ones included. */
  readonly limited: number[];
  /** Sent truncated (TC) instead. */
  readonly slipped: number;
  /** Not sent. */
  readonly dropped: number;
  /** UDP queries not limited because their network is in dns.rrl.exempt … */
  readonly exemptNetwork: number;
  /** … or because they carried a valid server cookie. */
  readonly exemptCookie: number;
  /** Client networks with a bucket limiting now. */
  readonly limitedNetworks: number;
}

/** What `meridian status` shows of the protections: RRL, and the TCP caps (RFC 7766 §10). */
export interface ProtectionCounters {
  readonly rrl: Omit<RrlSnapshot, 'limited'> & { readonly limited: Record<string, number> };
  readonly tcp: {
    readonly open: number;
    readonly accepted: number;
    readonly refused: number;
    readonly refusedNetwork: number;
    readonly readTimeouts: number;
  };
}

export class DnsMetrics implements RrlCounters {
  private readonly answered = new Float64Array(TRANSPORTS.length * NT * NR);
  private readonly dropped = new Map<DropReason, number>();
  private truncated = 0;
  private tcpOpen = 0;
  private tcpTotal = 0;
  private tcpRefused = 0;
  private tcpRefusedNetwork = 0;
  private tcpReadTimeouts = 0;
  private readonly rrlLimitedByKind = new Float64Array(KIND_NAMES.length);
  private rrlSlippedCount = 0;
  private rrlDroppedCount = 0;
  private rrlExemptNetwork = 0;
  private rrlExemptCookie = 0;
  /** How many client networks this process limits now (DnsCore sets it to its limiter's). */
  rrlLimitedNetworks: () => number = () => 0;
  private readonly popTransitions = new Map<string, number>();
  readonly latency = new FastHistogram(
    'meridian_dns_answer_seconds',
    'Time from receiving a query to handing its response to the socket',
    [5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2],
  );

  /** The serving workers' latest counters, when this process is a primary that serves none. */
  remote: readonly DnsMetricsSnapshot[] = [];

  constructor(registry: Registry) {
    const self = this;
    new Counter({
      name: 'meridian_dns_queries_total',
      help: 'DNS responses sent, by transport, query type and response code',
      labelNames: ['transport', 'qtype', 'rcode'],
      registers: [registry],
      collect() {
        this.reset();
        const answered = Float64Array.from(self.answered);
        for (const r of self.remote) r.answered.forEach((v, i) => (answered[i]! += v));
        answered.forEach((v, i) => {
          if (v === 0) return;
          const r = i % NR;
          const t = Math.floor(i / NR) % NT;
          const tr = Math.floor(i / (NR * NT));
          this.inc({ transport: TRANSPORTS[tr]!, qtype: TYPE_LABELS[t]!, rcode: RCODE_LABELS[r]! }, v);
        });
      },
    });
    new Counter({
      name: 'meridian_dns_dropped_total',
      help: 'Datagrams and messages dropped without an answer, by reason',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, v] of self.dropped) this.inc({ reason }, v);
        for (const r of self.remote) for (const [reason, v] of r.dropped) this.inc({ reason }, v);
      },
    });
    new Counter({
      name: 'meridian_dns_truncated_total',
      help: 'UDP responses sent truncated (TC) because they exceeded the payload size',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.sum('truncated'));
      },
    });
    new Gauge({
      name: 'meridian_dns_tcp_connections',
      help: 'Open DNS-over-TCP connections',
      registers: [registry],
      collect() {
        this.set(self.sum('tcpOpen'));
      },
    });
    new Counter({
      name: 'meridian_dns_tcp_connections_total',
      help: 'DNS-over-TCP connections accepted',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.sum('tcpTotal'));
      },
    });
    new Counter({
      name: 'meridian_dns_tcp_connections_refused_total',
      help: 'DNS-over-TCP connections refused because the connection cap was reached',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.sum('tcpRefused'));
      },
    });
    new Counter({
      name: 'meridian_dns_tcp_connections_refused_network_total',
      help: 'DNS-over-TCP connections closed at once because their client network (/24, /56) had dns.tcp.maxConnectionsPerNetwork open',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.sum('tcpRefusedNetwork'));
      },
    });
    new Counter({
      name: 'meridian_dns_tcp_read_timeouts_total',
      help: 'DNS-over-TCP connections closed because part of a message was left unfinished for dns.tcp.readTimeout',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.sum('tcpReadTimeouts'));
      },
    });
    new Counter({
      name: 'meridian_dns_rrl_limited_total',
      help: 'UDP responses over their response rate limit (dns.rrl), by kind; each was slipped or dropped unless dns.rrl.logOnly',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        self.rrlTotals().limited.forEach((v, k) => v > 0 && this.inc({ kind: KIND_NAMES[k]! }, v));
      },
    });
    new Counter({
      name: 'meridian_dns_rrl_slipped_total',
      help: 'Rate-limited UDP responses sent truncated (TC=1, no records) so a real client retries over TCP (dns.rrl.slip)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.rrlTotals().slipped);
      },
    });
    new Counter({
      name: 'meridian_dns_rrl_dropped_total',
      help: 'Rate-limited UDP responses not sent',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(self.rrlTotals().dropped);
      },
    });
    new Counter({
      name: 'meridian_dns_rrl_exempt_total',
      help: 'UDP queries exempt from response rate limiting, by reason: network (dns.rrl.exempt) or cookie (a valid server cookie)',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        const t = self.rrlTotals();
        this.inc({ reason: 'network' }, t.exemptNetwork);
        this.inc({ reason: 'cookie' }, t.exemptCookie);
      },
    });
    new Gauge({
      name: 'meridian_dns_rrl_limited_networks',
      help: 'Client networks (dns.rrl prefix lengths) whose responses are being rate-limited now (summed over serving workers)',
      registers: [registry],
      collect() {
        this.set(self.rrlTotals().limitedNetworks);
      },
    });
    new Counter({
      name: 'meridian_dns_pop_state_changes_total',
      help: 'Quorum health verdict changes per PoP, by the state changed to',
      labelNames: ['pop', 'to'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, v] of self.popTransitions) {
          const [pop, to] = key.split('\n') as [string, string];
          this.inc({ pop, to }, v);
        }
      },
    });
    this.latency.register(registry);
  }

  snapshot(): DnsMetricsSnapshot {
    return {
      answered: [...this.answered],
      dropped: [...this.dropped],
      truncated: this.truncated,
      tcpOpen: this.tcpOpen,
      tcpTotal: this.tcpTotal,
      tcpRefused: this.tcpRefused,
      tcpRefusedNetwork: this.tcpRefusedNetwork,
      tcpReadTimeouts: this.tcpReadTimeouts,
      rrl: this.rrlOwn(),
      latency: this.latency.snapshot(),
    };
  }

  /** This process's and the workers' RRL counters, summed. */
  rrlTotals(): RrlSnapshot {
    const own = this.rrlOwn();
    const limited = [...own.limited];
    let { slipped, dropped, exemptNetwork, exemptCookie, limitedNetworks } = own;
    for (const r of this.remote) {
      r.rrl.limited.forEach((v, k) => (limited[k] = (limited[k] ?? 0) + v));
      slipped += r.rrl.slipped;
      dropped += r.rrl.dropped;
      exemptNetwork += r.rrl.exemptNetwork;
      exemptCookie += r.rrl.exemptCookie;
      limitedNetworks += r.rrl.limitedNetworks;
    }
    return { limited, slipped, dropped, exemptNetwork, exemptCookie, limitedNetworks };
  }

  /** For `meridian status` (GET /v1/status): RRL and the TCP caps, summed over workers. */
  protection(): ProtectionCounters {
    const rrl = this.rrlTotals();
    return {
      rrl: { ...rrl, limited: Object.fromEntries(KIND_NAMES.map((k, i) => [k, rrl.limited[i] ?? 0])) },
      tcp: {
        open: this.sum('tcpOpen'),
        accepted: this.sum('tcpTotal'),
        refused: this.sum('tcpRefused'),
        refusedNetwork: this.sum('tcpRefusedNetwork'),
        readTimeouts: this.sum('tcpReadTimeouts'),
      },
    };
  }

  private rrlOwn(): RrlSnapshot {
    return {
      limited: [...this.rrlLimitedByKind],
      slipped: this.rrlSlippedCount,
      dropped: this.rrlDroppedCount,
      exemptNetwork: this.rrlExemptNetwork,
      exemptCookie: this.rrlExemptCookie,
      limitedNetworks: this.rrlLimitedNetworks(),
    };
  }

  /** Sets the workers' counters to report beside this process's own. */
  setRemote(snapshots: readonly DnsMetricsSnapshot[]): void {
    this.remote = snapshots;
    this.latency.remote = snapshots.map((s) => s.latency);
  }

  private sum(
    field: 'truncated' | 'tcpOpen' | 'tcpTotal' | 'tcpRefused' | 'tcpRefusedNetwork' | 'tcpReadTimeouts',
  ): number {
    return this.remote.reduce((n, r) => n + r[field], this[field]);
  }

  popTransition(pop: string, to: 'up' | 'down'): void {
    const key = `${pop}\n${to}`;
    this.popTransitions.set(key, (this.popTransitions.get(key) ?? 0) + 1);
  }

  answer(transport: 0 | 1, qtype: number, rcode: number): void {
    this.answered[(transport * NT + typeIndex[qtype]!) * NR + rcodeIndex[rcode & 0xfff]!]! += 1;
  }

  drop(reason: DropReason): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  truncate(): void {
    this.truncated++;
  }

  tcpOpened(): void {
    this.tcpOpen++;
    this.tcpTotal++;
  }

  tcpClosed(): void {
    this.tcpOpen--;
  }

  tcpRefusedOne(): void {
    this.tcpRefused++;
  }

  tcpRefusedForNetwork(): void {
    this.tcpRefusedNetwork++;
  }

  tcpReadTimedOut(): void {
    this.tcpReadTimeouts++;
  }

  rrlLimited(kind: Kind): void {
    this.rrlLimitedByKind[kind]! += 1;
  }

  rrlSlipped(): void {
    this.rrlSlippedCount++;
  }

  rrlDropped(): void {
    this.rrlDroppedCount++;
  }

  rrlExempt(reason: 'network' | 'cookie'): void {
    if (reason === 'network') this.rrlExemptNetwork++;
    else this.rrlExemptCookie++;
  }
}
