// A loopback port whose every connection is a socket reading into the edge front's shared buffer
// (edge/front/direct-read.ts): batched accept with directReads on a listener whose own node
// handle is then closed, so batched accept's duplicate of the listening socket takes them all.
// Used by the front's and direct-read's tests.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { startBatchedAccept } from '../../edge/batched-accept.js';

export interface DirectReadListener {
  readonly port: number;
  /** Stops accepting (the port closes with it). */
  close(): void;
}

/** Hands each connection to `onSocket`; half-open and Nagle off, as the edge's server is. */
export async function directReadListener(onSocket: (socket: Socket) => void): Promise<DirectReadListener> {
  const listener = createServer({ allowHalfOpen: true, noDelay: true });
  listener.on('connection', onSocket);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  const batched = startBatchedAccept(listener, () => {}, { directReads: true });
  if (batched === undefined) throw new Error('batched accept did not start');
  await new Promise((resolve) => listener.close(resolve));
  return { port, close: () => batched.close() };
}
