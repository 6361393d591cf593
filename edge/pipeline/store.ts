// Store: look at the upstream's answer. A 304 to our revalidation refreshes the stored headers;
// a storable answer (an error only with explicit freshness: negative-caching.ts) is stored: one
// that arrives whole promptly is read first and answered as one Buffer (whole-body.ts), any
// other streamed to the client and buffered into the cache at the same time (tee.ts; objects
// over maxObjectBytes are only streamed); anything else passes through, and when the refusal
// is about the URL it becomes hit-for-miss.
import { NOT_STORED, storedResponse, type StoredResponse } from '../cache-store.js';
import { headerValue, type HeaderMap } from '../headers.js';
import type { EdgeContext, Middleware, OriginResponse, StoreOutcome } from './context.js';
import { forward } from './fetch.js';
import { storedLifetime } from './lifetime.js';
import { serveEntry, variantKey } from './lookup.js';
import {
  applyNotModified,
  createPolicy,
  freshness,
  storability,
  varyFields,
  type PolicyRequest,
  type Storability,
} from './policy.js';
import { staleMayServe } from './stale-if-error.js';
import { discard, teeForCache } from './tee.js';
import { readWhole, wholeReadWait } from './whole-body.js';

const STORED: StoreOutcome = { kind: 'stored' };
const UNCACHEABLE: Promise<StoreOutcome> = Promise.resolve({ kind: 'uncacheable' });

export function policyRequest(c: EdgeContext): PolicyRequest {
  return { url: c.req.path, method: 'GET', headers: c.req.headers };
}

export function store(): Middleware {
  return async function store(c, next) {
    await next();
    let origin = c.origin!;
    if (!c.cacheable) {
      c.response = passThrough(origin);
      return;
    }
    const { edge } = c;

    if (origin.status === 304 && c.stale) {
      discard(origin.body);
      const refreshed = applyNotModified(edge.Policy, c.stale, policyRequest(c), origin.headers);
      if (refreshed) {
        const entry = storedResponse({
          ...c.stale,
          headers: refreshed.headers,
          lifetime: storedLifetime(refreshed.policy, edge.Policy.clock),
          via: `1.1 ${edge.pseudonym}`,
        });
        if (edge.cache.put(entry)) {
          edge.peers.stored(entry);
          serveEntry(c, entry, freshness(entry, edge.now()));
          c.status.stored = true;
          c.outcome = Promise.resolve(STORED);
          return;
        }
      }
      // The 304 does not describe what we hold: drop it and ask again without validators.
      if (edge.cache.delete(c.stale.key)) edge.peers.removed(c.stale.key);
      c.stale = undefined;
      origin = c.origin = await forward(c, false);
    }

    // A part is never stored as the whole (our request asked for no range; passed on as it came).
    if (origin.status === 206) {
      c.status.detail = 'partial';
      c.response = passThrough(origin);
      c.outcome = UNCACHEABLE;
      return;
    }

    const req = policyRequest(c);
    const policy = createPolicy(edge.Policy, req, origin.status, origin.headers);
    // A 5xx the stale copy will stand in for (stale-if-error) must not replace that copy.
    const verdict: Storability =
      origin.status >= 500 && staleMayServe(c)
        ? { ok: false, reason: 'stale-if-error', hitForMiss: false }
        : storability(policy, req, origin.status, origin.headers);
    const declared = Number(headerValue(origin.headers, 'content-length'));
    const tooLarge = declared > edge.config.maxObjectBytes;
    if (!verdict.ok || tooLarge) {
      const urlWide = tooLarge || (!verdict.ok && verdict.hitForMiss);
      if (urlWide) {
        edge.hitForMiss.mark(c.key);
        edge.peers.hitForMiss(c.key, true);
        // What the origin now says about this URL replaces what we held.
        if (c.stale && origin.status < 400 && edge.cache.delete(c.stale.key)) edge.peers.removed(c.stale.key);
      }
      c.status.detail = tooLarge ? 'too-large' : !verdict.ok ? verdict.reason : undefined;
      c.response = passThrough(origin);
      c.outcome = UNCACHEABLE;
      return;
    }

    const vary = keyedFields(headerValue(origin.headers, 'vary'), edge.config.forwardHeaders);
    const key = variantKey(c.key, vary, c.req, edge.forwardRule);
    const keep = (body: Buffer): StoredResponse | undefined => {
      const entry = storedResponse({
        key,
        primary: c.key,
        vary,
        status: origin.status,
        headers: origin.headers,
        body,
        lifetime: storedLifetime(policy, edge.Policy.clock),
        via: `1.1 ${edge.pseudonym}`,
      });
      if (!edge.cache.put(entry)) return undefined;
      edge.peers.stored(entry);
      if (edge.hitForMiss.clear(c.key)) edge.peers.hitForMiss(c.key, false);
      return entry;
    };
    const stored = (): void => {
      c.status.stored = true;
      c.status.ttl = Math.round(policy.maxAge() - policy.age());
    };

    const waitMs = wholeReadWait(declared, edge.config.maxObjectBytes);
    const body = waitMs === undefined ? undefined : await readWhole(origin.body, declared, edge.upstream.name, waitMs);
    if (body !== undefined) {
      stored();
      const entry = keep(body);
      c.outcome = Promise.resolve(entry ? STORED : { kind: 'uncacheable' });
      // Answered as what was stored, as the next request will be (and as the raw front can write
      // it: server.ts), unless the upstream said something for this requester alone that storage
      // does not keep: its Set-Cookie, or its own Cache-Status, which ours is appended to.
      c.response =
        entry && !saysMoreThanStored(origin.headers)
          ? { status: origin.status, headers: entry.publicHeaders, body: entry.body, entry }
          : { status: origin.status, headers: origin.headers, body };
      return;
    }

    let settle!: (outcome: StoreOutcome) => void;
    c.outcome = new Promise((resolve) => (settle = resolve));
    const streamed = teeForCache(origin.body, edge.config.maxObjectBytes, (result) => {
      if ('body' in result) settle(keep(result.body) !== undefined ? STORED : { kind: 'uncacheable' });
      else if ('overflow' in result) {
        edge.hitForMiss.mark(c.key);
        edge.peers.hitForMiss(c.key, true);
        settle({ kind: 'uncacheable' });
      } else settle({ kind: 'aborted' });
    });
    c.response = { status: origin.status, headers: origin.headers, body: streamed };
    stored();
  };
}

/**
 * The fields that select this variant: the response's Vary and every header the operator
 * forwards beyond the default rule (forward-headers.ts), which the origin may use without
 * saying so. Sorted, as varyFields is.
 */
export function keyedFields(vary: string | undefined, forwarded: readonly string[]): string[] {
  const fields = varyFields(vary ?? '');
  if (forwarded.length === 0) return fields;
  return [...new Set([...fields, ...forwarded])].sort();
}

function passThrough(origin: OriginResponse): {
  status: number;
  headers: OriginResponse['headers'];
  body: OriginResponse['body'];
} {
  return { status: origin.status, headers: origin.headers, body: origin.body };
}

/** The upstream said something for this requester alone that storage does not keep (NOT_STORED). */
function saysMoreThanStored(headers: HeaderMap): boolean {
  for (const name of NOT_STORED) if (headers[name] !== undefined) return true;
  return false;
}
