// Issue 19, item 7: a fuzz campaign against the real server. The built `meridian dns` (run
// `npm run build` first) gets at least 200,000 mutated packets on each UDP path — the batched
// addon (native/udp_batch.c) and node:dgram — and mutated messages over TCP, with a valid probe
// query every few thousand that must be answered (id and question matching). It fails on a crash,
// a missed probe, an answer that is not a response, or RSS growing by more than a generous
// margin. dns/wire/fuzz.test.ts fuzzes the codec in-process; this one finds what only the
// process shows: the socket layers, the native addon's buffers, leaks across many packets.
//
// The seed is printed with the counts; MERIDIAN_FUZZ_SEED=<n> repeats a run exactly.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { batchingUnavailable, loadUdpBatch } from '../../dns/server/udp-batch.js';
import { TcpClient, decode, encodeQuery, frame, udpExchange } from '../helpers/dns-client.js';
import { startServer, stopAllServers, type RunningServer } from '../helpers/spawn-dns.js';
import { needsUdpBatch } from '../helpers/system-tools.js';
import { answerable, fuzzPackets, type FuzzPackets } from './fuzz-packets.js';

const SEED = Number(process.env.MERIDIAN_FUZZ_SEED ?? 0x66757a7a); // 'fuzz'
if (!Number.isSafeInteger(SEED)) throw new Error(`MERIDIAN_FUZZ_SEED must be an integer (the seed a run printed)`);
const UDP_PACKETS = 200_000;
const TCP_MESSAGES = 100_000;
const WARM_UP = 30_000;
const PROBE_EVERY = 2_000;
/** Growth of the server's RSS over a run that fails it: generous, so GC timing never flakes. */
const RSS_MARGIN = 64 * 1024 * 1024;
/** UDP packets in flight: small enough that neither side's socket buffer overflows. */
const UDP_WINDOW = 48;
const PROBE_TIMEOUT_MS = 3000;
const PROBE_NAME = 'www.fuzz.test';
/** Per run; the three together stay well under 90 s on a shared 2-core machine. */
const TEST_TIMEOUT_MS = 60_000;

// CI requires the addon (.ci/run sets MERIDIAN_REQUIRE_NATIVE), as dns/server/udp-batch.test.ts
// does: there a batched run that silently skipped would hide a broken build.
if (!loadUdpBatch() && process.env.MERIDIAN_REQUIRE_NATIVE === '1')
  throw new Error(`the batched UDP addon is required here but ${batchingUnavailable()}`);

const config = (udpBatching: 'auto' | 'off'): string => `
dns:
  serverId: ns1.fuzz.test
  udpBatching: ${udpBatching}
  # 200,000 packets a minute from loopback: RRL stays on (every packet goes through it) with rates
  # they never reach, or it would drop the probes this test must see answered.
  rrl: { responsesPerSecond: 1000000 }
zones:
  - name: fuzz.test
    soa: { mname: ns1.fuzz.test., rname: hostmaster.fuzz.test., serial: 1 }
    ns: [ns1.fuzz.test.]
    records:
      - { name: ns1, type: A, value: 192.0.2.53 }
      - { name: www, type: A, ttl: 30, values: [192.0.2.1, 192.0.2.2] }
      - { name: www, type: AAAA, value: "2001:db8::1" }
      - { name: "*.cdn", type: A, value: 192.0.2.3 }
      - { name: docs, type: CNAME, value: www }
      - { name: lab, type: NS, value: ns.lab }
      - { name: ns.lab, type: A, value: 192.0.2.54 }
      - { name: "@", type: TXT, value: "fuzz" }
`;

afterAll(stopAllServers);

/** The server's resident set in bytes, from /proc (the process itself, not this test). */
function rss(server: RunningServer): number {
  const status = readFileSync(`/proc/${server.process.pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!kb) throw new Error(`no VmRSS in /proc/${server.process.pid}/status`);
  return Number(kb[1]) * 1024;
}

/** Datagrams the kernel dropped on the server's UDP socket (full receive buffer): /proc/net/udp. */
function udpDrops(port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(hexPort)) drops += Number(fields.at(-1));
  }
  return drops;
}

function alive(server: RunningServer): void {
  const { exitCode, signalCode } = server.process;
  if (exitCode !== null || signalCode !== null)
    throw new Error(
      `meridian dns exited (${exitCode ?? signalCode}) under fuzzing (seed ${SEED})\nstderr:\n${server.stderr.slice(-30).join('\n')}`,
    );
}

let probeId = 0;
function probe(): { id: number; bytes: Buffer } {
  probeId = (probeId + 1) & 0xffff;
  return { id: probeId, bytes: encodeQuery(probeId, PROBE_NAME, 'A', { edns: probeId % 2 === 0 }) };
}

/** A probe's answer must be this probe's: its id, its question, and the zone's two addresses. */
function checkProbe(reply: Buffer | null | undefined, id: number, server: RunningServer, sent: number): void {
  alive(server);
  if (!reply) throw new Error(`probe ${id} after ${sent} fuzz packets was not answered (seed ${SEED})`);
  const d = decode(reply);
  expect(d.id, `probe id after ${sent} packets (seed ${SEED})`).toBe(id);
  expect(d.rcode).toBe('NOERROR');
  expect(d.questions).toEqual([{ name: PROBE_NAME, type: 'A', class: 'IN' }]);
  expect(d.answers.map((a) => a.data).sort()).toEqual(['192.0.2.1', '192.0.2.2']);
}

interface UdpCounts {
  sent: number;
  /** Of those sent, the ones owed an answer (a readable header, not a response). */
  owed: number;
  received: number;
  dropped: number;
  answers: number;
  probes: number;
}

/**
 * Sends fuzz packets until the server's socket has taken in `count` of them (sent minus the
 * kernel's drops), at most UDP_WINDOW owed answers in flight, and a probe every PROBE_EVERY.
 */
async function udpCampaign(server: RunningServer, fuzz: FuzzPackets, count: number): Promise<UdpCounts> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  let owed = 0;
  let answers = 0;
  let notResponses = 0;
  let wake: (() => void) | undefined;
  socket.on('message', (m) => {
    answers++;
    owed--;
    if (m.length < 12 || (m[2]! & 0x80) === 0) notResponses++;
    wake?.();
  });
  /** Until at most `limit` answers are owed; one lost (a full buffer) must not stall the run. */
  const settle = async (limit: number): Promise<void> => {
    const deadline = performance.now() + 500;
    while (owed > limit && performance.now() < deadline)
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 20);
      });
    if (owed > limit) {
      // Answers stopped coming: a dead server fails the run here, not after the next probe.
      alive(server);
      owed = limit;
    }
  };

  const c: UdpCounts = { sent: 0, owed: 0, received: 0, dropped: 0, answers: 0, probes: 0 };
  const dropsBefore = udpDrops(server.port);
  try {
    while (c.received < count) {
      for (let i = 0; i < PROBE_EVERY; i++) {
        const msg = fuzz.next();
        if (answerable(msg)) {
          owed++;
          c.owed++;
        }
        socket.send(msg, server.port, server.host);
        c.sent++;
        if (owed >= UDP_WINDOW) await settle(UDP_WINDOW / 4);
      }
      // Sent once the server has caught up, so a probe is never one the kernel dropped.
      await settle(0);
      const p = probe();
      checkProbe(await udpExchange(server, p.bytes, PROBE_TIMEOUT_MS), p.id, server, c.sent);
      c.probes++;
      c.dropped = udpDrops(server.port) - dropsBefore;
      c.received = c.sent - c.dropped;
    }
  } finally {
    socket.close();
  }
  c.answers = answers;
  expect(notResponses, 'answers without QR set').toBe(0);
  // Every packet with a readable query header is answered (FORMERR at worst), none silently
  // lost in the server; the 1% allows for a reply the kernel dropped on our side.
  expect(c.answers, `answers to ${c.owed} answerable packets (seed ${SEED})`).toBeGreaterThanOrEqual(c.owed * 0.99);
  return c;
}

interface TcpCounts {
  sent: number;
  answers: number;
  connections: number;
  probes: number;
}

/**
 * Mutated messages over a few connections, pipelined in batches written in two pieces at a
 * random cut (partial reads); now and then a zero-length message, on which the server closes
 * the connection, and the campaign reconnects. A probe on the connection every PROBE_EVERY.
 */
async function tcpCampaign(server: RunningServer, fuzz: FuzzPackets, count: number): Promise<TcpCounts> {
  const c: TcpCounts = { sent: 0, answers: 0, connections: 0, probes: 0 };
  const BATCH = 100;
  let conn: TcpClient | undefined;
  let expected = 0;
  const connect = async (): Promise<TcpClient> => {
    conn?.destroy();
    const next = new TcpClient(server);
    await next.connected;
    c.connections++;
    expected = 0;
    return next;
  };
  let cut = 0;
  let probedAt = 0;
  try {
    while (c.sent < count) {
      if (!conn || conn.closed) conn = await connect();
      const frames: Buffer[] = [];
      let closing = false;
      for (let i = 0; i < BATCH; i++) {
        // An empty message is what closes a connection: sent on purpose, once every 5,000.
        const msg = fuzz.next();
        if (msg.length === 0) continue;
        c.sent++;
        if (++cut % 5_000 === 0) {
          // Not a DNS message: the server drops the connection (dns/server/tcp.ts).
          frames.push(frame(Buffer.alloc(0)));
          closing = true;
          break;
        }
        frames.push(frame(msg));
        if (answerable(msg)) expected++;
      }
      const bytes = Buffer.concat(frames);
      const at = Math.floor(bytes.length / 3);
      await conn.write(bytes.subarray(0, at));
      await conn.write(bytes.subarray(at));
      if (closing) {
        await Promise.race([conn.closedPromise, new Promise((r) => setTimeout(r, 3000))]);
        expect(conn.closed, 'the server closes a connection on a zero-length message').toBe(true);
        c.answers += conn.messages.length;
        continue;
      }
      await conn.waitFor(expected, 5000);
      if (c.sent - probedAt >= PROBE_EVERY) {
        probedAt = c.sent;
        const p = probe();
        await conn.write(frame(p.bytes));
        expected++;
        const got = await conn.waitFor(expected, PROBE_TIMEOUT_MS).catch(() => []);
        checkProbe(got.at(-1), p.id, server, c.sent);
        c.probes++;
      }
      for (const m of conn.messages) expect(m.length >= 12 && (m[2]! & 0x80) !== 0, 'a response').toBe(true);
      c.answers += conn.messages.length;
      conn.messages.length = 0;
      expected = 0;
    }
  } finally {
    conn?.destroy();
  }
  return c;
}

/** Warms the server up, runs `campaign`, and checks it survived without growing. */
async function underFuzz<T>(
  udpBatching: 'auto' | 'off',
  expectUdp: RegExp,
  campaign: (server: RunningServer, fuzz: FuzzPackets, count: number) => Promise<T>,
  count: number,
  label: string,
): Promise<void> {
  const server = await startServer(config(udpBatching));
  try {
    const ready = server.stdout.find((l) => l.includes('meridian dns serving')) ?? '';
    expect((JSON.parse(ready) as { udp: string }).udp).toMatch(expectUdp);
    const fuzz = fuzzPackets(SEED);
    const started = performance.now();
    // Warm-up: JIT, caches and pools reach their working size before the first RSS sample.
    await campaign(server, fuzz, WARM_UP);
    const before = rss(server);
    const counts = await campaign(server, fuzz, count);
    alive(server);
    const after = rss(server);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const mb = (n: number): string => (n / 1048576).toFixed(1);
    console.log(
      `dns fuzz campaign ${label}: seed ${SEED}, ${JSON.stringify(counts)}, kinds ${JSON.stringify(fuzz.made)}, ` +
        `RSS ${mb(before)} → ${mb(after)} MB, ${seconds} s`,
    );
    expect(after - before, `RSS growth (seed ${SEED})`).toBeLessThan(RSS_MARGIN);
  } finally {
    await server.stop();
  }
}

describe(`the real server under ${UDP_PACKETS} mutated packets per UDP path and ${TCP_MESSAGES} over TCP`, () => {
  it(
    'batched UDP (recvmmsg/sendmmsg): no crash, every probe answered, no growth',
    { ...needsUdpBatch(), timeout: TEST_TIMEOUT_MS },
    async () => {
      await underFuzz('auto', /^batched/, udpCampaign, UDP_PACKETS, 'udp batched');
    },
  );

  it('node:dgram UDP: no crash, every probe answered, no growth', { timeout: TEST_TIMEOUT_MS }, async () => {
    await underFuzz('off', /^node:dgram/, udpCampaign, UDP_PACKETS, 'udp node:dgram');
  });

  it(
    'TCP: no crash, every probe answered, no growth; garbage closes only its connection',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      await underFuzz('off', /./, tcpCampaign, TCP_MESSAGES, 'tcp');
    },
  );
});
