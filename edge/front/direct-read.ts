// Reads for the front's sockets into one buffer shared by all of them (net.Socket's `onread`
// option, documented for `new net.Socket()`), instead of node's way: a fresh 64 KiB allocation,
// an ArrayBuffer, a Buffer and a stream 'data' event per read: 2.5-3.8 µs of a request on a
// bare Node server (bench/RESULTS.md, 2026-12-07, "reads into one buffer").
//
// One buffer is enough: each read's callback runs to its end before the next read, the front
// parses a read before it returns, and copies whatever it keeps (front.ts). A socket no reader
// claims (not the front's, or handed to node:http and not consumed by its parser, which reads
// into its own buffer) gets a copy of each read pushed to its readable side, as node would.
//
// Only sockets made here read this way: the ones batched accept makes (../batched-accept.ts).
// A socket node accepted itself reads as usual, and the front reads it through 'data'.
import { Socket } from 'node:net';

/** Node's own read size. */
const READ_BYTES = 64 * 1024;

type Reader = (chunk: Buffer) => void;

/** A socket made by directReadSocket(): its reader (null while none has claimed it). */
const kReader = Symbol('meridian.directReader');

interface DirectSocket extends Socket {
  [kReader]: Reader | null;
}

let shared: Buffer | undefined;

function onRead(this: DirectSocket, bytes: number, buf: Uint8Array): boolean {
  const view = (buf as Buffer).subarray(0, bytes);
  const reader = this[kReader];
  // The view is valid only until this returns: the next read of any socket overwrites it. A full
  // readable side stops the reads (false) until its reader takes from it, as node's reads do.
  if (reader === null) return this.push(Buffer.from(view));
  reader(view);
  return true;
}

/** A net.Socket on accepted descriptor `fd` whose reads go to the reader that claims it. */
export function directReadSocket(fd: number, allowHalfOpen: boolean): Socket {
  shared ??= Buffer.allocUnsafe(READ_BYTES);
  // `onread` is missing from @types/node's constructor options (node documents it there).
  const socket = new Socket({
    fd,
    readable: true,
    writable: true,
    allowHalfOpen,
    onread: { buffer: shared, callback: onRead },
  } as ConstructorParameters<typeof Socket>[0]) as DirectSocket;
  socket[kReader] = null;
  return socket;
}

/**
 * Sends `socket`'s reads to `reader` (a view of the shared buffer, valid during the call only);
 * false when the socket does not read this way and the caller must listen to 'data'.
 */
export function claimReads(socket: Socket, reader: Reader): boolean {
  if (!readsDirectly(socket)) return false;
  (socket as DirectSocket)[kReader] = reader;
  return true;
}

/** True when `socket` was made by directReadSocket(). */
export function readsDirectly(socket: Socket): boolean {
  return kReader in socket;
}

/** From here on `socket`'s reads reach its readable side ('data', node:http), copied. */
export function releaseReads(socket: Socket): void {
  if (readsDirectly(socket)) (socket as DirectSocket)[kReader] = null;
}
