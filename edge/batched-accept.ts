// Batched accept for the edge's listener (native/tcp_accept.c). libuv accepts one connection per
// event-loop turn; a busy edge's turn serves its open connections first, so a burst of new ones
// (a thousand clients connecting at once) queued in the kernel for seconds and timed out. The
// addon empties the accept queue up to ACCEPT_BATCH at a time beside libuv's own watcher, and
// each descriptor becomes a net.Socket handed to the server as node would hand it over.
//
// Without the addon (not built, not Linux) or without a descriptor of its own (a node:cluster
// worker in round-robin mode, whose connections come from the primary), node accepts as usual.
import { closeSync } from 'node:fs';
import { Socket, type Server } from 'node:net';
import { loadAddon } from '../common/native-addon.js';
import { directReadSocket } from './front/direct-read.js';

interface NativeTcpAccept {
  open(listenFd: number, fds: Int32Array, onAccepted: (count: number, errno: number) => void): object;
  resume(handle: object): void;
  close(handle: object): void;
}

/** Connections taken per wake-up; the rest wait for the next turn, after the open ones had theirs. */
const ACCEPT_BATCH = 128;
/** Out of descriptors: how long to leave the queue to libuv (which has its own EMFILE handling). */
const PAUSE_AFTER_ERROR_MS = 100;

let load: ReturnType<typeof loadAddon<NativeTcpAccept>> | undefined;

function addon(): NativeTcpAccept | null {
  load ??= loadAddon<NativeTcpAccept>('tcp_accept', ['open', 'resume', 'close'], 'batched accept');
  return load.addon;
}

/** Why batched accept is not used here, or undefined when it is available. */
export function batchedAcceptUnavailable(): string | undefined {
  addon();
  return load?.unavailable;
}

export interface BatchedAccept {
  /** Connections this accepted that are still open (node's own count does not include them). */
  readonly open: number;
  /** Stops accepting (the listening socket itself is node's, closed by server.close()). */
  close(): void;
}

export interface BatchedAcceptOptions {
  /** Make sockets that read into the front's shared buffer (front/direct-read.ts). */
  readonly directReads?: boolean;
}

/**
 * Starts batched accept on a listening `server`; undefined when it cannot (see above), and node
 * goes on accepting alone. `onError` hears of a failed accept (out of descriptors).
 */
export function startBatchedAccept(
  server: Server,
  onError: (errno: number) => void,
  { directReads = false }: BatchedAcceptOptions = {},
): BatchedAccept | undefined {
  const native = addon();
  const fd = listeningFd(server);
  if (!native || fd === undefined) return undefined;
  const fds = new Int32Array(ACCEPT_BATCH);
  let open = 0;
  let pause: NodeJS.Timeout | undefined;
  let closed = false;
  const handle = native.open(fd, fds, (count, errno) => {
    for (let i = 0; i < count; i++) {
      const socket = adopt(server, fds[i]!, directReads);
      if (socket === undefined) continue;
      open++;
      socket.once('close', () => open--);
      server.emit('connection', socket);
    }
    if (errno !== 0) {
      onError(errno);
      pause = setTimeout(() => {
        if (!closed) native.resume(handle);
      }, PAUSE_AFTER_ERROR_MS);
      pause.unref();
    }
  });
  return {
    get open() {
      return open;
    },
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(pause);
      native.close(handle);
    },
  };
}

/** The descriptor of node's listening socket, where it has one of this process. */
function listeningFd(server: Server): number | undefined {
  // `_handle.fd` is node's TCP wrap's descriptor (-1 where there is none, e.g. a cluster
  // worker's round-robin handle); not public API, so anything unexpected means "not here".
  const fd = (server as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** A net.Socket on an accepted descriptor, set up as node sets up the sockets it accepts. */
function adopt(server: Server, fd: number, directReads: boolean): Socket | undefined {
  // node:http's server is half-open (it answers a request whose client shut its side) and asks
  // for Nagle off (noDelay); node's own accept passes both on, so does this.
  const { allowHalfOpen = false, noDelay = false } = server as unknown as {
    allowHalfOpen?: boolean;
    noDelay?: boolean;
  };
  try {
    const socket = directReads
      ? directReadSocket(fd, allowHalfOpen)
      : new Socket({ fd, readable: true, writable: true, allowHalfOpen });
    if (noDelay) socket.setNoDelay(true);
    return socket;
  } catch {
    // Not a socket after all: nothing to serve, and the descriptor must not leak.
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    return undefined;
  }
}
