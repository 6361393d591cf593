// The two network round trips probers time: a TCP connect, and one UDP query and its answer.
// Edge checks (checks/tcp.ts, checks/dns.ts) and resolver RTT measurement (resolver-rtt.ts)
// both use these, so timeouts, aborts and socket clean-up are handled in one place.
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { describeError } from '../common/describe-error.js';
import { elapsedMs } from './checks/types.js';

export interface Timed {
  readonly ok: boolean;
  readonly rttMs: number;
  readonly detail?: string;
}

/** Settles once: the first of success, failure, timeout or abort wins; `cleanup` runs once. */
function settleOnce(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  since: () => number,
  cleanup: () => void,
  resolve: (t: Timed) => void,
) {
  let done = false;
  const finish = (result: Timed): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    cleanup();
    resolve(result);
  };
  const fail = (detail: string): void => finish({ ok: false, rttMs: elapsedMs(since()), detail });
  const timer = setTimeout(() => fail(`timeout after ${timeoutMs} ms`), timeoutMs);
  const onAbort = (): void => fail('aborted');
  if (signal?.aborted) queueMicrotask(onAbort);
  else signal?.addEventListener('abort', onAbort, { once: true });
  return { finish, fail };
}

/** A TCP connect: the handshake is one round trip. The connection is dropped at once. */
export function tcpConnect(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<Timed> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host, port });
    const { finish, fail } = settleOnce(
      timeoutMs,
      signal,
      () => started,
      () => socket.destroy(),
      resolve,
    );
    socket.once('connect', () => finish({ ok: true, rttMs: elapsedMs(started) }));
    socket.on('error', (err) => fail(describeError(err, timeoutMs)));
  });
}

/**
 * Sends `query` over a connected UDP socket (datagrams from anyone else are dropped, and an ICMP
 * port-unreachable fails at once) and waits for a datagram `judge` accepts: it returns the
 * outcome, or undefined to keep waiting (a late reply to an earlier probe, say). Timed from the
 * send, so only the path is measured.
 */
export function udpExchange(
  host: string,
  port: number,
  query: Buffer,
  judge: (msg: Buffer) => { ok: boolean; detail?: string } | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Timed> {
  return new Promise((resolve) => {
    // A host name resolves like dgram does by default: IPv4 unless it is an IPv6 literal.
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    let started = performance.now();
    const { finish, fail } = settleOnce(
      timeoutMs,
      signal,
      () => started,
      () => socket.close(),
      resolve,
    );
    socket.on('error', (err) => fail(describeError(err, timeoutMs)));
    socket.on('message', (msg) => {
      const verdict = judge(msg);
      if (verdict) finish({ ...verdict, rttMs: elapsedMs(started) });
    });
    // With a callback, a failed connect (no route, a bad address) is reported to it, not as
    // 'error'; sending anyway would throw.
    const onConnect = (err?: Error | null): void => {
      if (err) return fail(describeError(err, timeoutMs));
      started = performance.now();
      socket.send(query);
    };
    socket.connect(port, host, onConnect as () => void);
  });
}
