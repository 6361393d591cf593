import { describe, expect, it } from 'vitest';
import { PurgeLog } from './purge-log.js';
import type { WireEntry } from './wire.js';

function entry(primary: string, headers: Record<string, string> = {}): WireEntry {
  return {
    key: primary,
    primary,
    vary: [],
    status: 200,
    headers,
    body: new Uint8Array(1),
    lifetime: [60, 0, 0],
    invalidatedAt: undefined,
  };
}

describe('PurgeLog: objects stored before a purge reached their worker', () => {
  it('relays an object as is when its worker had seen every purge', () => {
    const log = new PurgeLog();
    const seq = log.add({ kind: 'all', soft: false }, 1000);
    expect(log.relayable(entry('http://a/x'), seq)).toBeDefined();
  });

  it('drops an object a later hard purge covers, keeps one it does not cover', () => {
    const log = new PurgeLog();
    log.add({ kind: 'prefix', prefix: 'http://a/img/', soft: false }, 1000);
    expect(log.relayable(entry('http://a/img/1.png'), 0)).toBeUndefined();
    expect(log.relayable(entry('http://a/css/1.css'), 0)).toBeDefined();
  });

  it('matches tags from the stored headers and marks soft-purged objects stale from the purge time', () => {
    const log = new PurgeLog();
    log.add({ kind: 'tag', tags: ['p-7'], soft: true }, 5000);
    const relayed = log.relayable(entry('http://a/x', { 'surrogate-key': 'p-1 p-7' }), 0);
    expect(relayed?.invalidatedAt).toBe(5000);
    expect(log.relayable(entry('http://a/y', { 'surrogate-key': 'p-1' }), 0)?.invalidatedAt).toBeUndefined();
  });

  it('drops an object whose worker is further behind than the log remembers', () => {
    const log = new PurgeLog();
    for (let i = 0; i < 1100; i++) log.add({ kind: 'url', key: `http://a/${i}`, soft: false }, i);
    expect(log.relayable(entry('http://a/unrelated'), 0)).toBeUndefined();
    expect(log.relayable(entry('http://a/unrelated'), 1099)).toBeDefined();
  });
});
