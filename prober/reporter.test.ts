import { afterEach, describe, expect, it } from 'vitest';
import { startControlServer, type ControlServer } from '../common/control-server.js';
import { healthReportSchema, type HealthReport } from '../common/health-contract.js';
import { startReporter, type Reporter, type ReporterOptions } from './reporter.js';
import { capturedLog } from '../test/helpers/captured-log.js';
import { closedPort } from '../test/helpers/closed-port.js';
import { waitFor } from '../test/helpers/wait-for.js';

const TOKEN = 'report-token';
const quiet = capturedLog().log;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/** A DNS server's control port that only takes reports, with the real bearer-token check. */
async function fakeDns(token?: string): Promise<ControlServer & { reports: unknown[] }> {
  const reports: unknown[] = [];
  const server = await startControlServer({
    host: '127.0.0.1',
    port: 0,
    ...(token !== undefined && { token }),
    log: quiet,
    routes: [
      {
        method: 'POST',
        path: '/v1/health/reports',
        mutating: true,
        handle: (req) => (reports.push(req.body), { status: 204 }),
      },
    ],
  });
  open.push(server);
  return Object.assign(server, { reports });
}

const TARGETS: HealthReport['targets'] = [
  { pop: 'fra', up: true, rttMs: 1.5 },
  { pop: 'iad', up: false, rttMs: null, detail: 'HTTP 503 (expected 200)' },
];

function reporter(opts: Partial<ReporterOptions> & Pick<ReporterOptions, 'reportTo'>): Reporter {
  const r = startReporter({
    vantage: 'fra',
    epoch: 1_700_000_000_000,
    interval: 100,
    targets: () => TARGETS,
    log: quiet,
    ...opts,
  });
  open.push({ close: () => r.stop() });
  return r;
}

describe('startReporter', () => {
  it('posts schema-valid reports with increasing seq and the bearer token', async () => {
    const dns = await fakeDns(TOKEN);
    reporter({ reportTo: [dns.url], token: TOKEN });
    await waitFor(() => dns.reports.length >= 3, 1000, 'three reports');
    const reports = dns.reports.map((r) => healthReportSchema.parse(r));
    expect(reports.map((r) => r.seq)).toEqual(reports.map((_, i) => i + 1));
    expect(dns.reports[0]).toEqual({
      vantage: 'fra',
      epoch: 1_700_000_000_000,
      seq: 1,
      interval: 100,
      targets: TARGETS,
    });
  });

  it('carries resolver RTTs when there are any, and leaves the field out when there are none', async () => {
    const dns = await fakeDns();
    let figures: HealthReport['resolvers'] = [];
    const r = reporter({ reportTo: [dns.url], interval: 60, resolvers: () => figures });
    r.ready();
    await waitFor(() => dns.reports.length === 1, 500, 'the first report');
    expect(dns.reports[0]).not.toHaveProperty('resolvers');
    figures = [{ network: '198.51.100.0/24', rttMs: 12.34 }];
    await waitFor(() => dns.reports.length >= 2, 500, 'the next report');
    expect(healthReportSchema.parse(dns.reports[1]).resolvers).toEqual(figures);
  });

  it('sends the first report at ready(), not an interval later', async () => {
    const dns = await fakeDns();
    const r = reporter({ reportTo: [`${dns.url}/`], interval: 5_000 });
    r.ready();
    await waitFor(() => dns.reports.length === 1, 500, 'the first report');
    r.ready();
    expect(r.seq).toBe(1);
  });

  it('sends the first report after one interval when never ready', async () => {
    const dns = await fakeDns();
    const started = performance.now();
    reporter({ reportTo: [dns.url], interval: 150 });
    await waitFor(() => dns.reports.length === 1, 1000, 'the first report');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('survives a dead DNS server, logs it once per window, and keeps reporting to the others', async () => {
    const { log, lines } = capturedLog();
    const live = await fakeDns();
    const deadUrl = `http://127.0.0.1:${await closedPort()}`;
    const r = reporter({ reportTo: [deadUrl, live.url], interval: 50, log });
    await waitFor(() => live.reports.length >= 5, 1000, 'five reports to the live server');
    const warnings = lines.filter((l) => l.msg === 'health report not delivered');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ url: deadUrl, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(r.status()).toEqual([
      { url: deadUrl, lastDeliveredAt: null, lastError: expect.stringMatching(/ECONNREFUSED/) },
      { url: live.url, lastDeliveredAt: expect.any(String), lastError: null },
    ]);
  });

  it('reports a refused token as the DNS server answered it', async () => {
    const dns = await fakeDns(TOKEN);
    const r = reporter({ reportTo: [dns.url], token: 'wrong' });
    r.ready();
    await waitFor(() => r.status()[0]!.lastError !== null, 1000, 'a delivery error');
    expect(r.status()[0]!.lastError).toMatch(/^HTTP 401: .*bearer token/);
    expect(dns.reports).toEqual([]);
  });

  it('a state change while a delivery is in flight goes out when it ends, not an interval later', async () => {
    // A DNS server that holds the first report for 150 ms.
    const reports: { seq: number; up: boolean; at: number }[] = [];
    let hold = true;
    const server = await startControlServer({
      host: '127.0.0.1',
      port: 0,
      log: quiet,
      routes: [
        {
          method: 'POST',
          path: '/v1/health/reports',
          mutating: true,
          handle: async (req) => {
            const r = healthReportSchema.parse(req.body);
            if (hold) {
              hold = false;
              await new Promise((res) => setTimeout(res, 150));
            }
            reports.push({ seq: r.seq, up: r.targets[0]!.up, at: performance.now() });
            return { status: 204 };
          },
        },
      ],
    });
    open.push(server);
    let up = true;
    const r = reporter({ reportTo: [server.url], interval: 5_000, targets: () => [{ pop: 'fra', up, rttMs: 1 }] });
    r.ready();
    await new Promise((res) => setTimeout(res, 30));
    up = false;
    const changedAt = performance.now();
    r.sendNow();
    await waitFor(() => reports.length === 2, 1000, 'the change');
    expect(reports.map((x) => [x.seq, x.up])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(reports[1]!.at - changedAt).toBeLessThan(1000);
  });
});
