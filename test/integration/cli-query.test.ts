// `meridian query` (the built CLI) against a real DNS server on the demo topology: the PoP a
// client subnet gets, the ECS scope and NSID shown, TCP and IPv6, truncation, and failures.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/closed-port.js';
import { query as dig } from '../helpers/dig.js';
import { runMeridian } from '../helpers/meridian-process.js';
import { startServer, type RunningServer } from '../helpers/spawn-dns.js';
import type { QueryResult } from '../../cli/query/format.js';
import { hasLoopback6, needs, needsLoopback6 } from '../helpers/system-tools.js';

// One name with more A records than fit in 1232 bytes: the UDP answer must be truncated.
const BIG = Array.from({ length: 100 }, (_, i) => `192.0.2.${i + 1}`);
const BIG_CONFIG = `
dns: { serverId: big.test }
zones:
  - name: example.test
    soa: { mname: ns1.example.test., rname: admin.example.test. }
    ns: [ns1.example.test.]
    records:
      - { name: ns1, type: A, value: 192.0.2.1 }
      - { name: many, type: A, values: [${BIG.join(', ')}] }
`;

async function meridianQuery(args: string[]) {
  return runMeridian(['query', ...args], 15_000);
}

describe('meridian query', () => {
  let demo: RunningServer;
  let server: string;
  beforeAll(async () => {
    demo = await startServer(
      { file: 'config/demo.yaml' },
      { listen: hasLoopback6() ? ['127.0.0.1:0', '[::1]:0'] : ['127.0.0.1:0'] },
    );
    server = `127.0.0.1:${demo.port}`;
  });
  afterAll(async () => {
    await demo?.stop();
  });

  it(
    'shows the PoP a client subnet is answered with, the ECS scope and which server answered',
    needs('dig'),
    async () => {
      const r = await meridianQuery(['www.demo.test', '--subnet', '203.0.113.0/24', '--server', server]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines[0]).toBe('www.demo.test A for client subnet 203.0.113.0/24');
      expect(lines[1]).toMatch(/^status: {2}NOERROR {3}flags: qr aa rd {3}id: \d+$/);
      expect(lines[2]).toMatch(new RegExp(`^server:  ${server} over UDP, \\d+\\.\\d ms$`));
      expect(lines).toContain('nsid:    ns1.demo.test');
      expect(lines).toContain('ecs:     203.0.113.0/24, scope /24');
      // Tokyo's subnet → the Singapore PoP, as dig sees it too.
      expect(r.stdout).toContain('ANSWER\n  www.demo.test.  30  IN  A  127.0.4.1\n');
      const seenByDig = await dig(demo, ['www.demo.test', '+subnet=203.0.113.0/24']);
      expect(seenByDig.answer.map((a) => a.data)).toEqual(['127.0.4.1']);
    },
  );

  it('prints one JSON document with --json', async () => {
    const r = await meridianQuery(['img.cdn.demo.test', '--subnet', '41.0.5.0/24', '--server', server, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as QueryResult;
    expect(doc).toMatchObject({
      server,
      transport: 'udp',
      retriedOverTcp: false,
      query: { name: 'img.cdn.demo.test', type: 'A', subnet: '41.0.5.0/24' },
    });
    expect(doc.reply.rcode).toBe('NOERROR');
    expect(doc.reply.flags).toContain('aa');
    // Two PoPs for the wildcard route, Johannesburg first for a client in Africa.
    expect(doc.reply.answer.map((a) => [a.name, a.ttl, a.type, a.data])).toEqual([
      ['img.cdn.demo.test.', 30, 'A', '127.0.6.1'],
      ['img.cdn.demo.test.', 30, 'A', expect.stringMatching(/^127\.0\.\d\.1$/)],
    ]);
    expect(doc.reply.edns?.clientSubnet).toMatchObject({ family: 1, address: '41.0.5.0', sourcePrefix: 24 });
    expect(doc.reply.edns?.clientSubnet?.scopePrefix).toBeGreaterThan(0);
    expect(doc.reply.edns?.nsid?.text).toBe('ns1.demo.test');
    expect(doc.rttMs).toBeGreaterThan(0);
  });

  it('shows NXDOMAIN with the SOA in authority, and a static name with scope 0', async () => {
    const nx = await meridianQuery(['nope.demo.test', '--server', server]);
    expect(nx.code).toBe(0);
    expect(nx.stdout).toContain('status:  NXDOMAIN');
    expect(nx.stdout).toMatch(
      /AUTHORITY\n {2}demo\.test\. {2}300 {2}IN {2}SOA {2}ns1\.demo\.test\. hostmaster\.demo\.test\. 2026112201 7200 3600 1209600 300\n/,
    );
    const fixed = await meridianQuery(['mail.demo.test', '--subnet', '198.51.100.0/24', '--server', server]);
    expect(fixed.stdout).toContain('ecs:     198.51.100.0/24, scope /0 (the same answer for every client)');
  });

  it('asks over TCP and over IPv6 when told to', needsLoopback6(), async () => {
    const v6 = demo.listeners[1]!;
    const r = await meridianQuery([
      'www.demo.test',
      'AAAA',
      '--subnet',
      '2001:db8:5::/48',
      '--server',
      `[::1]:${v6.port}`,
      '--tcp',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as QueryResult;
    expect(doc.server).toBe(`[::1]:${v6.port}`);
    expect(doc.transport).toBe('tcp');
    expect(doc.reply.answer.map((a) => a.data)).toEqual(['2001:db8:5::1']); // Sydney
    expect(doc.reply.edns?.clientSubnet).toMatchObject({
      family: 2,
      address: '2001:db8:5::',
      sourcePrefix: 48,
      scopePrefix: 48,
    });
  });

  it('refuses bad input with a clear message, the usage and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['www.demo.test', '--subnet', '203.0.113.7/24'],
        /--subnet: '203.0.113.7\/24' has host bits set beyond \/24 \(did you mean 203.0.113.0\/24\?\)/,
      ],
      [['www.demo.test', '--type', 'BOGUS'], /unknown record type 'BOGUS'/],
      [['www.demo.test', '--server', '127.0.0.1:70000'], /--server: port 70000 in '127.0.0.1:70000' is above 65535/],
      [['www..demo.test'], /not a domain name \(empty label\)/],
      [[], /NAME is missing/],
    ];
    for (const [args, message] of cases) {
      const r = await meridianQuery(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('usage: meridian query NAME');
      expect(r.stdout).toBe('');
    }
  });
});

describe('meridian query on the edge of the transport', () => {
  let big: RunningServer | undefined;
  let silent: Socket | undefined;
  afterAll(async () => {
    await big?.stop();
    silent?.close();
  });

  it('asks again over TCP when the UDP answer is truncated, and gets every record', async () => {
    big = await startServer(BIG_CONFIG);
    const r = await meridianQuery(['many.example.test', '--server', `127.0.0.1:${big.port}`, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as QueryResult;
    expect(doc.transport).toBe('tcp');
    expect(doc.retriedOverTcp).toBe(true);
    expect(doc.reply.flags).not.toContain('tc');
    expect(doc.reply.answer.map((a) => a.data).sort()).toEqual([...BIG].sort());
    const text = await meridianQuery(['many.example.test', '--server', `127.0.0.1:${big.port}`]);
    expect(text.stdout).toContain('over TCP (the UDP reply was truncated)');
  });

  it('fails with exit code 1 naming the server when nothing listens', async () => {
    const port = await closedPort();
    const r = await meridianQuery(['www.demo.test', '--server', `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `meridian query: no reply from 127.0.0.1:${port} over UDP: refused (nothing listens on UDP port ${port})\n`,
    );
    const tcp = await meridianQuery(['www.demo.test', '--server', `127.0.0.1:${port}`, '--tcp']);
    expect(tcp.code).toBe(1);
    expect(tcp.stderr).toContain(`no reply from 127.0.0.1:${port} over TCP: refused`);
  });

  it('gives up after one retry when the server never answers', async () => {
    const socket = createSocket('udp4');
    silent = socket;
    let received = 0;
    socket.on('message', () => received++);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = socket.address().port;
    const r = await meridianQuery(['www.demo.test', '--server', `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`meridian query: no reply from 127.0.0.1:${port} over UDP (2 tries, 2 s each)\n`);
    expect(received).toBe(2);
  });
});
