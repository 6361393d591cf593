// Coalescing: concurrent misses for one key make one upstream request. The first becomes the
// leader; the others wait for its answer to be stored and are served from storage. When the
// answer cannot be stored they go forward themselves, and the URL is remembered for a while
// (hit-for-miss) so later requests do not queue behind fetches they cannot share.
import { toEdgeError } from '../errors.js';
import type { EdgeContext, Middleware, Next, StoreOutcome } from './context.js';
import { serveEntry, variantKey } from './lookup.js';
import { freshness } from './policy.js';

// A waiter whose leader stored a variant it cannot use queues again, on its own variant.
const MAX_ROUNDS = 3;

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
      const pending = edge.inflight.get(key);
      if (!pending) return lead(c, key, next);
      const outcome = await pending;
      c.status.collapsed = true;
      if (outcome.kind === 'error') throw outcome.error;
      if (outcome.kind !== 'stored') return next();
      if (serveStored(c)) return;
    }
    return next();
  };
}

async function lead(c: EdgeContext, key: string, next: Next): Promise<void> {
  const { inflight } = c.edge;
  let settle!: (outcome: StoreOutcome) => void;
  const pending = new Promise<StoreOutcome>((resolve) => (settle = resolve));
  inflight.set(key, pending);
  const done = (outcome: StoreOutcome): void => {
    if (inflight.get(key) === pending) inflight.delete(key);
    settle(outcome);
  };
  try {
    await next();
  } catch (err) {
    done({ kind: 'error', error: toEdgeError(err) });
    throw err;
  }
  void c.outcome.then(done, (err: unknown) => done({ kind: 'error', error: toEdgeError(err) }));
}

/** After the leader stored: the stored response for this request's variant, if there is one. */
function serveStored(c: EdgeContext): boolean {
  const { cache, now } = c.edge;
  const vary = cache.varyOf(c.key);
  if (vary === undefined) return false;
  c.variantKey = variantKey(c.key, vary, c.req);
  const entry = cache.get(c.variantKey);
  // Fetched after this request arrived: fresh enough for it whatever its lifetime.
  if (!entry || entry.invalidatedAt !== undefined) return false;
  serveEntry(c, entry, freshness(entry, now()));
  c.status.collapsed = true;
  return true;
}
