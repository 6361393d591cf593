// The prober's catchment questions against stand-ins: a DNS server that answers with an NSID, an
// edge that names its PoP in Cache-Status, and addresses where nothing answers. (The real DNS
// server and edge answer the same way: test/integration/catchment.test.ts asks them.)
import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort } from '../test/helpers/closed-port.js';
import { waitFor } from '../test/helpers/wait-for.js';
import { startCatchment, type AnycastAddress, type Catchment } from './catchment.js';

const POPS = ['a', 'b', 'c'];
let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A UDP DNS stand-in answering every query with `nsid` in its OPT (or no OPT at all). */
async function nsidServer(nsid: string | null, host: string): Promise<number> {
  const socket: Socket = createSocket('udp4');
  socket.on('message', (msg, from) => {
    const q = dnsPacket.decode(msg);
    const asked = (q.additionals ?? []).some((rr) =>
      ((rr as { options?: { code: number }[] }).options ?? []).some((o) => o.code === 3),
    );
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: q.questions,
      additionals:
        nsid !== null && asked
          ? [
              {
                type: 'OPT',
                name: '.',
                udpPayloadSize: 1232,
                flags: 0,
                options: [{ code: 3, data: Buffer.from(nsid) }],
              } as unknown as dnsPacket.Answer,
            ]
          : [],
    } as dnsPacket.Packet);
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, host, r));
  cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
  return (socket.address() as AddressInfo).port;
}

/** An HTTP stand-in on `host` answering every request with `headers`. */
async function edge(headers: Record<string, string>, host: string): Promise<number> {
  const server = createServer((_req, res) => res.writeHead(200, headers).end('ok'));
  await new Promise<void>((r) => server.listen(0, host, r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

function start(addresses: AnycastAddress[]): Catchment {
  const c = startCatchment({ addresses, pops: POPS, interval: 60_000, timeout: 300 });
  cleanup.push(() => c.stop());
  return c;
}

describe('catchment: who answers each anycast address from here', () => {
  it("reads the PoP from a DNS answer's NSID and an edge's Cache-Status", async () => {
    const dnsPort = await nsidServer('ns1.lab.test@b', '127.0.0.1');
    const webPort = await edge({ 'cache-status': 'meridian-c; detail=local' }, '127.0.0.2');
    const c = start([
      { address: '127.0.0.1', serves: 'dns', port: dnsPort },
      { address: '127.0.0.2', serves: 'edge', port: webPort },
    ]);
    await waitFor(() => c.report()?.observations.length === 2, 3000, 'the first round');
    const report = c.report()!;
    expect(report.interval).toBe(60_000);
    expect(report.observations.map(({ address, pop }) => [address, pop])).toEqual([
      ['127.0.0.1', 'b'],
      ['127.0.0.2', 'c'],
    ]);
    expect(report.observations.every((o) => o.ageMs >= 0 && o.ageMs < 3000)).toBe(true);
  });

  it('reports "no answer" with why, never a guess: silence, no NSID, a name that is no PoP, no served-by', async () => {
    const silent = await closedPort();
    const noNsid = await nsidServer(null, '127.0.0.2');
    const stranger = await nsidServer('ns1@lhr', '127.0.0.3');
    const plainWebPort = await edge({ server: 'nginx' }, '127.0.0.4');
    const c = start([
      { address: '127.0.0.1', serves: 'dns', port: silent },
      { address: '127.0.0.2', serves: 'dns', port: noNsid },
      { address: '127.0.0.3', serves: 'dns', port: stranger },
      { address: '127.0.0.4', serves: 'edge', port: plainWebPort },
      { address: '127.0.0.5', serves: 'edge', port: silent },
    ]);
    await waitFor(() => c.report()?.observations.length === 5, 5000, 'the first round');
    const byAddress = Object.fromEntries(c.report()!.observations.map((o) => [o.address, o]));
    expect(Object.values(byAddress).every((o) => o.pop === null)).toBe(true);
    expect(byAddress['127.0.0.1']!.detail).toMatch(/ECONNREFUSED|timeout/);
    expect(byAddress['127.0.0.2']!.detail).toBe('answered without NSID or id.server');
    expect(byAddress['127.0.0.3']!.detail).toBe("answered by 'ns1@lhr', which names no PoP of the config");
    expect(byAddress['127.0.0.4']!.detail).toBe('HTTP 200 without a Cache-Status or Via naming a PoP of the config');
    expect(byAddress['127.0.0.5']!.detail).toMatch(/ECONNREFUSED/);
  });

  it('has nothing to report before the first round', () => {
    const c = startCatchment({ addresses: [], pops: POPS, interval: 1000, timeout: 100 });
    cleanup.push(() => c.stop());
    expect(c.report()).toBeUndefined();
  });
});
