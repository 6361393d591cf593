// The token buckets of response rate limiting, in one table of fixed size made once: typed
// arrays, no objects, so a flood from a million source networks costs no more memory than one
// from a single network, and debiting a bucket allocates nothing.
//
// The arithmetic is BIND's (lib/dns/rrl.c, debit_rrl_entry): a bucket earns `rate` tokens a
// second and holds at most `rate` (one second's burst); each response costs one; with none left
// the response is limited, and the debt grows down to -window × rate, so a network that keeps
// flooding stays limited and must stay under its rate for up to `window` seconds to be answered
// again. A bucket not touched for longer than `window` starts afresh. Time is in milliseconds
// (BIND counts whole seconds), so a client that spreads its queries evenly is never limited.
//
// Buckets are found by two 32-bit hashes of their key (a collision of both is as unlikely as it
// is harmless: two keys then share a bucket). A key is looked for in PROBE slots from its home
// slot; when it is new it takes the first empty slot there, else the one used longest ago. An
// active flood keeps its bucket recent, so a second flood from random networks evicts idle
// buckets first.
export const PASS = 0;
export const SLIP = 1;
export const DROP = 2;
/** Or-ed into SLIP/DROP when this response is the first the bucket limits since it was last full. */
export const STARTED = 4;

const PROBE = 8;

export class BucketTable {
  readonly size: number;
  private readonly mask: number;
  private readonly fp1: Uint32Array;
  private readonly fp2: Uint32Array;
  /** Hash of the client network alone: counting limited networks. */
  private readonly net: Uint32Array;
  private readonly balance: Float64Array;
  /** ms of the last debit; 0 = an empty slot. */
  private readonly last: Float64Array;
  /** Suppressed responses since the last one slipped. */
  private readonly slips: Uint8Array;
  /** 1 while the bucket limits (from its first limited response until it is full again). */
  private readonly limiting: Uint8Array;

  constructor(
    /** Rounded up to a power of two. */
    size: number,
    private readonly windowMs: number,
    /** Every slip-th suppressed response slips (0: none). */
    private readonly slip: number,
  ) {
    this.size = 2 ** Math.ceil(Math.log2(Math.max(size, PROBE)));
    this.mask = this.size - 1;
    this.fp1 = new Uint32Array(this.size);
    this.fp2 = new Uint32Array(this.size);
    this.net = new Uint32Array(this.size);
    this.balance = new Float64Array(this.size);
    this.last = new Float64Array(this.size);
    this.slips = new Uint8Array(this.size);
    this.limiting = new Uint8Array(this.size);
  }

  /**
   * Debits the bucket of key (h1, h2) for one response at `now` (ms, > 0) with `rate` tokens a
   * second (> 0): PASS, or SLIP or DROP (with STARTED when the limiting starts here).
   */
  debit(h1: number, h2: number, network: number, rate: number, now: number): number {
    const i = this.slotOf(h1 >>> 0, h2 >>> 0, network >>> 0, rate, now);
    const age = now - this.last[i]!;
    let balance = this.balance[i]!;
    if (age > this.windowMs) {
      balance = rate;
      this.slips[i] = 0;
      this.limiting[i] = 0;
    } else if (age > 0) {
      balance += (rate * age) / 1000;
      if (balance >= rate) {
        balance = rate;
        this.slips[i] = 0;
        this.limiting[i] = 0;
      }
    }
    this.last[i] = now;
    balance -= 1;
    if (balance >= 0) {
      this.balance[i] = balance;
      return PASS;
    }
    const floor = (-this.windowMs / 1000) * rate;
    this.balance[i] = balance < floor ? floor : balance;
    const started = this.limiting[i] === 0 ? STARTED : 0;
    this.limiting[i] = 1;
    if (this.slip === 0) return DROP | started;
    // The first suppressed response slips, then every slip-th after it (BIND).
    const n = this.slips[i]!;
    this.slips[i] = n + 1 >= this.slip ? 0 : n + 1;
    return (n === 0 ? SLIP : DROP) | started;
  }

  /** Distinct client networks with a bucket limiting now (used within the window). Scans the table. */
  limitedNetworks(now: number): number {
    const seen = new Set<number>();
    for (let i = 0; i < this.size; i++)
      if (this.limiting[i] === 1 && now - this.last[i]! <= this.windowMs) seen.add(this.net[i]!);
    return seen.size;
  }

  /** Slots holding a bucket (fixed memory whatever this says). */
  used(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.last[i] !== 0) n++;
    return n;
  }

  /** The slot of the key: found, else an empty one or the one used longest ago, made fresh. */
  private slotOf(h1: number, h2: number, network: number, rate: number, now: number): number {
    const home = h1 & this.mask;
    let oldest = home;
    for (let k = 0; k < PROBE; k++) {
      const i = (home + k) & this.mask;
      const last = this.last[i]!;
      if (last === 0) return this.fresh(i, h1, h2, network, rate, now);
      if (this.fp1[i] === h1 && this.fp2[i] === h2) return i;
      if (last < this.last[oldest]!) oldest = i;
    }
    return this.fresh(oldest, h1, h2, network, rate, now);
  }

  private fresh(i: number, h1: number, h2: number, network: number, rate: number, now: number): number {
    this.fp1[i] = h1;
    this.fp2[i] = h2;
    this.net[i] = network;
    this.balance[i] = rate;
    this.last[i] = now;
    this.slips[i] = 0;
    this.limiting[i] = 0;
    return i;
  }
}
