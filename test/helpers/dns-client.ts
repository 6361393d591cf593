// A tiny JS DNS client for what dig cannot do: raw datagrams, hand-made TCP framing, many
// queries at once. dns-packet encodes and decodes (it is an independent codec, not ours).
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Endpoint } from './endpoint.js';

/** Encodes a plain query (no EDNS unless asked) for `name`/`type`. */
export function encodeQuery(
  id: number,
  name: string,
  type: dnsPacket.RecordType = 'A',
  opts: { edns?: boolean } = {},
): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: 0,
    questions: [{ type, name, class: 'IN' }],
    ...(opts.edns
      ? {
          additionals: [
            { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer,
          ],
        }
      : {}),
  });
}

export interface DecodedRecord {
  name: string;
  type: string;
  ttl?: number;
  data?: unknown;
}

/** What the tests read from a decoded response (dns-packet's types leave rcode and data out). */
export interface DecodedMessage {
  id: number;
  rcode: string;
  flags: number;
  questions: { name: string; type: string; class: string }[];
  answers: DecodedRecord[];
  authorities: DecodedRecord[];
  additionals: DecodedRecord[];
}

export function decode(buf: Buffer): DecodedMessage {
  const p = dnsPacket.decode(buf) as unknown as Partial<DecodedMessage>;
  return {
    id: p.id ?? -1,
    rcode: p.rcode ?? '',
    flags: p.flags ?? 0,
    questions: p.questions ?? [],
    answers: p.answers ?? [],
    authorities: p.authorities ?? [],
    additionals: p.additionals ?? [],
  };
}

export function rcodeOf(buf: Buffer): number {
  return buf.length >= 4 ? buf.readUInt16BE(2) & 0xf : -1;
}

/** Sends one datagram and waits for one reply; null when nothing comes back within `timeoutMs`. */
export function udpExchange(server: Endpoint, msg: Buffer, timeoutMs = 1000): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(null);
    }, timeoutMs);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
    socket.send(msg, server.port, server.host);
  });
}

/** Prefixes a message with its 2-byte length (RFC 1035 §4.2.2). */
export function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 2);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

/** A TCP connection that collects length-prefixed messages as they arrive. */
export class TcpClient {
  readonly socket: net.Socket;
  readonly messages: Buffer[] = [];
  closed = false;
  closedAt = 0;
  private pending = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  readonly connected: Promise<void>;
  readonly closedPromise: Promise<void>;

  /** `localAddress`: the source address, e.g. 127.0.1.1 to come from another /24 of loopback. */
  constructor(server: Endpoint, opts: { localAddress?: string } = {}) {
    this.socket = net.connect({ host: server.host, port: server.port, noDelay: true, ...opts });
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.closedPromise = new Promise((resolve) => {
      this.socket.once('close', () => {
        this.closed = true;
        this.closedAt = performance.now();
        this.wake();
        resolve();
      });
    });
    this.socket.on('error', () => {
      /* reset by the server: seen as a close */
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 2) {
        const len = this.pending.readUInt16BE(0);
        if (this.pending.length < 2 + len) break;
        this.messages.push(this.pending.subarray(2, 2 + len));
        this.pending = this.pending.subarray(2 + len);
      }
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** Resolves once `count` messages have arrived in total; rejects on close or timeout. */
  async waitFor(count: number, timeoutMs = 2000): Promise<Buffer[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.messages.length < count) {
      if (this.closed) throw new Error(`connection closed after ${this.messages.length} of ${count} messages`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${this.messages.length} of ${count} messages`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.messages.slice(0, count);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
