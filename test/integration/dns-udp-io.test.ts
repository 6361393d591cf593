// The two ways `meridian dns` moves UDP — batched through native/udp_batch.c (the default where
// it was built) and node:dgram (`dns.udpBatching: off`, or no addon) — must answer alike: the
// same handler sits behind both, so these check the I/O around it, end to end, with dig and raw
// datagrams. The protocol itself is covered by dns-protocol.test.ts (on the default path).
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { decode, encodeQuery, rcodeOf } from '../helpers/dns-client.js';
import { control, scrapeMetrics } from '../helpers/control-client.js';
import { metricValue } from '../helpers/metric-value.js';
import { dig, query } from '../helpers/dig.js';
import { parseDig } from '../helpers/dig-output.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import { writeConfigDir } from '../helpers/config-dir.js';
import { loadUdpBatch } from '../../dns/server/udp-batch.js';
import { all, hasLoopback6 as loopback6Here, needs, needsUdpBatch, skipFor } from '../helpers/system-tools.js';

// Sending from port 0 takes a raw socket, which takes root (CI runs as root).
const asRoot = skipFor(process.getuid?.() === 0 ? null : 'not root: sending from source port 0 takes a raw socket');

/** python3: sends argv[2] (hex) in a UDP datagram from source port 0 to 127.0.0.1:argv[1]. */
const RAW_UDP_FROM_PORT_0 = `
import socket, struct, sys
port, payload = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.sendto(struct.pack('!HHHH', 0, port, 8 + len(payload), 0) + payload, ('127.0.0.1', 0))
`;

const hasLoopback6 = loopback6Here();

function config(udpBatching: 'auto' | 'off'): string {
  return `
dns:
  serverId: io-test
  udpBatching: ${udpBatching}
  # Hundreds of the same query at once from loopback, every one of which must be answered:
  # RRL on (its check runs) with rates they never reach. Limiting itself: dns-rrl.test.ts.
  rrl: { responsesPerSecond: 1000000 }
  maxUdpPayload: 1232
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: hostmaster.example.test. }
    ns: [ns1.example.test.]
    records:
      - { name: ns1, type: A, value: 192.0.2.1 }
      - { name: www, type: A, values: [192.0.2.10, 192.0.2.11] }
      - { name: www, type: AAAA, value: "2001:db8::10" }
      - name: big
        type: TXT
        values: [${Array.from({ length: 40 }, (_, i) => `"big-txt-record-${i}-padding-padding-padding"`).join(', ')}]
`;
}

const modes = [
  { setting: 'auto' as const, io: loadUdpBatch() ? 'batched (recvmmsg/sendmmsg)' : 'node:dgram' },
  { setting: 'off' as const, io: 'node:dgram (dns.udpBatching: off)' },
];

describe.each(modes)('UDP with dns.udpBatching: $setting', ({ setting, io }) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(config(setting), {
      listen: hasLoopback6 ? ['127.0.0.1:0', '[::1]:0'] : ['127.0.0.1:0'],
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(`says how UDP moves: ${io}`, async () => {
    const status = (await control(server, 'GET', '/v1/status')).json as { udp: string };
    expect(status.udp.startsWith(io)).toBe(true);
    const ready = server.stdout.find((l) => l.includes('meridian dns serving'));
    expect(JSON.parse(ready!).udp).toBe(status.udp);
  });

  it('answers dig over IPv4 and IPv6, and truncates a big answer with TC', needs('dig'), async () => {
    const a = await query(server, ['www.example.test', 'A']);
    expect(a.status).toBe('NOERROR');
    expect(a.flags).toContain('aa');
    expect(a.answer.map((r) => r.data).sort()).toEqual(['192.0.2.10', '192.0.2.11']);
    if (hasLoopback6) {
      const six = await query(server.listeners[1]!, ['www.example.test', 'AAAA']);
      expect(six.answer.map((r) => r.data)).toEqual(['2001:db8::10']);
    }
    const big = await query(server, ['+ignore', '+bufsize=512', 'big.example.test', 'TXT']);
    expect(big.flags).toContain('tc');
  });

  // RFC 8945 §5.2/§5.3.2: Meridian holds no TSIG keys, so a signed query gets NOTAUTH and an
  // unsigned TSIG record with error BADKEY that copies the request's key, algorithm and time.
  it('answers a TSIG-signed dig query NOTAUTH with TSIG error BADKEY, over UDP and TCP', needs('dig'), async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    for (const transport of ['+notcp', '+tcp']) {
      const text = await dig(server, [transport, '-y', `hmac-sha256:nokey:${key}`, 'www.example.test', 'A']);
      const res = parseDig(text);
      expect(res.status, text).toBe('NOTAUTH');
      expect(res.answer, text).toEqual([]);
      expect(res.transport).toBe(transport === '+tcp' ? 'TCP' : 'UDP');
      const tsig = /^nokey\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\.\s+(\d+)\s+300\s+0\s+\d+\s+BADKEY\s+0\s*$/m.exec(text);
      expect(tsig, text).not.toBeNull();
      expect(Math.abs(Number(tsig![1]) - Date.now() / 1000), 'time signed copied from the request').toBeLessThan(60);
    }
  });

  it('answers 500 queries sent in bursts from one socket, each with its own id and name', async () => {
    const socket = dgram.createSocket('udp4');
    const replies = new Map<number, Buffer>();
    socket.on('message', (m) => replies.set(m.readUInt16BE(0), m));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    try {
      // Waves of 125 (each more than one 64-datagram batch), so that the answers to a wave fit
      // this client's own receive buffer (default 208 KiB) before it reads them.
      for (let wave = 0; wave < 500; wave += 125) {
        for (let id = wave + 1; id <= wave + 125; id++)
          socket.send(encodeQuery(id, id % 2 ? 'www.example.test' : 'ns1.example.test'), server.port, server.host);
        const end = Date.now() + 3000;
        while (replies.size < wave + 125 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      socket.close();
    }
    expect(replies.size).toBe(500);
    for (const [id, reply] of replies) {
      const d = decode(reply);
      expect(d.questions[0]!.name).toBe(id % 2 ? 'www.example.test' : 'ns1.example.test');
      expect(d.answers).toHaveLength(id % 2 ? 2 : 1);
    }
  });

  // Source port 0 cannot be answered and is how spoofed reflection probes look. Only a raw
  // socket can send it, which takes root, and python3 sends it.
  it(
    'drops a query from source port 0 unanswered and counts it as spoofed_port',
    all(asRoot, needs('python3')),
    async () => {
      const before = await scrapeMetrics(server);
      const sent = spawnSync(
        'python3',
        ['-c', RAW_UDP_FROM_PORT_0, String(server.port), encodeQuery(77, 'www.example.test').toString('hex')],
        { encoding: 'utf8' },
      );
      expect(sent.status, sent.stderr).toBe(0);
      let after = before;
      const spoofed = (t: string) => metricValue(t, 'meridian_dns_dropped_total', { reason: 'spoofed_port' });
      for (let i = 0; i < 50 && spoofed(after) === spoofed(before); i++) {
        await new Promise((r) => setTimeout(r, 20));
        after = await scrapeMetrics(server);
      }
      expect(spoofed(after) - spoofed(before)).toBe(1);
      expect(metricValue(after, 'meridian_dns_queries_total', { transport: 'udp', qtype: 'A', rcode: 'NOERROR' })).toBe(
        metricValue(before, 'meridian_dns_queries_total', { transport: 'udp', qtype: 'A', rcode: 'NOERROR' }),
      );
    },
  );

  it('answers FORMERR to a malformed query, drops what has no header, and counts both in /metrics', async () => {
    const socket = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    socket.on('message', (m) => replies.push(m));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const before = await scrapeMetrics(server);
    try {
      socket.send(Buffer.from([1, 2, 3]), server.port, server.host); // no header: dropped
      socket.send(Buffer.from('abcd0000000100000000000003777777', 'hex'), server.port, server.host); // name past the end
      const end = Date.now() + 2000;
      while (replies.length < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      socket.close();
    }
    expect(replies).toHaveLength(1);
    expect(rcodeOf(replies[0]!)).toBe(1);
    const after = await scrapeMetrics(server);
    const dropped = (t: string) => metricValue(t, 'meridian_dns_dropped_total', { reason: 'malformed' });
    const formerr = (t: string) =>
      metricValue(t, 'meridian_dns_queries_total', { transport: 'udp', qtype: 'other', rcode: 'FORMERR' });
    expect(dropped(after) - dropped(before)).toBe(1);
    expect(formerr(after) - formerr(before)).toBe(1);
  });
});

describe('batched UDP and the port it binds', needsUdpBatch(), () => {
  it('a datagram longer than 4096 bytes is dropped and counted as oversize', needs('dig'), async () => {
    const server = await startServer(config('auto'));
    try {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
      const big = Buffer.concat([encodeQuery(9, 'www.example.test'), Buffer.alloc(5000)]);
      await new Promise<void>((r) => socket.send(big, server.port, server.host, () => r()));
      socket.close();
      let text = '';
      for (let i = 0; i < 50 && metricValue(text, 'meridian_dns_dropped_total', { reason: 'oversize' }) !== 1; i++) {
        await new Promise((r) => setTimeout(r, 20));
        text = await scrapeMetrics(server);
      }
      expect(metricValue(text, 'meridian_dns_dropped_total', { reason: 'oversize' })).toBe(1);
      expect((await query(server, ['www.example.test', 'A'])).status).toBe('NOERROR');
    } finally {
      await server.stop();
    }
  });

  // Batched workers bind with SO_REUSEPORT; without a check first, a second server started on
  // the same port would quietly share it instead of failing.
  it.each([1, 2])('with %i worker(s), refuses to start on a UDP port another server holds', async (workers) => {
    const first = await startServer(config('auto'), { workers });
    try {
      const { dir, configPath } = writeConfigDir(config('auto'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const free = createServer();
      const http = await new Promise<number>((r) =>
        free.listen(0, '127.0.0.1', () => r((free.address() as { port: number }).port)),
      );
      await new Promise((r) => free.close(r));
      const second = await runMeridian(
        [
          'dns',
          '--config',
          configPath,
          '--listen',
          `127.0.0.1:${first.port}`,
          '--control-listen',
          `127.0.0.1:${http}`,
          '--workers',
          String(workers),
        ],
        15_000,
      );
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        new RegExp(`cannot listen on udp 127\\.0\\.0\\.1:${first.port}: .*(EADDRINUSE|in use)`, 'i'),
      );
      const still = await udpAnswer(first.port);
      expect(still).toBe(true);
    } finally {
      await first.stop();
    }
  });
});

async function udpAnswer(port: number): Promise<boolean> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise<boolean>((resolve) => {
      socket.once('message', (m) => resolve(decode(m).answers.length === 2));
      setTimeout(() => resolve(false), 2000);
      socket.send(encodeQuery(1, 'www.example.test'), port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}
