// Closes client connections whose queued answer has stopped moving. A client that stops reading
// otherwise keeps its connection, and what is queued for it, for as long as it likes: node:http
// has no timeout while an answer is being written, and the front keeps a connection with bytes
// to send (a slow reader is not idle). Socket timeouts cannot say it: they count reads too, and
// node:http sets them itself for keep-alive.
//
// One timer per server sweeps the open connections; nothing is done per request. Installed at
// 'connection', it covers the front's connections and node:http's alike (the same sockets).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface SendStallGuard {
  /** Connections watched (all the server's open connections). */
  readonly watched: number;
  /** Connections closed for a stalled send so far. */
  readonly closed: number;
}

interface Progress {
  /** Bytes the kernel had taken at `since`. */
  sent: number;
  /** When `sent` was last seen to move (performance.now()), or -1 with nothing queued. */
  since: number;
}

/**
 * Destroys a connection of `server` once bytes are queued for it and none has gone out for
 * `stallMs` (detected within a quarter of that, at most a second, later).
 */
export function guardSendStalls(server: Server, stallMs: number, onStall?: (socket: Socket) => void): SendStallGuard {
  const watched = new Map<Socket, Progress>();
  let closed = 0;
  server.on('connection', (socket: Socket) => {
    watched.set(socket, { sent: 0, since: -1 });
    socket.once('close', () => watched.delete(socket));
  });
  const sweep = (): void => {
    const now = performance.now();
    for (const [socket, p] of watched) {
      if (socket.writableLength === 0) {
        p.since = -1;
        continue;
      }
      const sent = sentBytes(socket);
      if (p.since < 0 || sent !== p.sent) {
        p.sent = sent;
        p.since = now;
      } else if (now - p.since >= stallMs) {
        watched.delete(socket);
        closed++;
        onStall?.(socket);
        socket.destroy();
      }
    }
  };
  const timer = setInterval(sweep, Math.max(10, Math.min(1000, Math.floor(stallMs / 4))));
  timer.unref();
  server.once('close', () => clearInterval(timer));
  return {
    get watched() {
      return watched.size;
    },
    get closed() {
      return closed;
    },
  };
}

interface StreamHandle {
  /** Bytes handed to libuv so far (what net.Socket's `_bytesDispatched` reads). */
  readonly bytesWritten?: number;
  /** Bytes libuv still holds for the kernel. */
  readonly writeQueueSize?: number;
}

/**
 * Bytes the kernel has taken so far. The public figures move a whole write at a time
 * (`bytesWritten` counts a write when it is queued, `writableLength` until all of it is out), and
 * one write can be a whole stored body: a slow reader taking it would look stalled. libuv's
 * write queue shrinks as the kernel takes each part; node's own socket timeout reads it the same
 * way (net.Socket#_onTimeout). Without a handle that has it, the public figures.
 */
function sentBytes(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  if (typeof handle?.bytesWritten === 'number' && typeof handle.writeQueueSize === 'number')
    return handle.bytesWritten - handle.writeQueueSize;
  return socket.bytesWritten - socket.writableLength;
}
