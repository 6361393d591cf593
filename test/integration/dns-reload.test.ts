// Reloading the config without a restart (SIGHUP and POST /v1/reload), refusing a broken file
// while serving the old one, the control token, no lost queries during reloads, /metrics, and
// start-up with a broken config.
import dgram from 'node:dgram';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encodeQuery } from '../helpers/dns-client.js';
import { control, scrapeMetrics } from '../helpers/control-client.js';
import { metricValue } from '../helpers/metric-value.js';
import { query } from '../helpers/dig.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { writeConfigDir } from '../helpers/config-dir.js';
import type { Endpoint } from '../helpers/endpoint.js';
import { needs } from '../helpers/system-tools.js';
import { waitForValue } from '../helpers/wait-for.js';

interface ConfigOpts {
  www?: string;
  token?: string;
  /** Raw YAML for one more record line. */
  extra?: string;
  file?: string;
}

/** `www` is zones[0].records[1]. */
function reloadConfig(opts: ConfigOpts = {}): string {
  return `
dns:
  serverId: reload-ns
  # Thousands of queries for one name from loopback, none of which may be lost: RRL on (its
  # check runs through every reload) with rates they never reach.
  rrl: { responsesPerSecond: 1000000 }
${opts.token ? `  control: { token: ${opts.token} }\n` : ''}zones:
  - name: reload.test
    ttl: 60
    soa: { mname: ns1.reload.test., rname: hostmaster.reload.test., minimum: 60 }
    ns: [ns1.reload.test.]
${opts.file ? `    file: ${opts.file}\n` : ''}    records:
      - { name: ns1, type: A, value: 192.0.2.1 }
      - { name: www, type: A, value: ${opts.www ?? '192.0.2.10'} }
${opts.extra ? `      ${opts.extra}\n` : ''}`;
}

const servers: RunningServer[] = [];
async function start(text: string, files?: Record<string, string>): Promise<RunningServer> {
  const s = await startServer(text, files ? { files } : {});
  servers.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function addressOf(server: Endpoint, name = 'www.reload.test'): Promise<string[]> {
  const res = await query(server, [name, 'A']);
  expect(res.status, `${name}: ${res.raw}`).toBe('NOERROR');
  return res.answer.map((r) => r.data);
}

describe('config reload without restart', () => {
  it('SIGHUP reloads the file: the new address is served', needs('dig'), async () => {
    const server = await start(reloadConfig());
    expect(await addressOf(server)).toEqual(['192.0.2.10']);
    writeFileSync(server.configPath, reloadConfig({ www: '192.0.2.20' }));
    server.process.kill('SIGHUP');
    await waitForValue(
      () => addressOf(server),
      (a) => a[0] === '192.0.2.20',
      10_000,
      'answer after SIGHUP',
    );
    expect(server.process.exitCode).toBeNull();
  });

  it('POST /v1/reload answers 200 and the new address is served at once', needs('dig'), async () => {
    const server = await start(reloadConfig());
    expect(await addressOf(server)).toEqual(['192.0.2.10']);
    writeFileSync(
      server.configPath,
      reloadConfig({ www: '192.0.2.30', extra: '- { name: new, type: A, value: 192.0.2.31 }' }),
    );
    const res = await control(server, 'POST', '/v1/reload');
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ ok: true, zones: 1 });
    expect(await addressOf(server)).toEqual(['192.0.2.30']);
    expect(await addressOf(server, 'new.reload.test')).toEqual(['192.0.2.31']);
  });

  it('a master zone file next to the config is re-read on reload', needs('dig'), async () => {
    const zone = (addr: string) => `$TTL 60\napi IN A ${addr}\n`;
    const server = await start(reloadConfig({ file: 'zones/reload.zone' }), {
      'zones/reload.zone': zone('192.0.2.80'),
    });
    expect(await addressOf(server, 'api.reload.test')).toEqual(['192.0.2.80']);
    const zonePath = join(server.dir!, 'zones/reload.zone');
    writeFileSync(zonePath, zone('192.0.2.81'));
    expect((await control(server, 'POST', '/v1/reload')).status).toBe(200);
    expect(await addressOf(server, 'api.reload.test')).toEqual(['192.0.2.81']);

    // A broken line is refused with the file and line, and the old data stays.
    writeFileSync(zonePath, `${zone('192.0.2.82')}bad IN A 192.0.2.999\n`);
    const res = await control(server, 'POST', '/v1/reload');
    expect(res.status, res.text).toBe(422);
    expect((res.json as { error: string }).error).toContain(`${zonePath}:3`);
    expect(await addressOf(server, 'api.reload.test')).toEqual(['192.0.2.81']);
  });

  it(
    'a broken file is refused with 422 naming the file and path; the old answer keeps being served',
    needs('dig'),
    async () => {
      const server = await start(reloadConfig());
      writeFileSync(server.configPath, reloadConfig({ www: '192.0.2.300' }));
      const res = await control(server, 'POST', '/v1/reload');
      expect(res.status, res.text).toBe(422);
      const error = (res.json as { error?: string }).error ?? '';
      expect(error).toContain(server.configPath);
      expect(error).toContain('zones[0].records[1].value');
      expect(await addressOf(server)).toEqual(['192.0.2.10']);

      // SIGHUP with the same broken file changes nothing either, and the process lives on.
      server.process.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 200));
      expect(server.process.exitCode).toBeNull();
      expect(await addressOf(server)).toEqual(['192.0.2.10']);

      // Schema errors (not only RDATA errors) are refused the same way.
      writeFileSync(server.configPath, reloadConfig({ extra: '- { name: x, type: A, value: 192.0.2.5, bogus: 1 }' }));
      const schema = await control(server, 'POST', '/v1/reload');
      expect(schema.status).toBe(422);
      expect((schema.json as { error: string }).error).toContain('zones[0].records[2]');
      expect(await addressOf(server)).toEqual(['192.0.2.10']);

      // Once fixed, the next reload applies.
      writeFileSync(server.configPath, reloadConfig({ www: '192.0.2.40' }));
      expect((await control(server, 'POST', '/v1/reload')).status).toBe(200);
      expect(await addressOf(server)).toEqual(['192.0.2.40']);
    },
  );

  it('with dns.control.token, POST /v1/reload needs the bearer token', needs('dig'), async () => {
    const server = await start(reloadConfig({ token: 'secret' }));
    writeFileSync(server.configPath, reloadConfig({ token: 'secret', www: '192.0.2.50' }));

    const none = await control(server, 'POST', '/v1/reload');
    expect(none.status).toBe(401);
    const wrong = await control(server, 'POST', '/v1/reload', { authorization: 'Bearer not-the-secret' });
    expect(wrong.status).toBe(401);
    expect(await addressOf(server)).toEqual(['192.0.2.10']);

    const ok = await control(server, 'POST', '/v1/reload', { authorization: 'Bearer secret' });
    expect(ok.status, ok.text).toBe(200);
    expect(await addressOf(server)).toEqual(['192.0.2.50']);
    // Reads stay open.
    expect((await control(server, 'GET', '/metrics')).status).toBe(200);
  });

  it('no query is lost while 20 reloads run', async () => {
    const server = await start(reloadConfig());
    const addresses = ['192.0.2.10', '192.0.2.11'];

    const reloads = (async () => {
      // Let the query stream get going first.
      await new Promise((r) => setTimeout(r, 20));
      for (let i = 0; i < 20; i++) {
        writeFileSync(server.configPath, reloadConfig({ www: addresses[(i + 1) % 2]! }));
        const res = await control(server, 'POST', '/v1/reload');
        expect(res.status, res.text).toBe(200);
      }
    })();
    let reloadsDone = false;
    void reloads.then(
      () => (reloadsDone = true),
      () => (reloadsDone = true),
    );

    const result = await udpLoad(server, { minQueries: 2000, window: 16, keepGoing: () => !reloadsDone });
    await reloads;
    expect(result.lost, `lost ${result.lost} of ${result.sent}`).toBe(0);
    expect(result.sent).toBeGreaterThanOrEqual(2000);
    expect(result.received).toBe(result.sent);
    expect(result.bad).toEqual([]);
    // Both configs were actually served during the run.
    expect(result.seen.size).toBe(2);
  });

  it('GET /metrics reports meridian_dns_queries_total by transport, qtype and rcode', needs('dig'), async () => {
    const server = await start(reloadConfig());
    await query(server, ['www.reload.test', 'A']);
    await query(server, ['www.reload.test', 'A']);
    await query(server, ['nope.reload.test', 'AAAA']);
    await query(server, ['+tcp', 'www.reload.test', 'MX']);
    await query(server, ['www.example.org', 'TXT']);
    const text = await scrapeMetrics(server);
    expect(text).toMatch(/^# TYPE meridian_dns_queries_total counter$/m);
    expect(metricValue(text, 'meridian_dns_queries_total', { transport: 'udp', qtype: 'A', rcode: 'NOERROR' })).toBe(2);
    expect(
      metricValue(text, 'meridian_dns_queries_total', { transport: 'udp', qtype: 'AAAA', rcode: 'NXDOMAIN' }),
    ).toBe(1);
    expect(metricValue(text, 'meridian_dns_queries_total', { transport: 'tcp', qtype: 'MX', rcode: 'NOERROR' })).toBe(
      1,
    );
    expect(metricValue(text, 'meridian_dns_queries_total', { transport: 'udp', qtype: 'TXT', rcode: 'REFUSED' })).toBe(
      1,
    );
    expect(metricValue(text, 'meridian_dns_queries_total')).toBe(5);
  });

  it('start-up with a broken config exits non-zero with the file and path in stderr', async () => {
    const { dir, configPath } = writeConfigDir(reloadConfig({ www: '192.0.2.300' }));
    let res;
    try {
      res = await runMeridian([
        'dns',
        '--config',
        configPath,
        '--listen',
        '127.0.0.1:0',
        '--control-listen',
        '127.0.0.1:0',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(res.code).not.toBe(0);
    expect(res.code).not.toBeNull();
    expect(res.stderr).toContain(configPath);
    expect(res.stderr).toContain('zones[0].records[1].value');
    expect(res.stdout).not.toContain('meridian dns serving');
  });
});

interface LoadResult {
  sent: number;
  received: number;
  lost: number;
  bad: string[];
  seen: Set<string>;
}

/**
 * Sends A queries for www.reload.test over UDP, `window` in flight, until at least `minQueries`
 * were sent and `keepGoing()` is false; then waits for stragglers. Nothing is retried.
 */
function udpLoad(
  server: Endpoint,
  opts: { minQueries: number; window: number; keepGoing: () => boolean },
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
    const outstanding = new Set<number>();
    const result: LoadResult = { sent: 0, received: 0, lost: 0, bad: [], seen: new Set() };
    let nextId = 0;
    let finished = false;
    let lastProgress = performance.now();

    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      result.lost = outstanding.size;
      socket.close();
      resolve(result);
    };
    const sendOne = () => {
      const id = nextId++ & 0xffff;
      outstanding.add(id);
      result.sent++;
      socket.send(encodeQuery(id, 'www.reload.test', 'A'), server.port, server.host);
    };
    const pump = () => {
      while (
        outstanding.size < opts.window &&
        (result.sent < opts.minQueries || opts.keepGoing()) &&
        result.sent < 60_000
      )
        sendOne();
      if (outstanding.size === 0) finish();
    };
    socket.on('message', (msg) => {
      lastProgress = performance.now();
      let reply;
      try {
        reply = decode(msg);
      } catch (e) {
        result.bad.push(`undecodable reply: ${(e as Error).message}`);
        return;
      }
      if (!outstanding.delete(reply.id)) {
        result.bad.push(`unexpected id ${reply.id}`);
        return;
      }
      result.received++;
      const data = reply.answers.map((a) => String(a.data));
      if (reply.rcode !== 'NOERROR' || data.length !== 1)
        result.bad.push(`id ${reply.id}: ${reply.rcode} ${data.join(',')}`);
      else result.seen.add(data[0]!);
      pump();
    });
    socket.on('error', (err) => {
      clearInterval(watchdog);
      reject(err);
    });
    // Lost datagrams shrink the window for good; when nothing arrives for a second, stop.
    const watchdog = setInterval(() => {
      if (performance.now() - lastProgress > 1000) finish();
    }, 100);
    socket.bind(0, '127.0.0.1', pump);
  });
}
