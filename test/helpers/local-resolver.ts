// A stand-in for a recursive resolver, for the prober's resolver-RTT tests: a UDP responder that
// answers late, or never.
import { createSocket } from 'node:dgram';

export interface LocalResolver {
  readonly host: string;
  readonly port: number;
  /** When each query arrived (performance.now() ms). */
  readonly queries: number[];
  stop(): Promise<void>;
}

/**
 * A stand-in for a resolver: a UDP DNS responder on `host` that answers every query REFUSED
 * (as a resolver does to strangers) after `delayMs`, or never when `silent`.
 */
export async function localResolver(
  opts: { host?: string; port?: number; delayMs?: number; silent?: boolean } = {},
): Promise<LocalResolver> {
  const host = opts.host ?? '127.0.0.1';
  const queries: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const socket = createSocket('udp4');
  socket.on('message', (msg, from) => {
    queries.push(performance.now());
    if (opts.silent || msg.length < 12) return;
    // Echo the header with QR set and rcode REFUSED (5); the question is not needed.
    const reply = Buffer.from(msg.subarray(0, 12));
    reply[2] = reply[2]! | 0x80;
    reply[3] = (reply[3]! & 0xf0) | 5;
    reply.writeUInt16BE(0, 4);
    const timer = setTimeout(() => {
      timers.delete(timer);
      socket.send(reply, from.port, from.address);
    }, opts.delayMs ?? 0);
    timers.add(timer);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(opts.port ?? 0, host, () => resolve());
  });
  return {
    host,
    port: socket.address().port,
    queries,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
