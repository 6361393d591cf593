// Coalescing: concurrent misses for one key make one upstream request. The first becomes the
// leader; the others wait for its answer to be stored and are served from storage. When the
// answer cannot be stored they go forward themselves, and the URL is remembered for a while
// (hit-for-miss) so later requests do not queue behind fetches they cannot share.
//
// With serving workers the first request for a key in each process asks the primary for the
// key's fetch lease (edge.peers): only the holder fetches; the other processes' requests wait
// for its outcome as local waiters would.
import type { StoredResponse } from '../cache-store.js';
import { toEdgeError } from '../errors.js';
import type { EdgeContext, EdgeState, Middleware, Next, StoreOutcome } from './context.js';
import { serveEntry, variantKey } from './lookup.js';
import { freshness, requestAllows } from './policy.js';

// A waiter whose leader stored a variant it cannot use queues again, on its own variant.
const MAX_ROUNDS = 3;

interface Fetch {
  readonly key: string;
  readonly pending: Promise<StoreOutcome>;
  /** Settles `pending` and forgets it. */
  readonly done: (outcome: StoreOutcome) => void;
  /** Whether this process holds the lease (a promise while the primary is asked). */
  readonly lead: boolean | Promise<boolean>;
}

export function coalesce(): Middleware {
  return async function coalesce(c, next) {
    if (!c.cacheable || !c.coalescible) return next();
    const { edge } = c;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (edge.hitForMiss.has(c.key)) {
        c.status.detail = 'hit-for-miss';
        return next();
      }
      const key = c.variantKey ?? c.key;
      let pending = edge.inflight.get(key);
      if (!pending) {
        const fetch = open(edge, key);
        if (fetch.lead === true) return lead(c, fetch, next);
        if (fetch.lead !== false && (await fetch.lead)) {
          // The primary sends a worker the objects its siblings stored before any later answer,
          // so one stored while the lease was asked for is here now: serve it rather than fetch
          // the same object again (a worker whose relays lag would otherwise refetch them all).
          if (serveRelayed(c)) return settleFromStore(c, fetch);
          return lead(c, fetch, next);
        }
        pending = fetch.pending;
      }
      const outcome = await pending;
      c.status.collapsed = true;
      if (outcome.kind === 'error') throw outcome.error;
      if (outcome.kind !== 'stored') return next();
      if (serveStored(c)) return;
    }
    return next();
  };
}

/** Registers the fetch for `key` here (later requests wait on it) and asks for its lease. */
function open(edge: EdgeState, key: string): Fetch {
  const { inflight } = edge;
  let settle!: (outcome: StoreOutcome) => void;
  const pending = new Promise<StoreOutcome>((resolve) => (settle = resolve));
  inflight.set(key, pending);
  const done = (outcome: StoreOutcome): void => {
    if (inflight.get(key) === pending) inflight.delete(key);
    settle(outcome);
  };
  return { key, pending, done, lead: edge.peers.lease(key, done) };
}

async function lead(c: EdgeContext, fetch: Fetch, next: Next): Promise<void> {
  const { peers } = c.edge;
  const finish = (outcome: StoreOutcome): void => {
    fetch.done(outcome);
    // After the object went out (peers.stored in `store`): the others find it when told.
    peers.release(fetch.key, outcome);
  };
  try {
    await next();
  } catch (err) {
    finish({ kind: 'error', error: toEdgeError(err) });
    throw err;
  }
  void c.outcome.then(finish, (err: unknown) => finish({ kind: 'error', error: toEdgeError(err) }));
}

/** The lease was ours, but the object arrived from another worker meanwhile: nothing to fetch. */
function settleFromStore(c: EdgeContext, fetch: Fetch): void {
  const outcome: StoreOutcome = { kind: 'stored' };
  fetch.done(outcome);
  c.edge.peers.release(fetch.key, outcome);
}

/** After the leader stored: the stored response for this request's variant, if there is one. */
function serveStored(c: EdgeContext): boolean {
  const found = storedVariant(c);
  if (!found) return false;
  // A waiter queues again on its own variant when the leader stored another (MAX_ROUNDS).
  c.variantKey = found.variant;
  // Fetched after this request arrived: fresh enough for it whatever its lifetime.
  if (!found.entry) return false;
  serveEntry(c, found.entry, freshness(found.entry, c.edge.now()));
  c.status.collapsed = true;
  return true;
}

/**
 * An object a sibling worker stored, relayed here while this request asked for the lease: served
 * only as lookup would serve it now, since the sibling may have fetched it long before.
 */
function serveRelayed(c: EdgeContext): boolean {
  const found = storedVariant(c);
  const entry = found?.entry;
  if (!found || !entry || entry === c.stale) return false;
  const f = freshness(entry, c.edge.now());
  if (requestAllows(c.req.headers, f, c.edge.config.requestCacheControl === 'obey') !== 'use') return false;
  c.variantKey = found.variant;
  serveEntry(c, entry, f);
  c.status.collapsed = true;
  return true;
}

/** The stored variant this request would get (`entry` undefined: none, or invalidated). */
function storedVariant(c: EdgeContext): { variant: string; entry: StoredResponse | undefined } | undefined {
  const { cache, forwardRule } = c.edge;
  const vary = cache.varyOf(c.key);
  if (vary === undefined) return undefined;
  const variant = variantKey(c.key, vary, c.req, forwardRule);
  const entry = cache.get(variant);
  return { variant, entry: entry && entry.invalidatedAt === undefined ? entry : undefined };
}
