import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CacheStore, storedResponse } from './cache-store.js';
import { freshHitTail, hitPrefix } from './front/hit-bytes.js';
import { storedLifetime } from './pipeline/lifetime.js';
import { createPolicy, policyClass } from './pipeline/policy.js';

const Policy = policyClass(Date.now);
function entry(
  primary: string,
  opts: { variant?: string; vary?: string[]; tags?: string; body?: number; headers?: Record<string, string> } = {},
) {
  const headers = { 'cache-control': 'max-age=60', ...(opts.tags && { 'surrogate-key': opts.tags }), ...opts.headers };
  return storedResponse({
    key: opts.variant === undefined ? primary : `${primary}\n${opts.variant}`,
    primary,
    vary: opts.vary ?? [],
    status: 200,
    headers,
    body: Buffer.alloc(opts.body ?? 10),
    lifetime: storedLifetime(createPolicy(Policy, { url: '/', method: 'GET', headers: {} }, 200, headers), Date.now),
    via: '1.1 meridian-t',
  });
}

describe('cache store', () => {
  it('keeps within the byte budget, least recently used out first', () => {
    const store = new CacheStore(10_000);
    for (let i = 0; i < 10; i++) store.put(entry(`k${i}`, { body: 2_000 }));
    expect(store.bytes).toBeLessThanOrEqual(10_000);
    expect(store.objects).toBeLessThan(10);
    expect(store.get('k9')).toBeDefined();
    expect(store.get('k0')).toBeUndefined();
    expect(store.evictions).toBeGreaterThan(0);
    expect(store.put(entry('huge', { body: 20_000 }))).toBe(false);
  });

  it('counts headers in the size and prepares client and internal header sets', () => {
    const e = entry('k', {
      body: 100,
      tags: 'a b',
      headers: { 'cdn-cache-control': 'max-age=5', 'set-cookie': 'x', age: '3', via: '1.1 up' },
    });
    expect(e.size).toBeGreaterThan(100 + 50);
    expect(e.headers['set-cookie']).toBeUndefined();
    expect(e.headers['content-length']).toBe('100');
    expect(e.publicHeaders).not.toHaveProperty('cdn-cache-control');
    expect(e.publicHeaders).not.toHaveProperty('surrogate-key');
    expect(e.publicHeaders).not.toHaveProperty('age');
    expect(e.internalHead).toEqual([
      'cache-control',
      'max-age=60',
      'surrogate-key',
      'a b',
      'cdn-cache-control',
      'max-age=5',
      'via',
      '1.1 up, 1.1 meridian-t',
      'content-length',
      '100',
    ]);
    expect(e.publicHead).toEqual([
      'cache-control',
      'max-age=60',
      'via',
      '1.1 up, 1.1 meridian-t',
      'content-length',
      '100',
    ]);
    expect(e.publicHeaders.via).toBe('1.1 up, 1.1 meridian-t');
    expect(e.tags).toEqual(['a', 'b']);
  });

  it('indexes variants and tags, and forgets them on eviction and purge', () => {
    const store = new CacheStore(1_000_000);
    store.put(entry('u', { variant: 'br', vary: ['accept-encoding'], tags: 't1 t2' }));
    store.put(entry('u', { variant: 'gzip', vary: ['accept-encoding'], tags: 't1' }));
    store.put(entry('v', { tags: 't2' }));
    expect(store.varyOf('u')).toEqual(['accept-encoding']);
    expect(store.purgeTag('t2', false, 0)).toBe(2);
    expect(store.get('u\nbr')).toBeUndefined();
    expect(store.get('u\ngzip')).toBeDefined();
    expect(store.varyOf('v')).toBeUndefined();
    expect(store.purgeTag('t2', false, 0)).toBe(0);
    expect(store.purgeUrl('u', false, 0)).toBe(1);
    expect(store.varyOf('u')).toBeUndefined();
  });

  it('drops variants stored under other Vary fields when the Vary changes', () => {
    const store = new CacheStore(1_000_000);
    store.put(entry('u', { variant: 'a', vary: ['x-a'] }));
    store.put(entry('u', { variant: 'b', vary: ['x-b'] }));
    expect(store.get('u\na')).toBeUndefined();
    expect(store.varyOf('u')).toEqual(['x-b']);
  });

  it('soft purges mark instead of removing; prefixes match whole keys only', () => {
    const store = new CacheStore(1_000_000);
    for (const k of ['http://h/a/1', 'http://h/a/2', 'http://h/ab']) store.put(entry(k));
    expect(store.purgePrefix('http://h/a/', true, 123)).toBe(2);
    expect(store.get('http://h/a/1')!.invalidatedAt).toBe(123);
    expect(store.get('http://h/ab')!.invalidatedAt).toBeUndefined();
    expect(store.objects).toBe(3);
    expect(store.purgeAll(false, 0)).toBe(3);
    expect(store.objects).toBe(0);
  });

  it("counts at least what each object really takes on the heap, so maxBytes bounds the store's memory", () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const N = 5_000;
    // A typical origin's answer (nginx's fields) to a plain GET, stored and hit once.
    const typical = (i: number) => {
      const headers = {
        server: 'nginx/1.22.1',
        date: new Date().toUTCString(),
        'content-type': 'application/octet-stream',
        'content-length': '1024',
        'last-modified': 'Mon, 07 Dec 2026 13:00:00 GMT',
        etag: `"6751a0b0-${i.toString(16)}"`,
        'cache-control': 'public, max-age=3600',
        'accept-ranges': 'bytes',
      };
      const key = `http://www.example.test/assets/${i}`;
      const request = { url: `/assets/${i}`, method: 'GET' as const, headers: { host: 'www.example.test' } };
      return storedResponse({
        key,
        primary: key,
        vary: [],
        status: 200,
        headers,
        body: Buffer.alloc(1024),
        lifetime: storedLifetime(createPolicy(Policy, request, 200, headers), Date.now),
        via: '1.1 meridian-t',
      });
    };
    const store = new CacheStore(1024 ** 3);
    store.put(typical(-1));
    gc();
    const before = process.memoryUsage();
    for (let i = 0; i < N; i++) {
      const entry = typical(i);
      // As once hit: the raw front's head and a hit's tail, kept with the object (front/hit-bytes.ts).
      freshHitTail(hitPrefix(entry)!, 0, 3600, 'meridian-t', 5);
      store.put(entry);
    }
    gc();
    const after = process.memoryUsage();
    const heapPerObject = (after.heapUsed - before.heapUsed) / N;
    const countedBeyondBody = (store.bytes - 1024 * store.objects) / store.objects;
    expect(store.objects).toBe(N + 1);
    expect(heapPerObject).toBeGreaterThan(500);
    expect(countedBeyondBody).toBeGreaterThan(heapPerObject);
  });
});
