// Response rate limiting, end to end, on both UDP paths (batched and node:dgram): a flood of
// one amplifying query from one source network over loopback (as a spoofed reflection attack
// looks to the server) is answered with fewer bytes than it sent, truncated answers come at the
// slip rate, and what is not the flooded network is unaffected: another network (127.0.1.1 is
// another /24 of loopback), TCP, and a client returning a valid server cookie. The arithmetic
// is dns/rrl/*.test.ts's; this is the real server and real sockets.
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { control, scrapeMetrics } from '../helpers/control-client.js';
import { TcpClient, frame } from '../helpers/dns-client.js';
import { metricValue } from '../helpers/metric-value.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { needsUdpBatch } from '../helpers/system-tools.js';
import { sleep, waitFor } from '../helpers/wait-for.js';

const RATE = 10;
const SLIP = 2;

/** 12 TXT strings of 40 bytes: a ~560-byte answer to a ~45-byte query, what reflection attacks pick. */
const BIG = Array.from({ length: 12 }, (_, i) => `"amplifier-${String(i).padStart(2, '0')}-${'x'.repeat(26)}"`).join(
  ', ',
);

const config = (udpBatching: 'auto' | 'off', rate = RATE) => `
dns:
  serverId: ns1.rrl.test
  udpBatching: ${udpBatching}
  # Small, so a short flood shows all of it (the defaults are 100 a second, window 15, slip 2).
  rrl: { responsesPerSecond: ${rate}, window: 10, slip: ${SLIP} }
zones:
  - name: rrl.test
    soa: { mname: ns1.rrl.test., rname: hostmaster.rrl.test. }
    ns: [ns1.rrl.test.]
    records:
      - { name: ns1, type: A, value: 192.0.2.53 }
      - { name: big, type: TXT, values: [${BIG}] }
`;

const CLIENT_COOKIE = Buffer.from('0123456789abcdef', 'hex');

function query(id: number, cookie: Buffer | null = null): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    questions: [{ name: 'big.rrl.test', type: 'TXT', class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: 1232,
        options: cookie ? [{ code: 10, data: cookie }] : [],
      } as unknown as dnsPacket.Answer,
    ],
  });
}

const truncated = (m: Buffer) => (m[2]! & 0x02) !== 0;

/** A UDP client bound to `from`, counting what comes back. */
async function udpClient(from: string) {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, from, resolve));
  const got = { full: 0, tc: 0, bytes: 0, last: performance.now(), messages: [] as Buffer[] };
  socket.on('message', (m) => {
    got.bytes += m.length;
    if (truncated(m)) got.tc++;
    else got.full++;
    got.messages.push(m);
    got.last = performance.now();
  });
  return { socket, got, send: (m: Buffer, server: RunningServer) => socket.send(m, server.port, server.host) };
}

/** Until nothing has arrived for `quietMs`. */
async function settle(got: { last: number }, quietMs = 400): Promise<void> {
  await waitFor(() => performance.now() - got.last > quietMs, 5000, 'replies to stop');
}

describe.each([
  ['batched UDP', 'auto' as const, needsUdpBatch()],
  ['node:dgram', 'off' as const, {}],
])('response rate limiting over %s', (_path, udpBatching, options) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(config(udpBatching));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(
    'a flood from one network gets fewer bytes back than it sent, and TC answers at the slip rate',
    options,
    async () => {
      const flood = await udpClient('127.0.0.1');
      let sent = 0;
      let sentBytes = 0;
      const started = performance.now();
      // 2,000 queries in one second, in waves (a socket buffer's worth at a time).
      for (let wave = 0; wave < 40; wave++) {
        for (let i = 0; i < 50; i++) {
          const q = query(++sent & 0xffff);
          sentBytes += q.length;
          flood.send(q, server);
        }
        await sleep(25);
      }
      const seconds = (performance.now() - started) / 1000;
      await settle(flood.got);
      flood.socket.close();
      const { full, tc, bytes, messages } = flood.got;
      const answer = messages.find((m) => !truncated(m))!;
      // Unlimited, this flood would reflect ~12× its bytes.
      expect(answer.length).toBeGreaterThan(10 * query(1).length);
      expect(bytes, `answered ${bytes} bytes to ${sentBytes} sent`).toBeLessThanOrEqual(sentBytes);
      // The burst, then the debt keeps the network limited as long as the flood goes on.
      expect(full).toBeGreaterThanOrEqual(RATE);
      expect(full).toBeLessThanOrEqual(RATE * (1 + seconds));
      // Every SLIP-th limited query is answered truncated: the first, then every second.
      const limited = sent - full;
      expect(Math.abs(tc - limited / SLIP), `${tc} TC of ${limited} limited`).toBeLessThanOrEqual(2);
      const metrics = await scrapeMetrics(server);
      expect(metricValue(metrics, 'meridian_dns_rrl_limited_total', { kind: 'answer' })).toBe(limited);
      expect(metricValue(metrics, 'meridian_dns_rrl_slipped_total')).toBe(tc);
      expect(metricValue(metrics, 'meridian_dns_rrl_dropped_total')).toBe(limited - tc);
      // One log line for the network, and status counts it as limited now.
      const lines = server.stdout.filter((l) => l.includes('rate-limiting responses to a client network'));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ network: '127.0.0.0/24', kind: 'answer', name: 'big.rrl.test.' });
      const status = (await control(server, 'GET', '/v1/status')).json as {
        udp: string;
        protection: { rrl: { limitedNetworks: number; slipped: number } };
      };
      expect(status.udp).toMatch(udpBatching === 'auto' ? /^batched/ : /^node:dgram/);
      expect(status.protection.rrl).toMatchObject({ limitedNetworks: 1, slipped: tc });
    },
  );

  it('while it is limited, another network is answered in full', options, async () => {
    const flooded = await udpClient('127.0.0.1');
    const other = await udpClient('127.0.1.1');
    for (let i = 0; i < RATE; i++) {
      other.send(query(5000 + i), server);
      flooded.send(query(6000 + i), server);
      await sleep(20);
    }
    await settle(other.got, 300);
    other.socket.close();
    flooded.socket.close();
    expect(other.got).toMatchObject({ full: RATE, tc: 0 });
    expect(flooded.got.full).toBe(0);
  });

  it('TCP is never limited', options, async () => {
    const tcp = new TcpClient(server);
    await tcp.connected;
    for (let i = 0; i < 30; i++) await tcp.write(frame(query(7000 + i)));
    const replies = await tcp.waitFor(30);
    tcp.destroy();
    expect(replies.every((m) => !truncated(m) && dnsPacket.decode(m).answers!.length === 12)).toBe(true);
  });

  it('a client returning a valid server cookie is not limited: the cookie proves its address', options, async () => {
    // Learn a server cookie (over TCP: this network is still limited over UDP).
    const tcp = new TcpClient(server);
    await tcp.connected;
    await tcp.write(frame(query(8000, CLIENT_COOKIE)));
    const [first] = await tcp.waitFor(1);
    tcp.destroy();
    const opt = dnsPacket.decode(first!).additionals!.find((r) => r.type === 'OPT') as unknown as {
      options: { code: number; data: Buffer }[];
    };
    const cookie = opt.options.find((o) => o.code === 10)!.data;
    expect(cookie.length).toBe(24);
    const client = await udpClient('127.0.0.1');
    for (let i = 0; i < 3 * RATE; i++) client.send(query(9000 + i, cookie), server);
    await settle(client.got, 300);
    client.socket.close();
    expect(client.got).toMatchObject({ full: 3 * RATE, tc: 0 });
    // A client cookie alone proves nothing: still limited.
    const bare = await udpClient('127.0.0.1');
    for (let i = 0; i < 10; i++) bare.send(query(9500 + i, CLIENT_COOKIE), server);
    await settle(bare.got, 300);
    bare.socket.close();
    expect(bare.got.full).toBe(0);
    const metrics = await scrapeMetrics(server);
    expect(metricValue(metrics, 'meridian_dns_rrl_exempt_total', { reason: 'cookie' })).toBe(3 * RATE);
  });

  it('a reload keeps the buckets when dns.rrl is unchanged, and applies new limits at once', options, async () => {
    const ask = async (n: number) => {
      const client = await udpClient('127.0.0.1');
      for (let i = 0; i < n; i++) client.send(query(10_000 + i), server);
      await settle(client.got, 300);
      client.socket.close();
      return client.got.full;
    };
    expect((await control(server, 'POST', '/v1/reload')).status).toBe(200);
    expect(await ask(5)).toBe(0); // still limited: the same table
    writeFileSync(server.configPath, config(udpBatching, 1000));
    expect((await control(server, 'POST', '/v1/reload')).status).toBe(200);
    expect(await ask(50)).toBe(50);
  });
});
