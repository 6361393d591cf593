// Small upstream bodies are read whole before the answer goes out. A body whose declared
// Content-Length is at most WHOLE_BODY_BYTES is stored and answered as one Buffer: one write to
// the client, the same Buffer in storage, and none of the stream machinery (a PassThrough, a
// pipeline with its AbortController, their events and timers) that costs a miss more CPU than
// the rest of its work. On a kept-alive origin connection such a body comes with its head or
// a read or two after it, so the client's first byte is barely later; larger bodies stream
// (tee.ts), so a slow origin's big object still starts flowing at once.
import type { Readable } from 'node:stream';
import { EdgeError, upstreamError } from '../errors.js';
import { ownBytes } from '../stored-bytes.js';

export const WHOLE_BODY_BYTES = 64 * 1024;

/** Whether a response declaring `contentLength` (NaN when absent) is read whole. */
export function readsWhole(contentLength: number, maxObjectBytes: number): boolean {
  return contentLength >= 0 && contentLength <= WHOLE_BODY_BYTES && contentLength <= maxObjectBytes;
}

/**
 * The whole of `body`, which declared `length` bytes. An upstream that breaks off, stalls
 * between chunks or sends other than `length` bytes is an upstream error: nothing has been sent
 * to the client yet, so it gets a 502 or 504 (or the stale copy, stale-if-error) rather than a
 * truncated body.
 */
export function readWhole(body: Readable, length: number, upstream: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (why: string, err?: Error): void => {
      if (done) return;
      done = true;
      body.destroy();
      // A stall between chunks is the upstream's timeout (504); anything else, a reset or close
      // included, is an answer that broke off (502), not an upstream that cannot be reached.
      const e = err && upstreamError(err, upstream);
      reject(
        e?.kind === 'origin-timeout' ? e : new EdgeError('origin-error', `${upstream}: body ${why}`, { cause: err }),
      );
    };
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > length) fail(`longer than its Content-Length (${length})`);
      else chunks.push(chunk);
    });
    body.once('end', () => {
      if (done) return;
      if (size !== length) return fail(`ended after ${size} of ${length} bytes`);
      done = true;
      // A copy of its own: the chunks are views into the socket's reads (stored-bytes.ts).
      resolve(ownBytes(chunks, size));
    });
    body.once('error', (err) => fail('broke off', err));
    body.once('close', () => fail('closed early'));
  });
}
