// `dns.workers` > 1: forked workers share the listeners and answer queries; the primary keeps
// health, overrides, reloads and the control port and must keep every worker in step with it.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encodeQuery, frame, TcpClient, udpExchange } from '../helpers/dns-client.js';
import { waitFor } from '../helpers/wait-for.js';
import { control, scrapeMetrics } from '../helpers/control-client.js';
import { metricValue } from '../helpers/metric-value.js';
import { query } from '../helpers/dig.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { needs, needsUdpBatch } from '../helpers/system-tools.js';

const CONFIG = `
dns:
  control: { token: secret }
  # 60 queries at once for one name from loopback, each expected to be answered: RRL on with
  # rates they never reach (each worker holds half of every rate).
  rrl: { responsesPerSecond: 1000000 }
pops:
  - { id: tokyo, location: { lat: 35.68, lon: 139.69 }, ipv4: [192.0.2.10] }
  - { id: nyc, location: { lat: 40.71, lon: -74.01 }, ipv4: [192.0.2.20] }
  - { id: fra, location: { lat: 50.11, lon: 8.68 }, ipv4: [192.0.2.30] }
pools:
  - { id: p, members: [tokyo, nyc, fra] }
geo:
  nets: [{ network: 127.0.0.0/8, location: { lat: 34.69, lon: 135.50 } }]
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records: [{ name: ns1, type: A, value: 192.0.2.1 }, { name: api, type: A, value: 198.51.100.1 }]
    routes: [{ name: www, pool: p, ttl: 10 }]
`;
const AUTH = { authorization: 'Bearer secret', 'content-type': 'application/json' };

/** Pids of the server's direct children (its workers). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

/** Sends `count` UDP queries for `name` at once (so both workers get some) and returns the A data seen. */
async function answersOf(server: RunningServer, name: string, count = 60): Promise<string[]> {
  const replies = await Promise.all(
    Array.from({ length: count }, (_, i) => udpExchange(server, encodeQuery(i + 1, name), 2000)),
  );
  return replies.map((r) =>
    r
      ? decode(r)
          .answers.map((a) => String(a.data))
          .join(',')
      : 'timeout',
  );
}

/** UDP sockets bound to `port` on this machine (IPv4, /proc/net/udp). */
function udpSocketsOn(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => line.trim().split(/\s+/)[1]?.endsWith(hex)).length;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let seq = 0;
async function report(server: RunningServer, vantage: string, down: string[]): Promise<number> {
  const body = {
    vantage,
    epoch: 1,
    seq: ++seq,
    interval: 500,
    targets: ['tokyo', 'nyc', 'fra'].map((pop) => ({ pop, up: !down.includes(pop), rttMs: 5 })),
    resolvers: [],
  };
  return (
    await fetch(`${server.controlUrl}/v1/health/reports`, { method: 'POST', headers: AUTH, body: JSON.stringify(body) })
  ).status;
}

describe('DNS served by several worker processes', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('forks the workers, answers over UDP and TCP, and counts every query in /metrics', async () => {
    server = await startServer(CONFIG, { workers: 2 });
    expect(childPids(server.process.pid!)).toHaveLength(2);
    expect(((await control(server, 'GET', '/v1/status')).json as { workers: number }).workers).toBe(2);
    expect(new Set(await answersOf(server, 'api.example.test', 100))).toEqual(new Set(['198.51.100.1']));
    const tcp = new TcpClient(server);
    try {
      await tcp.connected;
      await tcp.write(
        Buffer.concat([frame(encodeQuery(7, 'www.example.test')), frame(encodeQuery(8, 'api.example.test'))]),
      );
      const replies = await tcp.waitFor(2);
      expect(replies.map((r) => decode(r).answers[0]?.data)).toEqual(['192.0.2.10', '198.51.100.1']);
    } finally {
      tcp.socket.destroy();
    }
    const metrics = await scrapeMetrics(server);
    expect(metricValue(metrics, 'meridian_dns_queries_total', { transport: 'udp', qtype: 'A', rcode: 'NOERROR' })).toBe(
      100,
    );
    expect(metricValue(metrics, 'meridian_dns_queries_total', { transport: 'tcp', qtype: 'A', rcode: 'NOERROR' })).toBe(
      2,
    );
    expect(metricValue(metrics, 'meridian_dns_answer_seconds_count')).toBe(102);
    // Resolver volumes come from the workers too (only routed queries count).
    expect((await control(server, 'GET', '/v1/resolvers')).json).toEqual({
      resolvers: [{ network: '127.0.0.0/24', sample: '127.0.0.1', queries: 1 }],
    });
  });

  it('moves every worker off a PoP a quorum sees down, and follows overrides', async () => {
    server = await startServer(CONFIG, { workers: 2 });
    expect(new Set(await answersOf(server, 'www.example.test'))).toEqual(new Set(['192.0.2.10']));
    expect(await report(server, 'nyc', ['tokyo'])).toBe(200);
    expect(await report(server, 'fra', ['tokyo'])).toBe(200);
    // Health reaches the workers over IPC: a moment after the report, never a stale worker.
    await waitFor(
      async () => (await answersOf(server!, 'www.example.test')).every((a) => a === '192.0.2.30'),
      5000,
      'every worker to answer Frankfurt',
    );
    await report(server, 'nyc', []);
    await report(server, 'fra', []);
    await waitFor(
      async () => (await answersOf(server!, 'www.example.test')).every((a) => a === '192.0.2.10'),
      5000,
      'every worker to answer Tokyo again',
    );
    const drained = await fetch(`${server.controlUrl}/v1/pops/override`, {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ pop: 'tokyo', action: 'drain' }),
    });
    expect(drained.status).toBe(200);
    await waitFor(
      async () => (await answersOf(server!, 'www.example.test')).every((a) => a === '192.0.2.30'),
      5000,
      'every worker to leave the drained PoP',
    );
  });

  it('reloads every worker, and a bad file changes none of them', async () => {
    server = await startServer(CONFIG, { workers: 2 });
    writeFileSync(server.configPath, CONFIG.replace('198.51.100.1', '198.51.100.2'));
    const ok = await control(server, 'POST', '/v1/reload', AUTH);
    expect(ok.status).toBe(200);
    expect(new Set(await answersOf(server, 'api.example.test', 100))).toEqual(new Set(['198.51.100.2']));
    writeFileSync(server.configPath, CONFIG.replace('198.51.100.1', 'not-an-address'));
    const bad = await control(server, 'POST', '/v1/reload', AUTH);
    expect(bad.status).toBe(422);
    expect(new Set(await answersOf(server, 'api.example.test', 100))).toEqual(new Set(['198.51.100.2']));
  });

  it('restarts a worker that dies, and stops every worker on SIGTERM', async () => {
    server = await startServer(CONFIG, { workers: 2 });
    const pid = server.process.pid!;
    const [victim] = childPids(pid);
    process.kill(victim!, 'SIGKILL');
    await waitFor(
      () => {
        const now = childPids(pid);
        return now.length === 2 && !now.includes(victim!);
      },
      5000,
      'a replacement worker',
    );
    expect(server.stdout.join('\n')).toMatch(/"signal":"SIGKILL".*DNS worker died; restarting it/);
    expect(new Set(await answersOf(server, 'api.example.test'))).toEqual(new Set(['198.51.100.1']));
    const workers = childPids(pid);
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    for (const w of workers) expect(() => process.kill(w, 0)).toThrow();
  });

  it(
    'gives each worker its own batched UDP socket, and a SIGKILLed primary takes them all down',
    needsUdpBatch(),
    async () => {
      server = await startServer(CONFIG, { workers: 2 });
      const pid = server.process.pid!;
      // SO_REUSEPORT: one socket per worker on the same port (a shared socket would wake both).
      expect(udpSocketsOn(server.port)).toBe(2);
      expect(new Set(await answersOf(server, 'api.example.test'))).toEqual(new Set(['198.51.100.1']));
      const workers = childPids(pid);
      server.process.kill('SIGKILL');
      await waitFor(() => workers.every((w) => !alive(w)), 5000, 'the workers to exit after their primary');
      expect(udpSocketsOn(server.port)).toBe(0);
    },
  );

  it('accepts a DNS cookie made by one worker at every worker (one secret per server)', async () => {
    server = await startServer(CONFIG, { workers: 2 });
    const ask = (id: number, cookie: Buffer) =>
      dnsPacket.encode({
        type: 'query',
        id,
        questions: [{ name: 'www.example.test', type: 'A', class: 'IN' }],
        additionals: [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: 1232,
            options: [{ code: 10, data: cookie }],
          } as unknown as dnsPacket.Answer,
        ],
      });
    const cookieOf = (reply: Buffer | null): Buffer | undefined => {
      const opt = (dnsPacket.decode(reply!).additionals ?? []).find((r) => r.type === 'OPT') as
        { options: { code: number; data: Buffer }[] } | undefined;
      return opt?.options.find((o) => o.code === 10)?.data;
    };
    const learned = cookieOf(await udpExchange(server, ask(1, Buffer.alloc(8, 5)), 2000))!;
    expect(learned).toHaveLength(24);
    // Each exchange has a socket (a source port) of its own: the kernel spreads them over the workers.
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => udpExchange(server!, ask(i + 2, learned), 2000)),
    );
    expect(replies.map((r) => (r ? r[3]! & 0xf : 'timeout'))).toEqual(Array(60).fill(0));
    for (const r of replies) expect(cookieOf(r)?.subarray(0, 16)).toEqual(learned.subarray(0, 16));
    // The secret reached the workers over IPC: no process environment holds it (another process
    // of the same user can read /proc/PID/environ, and whatever a worker runs inherits it).
    const workers = childPids(server.process.pid!);
    expect(workers).toHaveLength(2);
    for (const pid of [server.process.pid!, ...workers]) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      expect(environ).not.toMatch(/cookieMaster/);
      expect(environ).not.toMatch(/MERIDIAN_DNS_WORKER/);
    }
  });

  it('answers dig like a single process does, ECS scope included', needs('dig'), async () => {
    server = await startServer(CONFIG, { workers: 2 });
    const r = await query(server, ['www.example.test', '+subnet=127.0.0.0/24']);
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.10']);
    expect(r.flags).toContain('aa');
    expect(r.clientSubnet).toBe('127.0.0.0/24/8');
  });
});
