// Reading the start of an HTTP body we do not trust to be small (a health page, a report
// endpoint's error): at most `limit` bytes are kept and the rest is discarded.
import type { Readable } from 'node:stream';

export async function readHead(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // undici reports a body destroyed before its end as an 'error'; here that is the intent.
  body.on('error', () => {});
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } finally {
    // Leaving the loop early already destroys the stream; this also covers a read error.
    body.destroy();
  }
  return Buffer.concat(chunks, size).subarray(0, limit).toString('utf8');
}
