// Response rate limiting for one serving process: is this UDP response to this client sent,
// sent truncated (slip), or not sent? The client's network (server/client-network.ts) and what
// the response is (classify.ts) pick a bucket (buckets.ts); exempt networks skip it all. The
// query handler asks only over UDP and only without a valid server cookie: TCP and a returning
// cookie prove the address is the client's own, so no reflection can go through them.
//
// Per query: a few typed-array reads and writes and two hashes over the network bytes and the
// name; nothing is allocated but when a log line is written.
import { performance } from 'node:perf_hooks';
import type { Query } from '../wire/query.js';
import { writeAddressBytes } from '../wire/address-bytes.js';
import type { Response } from '../answer/types.js';
import { inNetwork, keepNetworkBits, type NetworkPrefixes } from '../server/client-network.js';
import { BucketTable, DROP, PASS, SLIP, STARTED } from './buckets.js';
import { classify, Kind, type Classified } from './classify.js';
import type { RrlSettings } from './config.js';
import type { LimitLog } from './limit-log.js';

export { DROP, PASS, SLIP } from './buckets.js';

/** Where the limiter counts what it did (server/metrics.ts). */
export interface RrlCounters {
  rrlLimited(kind: Kind): void;
  rrlSlipped(): void;
  rrlDropped(): void;
  rrlExempt(reason: 'network' | 'cookie'): void;
}

export interface LimiterOptions {
  readonly counters?: RrlCounters | null;
  readonly log?: LimitLog | null;
  /**
   * Serving processes sharing the listeners, each with its own table: each allows 1/N of every
   * rate, as the kernel spreads a network's datagrams over them (at least 1 a second each).
   */
  readonly share?: number;
  /** ms, monotonic. */
  readonly now?: () => number;
  /** Hash seeds; random unless a test fixes them. */
  readonly seeds?: readonly [number, number];
}

const noCounters: RrlCounters = {
  rrlLimited() {},
  rrlSlipped() {},
  rrlDropped() {},
  rrlExempt() {},
};

export class ResponseLimiter {
  private readonly table: BucketTable;
  /** Tokens a second, by Kind; 0 = that kind is not limited. */
  private readonly rates: Float64Array;
  readonly prefixes: NetworkPrefixes;
  private readonly counters: RrlCounters;
  private readonly log: LimitLog | null;
  private readonly now: () => number;
  private readonly seed1: number;
  private readonly seed2: number;
  /** Scratch: the client's address, then its network. */
  private readonly address = new Uint8Array(16);
  private readonly what: Classified = { kind: Kind.ERROR, name: '', qtype: 0 };

  constructor(
    readonly settings: RrlSettings,
    opts: LimiterOptions = {},
  ) {
    const share = Math.max(1, opts.share ?? 1);
    const rate = (perSecond: number) => (perSecond === 0 ? 0 : Math.max(1, perSecond / share));
    this.rates = Float64Array.from(
      [
        settings.responsesPerSecond,
        settings.nodataPerSecond,
        settings.nxdomainsPerSecond,
        settings.referralsPerSecond,
        settings.errorsPerSecond,
      ],
      rate,
    );
    this.table = new BucketTable(settings.tableSize, settings.window * 1000, settings.slip);
    this.prefixes = { ipv4: settings.ipv4PrefixLength, ipv6: settings.ipv6PrefixLength };
    this.counters = opts.counters ?? noCounters;
    this.log = opts.log ?? null;
    // +1: the table takes 0 for "empty", and performance.now() starts near 0.
    this.now = opts.now ?? (() => performance.now() + 1);
    const seeds = opts.seeds ?? [(Math.random() * 2 ** 32) >>> 0, (Math.random() * 2 ** 32) >>> 0];
    this.seed1 = seeds[0];
    this.seed2 = seeds[1];
  }

  /** PASS, SLIP (send it truncated) or DROP (send nothing) for `response` to `clientIp` over UDP. */
  check(clientIp: string, response: Response, q: Query): number {
    const length = writeAddressBytes(clientIp, this.address, 0);
    if (length === 0 || this.exempt(length)) return PASS;
    classify(response, q, this.what);
    return this.debit(clientIp, length);
  }

  /** The same for the error answering a query that could not be decoded. */
  checkError(clientIp: string): number {
    const length = writeAddressBytes(clientIp, this.address, 0);
    if (length === 0 || this.exempt(length)) return PASS;
    const what = this.what;
    what.kind = Kind.ERROR;
    what.name = '';
    what.qtype = 0;
    return this.debit(clientIp, length);
  }

  /** Client networks limited now (a table scan: for status, not for queries). */
  limitedNetworks(): number {
    return this.table.limitedNetworks(this.now());
  }

  /** Buckets in use, of `tableSize`. */
  bucketsUsed(): number {
    return this.table.used();
  }

  private exempt(length: number): boolean {
    const exempt = this.settings.exempt;
    for (let i = 0; i < exempt.length; i++) {
      if (inNetwork(this.address, length, exempt[i]!)) {
        this.counters.rrlExempt('network');
        return true;
      }
    }
    return false;
  }

  private debit(clientIp: string, length: number): number {
    const { kind, name, qtype } = this.what;
    const rate = this.rates[kind]!;
    if (rate === 0) return PASS;
    const address = this.address;
    keepNetworkBits(address, length, this.prefixes);
    let network = this.seed1 ^ length;
    for (let i = 0; i < length; i++) network = Math.imul(network ^ address[i]!, 0x01000193);
    network = finish(network);
    let h1 = Math.imul(network ^ kind, 0x01000193) ^ qtype;
    let h2 = Math.imul(this.seed2 ^ network ^ (kind << 16) ^ qtype, 0x5bd1e995);
    for (let i = 0; i < name.length; i++) {
      const c = name.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    const now = this.now();
    const result = this.table.debit(finish(h1), finish(h2 ^ name.length), network, rate, now);
    if (result === PASS) return PASS;
    const logOnly = this.settings.logOnly;
    this.counters.rrlLimited(kind);
    if (result & STARTED) this.log?.started(now, clientIp, this.prefixes, kind, name, qtype, logOnly);
    if (logOnly) return PASS;
    const action = result & ~STARTED;
    if (action === SLIP) this.counters.rrlSlipped();
    else this.counters.rrlDropped();
    return action === SLIP ? SLIP : DROP;
  }
}

/** MurmurHash3's finaliser: every input bit moves every output bit. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
