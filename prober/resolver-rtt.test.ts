import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FORGET_AFTER_FAILURES,
  probeDns,
  probeTcp,
  startResolverRtt,
  type ResolverRtt,
  type ResolverRttOptions,
  type RttProbe,
} from './resolver-rtt.js';
import { closedPort } from '../test/helpers/closed-port.js';
import { localResolver, type LocalResolver } from '../test/helpers/local-resolver.js';
import { waitFor } from '../test/helpers/wait-for.js';

const open: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.stop()));
});

async function resolver(opts: Parameters<typeof localResolver>[0]): Promise<LocalResolver> {
  const r = await localResolver(opts);
  open.push(r);
  return r;
}

function measurer(opts: Partial<ResolverRttOptions>): ResolverRtt {
  const m = startResolverRtt({ method: 'dns', port: 53, rate: 100, timeout: 300, interval: 100, ...opts });
  open.push(m);
  return m;
}

const never = new AbortController().signal;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Most events in any window of `windowMs` (sorted times). */
function mostInWindow(times: readonly number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('probeDns', () => {
  it('counts any response with our id, REFUSED included, and times it', async () => {
    const r = await resolver({ delayMs: 20 });
    const result = await probeDns('127.0.0.1', r.port, 500, never);
    expect(result.ok).toBe(true);
    expect(result.rttMs).toBeGreaterThanOrEqual(19);
    expect(result.rttMs).toBeLessThan(200);
  });

  it('fails fast when nothing listens, and at the timeout when nothing answers', async () => {
    const refused = await probeDns('127.0.0.1', await closedPort(), 500, never);
    expect(refused).toMatchObject({ ok: false, detail: expect.stringMatching(/ECONNREFUSED/) });
    const silent = await resolver({ silent: true });
    expect(await probeDns('127.0.0.1', silent.port, 80, never)).toMatchObject({
      ok: false,
      detail: 'timeout after 80 ms',
    });
  });
});

describe('probeTcp', () => {
  it('times a connect, and fails on a closed port', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ stop: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    expect(await probeTcp('127.0.0.1', (server.address() as AddressInfo).port, 500, never)).toEqual({
      ok: true,
      rttMs: expect.any(Number),
    });
    expect(await probeTcp('127.0.0.1', await closedPort(), 500, never)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/ECONNREFUSED/),
    });
  });
});

describe('startResolverRtt', () => {
  it('measures each network and tells a near one from a far one', async () => {
    const near = await resolver({ host: '127.0.0.2', delayMs: 5 });
    await resolver({ host: '127.0.0.3', port: near.port, delayMs: 40 });
    const m = measurer({ port: near.port, interval: 100 });
    m.setTargets([
      { network: '127.0.0.2/32', sample: '127.0.0.2' },
      { network: '127.0.0.3/32', sample: '127.0.0.3' },
    ]);
    await waitFor(
      () => m.figures().length === 2 && m.status().every((s) => s.lastProbeAt !== null),
      2000,
      'both measured',
    );
    await sleep(300); // a few rounds into the moving average
    const [a, b] = m.figures();
    expect(a).toEqual({ network: '127.0.0.2/32', rttMs: expect.any(Number) });
    expect(b).toEqual({ network: '127.0.0.3/32', rttMs: expect.any(Number) });
    expect(a!.rttMs).toBeGreaterThanOrEqual(4.5);
    expect(a!.rttMs).toBeLessThan(40);
    expect(b!.rttMs).toBeGreaterThanOrEqual(39);
    expect(b!.rttMs).toBeLessThan(200);
    expect(b!.rttMs - a!.rttMs).toBeGreaterThan(15);
  });

  it('gives no figure for a dead sample (nothing listening, or no answer)', async () => {
    const live = await resolver({ host: '127.0.0.2', delayMs: 0 });
    await resolver({ host: '127.0.0.3', port: live.port, silent: true });
    const m = measurer({ port: live.port, timeout: 100, interval: 90 });
    m.setTargets([
      { network: 'live', sample: '127.0.0.2' },
      { network: 'silent', sample: '127.0.0.3' },
      { network: 'closed', sample: '127.0.0.4' }, // nothing bound: ICMP port unreachable
    ]);
    await waitFor(
      () => m.status().every((s) => s.consecutiveFailures >= 2 || s.rttMs !== null),
      3000,
      'every network probed',
    );
    expect(m.figures().map((f) => f.network)).toEqual(['live']);
    const byNet = Object.fromEntries(m.status().map((s) => [s.network, s]));
    expect(byNet.silent).toMatchObject({ rttMs: null, lastDetail: 'timeout after 100 ms' });
    expect(byNet.closed).toMatchObject({ rttMs: null, lastDetail: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('drops a figure after failed probes in a row, not after one', async () => {
    let answering = true;
    let failures = 0;
    let release: (() => void) | undefined;
    const probe: RttProbe = async () => {
      if (answering) return { ok: true, rttMs: 10 };
      // Hold the last failure back, to look at the figure just before it lands.
      if (++failures === FORGET_AFTER_FAILURES) await new Promise<void>((resolve) => (release = resolve));
      return { ok: false, rttMs: 0, detail: 'timeout after 1 ms' };
    };
    const m = measurer({ probe, interval: 20 });
    m.setTargets([{ network: 'n', sample: '192.0.2.1' }]);
    await waitFor(() => m.figures().length === 1, 1000, 'a figure');
    answering = false;
    await waitFor(() => release !== undefined, 1000, 'failed probes');
    expect(m.status()[0]).toMatchObject({ consecutiveFailures: FORGET_AFTER_FAILURES - 1, rttMs: 10 });
    expect(m.figures()).toEqual([{ network: 'n', rttMs: 10 }]);
    release!();
    await waitFor(() => m.figures().length === 0, 1000, 'the figure to go');
    answering = true;
    await waitFor(() => m.figures().length === 1, 1000, 'a new figure');
  });

  it('keeps a moving average (α = 0.3) of successes', async () => {
    const rtts = [10, 20, 20];
    let i = 0;
    const m = measurer({
      probe: async () => ({ ok: true, rttMs: rtts[Math.min(i++, rtts.length - 1)]! }),
      interval: 30,
      rate: 1000,
    });
    m.setTargets([{ network: 'n', sample: '192.0.2.1' }]);
    await waitFor(() => i >= 3, 1000, 'three probes');
    await m.stop();
    // 10 → 10 + 0.3 × 10 = 13 → 13 + 0.3 × 7 = 15.1
    expect(m.figures()).toEqual([{ network: 'n', rttMs: 15.1 }]);
  });

  it('never starts more than `rate` probes a second, round-robin over a long list', async () => {
    const r = await resolver({ host: '127.0.0.2', delayMs: 0 });
    const starts: number[] = [];
    const probe: RttProbe = (host, port, timeout, signal) => {
      starts.push(performance.now());
      return probeDns(host, port, timeout, signal);
    };
    // 40 networks in a 100 ms interval would be a probe every 2.5 ms; the rate allows one per 50 ms.
    const m = measurer({ probe, port: r.port, rate: 20, interval: 100 });
    const list = Array.from({ length: 40 }, (_, i) => ({ network: `10.0.${i}.0/24`, sample: '127.0.0.2' }));
    m.setTargets(list);
    expect(m.gapMs).toBe(50);
    await sleep(1300);
    await m.stop();
    // Sent: at most 20 in any second (and not far below: the limit is used, not starved).
    expect(mostInWindow(starts, 1000)).toBeLessThanOrEqual(20);
    expect(starts.length).toBeGreaterThanOrEqual(24);
    expect(starts.length).toBeLessThanOrEqual(27);
    // Received by the resolver: the same, give or take one for delivery jitter at a window's edges.
    expect(r.queries.length).toBeGreaterThanOrEqual(starts.length - 1);
    expect(mostInWindow(r.queries, 1000)).toBeLessThanOrEqual(21);
    // Round-robin: the list's head, in order, none skipped (fewer probes than networks: none twice).
    const probed = m
      .status()
      .filter((s) => s.lastProbeAt !== null)
      .map((s) => s.network);
    expect(probed).toEqual(list.slice(0, probed.length).map((t) => t.network));
    expect(probed.length).toBeGreaterThanOrEqual(starts.length - 1);
    expect(m.status().every((s) => s.consecutiveFailures === 0)).toBe(true);
  });

  it('measures each network about once per interval when the rate allows', async () => {
    const counts = new Map<string, number>();
    const probe: RttProbe = async (host) => (counts.set(host, (counts.get(host) ?? 0) + 1), { ok: true, rttMs: 1 });
    const m = measurer({ probe, rate: 1000, interval: 150 });
    m.setTargets(['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((ip) => ({ network: ip, sample: ip })));
    expect(m.gapMs).toBe(50);
    await sleep(575);
    await m.stop();
    // Probes at 0, 50, …, 550: four rounds over three networks, not one every millisecond.
    expect([...counts.values()].every((n) => n >= 3 && n <= 4)).toBe(true);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(12);
  });

  it('forgets networks that left the list and measures new ones first', async () => {
    const order: string[] = [];
    const probe: RttProbe = async (host) => (order.push(host), { ok: true, rttMs: 1 });
    const m = measurer({ probe, rate: 1000, interval: 40 });
    m.setTargets([
      { network: 'a', sample: 'A' },
      { network: 'b', sample: 'B' },
    ]);
    await waitFor(() => m.figures().length === 2, 1000, 'a and b measured');
    m.setTargets([
      { network: 'c', sample: 'C' },
      { network: 'b', sample: 'B2' },
    ]);
    expect(m.figures()).toEqual([{ network: 'b', rttMs: 1 }]);
    const from = order.length;
    await waitFor(() => order.length >= from + 2, 1000, 'two more probes');
    expect(order.slice(from, from + 2)).toEqual(['C', 'B2']);
    expect(m.figures().map((f) => f.network)).toEqual(['c', 'b']);
  });
});
