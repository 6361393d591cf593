// What a connection gets when node:http cannot read its request (malformed bytes, a head too
// large, a head that took longer than the headers timeout): node's own answer for the error,
// then the connection is closed. Ending it is not enough: node:http's server allows half-open
// connections, so an ended socket stays open until the client closes it, and a client that
// never does holds a file descriptor for good (300 garbage connections held 300 fds).
import type { Duplex } from 'node:stream';

// Like every answer of the edge, these name the PoP that gave them (Cache-Status, `detail=client-error`).
const answer = (status: string, pseudonym: string): string =>
  `HTTP/1.1 ${status}\r\nconnection: close\r\ncache-status: ${pseudonym}; detail=client-error\r\ncontent-length: 0\r\n\r\n`;

// node's default statuses (lib/_http_server.js socketOnError): a client sees what it would without us.
const STATUSES: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** The server's 'clientError' listener: answers if it still can, then closes the connection. */
export function rejectClient(err: Error, socket: Duplex, pseudonym: string): void {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  // Already answered and closing: further bytes from the client change nothing.
  if (socket.writableEnded && !socket.destroyed) return;
  // A reset connection, or an answer under way (an error answer now would land inside it).
  if (!socket.writable || code.startsWith('ECONN') || answerStarted(socket)) return void socket.destroy();
  socket.end(answer(STATUSES[code] ?? '400 Bad Request', pseudonym));
  // Closed once the answer (and our FIN) is with the kernel. A client that does not take even
  // that is closed by the send-stall sweep (send-stall.ts).
  socket.once('finish', () => socket.destroy());
}

function answerStarted(socket: Duplex): boolean {
  // node's own test: the in-flight ServerResponse has written its head.
  return (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
}
