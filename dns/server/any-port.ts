// "Port 0" for a DNS listener means any port, but UDP and TCP must get the same one. Workers
// forked by dns/workers/pool.ts each open their own sockets, so the primary picks the port first:
// one free for both protocols at this moment (a tiny window remains before the workers bind).
// A fixed UDP port is checked too: batched workers bind it with SO_REUSEPORT, which would
// quietly share it with another server already there instead of failing.
import dgram from 'node:dgram';
import net from 'node:net';
import type { HostPort } from '../../common/host-port.js';
import { PORT_ATTEMPTS } from './core.js';

export async function resolveAnyPorts(addresses: readonly HostPort[]): Promise<HostPort[]> {
  const out: HostPort[] = [];
  for (const at of addresses) {
    if (at.port === 0) out.push({ host: at.host, port: await portFreeForBoth(at.host) });
    else {
      await bindUdp(at.host, at.port).then(
        (udp) => udp.close(),
        (e: Error) => {
          throw new Error(`cannot listen on udp ${at.host}:${at.port}: ${e.message}`);
        },
      );
      out.push(at);
    }
  }
  return out;
}

function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  const udp = dgram.createSocket({ type: net.isIP(host) === 6 ? 'udp6' : 'udp4', ipv6Only: net.isIP(host) === 6 });
  return new Promise((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, host, () => resolve(udp));
  });
}

async function portFreeForBoth(host: string): Promise<number> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const udp = await bindUdp(host, 0);
    const port = udp.address().port;
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port, host, ipv6Only: net.isIP(host) === 6 }, () => resolve());
      });
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      return port;
    } catch (e) {
      lastError = e as Error;
    } finally {
      udp.close();
    }
  }
  throw new Error(`cannot find a port free for both UDP and TCP on ${host}: ${lastError?.message}`);
}
