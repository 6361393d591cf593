// The bytes [start, end] of a streamed body, for a Range request answered while the full
// response is fetched (and stored) for the cache. Bytes before the range are read and dropped;
// once the range is out, the source is let go: a cache tee keeps filling storage on its own
// (tee.ts), an upstream body nobody stores is drained or closed (discard).
import { Readable } from 'node:stream';
import { discard } from './tee.js';

export function sliceBody(source: Readable, start: number, end: number): Readable {
  let offset = 0;
  let done = false;
  const letGo = (): void => {
    if (done) return;
    done = true;
    source.removeListener('data', onData);
    discard(source);
  };
  const out = new Readable({
    read: () => void source.resume(),
    destroy: (err, callback) => {
      letGo();
      callback(err);
    },
  });
  const onData = (chunk: Buffer): void => {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end + 1 - offset, chunk.length);
    offset += chunk.length;
    if (to > from && !out.push(chunk.subarray(from, to))) source.pause();
    if (offset > end) {
      letGo();
      out.push(null);
    }
  };
  source.on('data', onData);
  source.once('end', () => {
    if (done) return;
    done = true;
    // Shorter than the Content-Length the range was computed from: never a truncated 206.
    out.destroy(new Error('upstream body ended before the requested range'));
  });
  source.once('error', (err) => {
    if (done) return;
    done = true;
    out.destroy(err);
  });
  return out;
}
