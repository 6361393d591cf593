import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { teeForCache, type TeeResult } from './tee.js';

const results = () => {
  const got: TeeResult[] = [];
  return { got, done: (r: TeeResult) => got.push(r) };
};

describe('teeForCache', () => {
  it('gives the client the stream and the cache the whole body', async () => {
    const { got, done } = results();
    const client = teeForCache(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 10, done);
    expect(await text(client)).toBe('abcd');
    expect(got).toEqual([{ body: Buffer.from('abcd') }]);
  });

  it('stops buffering past the limit but keeps streaming', async () => {
    const { got, done } = results();
    const client = teeForCache(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), 10, done);
    expect((await text(client)).length).toBe(12);
    expect(got).toEqual([{ overflow: true }]);
  });

  it('keeps filling the cache when the client goes away', async () => {
    const { got, done } = results();
    const source = new PassThrough();
    const client = teeForCache(source, 100, done);
    source.write('one');
    client.destroy();
    await new Promise((r) => setImmediate(r));
    source.end('two');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([{ body: Buffer.from('onetwo') }]);
  });

  it('reports an upstream error to both sides', async () => {
    const { got, done } = results();
    const source = new PassThrough();
    const client = teeForCache(source, 100, done);
    const failed = text(client).catch((e: Error) => e.message);
    source.write('x');
    source.destroy(new Error('reset'));
    expect(await failed).toBe('reset');
    expect(got).toHaveLength(1);
    expect('error' in got[0]!).toBe(true);
  });
});
