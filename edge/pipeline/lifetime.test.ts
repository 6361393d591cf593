import { describe, expect, it } from 'vitest';
import { storedResponse } from '../cache-store.js';
import { entryFromWire, entryToWire } from '../workers/wire.js';
import { storedLifetime } from './lifetime.js';
import { createPolicy, policyClass, type PolicyRequest } from './policy.js';

let now = Date.parse('2026-12-07T12:00:00Z');
const Policy = policyClass(() => now);
const clock = Policy.clock;
const SECRET_COOKIE = 'session=first-requester-only';
const req: PolicyRequest = {
  url: '/a',
  method: 'GET',
  headers: { host: 'www.test', cookie: SECRET_COOKIE, authorization: 'Bearer first-requester-token' },
};

describe('what a stored response keeps of its policy', () => {
  it.each([
    ['max-age', { 'cache-control': 'public, max-age=600' }],
    ['s-maxage over max-age', { 'cache-control': 'public, max-age=10, s-maxage=300' }],
    ['an Age on arrival', { 'cache-control': 'public, max-age=600', age: '100' }],
    ['Expires against Date', { expires: 'Mon, 07 Dec 2026 13:00:00 GMT', date: 'Mon, 07 Dec 2026 12:00:00 GMT' }],
    ['the Last-Modified heuristic', { 'last-modified': 'Sun, 06 Dec 2026 12:00:00 GMT', etag: '"x"' }],
    ['no-cache (lifetime 0)', { 'cache-control': 'public, no-cache, max-age=600' }],
  ])('%s: the lifetime and age the policy gives, now and later', (_, headers) => {
    const policy = createPolicy(Policy, req, 200, headers);
    const kept = storedLifetime(policy, clock);
    for (const later of [0, 1, 250, 61_000, 3_600_000]) {
      now += later;
      expect(kept.maxAge()).toBe(policy.maxAge());
      expect(kept.age()).toBe(policy.age());
    }
  });

  it('is the same after a worker revives it from what the primary relays', () => {
    const policy = createPolicy(Policy, req, 200, { 'cache-control': 'public, max-age=600', age: '42' });
    const entry = storedResponse({
      key: 'k',
      primary: 'k',
      vary: [],
      status: 200,
      headers: { 'cache-control': 'public, max-age=600', age: '42' },
      body: Buffer.from('body'),
      lifetime: storedLifetime(policy, clock),
      via: '1.1 meridian-t',
    });
    const relayed = entryFromWire(structuredClone(entryToWire(entry)), clock, '1.1 meridian-t');
    now += 5_000;
    expect(relayed.lifetime.maxAge()).toBe(600);
    expect(relayed.lifetime.age()).toBe(policy.age());
    expect(relayed.lifetime.age()).toBe(47);
  });

  it("keeps nothing of the request it was stored for: the first requester's Cookie and Authorization stay with it", () => {
    const headers = { 'cache-control': 'public, max-age=600', vary: 'accept-language' };
    const policy = createPolicy(Policy, req, 200, headers);
    // With a Vary the library's own form holds the whole request's fields (what the relay to
    // workers used to carry).
    expect(JSON.stringify(policy.toObject())).toContain(SECRET_COOKIE);
    const entry = storedResponse({
      key: 'k',
      primary: 'k',
      vary: [],
      status: 200,
      headers,
      body: Buffer.from('body'),
      lifetime: storedLifetime(policy, clock),
      via: '1.1 meridian-t',
    });
    const kept = JSON.stringify({ ...entry, body: undefined, wire: { ...entryToWire(entry), body: undefined } });
    expect(kept).not.toContain('first-requester');
  });
});
