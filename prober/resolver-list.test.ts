import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, startControlServer } from '../common/control-server.js';
import {
  mergeLists,
  startResolverList,
  type ResolverList,
  type ResolverListOptions,
  type ResolverTarget,
} from './resolver-list.js';
import { capturedLog } from '../test/helpers/captured-log.js';
import { closedPort } from '../test/helpers/closed-port.js';
import { waitFor } from '../test/helpers/wait-for.js';

const quiet = capturedLog().log;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

interface FakeDns {
  readonly url: string;
  close(): Promise<void>;
  /** What GET /v1/resolvers answers; a number is an error status. */
  serve: ResolverTarget[] | number | 'garbage';
  readonly limits: string[];
}

/** A DNS server's control port that serves only the resolver list. */
async function fakeDns(serve: FakeDns['serve']): Promise<FakeDns> {
  const limits: string[] = [];
  const fake = { serve, limits };
  const server = await startControlServer({
    host: '127.0.0.1',
    port: 0,
    log: quiet,
    routes: [
      {
        method: 'GET',
        path: '/v1/resolvers',
        handle(req) {
          limits.push(req.url.searchParams.get('limit') ?? '');
          if (typeof fake.serve === 'number') throw new HttpError(fake.serve, 'not today');
          if (fake.serve === 'garbage')
            return { status: 200, body: { resolvers: [{ network: '192.0.2.0/24', sample: 'not-an-ip', queries: 1 }] } };
          return { status: 200, body: { resolvers: fake.serve } };
        },
      },
    ],
  });
  let closed: Promise<void> | undefined;
  const result: FakeDns = Object.assign(fake, { url: server.url, close: () => (closed ??= server.close()) });
  open.push(result);
  return result;
}

function list(
  opts: Partial<ResolverListOptions> & Pick<ResolverListOptions, 'reportTo'>,
): ResolverList & { lists: ResolverTarget[][] } {
  const lists: ResolverTarget[][] = [];
  const l = startResolverList({ limit: 100, refresh: 50, log: quiet, onList: (x) => lists.push([...x]), ...opts });
  open.push({ close: () => l.stop() });
  return Object.assign(l, { lists });
}

const A = { network: '192.0.2.0/24', sample: '192.0.2.53', queries: 50 };
const B = { network: '198.51.100.0/24', sample: '198.51.100.7', queries: 20 };
const C = { network: '2001:db8:1::/48', sample: '2001:db8:1::53', queries: 5 };

describe('startResolverList', () => {
  it('pulls the list at start with the configured limit, and again every refresh', async () => {
    const dns = await fakeDns([A, B]);
    const l = list({ reportTo: [`${dns.url}/`], limit: 7, refresh: 60 });
    await waitFor(() => l.current().length === 2, 1000, 'the first list');
    expect(l.current()).toEqual([A, B]);
    expect(dns.limits[0]).toBe('7');
    dns.serve = [B, C];
    await waitFor(() => l.current()[0]?.network === B.network, 1000, 'the new list');
    expect(l.current()).toEqual([B, C]);
    expect(l.lists).toEqual([
      [A, B],
      [B, C],
    ]); // onList only when the list changed
    expect(l.status()).toEqual([
      { url: `${dns.url}/`, lastPulledAt: expect.any(String), lastError: null, networks: 2 },
    ]);
  });

  it('merges several DNS servers: one entry per network, counts added, cut to the limit', async () => {
    const one = await fakeDns([A, { ...B, queries: 10 }]);
    const two = await fakeDns([{ ...B, sample: '198.51.100.99', queries: 45 }, C]);
    const l = list({ reportTo: [one.url, two.url], limit: 2 });
    await waitFor(() => l.current().length === 2, 1000, 'the merged list');
    // B: 10 + 45 = 55 queries, sampled where it was seen most; C falls off the limit.
    expect(l.current()).toEqual([{ ...B, sample: '198.51.100.99', queries: 55 }, A]);
  });

  it('keeps the last list when a pull fails, and logs failures at most once a minute', async () => {
    const { log, lines } = capturedLog();
    const dns = await fakeDns([A]);
    const l = list({ reportTo: [dns.url], log });
    await waitFor(() => l.current().length === 1, 1000, 'the first list');
    dns.serve = 503;
    const from = dns.limits.length;
    await waitFor(() => dns.limits.length >= from + 4, 1000, 'four failed pulls');
    expect(l.current()).toEqual([A]);
    expect(l.status()[0]!.lastError).toMatch(/^HTTP 503: .*not today/);
    dns.serve = 'garbage';
    await waitFor(() => /sample/.test(l.status()[0]!.lastError ?? ''), 1000, 'a refused response');
    expect(l.current()).toEqual([A]);
    expect(lines.filter((x) => x.msg === 'resolver list not pulled')).toEqual([
      expect.objectContaining({ url: dns.url, keeping: 1 }),
    ]);
    dns.serve = [A, B];
    await waitFor(() => l.current().length === 2, 1000, 'the list again');
    expect(lines.filter((x) => x.msg === 'resolver list pulled again')).toHaveLength(1);
  });

  it('keeps what a DNS server last gave while it is unreachable, and uses the others', async () => {
    const up = await fakeDns([B]);
    const flaky = await fakeDns([A]);
    const l = list({ reportTo: [up.url, flaky.url] });
    await waitFor(() => l.current().length === 2, 1000, 'both lists');
    await flaky.close();
    up.serve = [B, C];
    await waitFor(() => l.current().length === 3, 1000, 'the new list from the live server');
    expect(l.current().map((t) => t.network)).toEqual([A.network, B.network, C.network]);
    expect(l.status()[1]!.lastError).toMatch(/ECONNREFUSED/);
  });

  it('probes v4 resolvers seen on a dual-stack socket at their v4 address', async () => {
    const dns = await fakeDns([{ ...A, sample: '::ffff:192.0.2.53' }, C]);
    const l = list({ reportTo: [dns.url] });
    await waitFor(() => l.current().length === 2, 1000, 'the list');
    expect(l.current().map((t) => t.sample)).toEqual(['192.0.2.53', C.sample]);
  });

  it('starts empty and stays so when no DNS server answers', async () => {
    const l = list({ reportTo: [`http://127.0.0.1:${await closedPort()}`] });
    await l.pull();
    expect(l.current()).toEqual([]);
    expect(l.lists).toEqual([]);
  });
});

describe('mergeLists', () => {
  it('orders by queries and keeps the first of equals', () => {
    expect(mergeLists([[B], [A, { ...C, queries: 20 }]], 10).map((t) => t.network)).toEqual([
      A.network,
      B.network,
      C.network,
    ]);
    expect(mergeLists([[A, B]], 1)).toEqual([A]);
  });
});
