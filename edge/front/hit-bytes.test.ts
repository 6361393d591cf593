// A fresh hit's tail (Age, Cache-Status, Date, keep-alive) made once and reused: the same bytes as
// made afresh for every hit, and a new one as soon as any of its parts changes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { storedResponse } from '../cache-store.js';
import { hitStatusText } from '../fresh-hit.js';
import { storedLifetime } from '../pipeline/lifetime.js';
import { createPolicy, policyClass } from '../pipeline/policy.js';
import { freshHitTail, hitPrefix, hitTail } from './hit-bytes.js';

const Policy = policyClass(Date.now);

function stored(headers: Record<string, string>) {
  const all = { 'cache-control': 'max-age=600', 'content-length': '4', ...headers };
  return storedResponse({
    key: 'http://www.test/a',
    primary: 'http://www.test/a',
    vary: [],
    status: 200,
    headers: all,
    body: Buffer.from('body'),
    lifetime: storedLifetime(createPolicy(Policy, { url: '/', method: 'GET', headers: {} }, 200, all), Date.now),
    via: '1.1 meridian-t',
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('freshHitTail', () => {
  it('is the tail made afresh, and stays it for hits in the same second with the same age and ttl', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 11, 8, 10, 0, 0, 100), toFake: ['Date'] });
    const prefix = hitPrefix(stored({}))!;
    const first = freshHitTail(prefix, 3, 597, 'meridian-fra', 5);
    expect(first).toBe(hitTail(prefix, 3, hitStatusText('meridian-fra', 597), 5));
    expect(first).toContain('Date: Tue, 08 Dec 2026 10:00:00 GMT\r\n');
    vi.setSystemTime(Date.UTC(2026, 11, 8, 10, 0, 0, 900));
    const again = freshHitTail(prefix, 3, 597, 'meridian-fra', 5);
    expect(again).toBe(first);
  });

  it('is made again when the age, the ttl, the keep-alive, the pseudonym or the second of Date changes', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 11, 8, 10, 0, 0, 100), toFake: ['Date'] });
    const prefix = hitPrefix(stored({}))!;
    const made = (age: number, ttl: number, pseudonym: string, keepAlive: number) =>
      hitTail(prefix, age, hitStatusText(pseudonym, ttl), keepAlive);
    expect(freshHitTail(prefix, 3, 597, 'meridian-fra', 5)).toBe(made(3, 597, 'meridian-fra', 5));
    expect(freshHitTail(prefix, 4, 597, 'meridian-fra', 5)).toBe(made(4, 597, 'meridian-fra', 5));
    expect(freshHitTail(prefix, 4, 596, 'meridian-fra', 5)).toBe(made(4, 596, 'meridian-fra', 5));
    expect(freshHitTail(prefix, 4, 596, 'meridian-fra', 7)).toBe(made(4, 596, 'meridian-fra', 7));
    expect(freshHitTail(prefix, 4, 596, 'meridian-iad', 7)).toBe(made(4, 596, 'meridian-iad', 7));
    vi.setSystemTime(Date.UTC(2026, 11, 8, 10, 0, 1, 0));
    const next = freshHitTail(prefix, 4, 596, 'meridian-iad', 7);
    expect(next).toContain('Date: Tue, 08 Dec 2026 10:00:01 GMT\r\n');
    expect(next).toBe(made(4, 596, 'meridian-iad', 7));
  });

  it('adds no Date of its own where the stored response has one, and keeps one tail per stored response', () => {
    const withDate = hitPrefix(stored({ date: 'Tue, 08 Dec 2026 09:00:00 GMT' }))!;
    const other = hitPrefix(stored({}))!;
    const a = freshHitTail(withDate, 1, 599, 'meridian-fra', 5);
    expect(a).not.toContain('Date:');
    const b = freshHitTail(other, 1, 599, 'meridian-fra', 5);
    expect(b).toContain('Date:');
    expect(freshHitTail(withDate, 1, 599, 'meridian-fra', 5)).toBe(a);
  });
});
