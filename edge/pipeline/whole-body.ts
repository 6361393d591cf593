// Upstream bodies of a declared length are read whole before the answer goes out when they
// come promptly. Such a body is stored and answered as one Buffer: one write to the client, the
// same Buffer in storage, and none of the stream machinery (node:http's response, a
// PassThrough, a pipeline with its AbortController, their events and timers) that costs a miss
// more CPU than the rest of its work. A body of at most WHOLE_BODY_BYTES is always read whole:
// on a kept-alive origin connection it comes with its head or a read or two after it, so the
// client's first byte is barely later. A larger one (up to maxObjectBytes) is read whole only
// if all of it arrives within STREAM_AFTER_MS of its head; otherwise what arrived is put back
// and the body streams (tee.ts), so a slow origin's big object starts flowing after at most
// that wait.
import type { Readable } from 'node:stream';
import { EdgeError, upstreamError } from '../errors.js';
import { ownBytes } from '../stored-bytes.js';

export const WHOLE_BODY_BYTES = 64 * 1024;

/** How long a larger body may take to arrive whole after its head before it is streamed. */
export const STREAM_AFTER_MS = 5;

/**
 * How long to wait for a response declaring `contentLength` (NaN when absent) to arrive whole
 * (ms, Infinity: until it has), or undefined when it streams from the start: no declared length,
 * or too large to store.
 */
export function wholeReadWait(contentLength: number, maxObjectBytes: number): number | undefined {
  if (!(contentLength >= 0) || contentLength > maxObjectBytes) return undefined;
  return contentLength <= WHOLE_BODY_BYTES ? Infinity : STREAM_AFTER_MS;
}

/**
 * The whole of `body`, which declared `length` bytes, or undefined when it has not all arrived
 * within `waitMs` (wholeReadWait): `body` is then handed back paused, unread, what arrived put
 * back in front, to be streamed. An upstream that breaks off, stalls between chunks or sends
 * other than `length` bytes before then is an upstream error: nothing has been sent to the
 * client yet, so it gets a 502 or 504 (or the stale copy, stale-if-error) rather than a
 * truncated body.
 */
export function readWhole(
  body: Readable,
  length: number,
  upstream: string,
  waitMs = Infinity,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      done = true;
      clearTimeout(timer);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      // The 'error' listener stays: destroying an unfinished undici body emits one, and no-one
      // else may be listening yet (it is a no-op once done).
    };
    const fail = (why: string, err?: Error): void => {
      if (done) return;
      finish();
      body.destroy();
      // A stall between chunks is the upstream's timeout (504); anything else, a reset or close
      // included, is an answer that broke off (502), not an upstream that cannot be reached.
      const e = err && upstreamError(err, upstream);
      reject(
        e?.kind === 'origin-timeout' ? e : new EdgeError('origin-error', `${upstream}: body ${why}`, { cause: err }),
      );
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > length) fail(`longer than its Content-Length (${length})`);
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (size !== length) return fail(`ended after ${size} of ${length} bytes`);
      finish();
      // A copy of its own: the chunks are views into the socket's reads (stored-bytes.ts).
      resolve(ownBytes(chunks, size));
    };
    const onClose = (): void => fail('closed early');
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', (err) => fail('broke off', err));
    body.once('close', onClose);
    if (waitMs === Infinity) return;
    timer = setTimeout(() => {
      finish();
      // Not flowing any more: what arrives from here waits behind the chunks put back, in order.
      body.pause();
      for (let i = chunks.length - 1; i >= 0; i--) body.unshift(chunks[i]);
      resolve(undefined);
    }, waitMs);
  });
}
