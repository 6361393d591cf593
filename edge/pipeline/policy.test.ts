import { describe, expect, it } from 'vitest';
import {
  applyNotModified,
  createPolicy,
  freshness,
  policyClass,
  requestAllows,
  storability,
  type PolicyRequest,
} from './policy.js';
import { freshnessView } from '../freshness/view.js';
import { storedLifetime } from './lifetime.js';

const policyView = (headers: Record<string, string>) => freshnessView(headers, now).headers;

let now = 1_000_000_000_000;
const Policy = policyClass(() => now);
const req = (headers: Record<string, string> = {}): PolicyRequest => ({
  url: '/x',
  method: 'GET',
  headers: { host: 'www.test', ...headers },
});
const entry = (headers: Record<string, string | string[]>, status = 200, r = req()) => {
  const policy = createPolicy(Policy, r, status, headers);
  return { policy, verdict: storability(policy, r, status, headers) };
};

describe('the policy wrapper', () => {
  it('shows the library CDN-Cache-Control, else Surrogate-Control, as Cache-Control', () => {
    expect(policyView({ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=5', expires: 'x' })).toEqual({
      'cache-control': 'max-age=5',
    });
    expect(policyView({ 'cache-control': 'max-age=1', 'surrogate-control': 'max-age=9' })).toEqual({
      'cache-control': 'max-age=9',
    });
    expect(policyView({ 'cache-control': 'max-age=9, proxy-revalidate' })).toEqual({
      'cache-control': 'max-age=9, must-revalidate',
    });
  });

  it('gives reasons, and says which refusals are about the URL', () => {
    expect(entry({ 'cache-control': 'max-age=60' }).verdict).toEqual({ ok: true });
    expect(entry({ 'cache-control': 'max-age=60' }, 200, req({ authorization: 'x' })).verdict).toMatchObject({
      ok: false,
      reason: 'authorization',
      hitForMiss: false,
    });
    expect(entry({ 'cache-control': 's-maxage=60' }, 200, req({ authorization: 'x' })).verdict).toEqual({ ok: true });
    expect(entry({ 'cache-control': 'max-age=60, must-revalidate' }, 200, req({ authorization: 'x' })).verdict).toEqual(
      { ok: true },
    );
    expect(entry({ 'cache-control': 'max-age=60' }, 200, req({ 'cache-control': 'no-store' })).verdict).toMatchObject({
      reason: 'request-no-store',
      hitForMiss: false,
    });
    expect(entry({ 'cache-control': 'max-age=60', 'set-cookie': 'a=1' }).verdict).toMatchObject({
      reason: 'set-cookie',
      hitForMiss: true,
    });
    expect(entry({ 'cache-control': 'public, max-age=60', 'set-cookie': 'a=1' }).verdict).toEqual({ ok: true });
    expect(entry({ 'cache-control': 'max-age=60', vary: 'accept, *' }).verdict).toMatchObject({ reason: 'vary-star' });
    expect(entry({ 'cache-control': 'max-age=60' }, 503).verdict).toEqual({ ok: true });
    expect(entry({ 'cache-control': 'no-store' }, 503).verdict).toMatchObject({
      reason: 'error-no-lifetime',
      hitForMiss: false,
    });
    expect(entry({ 'cache-control': 'private, max-age=60' }).verdict).toMatchObject({
      reason: 'not-storable',
      hitForMiss: true,
    });
    expect(entry({}).verdict).toMatchObject({ reason: 'no-lifetime' });
    expect(entry({ etag: '"a"' }).verdict).toEqual({ ok: true });
  });

  it('keeps a fresh must-revalidate response usable and never serves it stale', () => {
    const directives = {
      'max-age': '10',
      'must-revalidate': true as const,
      'stale-while-revalidate': '60',
      'stale-if-error': '60',
    };
    const { policy } = entry({
      'cache-control': 'max-age=10, must-revalidate, stale-while-revalidate=60, stale-if-error=60',
    });
    const fresh = freshness(
      { lifetime: storedLifetime(policy, Policy.clock), directives, invalidatedAt: undefined },
      now,
    );
    expect(fresh).toMatchObject({ fresh: true, strict: true });
    expect(requestAllows({}, fresh)).toBe('use');
    now += 11_000;
    const stale = freshness(
      { lifetime: storedLifetime(policy, Policy.clock), directives, invalidatedAt: undefined },
      now,
    );
    expect(stale).toMatchObject({ fresh: false, staleWhileRevalidate: false, staleIfError: false });
    expect(requestAllows({ 'cache-control': 'max-stale' }, stale)).toBe('forward');
  });

  it('counts soft purges as staleness, and honours request directives', () => {
    const directives = { 'max-age': '100', 'stale-while-revalidate': '30' };
    const { policy } = entry({ 'cache-control': 'max-age=100, stale-while-revalidate=30' });
    const purged = freshness(
      { lifetime: storedLifetime(policy, Policy.clock), directives, invalidatedAt: now - 5_000 },
      now,
    );
    expect(purged).toMatchObject({ fresh: false, staleWhileRevalidate: true });
    expect(Math.round(purged.ttl)).toBe(-5);
    const f = freshness({ lifetime: storedLifetime(policy, Policy.clock), directives, invalidatedAt: undefined }, now);
    expect(requestAllows({ 'cache-control': 'no-cache' }, f)).toBe('forward');
    expect(requestAllows({ pragma: 'no-cache' }, f)).toBe('forward');
    expect(requestAllows({ pragma: 'no-cache', 'cache-control': 'max-age=1000' }, f)).toBe('use');
    expect(requestAllows({ 'cache-control': 'min-fresh=1000' }, f)).toBe('forward');
    now += 110_000;
    const stale = freshness(
      { lifetime: storedLifetime(policy, Policy.clock), directives, invalidatedAt: undefined },
      now,
    );
    expect(requestAllows({ 'cache-control': 'max-stale=20' }, stale)).toBe('use');
    expect(requestAllows({ 'cache-control': 'max-stale=5' }, stale)).toBe('forward');
  });

  it('applies a 304: headers updated, body headers kept, a new validator stored', () => {
    const stored = {
      ...entry({ 'cache-control': 'max-age=1', etag: '"a"', 'content-length': '5', age: '30', 'x-v': '1' }),
      status: 200,
      headers: { 'cache-control': 'max-age=1', etag: '"a"', 'content-length': '5', age: '30', 'x-v': '1' },
    };
    const ok = applyNotModified(Policy, stored, req(), {
      etag: '"a"',
      'cache-control': 'max-age=50',
      'content-length': '0',
      'x-v': '2',
      'x-new': 'y',
      'set-cookie': 'no',
    })!;
    expect(ok.headers).toEqual({
      'cache-control': 'max-age=50',
      etag: '"a"',
      'content-length': '5',
      'x-v': '2',
      'x-new': 'y',
    });
    expect(Math.round(ok.policy.maxAge() - ok.policy.age())).toBe(50);
    // RFC 9111 §4.3.4: our conditional request named only this response's validator, so the 304
    // is about it; its new ETag replaces the stored one.
    expect(applyNotModified(Policy, stored, req(), { etag: '"b"' })?.headers.etag).toBe('"b"');
    expect(applyNotModified(Policy, stored, req(), { 'cache-control': 'max-age=9' })).toBeDefined();
    // Nothing was asked about a response without validators: a 304 naming one is about something else.
    const bare = { ...stored, headers: { 'cache-control': 'max-age=1' } };
    expect(applyNotModified(Policy, bare, req(), { etag: '"b"' })).toBeUndefined();
    expect(applyNotModified(Policy, bare, req(), { 'cache-control': 'max-age=9' })).toBeDefined();
  });
});

describe('errors (negative caching, CPDoS)', () => {
  it.each([404, 410, 403, 500, 502, 503, 504])('a %i with explicit freshness is stored for that long', (status) => {
    for (const headers of [
      { 'cache-control': 'max-age=30' } as Record<string, string>,
      { 'cache-control': 's-maxage=30' },
      { 'cdn-cache-control': 'max-age=30' },
      { expires: new Date(now + 30_000).toUTCString(), date: new Date(now).toUTCString() },
    ]) {
      const e = entry(headers, status);
      expect(e.verdict).toEqual({ ok: true });
      expect(e.policy.maxAge()).toBe(30);
    }
  });

  it.each([404, 410, 500, 503])('a %i without explicit freshness is never stored, validators or not', (status) => {
    for (const headers of [
      {} as Record<string, string>,
      { etag: '"e"' },
      { 'last-modified': new Date(now - 86_400_000).toUTCString() },
      { 'cache-control': 'public' },
      { 'cache-control': 'stale-if-error=600' },
      { 'cache-control': 'max-age=30', 'cdn-cache-control': 'no-store' },
    ]) {
      const e = entry(headers, status);
      expect(e.verdict).toMatchObject({ ok: false, hitForMiss: false });
    }
  });

  it.each([400, 405, 413, 414, 429, 431, 501])('a %i (about the request, not the URL) is never stored', (status) => {
    expect(entry({ 'cache-control': 'public, max-age=3600' }, status).verdict).toEqual({
      ok: false,
      reason: 'request-error',
      hitForMiss: false,
    });
  });
});
