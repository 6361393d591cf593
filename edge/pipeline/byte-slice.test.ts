import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { sliceBody } from './byte-slice.js';

const chunks = (...parts: string[]) => Readable.from(parts.map((p) => Buffer.from(p)));

describe('sliceBody', () => {
  it.each([
    [0, 2, 'abc'],
    [2, 5, 'cdef'],
    [3, 3, 'd'],
    [4, 9, 'efghij'],
  ])('bytes %i-%i across chunk boundaries', async (start, end, expected) => {
    expect(await text(sliceBody(chunks('abc', 'de', 'fghij'), start, end))).toBe(expected);
  });

  it('lets the source go once the range is out', async () => {
    const source = new PassThrough();
    const out = sliceBody(source, 0, 1);
    source.write('abcdef');
    expect(await text(out)).toBe('ab');
    expect(source.destroyed).toBe(true);
  });

  it('fails (never a short 206) when the body ends before the range', async () => {
    await expect(text(sliceBody(chunks('abc'), 1, 5))).rejects.toThrow(/ended before/);
  });

  it('passes an upstream error on and lets go of the source when the client leaves', async () => {
    const failing = new PassThrough();
    const out = sliceBody(failing, 0, 100);
    failing.destroy(new Error('reset'));
    await expect(text(out)).rejects.toThrow('reset');

    const source = new PassThrough();
    const left = sliceBody(source, 0, 100);
    left.destroy();
    await new Promise((r) => setImmediate(r));
    expect(source.destroyed).toBe(true);
  });
});
