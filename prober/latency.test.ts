// The prober's latency measurement end to end, against a fake DNS control port: it pulls the
// resolver list, measures RTT to each network's sample, and puts the figures in its reports.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError, startControlServer, type ControlServer } from '../common/control-server.js';
import { healthReportSchema, type HealthReport } from '../common/health-contract.js';
import { startProber, type Prober } from './service.js';
import { capturedLog } from '../test/helpers/captured-log.js';
import { localHttp, type LocalHttp } from '../test/helpers/local-http.js';
import { localResolver, type LocalResolver } from '../test/helpers/local-resolver.js';
import { waitFor } from '../test/helpers/wait-for.js';

const INTERVAL = 150;

let edge: LocalHttp;
let near: LocalResolver;
let far: LocalResolver;
let dns: ControlServer;
let prober: Prober;
let listFails = false;
const reports: HealthReport[] = [];
const { log, lines } = capturedLog();

// Two resolver networks 5 ms and 40 ms away, and one whose sample nothing answers on.
const RESOLVERS = [
  { network: '127.0.0.2/32', sample: '127.0.0.2', queries: 300 },
  { network: '127.0.0.3/32', sample: '127.0.0.3', queries: 200 },
  { network: '127.0.0.4/32', sample: '127.0.0.4', queries: 100 },
];

beforeAll(async () => {
  edge = await localHttp((_req, res) => res.end('ok\n'));
  near = await localResolver({ host: '127.0.0.2', delayMs: 5 });
  far = await localResolver({ host: '127.0.0.3', port: near.port, delayMs: 40 });
  dns = await startControlServer({
    host: '127.0.0.1',
    port: 0,
    log: capturedLog().log,
    routes: [
      {
        method: 'POST',
        path: '/v1/health/reports',
        mutating: true,
        handle: (req) => (reports.push(healthReportSchema.parse(req.body)), { status: 200, body: {} }),
      },
      {
        method: 'GET',
        path: '/v1/resolvers',
        handle: (req) => {
          if (listFails) throw new HttpError(500, 'list unavailable');
          return { status: 200, body: { resolvers: RESOLVERS.slice(0, Number(req.url.searchParams.get('limit'))) } };
        },
      },
    ],
  });
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-latency-')), 'meridian.yaml');
  writeFileSync(
    file,
    `
health:
  interval: ${INTERVAL}
  timeout: 100
  reportTo: ["${dns.url}"]
  latency: { resolvers: 10, refresh: 100ms, port: ${near.port}, rate: 40, timeout: 150ms }
pops:
  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.30], edge: "${edge.url}" }
`,
  );
  prober = await startProber({ configFile: file, pop: 'fra', controlListen: { host: '127.0.0.1', port: 0 }, log });
});

afterAll(async () => {
  await prober?.close();
  await Promise.all([edge?.stop(), near?.stop(), far?.stop(), dns?.close()]);
});

const last = () => reports[reports.length - 1];
const rtt = (r: HealthReport | undefined, network: string) => r?.resolvers.find((x) => x.network === network)?.rttMs;

describe('latency measurement in the prober', () => {
  it('reports RTT to each resolver network, the far one clearly larger, none for a dead sample', async () => {
    await waitFor(
      () => rtt(last(), '127.0.0.3/32') !== undefined && rtt(last(), '127.0.0.2/32') !== undefined,
      3000,
      'both figures in a report',
    );
    // Let the moving average settle over a few more probes (and the dead sample fail a few times).
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL));
    const report = last()!;
    expect(report.resolvers.map((r) => r.network)).toEqual(['127.0.0.2/32', '127.0.0.3/32']);
    const nearMs = rtt(report, '127.0.0.2/32')!;
    const farMs = rtt(report, '127.0.0.3/32')!;
    // Never below what the responders wait; above it only by this machine's own delays.
    expect(nearMs).toBeGreaterThanOrEqual(4.5);
    expect(nearMs).toBeLessThan(40);
    expect(farMs).toBeGreaterThanOrEqual(39);
    expect(farMs).toBeLessThan(200);
    expect(farMs - nearMs).toBeGreaterThan(15);
    // The edge probes go on as before.
    expect(report.targets).toEqual([{ pop: 'fra', up: true, rttMs: expect.any(Number) }]);
  });

  it('shows the measurement in status and metrics', async () => {
    const status = prober.status();
    expect(status.latency).toMatchObject({ method: 'dns', sources: [{ url: dns.url, lastError: null, networks: 3 }] });
    expect(status.latency!.gapMs).toBe(50); // 150 ms / 3 networks (the rate would allow 25 ms)
    expect(status.latency!.resolvers.find((r) => r.network === '127.0.0.4/32')).toMatchObject({
      rttMs: null,
      lastDetail: expect.stringMatching(/ECONNREFUSED/),
    });
    const metrics = await (await fetch(`${prober.control!.url}/metrics`)).text();
    expect(metrics).toMatch(/^meridian_health_resolver_networks\{state="listed",service="health"\} 3$/m);
    expect(metrics).toMatch(/^meridian_health_resolver_networks\{state="measured",service="health"\} 2$/m);
    expect(metrics).toMatch(/^meridian_health_resolver_probes_total\{result="ok",service="health"\} [1-9]/m);
    expect(metrics).toMatch(/^meridian_health_resolver_probes_total\{result="fail",service="health"\} [1-9]/m);
    expect(lines.find((l) => l.msg === 'meridian health probing')).toMatchObject({
      latency: { resolvers: 10, method: 'dns', rate: 40 },
    });
  });

  it('keeps measuring the last list when the list cannot be pulled', async () => {
    listFails = true;
    await waitFor(() => prober.status().latency!.sources[0]!.lastError !== null, 1000, 'a failed pull');
    const seq = last()!.seq;
    await waitFor(() => last()!.seq >= seq + 3, 2000, 'three more reports');
    expect(last()!.resolvers.map((r) => r.network)).toEqual(['127.0.0.2/32', '127.0.0.3/32']);
    expect(prober.status().latency!.sources[0]).toMatchObject({
      lastError: expect.stringMatching(/HTTP 500/),
      networks: 3,
    });
    expect(lines.filter((l) => l.msg === 'resolver list not pulled')).toHaveLength(1);
    listFails = false;
  });
});
