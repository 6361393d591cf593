import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlServer, type ControlServer } from '../common/control-server.js';
import { CONTROL_TOKEN_ENV } from '../common/control-token.js';
import { healthReportSchema, type HealthReport } from '../common/health-contract.js';
import { startProber, type Prober } from './service.js';
import { capturedLog } from '../test/helpers/captured-log.js';
import { localHttp, type LocalHttp } from '../test/helpers/local-http.js';
import { waitFor } from '../test/helpers/wait-for.js';

const INTERVAL = 150;
const RISE = 2;
const FALL = 2;
const TOKEN = 'e2e-token';
// Timers, sockets and a busy CI machine: generous against a 150 ms interval, still far below
// what a broken hysteresis or reporter would take.
const SLACK = 400;

let fra: LocalHttp;
let iad: LocalHttp;
let dns: ControlServer;
let prober: Prober;
const reports: HealthReport[] = [];
const { log, lines } = capturedLog();
const savedToken = process.env[CONTROL_TOKEN_ENV];

beforeAll(async () => {
  const healthz = (req: { url?: string | undefined }, res: { writeHead(s: number): { end(b?: string): void } }) =>
    req.url === '/healthz' ? res.writeHead(200).end('ok\n') : res.writeHead(404).end();
  fra = await localHttp(healthz);
  iad = await localHttp(healthz);
  dns = await startControlServer({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    log: capturedLog().log,
    routes: [
      {
        method: 'POST',
        path: '/v1/health/reports',
        mutating: true,
        handle: (req) => (reports.push(healthReportSchema.parse(req.body)), { status: 200, body: { accepted: true } }),
      },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'meridian-prober-'));
  const file = join(dir, 'meridian.yaml');
  // The token comes from health.tokenFile (relative to the config); the DNS side refuses
  // reports without it, so accepted reports prove it was read and sent.
  writeFileSync(join(dir, 'report.token'), `${TOKEN}\n`);
  writeFileSync(
    file,
    `
health: { interval: ${INTERVAL}, timeout: 100, rise: ${RISE}, fall: ${FALL}, reportTo: ["${dns.url}"], tokenFile: report.token }
pops:
  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [127.0.1.1], edge: "${fra.url}" }
  - { id: iad, location: { lat: 39.04, lon: -77.49 }, ipv4: [127.0.2.1], edge: "${iad.url}" }
  - { id: gru, location: { lat: -23.55, lon: -46.63 }, ipv4: [127.0.3.1] }
`,
  );
  delete process.env[CONTROL_TOKEN_ENV];
  prober = await startProber({ configFile: file, pop: 'fra', controlListen: { host: '127.0.0.1', port: 0 }, log });
});

afterAll(async () => {
  if (savedToken === undefined) delete process.env[CONTROL_TOKEN_ENV];
  else process.env[CONTROL_TOKEN_ENV] = savedToken;
  await prober?.close();
  await Promise.all([fra?.stop(), iad?.stop(), dns?.close()]);
});

const last = () => reports[reports.length - 1];
const target = (r: HealthReport | undefined, pop: string) => r?.targets.find((t) => t.pop === pop);

describe('startProber end to end', () => {
  it('logs what it probes and where it reports, and skips PoPs without an edge once', () => {
    expect(lines.find((l) => l.msg === 'meridian health probing')).toMatchObject({
      vantage: 'fra',
      targets: 2,
      reportTo: [dns.url],
    });
    expect(lines.filter((l) => l.msg === 'PoPs without an edge URL are not probed')).toEqual([
      expect.objectContaining({ pops: ['gru'] }),
    ]);
  });

  it('reports every target up, with RTTs, within one interval', async () => {
    await waitFor(() => reports.length > 0, INTERVAL + SLACK, 'the first report');
    expect(last()).toMatchObject({ vantage: 'fra', seq: 1, interval: INTERVAL });
    expect(last()!.targets).toEqual([
      { pop: 'fra', up: true, rttMs: expect.any(Number) },
      { pop: 'iad', up: true, rttMs: expect.any(Number) },
    ]);
  });

  it('reports a killed edge down within fall intervals, and up again after rise', async () => {
    // Timed from before the stop: a probe may already fail while the listener closes.
    let started = performance.now();
    await iad.stop();
    await waitFor(() => target(last(), 'iad')?.up === false, FALL * INTERVAL + INTERVAL + SLACK, 'iad reported down');
    const downAfter = performance.now() - started;
    expect(target(last(), 'iad')!.detail).toMatch(/ECONNREFUSED/);
    expect(target(last(), 'fra')!.up).toBe(true);
    expect(lines.filter((l) => l.msg === 'health state change')).toEqual([
      expect.objectContaining({
        vantage: 'fra',
        pop: 'iad',
        from: 'up',
        to: 'down',
        detail: expect.stringMatching(/ECONNREFUSED/),
      }),
    ]);

    started = performance.now();
    await iad.start();
    await waitFor(
      () => target(last(), 'iad')?.up === true,
      RISE * INTERVAL + INTERVAL + SLACK,
      'iad reported up again',
    );
    const upAfter = performance.now() - started;
    // Not sooner than hysteresis allows: rise successes are rise - 1 full intervals apart.
    expect(upAfter).toBeGreaterThanOrEqual((RISE - 1) * INTERVAL - 20);
    expect(downAfter).toBeGreaterThanOrEqual((FALL - 1) * INTERVAL - 20);
    expect(target(last(), 'iad')!.detail).toBeUndefined();

    // Strictly increasing; a report built while the previous delivery was still in flight
    // (a state change sends at once) may leave a gap, which the DNS server accepts.
    const seqs = reports.map((r) => r.seq);
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
    expect(seqs[0]).toBe(1);
    expect(new Set(reports.map((r) => r.epoch)).size).toBe(1);
  });

  it('serves status and metrics on the control port', async () => {
    const status = (await (await fetch(`${prober.control!.url}/v1/status`)).json()) as ReturnType<Prober['status']>;
    expect(status).toMatchObject({
      vantage: 'fra',
      interval: INTERVAL,
      skipped: ['gru'],
      reportTo: [{ url: dns.url, lastError: null }],
    });
    expect(status.targets.map((t) => t.pop)).toEqual(['fra', 'iad']);
    expect(status.targets[1]).toMatchObject({
      edge: `${iad.url}/`,
      check: 'http',
      enabled: true,
      up: true,
      consecutiveFailures: 0,
    });
    expect(status.targets[1]!.consecutiveSuccesses).toBeGreaterThanOrEqual(RISE);
    expect(status.targets[1]!.lastProbeAt).toEqual(expect.any(String));

    const metrics = await (await fetch(`${prober.control!.url}/metrics`)).text();
    expect(metrics).toMatch(/^meridian_health_state_changes_total\{pop="iad",to="down",service="health"\} 1$/m);
    expect(metrics).toMatch(/^meridian_health_state_changes_total\{pop="iad",to="up",service="health"\} 1$/m);
    expect(metrics).toMatch(/^meridian_health_state_changes_total\{pop="fra",to="down",service="health"\} 0$/m);
    expect(metrics).toMatch(/^meridian_health_probes_total\{pop="iad",result="fail",service="health"\} [1-9]/m);
    expect(metrics).toMatch(/^meridian_health_rtt_ms\{pop="fra",service="health"\} \d/m);
    expect(metrics).toMatch(/^meridian_health_up\{pop="iad",service="health"\} 1$/m);
  });

  it('stops probing and reporting on close()', async () => {
    await prober.close();
    const count = reports.length;
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL));
    expect(reports.length).toBe(count);
  });
});
