// A plain request the front cannot answer from storage (a miss, a stale object, a conditional or
// Range request, /healthz) goes to the server's request handler, but the front keeps the
// connection. Handing it to node:http instead would be for good (node:http's parser then owns
// the socket), and every later hit on it would pay node:http's per-request cost: under a cold
// cache, after one miss each, all connections would.
//
// The request and response are made as node:http's parserOnIncoming makes them
// (lib/_http_server.js): an IncomingMessage on the socket, a ServerResponse assigned to it, the
// server's 'request' event; and let go as its resOnFinish lets them go. The head is one the front
// read strictly (request-head.ts): GET or HEAD, HTTP/1.1, keep-alive, no body, each field once,
// so node:http's parser would have made the same request of it.
import { IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { PlainHead } from './request-head.js';

/** What node:http sets on a ServerResponse besides its public fields. */
interface ResponseInternals {
  /** The Keep-Alive field's timeout. */
  _keepAliveTimeout: number;
  /** The response said the connection closes after it. */
  _last: boolean;
  _closed: boolean;
}

/**
 * Emits `head` as a request on `server`, its response written to `socket`. `finished(keepOpen)`
 * is called once the response is written: `keepOpen` false when it closed the connection
 * (the socket is then ended here, as node:http ends it). Not called when the socket closes first.
 */
export function requestThroughHandler(
  server: Server,
  socket: Socket,
  head: PlainHead,
  finished: (keepOpen: boolean) => void,
): void {
  const { req, res } = nodeExchange(server, socket, head, finished);
  server.emit('request', req, res);
}

/**
 * The request and response node:http would make for `head` on `socket`, for a caller that
 * answers through them itself; `finished` as above.
 */
export function nodeExchange(
  server: Server,
  socket: Socket,
  head: PlainHead,
  finished: (keepOpen: boolean) => void,
): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(socket);
  req.method = head.method;
  req.url = head.target;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  req.headers = head.headers;
  // The names as node:http would have them in `headers`; nothing here reads rawHeaders.
  req.rawHeaders = Object.entries(head.headers).flat();
  req.complete = true;
  req.push(null); // no body

  const res = new ServerResponse(req);
  const internals = res as unknown as ResponseInternals;
  internals._keepAliveTimeout = server.keepAliveTimeout;
  res.shouldKeepAlive = true;
  res.assignSocket(socket);
  // node:http's socketOnDrain: a response that met backpressure (a streamed body) is told when
  // the socket has taken its queue; without it a large body would stop at the high-water mark.
  const onDrain = (): void => {
    if (!res.writableNeedDrain) return;
    if (kNeedDrain !== undefined) (res as unknown as Record<symbol, boolean>)[kNeedDrain] = false;
    res.emit('drain');
  };
  socket.on('drain', onDrain);
  res.once('close', () => socket.off('drain', onDrain));
  res.once('finish', () => {
    socket.off('drain', onDrain);
    res.detachSocket(socket);
    process.nextTick(emitClose, res);
    if (internals._last) {
      socket.destroySoon();
      return finished(false);
    }
    finished(true);
  });
  return { req, res };
}

/**
 * OutgoingMessage's flag behind writableNeedDrain, which node:http's socketOnDrain clears before
 * it emits 'drain'. Should a later node not have it, 'drain' is still emitted (a repeated
 * 'drain' is harmless to the pipe() that writes a streamed body).
 */
const kNeedDrain = Object.getOwnPropertySymbols(new ServerResponse(new IncomingMessage(null as never))).find(
  (sym) => sym.description === 'kNeedDrain',
);

/** node:http's emitCloseNT: a response that finished is closed, once. */
function emitClose(res: ServerResponse): void {
  const internals = res as unknown as ResponseInternals;
  if (internals._closed) return;
  res.destroyed = true;
  internals._closed = true;
  res.emit('close');
}
