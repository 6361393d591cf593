// The native batched UDP layer on real loopback sockets: what recvmmsg/sendmmsg hand to the
// answerer and send back, socket ownership (bind errors, SO_REUSEPORT groups, close), and the
// datagrams it must drop. The protocol on top is the same handler as node:dgram's
// (test/integration/dns-udp-io.test.ts runs both paths end to end).
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/wait-for.js';
import { needsLoopback6, needsUdpBatch } from '../../test/helpers/system-tools.js';
import { IN_SLOT, UdpBatcher, batchingUnavailable, loadUdpBatch, type DatagramAnswerer } from './udp-batch.js';

const addon = loadUdpBatch();
// npm install builds the addon when python3, make and g++ are present; without them the server
// falls back to node:dgram and this file has nothing to test. CI requires it (.ci/run sets
// MERIDIAN_REQUIRE_NATIVE), so a build that silently failed there is a failure, not a skip.
if (!addon && process.env.MERIDIAN_REQUIRE_NATIVE === '1')
  throw new Error(`the batched UDP addon is required here but ${batchingUnavailable()}`);

const open: UdpBatcher[] = [];
afterEach(() => {
  for (const b of open.splice(0)) b.close();
});

function bind(
  host: string,
  port: number,
  answer: DatagramAnswerer,
  opts: { reusePort?: boolean; oversize?: () => void } = {},
): UdpBatcher {
  const b = UdpBatcher.bind(addon!, host, port, opts.reusePort ?? false, answer, opts.oversize ?? (() => {}));
  open.push(b);
  return b;
}

/** A client socket that collects every reply. */
async function client(
  type: 'udp4' | 'udp6' = 'udp4',
): Promise<{ socket: dgram.Socket; replies: Buffer[]; port: number; close(): void }> {
  const socket = dgram.createSocket(type);
  const replies: Buffer[] = [];
  socket.on('message', (m) => replies.push(m));
  await new Promise<void>((r) => socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => r()));
  return { socket, replies, port: socket.address().port, close: () => socket.close() };
}

/** Answers "echo:" + the datagram, so a reply shows which datagram it answers. */
const echo: DatagramAnswerer = (msg) => Buffer.concat([Buffer.from('echo:'), msg]);

// Skipped with its reason in the run's skip summary (test/helpers/system-tools.ts).
describe('batched UDP (recvmmsg/sendmmsg)', needsUdpBatch(), () => {
  it('answers every datagram of bursts larger than one batch, each to its sender, in order', async () => {
    const seen: { port: number; address: string }[] = [];
    const b = bind('127.0.0.1', 0, (msg, port, address) => {
      seen.push({ port, address });
      return echo(msg, port, address);
    });
    expect(b.port).toBeGreaterThan(0);
    const c = await client();
    try {
      // Waves of 150 (several recvmmsg rounds of 64 each): small enough that the client's own
      // receive buffer (default 208 KiB) holds a whole wave of answers.
      const n = 300;
      for (let wave = 0; wave < n; wave += 150) {
        for (let i = wave; i < wave + 150; i++) c.socket.send(`q${i}`, b.port, '127.0.0.1');
        await waitFor(() => c.replies.length === wave + 150, 2000, 'the answers');
      }
      expect(c.replies.map(String)).toEqual(Array.from({ length: n }, (_, i) => `echo:q${i}`));
      expect(new Set(seen.map((s) => `${s.address}:${s.port}`))).toEqual(new Set([`127.0.0.1:${c.port}`]));
      expect(b.stats()).toMatchObject({ received: n, sent: n, sendFailed: 0, oversize: 0 });
    } finally {
      c.close();
    }
  });

  it('hands the answerer an IPv6 client its own address and port', needsLoopback6(), async () => {
    const seen: string[] = [];
    const b = bind('::1', 0, (msg, port, address) => {
      seen.push(`[${address}]:${port}`);
      return echo(msg, port, address);
    });
    const c = await client('udp6');
    try {
      c.socket.send('six', b.port, '::1');
      await waitFor(() => c.replies.length === 1, 2000, 'the answers');
      expect(String(c.replies[0])).toBe('echo:six');
      expect(seen).toEqual([`[::1]:${c.port}`]);
    } finally {
      c.close();
    }
  });

  it('sends nothing for a null answer and still answers the rest of the batch', async () => {
    const b = bind('127.0.0.1', 0, (msg, port, address) =>
      String(msg).startsWith('drop') ? null : echo(msg, port, address),
    );
    const c = await client();
    try {
      for (const m of ['a', 'drop1', 'b', 'drop2', 'c']) c.socket.send(m, b.port, '127.0.0.1');
      await waitFor(() => c.replies.length === 3, 2000, 'the answers');
      await new Promise((r) => setTimeout(r, 50));
      expect(c.replies.map(String)).toEqual(['echo:a', 'echo:b', 'echo:c']);
    } finally {
      c.close();
    }
  });

  it(`drops a datagram longer than ${IN_SLOT} bytes (counted as oversize) and answers the next one`, async () => {
    let oversize = 0;
    const answered: number[] = [];
    const b = bind(
      '127.0.0.1',
      0,
      (msg) => {
        answered.push(msg.length);
        return Buffer.from('ok');
      },
      { oversize: () => oversize++ },
    );
    const c = await client();
    try {
      c.socket.send(Buffer.alloc(IN_SLOT + 1, 1), b.port, '127.0.0.1');
      c.socket.send(Buffer.alloc(IN_SLOT, 2), b.port, '127.0.0.1');
      await waitFor(() => c.replies.length === 1, 2000, 'the answers');
      expect(oversize).toBe(1);
      expect(answered).toEqual([IN_SLOT]);
      expect(b.stats().oversize).toBe(1);
    } finally {
      c.close();
    }
  });

  it('refuses a port already bound, unless every socket on it joins one SO_REUSEPORT group', async () => {
    const first = bind('127.0.0.1', 0, echo);
    expect(() => bind('127.0.0.1', first.port, echo)).toThrow(/in use/i);
    expect(() => bind('127.0.0.1', first.port, echo, { reusePort: true })).toThrow(/in use/i);

    // Two workers' sockets on one port: the kernel spreads flows (source ports) over them.
    const hits = { a: 0, b: 0 };
    const a = bind('127.0.0.1', 0, (m, p, ad) => (hits.a++, echo(m, p, ad)), { reusePort: true });
    bind('127.0.0.1', a.port, (m, p, ad) => (hits.b++, echo(m, p, ad)), { reusePort: true });
    const clients = await Promise.all(Array.from({ length: 32 }, () => client()));
    try {
      for (const c of clients) c.socket.send('hi', a.port, '127.0.0.1');
      await waitFor(() => clients.every((c) => c.replies.length === 1), 2000, 'the answers');
      expect(hits.a + hits.b).toBe(32);
      expect(Math.min(hits.a, hits.b)).toBeGreaterThan(0);
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('close stops answering and frees the port; a second close does nothing', async () => {
    const b = bind('127.0.0.1', 0, echo);
    const port = b.port;
    b.close();
    b.close();
    const again = bind('127.0.0.1', port, echo);
    const c = await client();
    try {
      c.socket.send('back', port, '127.0.0.1');
      await waitFor(() => c.replies.length === 1, 2000, 'the answers');
      expect(String(c.replies[0])).toBe('echo:back');
      expect(again.stats().received).toBe(1);
    } finally {
      c.close();
    }
  });

  it('names the problem when an address cannot be bound', () => {
    expect(() => bind('192.0.2.1', 0, echo)).toThrow(/bind: .*address/i);
    expect(() => bind('not-an-ip', 0, echo)).toThrow(/not an IP address/);
  });
});
