// DNS check: one UDP query for the configured name; ok when an answer with our id and NOERROR
// comes back in time. The socket is connected, so datagrams from anyone else are dropped by the
// kernel and an ICMP port-unreachable fails the probe at once instead of at the timeout.
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { ProbeResult, ProbeTarget, SettingsFor } from './types.js';
import { describeError, edgeHostPort, elapsedMs, failed, passed } from './types.js';

export function probe(target: ProbeTarget, settings: SettingsFor<'dns'>, signal?: AbortSignal): Promise<ProbeResult> {
  const { check, timeout } = settings;
  const { host, port } = edgeHostPort(target.edge, check.port);
  const id = randomInt(0, 0x10000);
  const query = dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type: check.qtype, name: check.name, class: 'IN' }] });
  const started = performance.now();
  return new Promise((resolve) => {
    // A host name resolves like dgram does by default: IPv4 unless the edge is an IPv6 literal.
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (result: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.close();
      resolve(result);
    };
    const timer = setTimeout(() => finish(failed(elapsedMs(started), `timeout after ${timeout} ms`)), timeout);
    const onAbort = (): void => finish(failed(elapsedMs(started), 'aborted'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish(failed(elapsedMs(started), describeError(err, timeout))));
    socket.on('message', (msg) => {
      const rcode = responseRcode(msg, id);
      // Not an answer to our query (a late reply to an earlier probe, say): keep waiting.
      if (rcode === undefined) return;
      finish(rcode === 'NOERROR' ? passed(elapsedMs(started)) : failed(elapsedMs(started), `rcode ${rcode}`));
    });
    // A failed connect (e.g. a host name that does not resolve) is passed to this callback;
    // sending anyway would throw from the callback.
    const onConnect = (err?: Error | null): void => (err ? finish(failed(elapsedMs(started), describeError(err, timeout))) : socket.send(query));
    socket.connect(port, host, onConnect as () => void);
  });
}

/** The rcode of a well-formed response to query `id`, else undefined. */
function responseRcode(msg: Buffer, id: number): string | undefined {
  try {
    const decoded = dnsPacket.decode(msg) as dnsPacket.DecodedPacket & { rcode?: string };
    return decoded.id === id && decoded.flag_qr ? (decoded.rcode ?? 'unknown') : undefined;
  } catch {
    return undefined;
  }
}
