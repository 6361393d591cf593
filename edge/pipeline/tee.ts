// One upstream body, two readers: the client (streamed, with backpressure) and the cache
// (buffered up to a limit). If the client goes away the cache keeps reading, so requests
// waiting on this fetch still get it; past the limit, or with the client gone and nothing to
// store, the upstream body is dropped.
import { PassThrough, type Readable } from 'node:stream';
import { ownBytes } from '../stored-bytes.js';

export type TeeResult = { readonly body: Buffer } | { readonly overflow: true } | { readonly error: Error };

export function teeForCache(source: Readable, limit: number, done: (result: TeeResult) => void): Readable {
  const client = new PassThrough();
  let chunks: Buffer[] = [];
  let size = 0;
  let buffering = true;
  let clientGone = false;
  let settled = false;
  const finish = (result: TeeResult): void => {
    if (settled) return;
    settled = true;
    buffering = false;
    chunks = [];
    done(result);
  };

  source.on('data', (chunk: Buffer) => {
    if (buffering) {
      size += chunk.length;
      if (size > limit) {
        finish({ overflow: true });
        if (clientGone) source.destroy();
      } else chunks.push(chunk);
    }
    if (!clientGone && !client.destroyed && !client.write(chunk)) source.pause();
  });
  client.on('drain', () => source.resume());
  source.once('end', () => {
    if (buffering) finish({ body: ownBytes(chunks, size) });
    client.end();
  });
  source.once('error', (err) => {
    finish({ error: err });
    client.destroy(err);
  });
  source.once('close', () => {
    // Destroyed without 'end' or 'error' (aborted).
    if (!settled) finish({ error: new Error('upstream body closed early') });
  });
  client.once('close', () => {
    if (client.writableFinished) return;
    clientGone = true;
    if (buffering) source.resume();
    else source.destroy();
  });
  // A body handed on paused, what arrived put back in front (whole-body.ts), flows from here.
  source.resume();
  return client;
}

/**
 * Drops a body nobody will read. An undici body is drained (small ones keep the connection
 * reusable) and otherwise destroyed; errors are swallowed, since nobody listens any more.
 */
export function discard(body: Readable): void {
  body.on('error', () => {});
  const dump = (body as Readable & { dump?: (opts?: { limit: number }) => Promise<void> }).dump;
  if (typeof dump === 'function') void dump.call(body, { limit: 64 * 1024 }).catch(() => {});
  else body.destroy();
}
