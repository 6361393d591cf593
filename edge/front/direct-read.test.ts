// Sockets reading into the front's shared buffer (direct-read.ts), made by batched accept on a
// listener whose own node handle is closed, so that every connection is one of them: a claimed
// socket's reader sees each read once, in order; an unclaimed or released one reads as node's
// sockets do, through 'data', each client's bytes its own although they share one buffer.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/wait-for.js';
import { directReadListener } from '../../test/helpers/direct-read-listener.js';
import { batchedAcceptUnavailable } from '../batched-accept.js';
import { claimReads, readsDirectly, releaseReads } from './direct-read.js';

const unavailable = batchedAcceptUnavailable();
// CI requires the addon (.ci/run sets MERIDIAN_REQUIRE_NATIVE): there these tests must run.
if (unavailable && process.env.MERIDIAN_REQUIRE_NATIVE === '1')
  throw new Error(`the batched accept addon is required here but ${unavailable}`);

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** A port whose every connection is a direct-read socket, handed to `onSocket`. */
async function directListener(onSocket: (s: Socket) => void): Promise<number> {
  const listener = await directReadListener((s) => {
    cleanup.push(() => s.destroy());
    onSocket(s);
  });
  cleanup.push(() => listener.close());
  return listener.port;
}

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1', () => resolve(c));
    c.once('error', reject);
    cleanup.push(() => c.destroy());
  });
}

describe.skipIf(unavailable !== undefined)(
  `sockets reading into one shared buffer${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it("gives a claimed socket's reads to its reader, in order, and 'end' as usual", async () => {
      const seen: string[] = [];
      let ended = false;
      const port = await directListener((s) => {
        expect(readsDirectly(s)).toBe(true);
        expect(claimReads(s, (chunk) => seen.push(chunk.toString('latin1')))).toBe(true);
        s.on('end', () => (ended = true));
      });
      const c = await client(port);
      for (const part of ['one', 'two', 'three']) {
        c.write(part);
        await waitFor(() => seen.join('').endsWith(part), 2000, `the read of ${part}`);
      }
      c.end();
      await waitFor(() => ended, 2000, "'end'");
      expect(seen.join('')).toBe('onetwothree');
    });

    it("gives an unclaimed socket's reads to 'data', copied: two clients' bytes stay their own", async () => {
      const got = new Map<number, Buffer[]>();
      const port = await directListener((s) => {
        const chunks: Buffer[] = [];
        got.set(s.remotePort!, chunks);
        s.on('data', (d: Buffer) => chunks.push(d));
      });
      const a = await client(port);
      const b = await client(port);
      // Interleaved writes: each read overwrites the shared buffer, kept chunks must not change.
      const expectA: string[] = [];
      const expectB: string[] = [];
      for (let i = 0; i < 50; i++) {
        const x = `a${i}:${'A'.repeat(i * 37)}|`;
        const y = `b${i}:${'B'.repeat(i * 53)}|`;
        a.write(x);
        b.write(y);
        expectA.push(x);
        expectB.push(y);
        await new Promise((r) => setImmediate(r));
      }
      const text = (c: Socket) => Buffer.concat(got.get(c.localPort!) ?? []).toString('latin1');
      await waitFor(
        () => text(a) === expectA.join('') && text(b) === expectB.join(''),
        3000,
        "each client's bytes, whole and unmixed",
      );
    });

    it("goes back to 'data' once released, with nothing lost between", async () => {
      const claimed: string[] = [];
      const released: Buffer[] = [];
      let server: Socket | undefined;
      const port = await directListener((s) => {
        server = s;
        claimReads(s, (chunk) => claimed.push(chunk.toString('latin1')));
      });
      const c = await client(port);
      c.write('first');
      await waitFor(() => claimed.join('') === 'first', 2000, 'the claimed read');
      releaseReads(server!);
      server!.on('data', (d: Buffer) => released.push(d));
      c.write('second');
      await waitFor(() => Buffer.concat(released).toString() === 'second', 2000, "the read through 'data'");
      expect(claimed.join('')).toBe('first');
    });

    it('leaves sockets node accepted to node: they read through data as always', async () => {
      const server = createServer();
      let accepted: Socket | undefined;
      server.on('connection', (s: Socket) => (accepted = s));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanup.push(() => server.close());
      const c = await client((server.address() as AddressInfo).port);
      await waitFor(() => accepted !== undefined, 2000, 'the connection');
      cleanup.push(() => accepted!.destroy());
      expect(readsDirectly(accepted!)).toBe(false);
      expect(claimReads(accepted!, () => {})).toBe(false);
      c.destroy();
    });
  },
);
