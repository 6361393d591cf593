import { createSocket, type Socket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../../test/helpers/closed-port.js';
import { settings, target } from '../../test/helpers/probe-settings.js';
import { probe } from './dns.js';

// A tiny responder: ok.test → NOERROR, slow.test → never, stray.test → a reply with the wrong
// id first, then the right one; anything else → NXDOMAIN.
let server: Socket;
let port: number;

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (msg, from) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions?.[0]?.name ?? '';
    const reply = (id: number, rcode: string) =>
      server.send(
        dnsPacket.encode({
          type: 'response',
          id,
          flags: dnsPacket.AUTHORITATIVE_ANSWER | rcodeBits(rcode),
          questions: q.questions ?? [],
        }),
        from.port,
        from.address,
      );
    if (name === 'slow.test') return;
    if (name === 'stray.test') reply(((q.id ?? 0) + 1) & 0xffff, 'NOERROR');
    reply(q.id ?? 0, name === 'ok.test' || name === 'stray.test' ? 'NOERROR' : 'NXDOMAIN');
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  port = server.address().port;
});
afterAll(() => new Promise<void>((resolve) => server.close(resolve)));

function rcodeBits(rcode: string): number {
  return rcode === 'NXDOMAIN' ? 3 : 0;
}

const dns = (name: string, timeout = 300, p = port) =>
  settings({ type: 'dns' as const, name, qtype: 'A' as const, port: p }, { timeout });
const edge = target('http://127.0.0.1:8080');

describe('dns check', () => {
  it('passes on a NOERROR answer to our query', async () => {
    const r = await probe(edge, dns('ok.test'));
    expect(r).toEqual({ ok: true, rttMs: expect.any(Number) });
    expect(r.rttMs).toBeLessThan(100);
  });

  it('fails on another rcode, naming it', async () => {
    expect(await probe(edge, dns('missing.test'))).toMatchObject({ ok: false, detail: 'rcode NXDOMAIN' });
  });

  it('ignores an answer with another id', async () => {
    expect((await probe(edge, dns('stray.test'))).ok).toBe(true);
  });

  it('fails at the timeout when nothing answers', async () => {
    const started = performance.now();
    expect(await probe(edge, dns('slow.test', 150))).toMatchObject({ ok: false, detail: 'timeout after 150 ms' });
    expect(performance.now() - started).toBeLessThan(150 + 100);
  });

  it('fails fast when the port is closed (ICMP unreachable)', async () => {
    const closed = await closedPort();
    const started = performance.now();
    const r = await probe(edge, dns('ok.test', 1000, closed));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/ECONNREFUSED/);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
