import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EdgeError } from '../errors.js';
import { readWhole, readsWhole, WHOLE_BODY_BYTES } from './whole-body.js';

const UPSTREAM = 'http://origin.test';

/** A body that sends `chunks`, then ends, fails with `error`, or is destroyed (`'close'`). */
function body(chunks: Buffer[], then: 'end' | 'close' | Error = 'end'): Readable {
  const r = new Readable({ read() {} });
  setImmediate(() => {
    for (const c of chunks) r.push(c);
    if (then === 'end') r.push(null);
    else if (then === 'close') r.destroy();
    else r.destroy(then);
  });
  return r;
}

describe('readsWhole', () => {
  it('takes declared lengths up to WHOLE_BODY_BYTES and maxObjectBytes, never an unknown one', () => {
    expect(readsWhole(0, 1e6)).toBe(true);
    expect(readsWhole(WHOLE_BODY_BYTES, 1e6)).toBe(true);
    expect(readsWhole(WHOLE_BODY_BYTES + 1, 1e6)).toBe(false);
    expect(readsWhole(1000, 999)).toBe(false);
    expect(readsWhole(NaN, 1e6)).toBe(false);
    expect(readsWhole(-1, 1e6)).toBe(false);
  });
});

describe('readWhole', () => {
  it('joins the chunks into a copy of its own', async () => {
    const socketRead = Buffer.from('xxhello worldxx');
    const parts = [socketRead.subarray(2, 7), socketRead.subarray(7, 13)];
    const whole = await readWhole(body(parts), 11, UPSTREAM);
    expect(whole.toString()).toBe('hello world');
    // Not a view into the socket's read: storing it must not keep that buffer alive.
    expect(whole.buffer).not.toBe(socketRead.buffer);
    const one = await readWhole(body([socketRead.subarray(2, 7)]), 5, UPSTREAM);
    expect(one.buffer).not.toBe(socketRead.buffer);
    expect(one.buffer.byteLength).toBe(5);
  });

  it('reads an empty body', async () => {
    expect((await readWhole(body([]), 0, UPSTREAM)).length).toBe(0);
  });

  it.each([
    ['ends short of its length', () => body([Buffer.from('abc')]), /ended after 3 of 10 bytes/],
    ['sends more than its length', () => body([Buffer.from('abcdefghijk')]), /longer than its Content-Length/],
    ['is destroyed before its end', () => body([Buffer.from('abc')], 'close'), /closed early/],
    ['fails', () => body([Buffer.from('abc')], new Error('other side closed')), /broke off/],
  ])('is an origin error (502) when the body %s', async (_name, b, message) => {
    const err = await readWhole(b(), 10, UPSTREAM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeError);
    expect((err as EdgeError).kind).toBe('origin-error');
    expect((err as EdgeError).message).toMatch(message);
    expect((err as EdgeError).isOrigin).toBe(true);
  });

  it('is an origin timeout (504) when the upstream stalls between chunks', async () => {
    const stall = Object.assign(new Error('Body Timeout Error'), { code: 'UND_ERR_BODY_TIMEOUT' });
    const err = await readWhole(body([Buffer.from('abc')], stall), 10, UPSTREAM).catch((e: unknown) => e);
    expect((err as EdgeError).kind).toBe('origin-timeout');
    expect((err as EdgeError).status).toBe(504);
  });
});
