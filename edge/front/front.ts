// The raw hit front: fresh hits answered straight off the socket, without node:http's
// per-request machinery (an IncomingMessage, a ServerResponse, header objects, timers), which
// costs about as much again as the rest of a hit. Measured with bench/edge.mjs.
//
// Every connection the proxy accepts starts here. While its requests are plain (request-head.ts)
// and fresh in storage (fresh-hit.ts, the same decision node:http's path makes), the front writes
// their answers itself (hit-bytes.ts). A plain request it cannot answer so (a miss, a stale
// object, validators, Range, /healthz) goes to the server's handler for them while the front
// keeps the connection (server.ts, handler-request.ts), and the requests after it wait for its
// answer. At the first request that is not plain, it hands the connection, with the unread
// bytes from that request on, to node:http for good: PURGE, bodies, other methods and versions,
// malformed heads.
import { maxHeaderSize, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Outcome } from '../metrics.js';
import { freshHit } from '../fresh-hit.js';
import type { EdgeState } from '../pipeline/context.js';
import { claimReads, releaseReads } from './direct-read.js';
import { freshHitTail, hitPrefix, writeStored } from './hit-bytes.js';
import { readPlainHead, type PlainHead } from './request-head.js';
import { forwardedScheme } from '../trusted-proxies.js';

export interface HitFront {
  /** Connections still with the front (not yet handed to node:http). */
  readonly connections: number;
  /** Destroys the front's connections (the server is closing). */
  closeAll(): void;
}

type ConnectionListener = (this: Server, socket: Socket) => void;

/**
 * Answers a plain request the front did not answer from storage, on `socket` (server.ts).
 * `finished(keepOpen)` once the answer is written, `keepOpen` false when it closed the
 * connection; not called when the socket closes first.
 */
export type PlainHandler = (socket: Socket, head: PlainHead, finished: (keepOpen: boolean) => void) => void;

/**
 * Puts the front before `server`'s own connection handling; the plain requests it does not
 * answer from storage go to `handle`. Returns undefined, leaving the server as it was, when the
 * server's 'connection' listeners are not node:http's one alone or keep-alive is off.
 */
export function attachHitFront(server: Server, state: EdgeState, handle: PlainHandler): HitFront | undefined {
  const listeners = server.listeners('connection');
  // Without keep-alive the front has no idle timeout to keep; node:http closes after each answer.
  if (listeners.length !== 1 || !(server.keepAliveTimeout > 0)) return undefined;
  const httpConnection = listeners[0] as ConnectionListener;
  server.removeListener('connection', httpConnection);
  const open = new Set<Socket>();
  const handOver = (socket: Socket): void => {
    open.delete(socket);
    httpConnection.call(server, socket);
  };
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    frontConnection(socket, state, server, handle, handOver, () => open.delete(socket));
  });
  return {
    get connections() {
      return open.size;
    },
    closeAll() {
      for (const socket of open) socket.destroy();
      open.clear();
    },
  };
}

function frontConnection(
  socket: Socket,
  state: EdgeState,
  server: Server,
  handle: PlainHandler,
  handOver: (s: Socket) => void,
  closed: () => void,
): void {
  const keepAliveMs = server.keepAliveTimeout;
  const keepAliveSeconds = Math.floor(keepAliveMs / 1000);
  // Behind a trusted TLS proxy the scheme it reports is part of the key (trusted-proxies.ts).
  const trusted = state.trustedProxy?.(socket.remoteAddress) ?? false;
  // Requests read but not answered yet: the rest of a read, kept while the client takes what is
  // already queued for it (`keptText` is `keptChunk` as latin1). Always a copy: a read's chunk
  // may be the shared read buffer (direct-read.ts).
  let keptChunk: Buffer | undefined;
  let keptText = '';
  /** Paused until 'drain', or until the handler has answered. */
  let waiting = false;
  let left = false;
  /** The client ended its side while requests were waiting: end ours once they are answered. */
  let endWhenAnswered = false;

  /** Answers the requests in `s` from `pos`; stops at backpressure, hands over at the first it cannot answer. */
  const answer = (chunk: Buffer, s: string, pos: number): void => {
    try {
      while (pos < s.length) {
        // Backpressure: a client that does not read gets no more answers until it has taken
        // those queued (at most the high-water mark plus one answer). Its requests wait here
        // and the socket is not read, so a pipelined read cannot turn into megabytes queued.
        if (queuedPastHighWater(socket)) return waitForDrain(chunk, s, pos);
        const started = performance.now();
        const head = readPlainHead(s, pos, maxHeaderSize);
        if (head === undefined) break;
        const hit = freshHit(
          state,
          head.method,
          head.target,
          head.headers,
          trusted ? forwardedScheme(head.headers['x-forwarded-proto']) : 'http',
        );
        const prefix = hit === undefined ? null : hitPrefix(hit.entry);
        if (hit === undefined || prefix === null) {
          // Without a Host node:http answers 400 and closes (RFC 9112 §3.2): its own rule, so its answer.
          if (head.headers.host === undefined) break;
          return answerElsewhere(chunk, s, head);
        }
        const tail = freshHitTail(prefix, hit.age, hit.ttl, state.pseudonym, keepAliveSeconds);
        const body = head.method === 'GET' ? hit.entry.body : undefined;
        writeStored(socket, prefix.bytes, tail, body);
        // Answered: from here on a failure must not hand this request to node:http as well.
        pos = head.end;
        state.metrics.responseSeconds.observe(0, (performance.now() - started) / 1000);
        state.metrics.request(Outcome.hit, body === undefined ? 0 : body.length);
      }
    } catch (err) {
      // Nothing here should throw; if it does, node:http answers this request instead.
      state.log.debug({ err: (err as Error).message }, 'raw hit front failed');
    }
    if (socket.destroyed) return;
    if (pos < s.length) return leave(chunk.subarray(pos));
    // All answered, but more queued than the client has taken: read nothing more until it has.
    if (queuedPastHighWater(socket)) waitForDrain(undefined, '', 0);
  };
  /** Keeps the requests of `chunk` (its latin1 `s`) from `pos` on, copied. */
  const keep = (chunk: Buffer | undefined, s: string, pos: number): void => {
    keptChunk = chunk === undefined ? undefined : Buffer.from(chunk.subarray(pos));
    keptText = chunk === undefined ? '' : s.slice(pos);
  };
  const waitForDrain = (chunk: Buffer | undefined, s: string, pos: number): void => {
    keep(chunk, s, pos);
    waiting = true;
    socket.pause();
    socket.once('drain', onDrain);
  };
  /** Answers the kept requests once the client has taken what was queued or the handler has answered. */
  const proceed = (): void => {
    waiting = false;
    const chunk = keptChunk;
    const s = keptText;
    keptChunk = undefined;
    keptText = '';
    if (chunk !== undefined) answer(chunk, s, 0);
    if (waiting || left || socket.destroyed) return;
    if (endWhenAnswered) socket.end();
    // All kept bytes answered and nothing new to wait for: read again.
    else socket.resume();
  };
  const onDrain = proceed;
  const answerElsewhere = (chunk: Buffer, s: string, head: PlainHead): void => {
    // The requests after this one wait, unread, for its answer, as node:http's would.
    keep(chunk, s, head.end);
    waiting = true;
    socket.pause();
    // Not idle while the upstream is asked: the upstream's own timeouts bound this wait.
    socket.setTimeout(0);
    try {
      handle(socket, head, (keepOpen) => {
        if (!keepOpen || socket.destroyed) return;
        socket.setTimeout(keepAliveMs);
        proceed();
      });
    } catch (err) {
      // The handler may have begun an answer: handing this request on could answer it twice.
      state.log.warn({ err: (err as Error).message }, 'request handler failed on a front connection: closed');
      socket.destroy();
    }
  };
  const onData = (chunk: Buffer): void => {
    // A paused socket emits no data; should one slip through (something resumed the socket while
    // a request waits), it queues behind the kept bytes and the socket is paused again: one read
    // at most, never a flow.
    if (waiting) {
      socket.pause();
      keptChunk = keptChunk === undefined ? Buffer.from(chunk) : Buffer.concat([keptChunk, chunk]);
      keptText = keptChunk.toString('latin1');
      return;
    }
    answer(chunk, chunk.toString('latin1'), 0);
  };
  const onEnd = (): void => {
    if (waiting) endWhenAnswered = true;
    else socket.end();
  };
  // Idle means nothing left to send too: a slow client still taking a large body is not idle
  // (one that takes nothing at all is closed by the send-stall sweep, ../send-stall.ts).
  const onTimeout = (): void => {
    if (socket.writableLength === 0) socket.destroy();
  };
  const onError = (): void => {}; // a reset connection: 'close' follows
  const leave = (rest: Buffer): void => {
    left = true;
    releaseReads(socket);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('timeout', onTimeout);
    socket.off('error', onError);
    socket.off('close', closed);
    socket.off('drain', onDrain);
    socket.setTimeout(0);
    handOver(socket);
    // node:http reads from here on; these bytes were read before it took the socket (copied:
    // they may be in the shared read buffer).
    if (rest.length > 0) socket.unshift(Buffer.from(rest));
    // Left from kept bytes after a drain: the socket is still paused; node:http reads it now.
    if (socket.isPaused()) socket.resume();
  };

  // Reads go to onData straight from the shared buffer where the socket reads so (direct-read.ts).
  if (!claimReads(socket, onData)) socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', closed);
  // Idle keep-alive connections close as node:http's would; any byte either way restarts it.
  socket.setTimeout(keepAliveMs);
  socket.on('timeout', onTimeout);
}

/**
 * True when the client has not taken what was written past the high-water mark. A write of the
 * high-water mark or more sets writableNeedDrain even when the kernel took all of it at once (a
 * 16 KiB answer on an idle connection); nothing is queued then, and pausing until the 'drain' of
 * the next tick would cost a pause and a resume (for a socket reading into the shared buffer, two
 * epoll_ctl calls) for nothing.
 */
function queuedPastHighWater(socket: Socket): boolean {
  return socket.writableNeedDrain && socket.writableLength > 0;
}
