import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EdgeError } from '../errors.js';
import { readWhole, STREAM_AFTER_MS, wholeReadWait, WHOLE_BODY_BYTES } from './whole-body.js';

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

describe('wholeReadWait', () => {
  it('waits for bodies up to WHOLE_BODY_BYTES, briefly for larger ones up to maxObjectBytes, not for unknown lengths', () => {
    expect(wholeReadWait(0, 1e6)).toBe(Infinity);
    expect(wholeReadWait(WHOLE_BODY_BYTES, 1e6)).toBe(Infinity);
    expect(wholeReadWait(WHOLE_BODY_BYTES + 1, 1e6)).toBe(STREAM_AFTER_MS);
    expect(wholeReadWait(1e6, 1e6)).toBe(STREAM_AFTER_MS);
    expect(wholeReadWait(1000, 999)).toBeUndefined();
    expect(wholeReadWait(NaN, 1e6)).toBeUndefined();
    expect(wholeReadWait(-1, 1e6)).toBeUndefined();
  });
});

describe('readWhole', () => {
  it('joins the chunks into a copy of its own', async () => {
    const socketRead = Buffer.from('xxhello worldxx');
    const parts = [socketRead.subarray(2, 7), socketRead.subarray(7, 13)];
    const whole = (await readWhole(body(parts), 11, UPSTREAM))!;
    expect(whole.toString()).toBe('hello world');
    // Not a view into the socket's read: storing it must not keep that buffer alive.
    expect(whole.buffer).not.toBe(socketRead.buffer);
    const one = (await readWhole(body([socketRead.subarray(2, 7)]), 5, UPSTREAM))!;
    expect(one.buffer).not.toBe(socketRead.buffer);
    expect(one.buffer.byteLength).toBe(5);
  });

  it('reads an empty body', async () => {
    expect((await readWhole(body([]), 0, UPSTREAM))?.length).toBe(0);
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

  it("is a clean 502 with a body that errors when destroyed unfinished, as undici's does", async () => {
    const r = new Readable({
      read() {},
      destroy(err, cb) {
        cb(err ?? (r.readableEnded ? null : new Error('Request aborted')));
      },
    });
    setImmediate(() => r.push(Buffer.from('abcdefghijk')));
    const err = await readWhole(r, 10, UPSTREAM).catch((e: unknown) => e);
    expect((err as EdgeError).message).toMatch(/longer than its Content-Length/);
    // The 'error' from the destroy came after the answer, and nothing threw.
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.destroyed).toBe(true);
  });
});

describe('readWhole with a wait (bodies over WHOLE_BODY_BYTES)', () => {
  it('reads a body whole when all of it arrives within the wait', async () => {
    const whole = await readWhole(body([Buffer.from('abc'), Buffer.from('def')]), 6, UPSTREAM, 1000);
    expect(whole?.toString()).toBe('abcdef');
  });

  it('hands a slower body back unread, what arrived first, to be streamed in order', async () => {
    const r = new Readable({ read() {} });
    let restSent = false;
    setImmediate(() => r.push(Buffer.from('abc')));
    setTimeout(() => {
      restSent = true;
      r.push(Buffer.from('def'));
      r.push(null);
    }, 100);
    expect(await readWhole(r, 6, UPSTREAM, 10)).toBeUndefined();
    // Handed back as soon as the wait was over, not when the body ended.
    expect(restSent).toBe(false);
    expect(r.isPaused()).toBe(true);
    const streamed: Buffer[] = [];
    for await (const chunk of r) streamed.push(chunk as Buffer);
    expect(Buffer.concat(streamed).toString()).toBe('abcdef');
  });

  it('leaves a failure after the hand-back to whoever streams the body', async () => {
    const r = new Readable({ read() {} });
    setImmediate(() => r.push(Buffer.from('abc')));
    setTimeout(() => r.destroy(new Error('other side closed')), 50);
    expect(await readWhole(r, 6, UPSTREAM, 10)).toBeUndefined();
    const got: string[] = [];
    const failed = new Promise<Error>((resolve) => r.once('error', resolve));
    r.on('data', (chunk: Buffer) => got.push(chunk.toString()));
    r.resume();
    expect((await failed).message).toBe('other side closed');
    expect(got).toEqual(['abc']);
  });
});
