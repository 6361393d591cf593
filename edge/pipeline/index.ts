// The order of the request pipeline, in one place. Each step may answer and return, or call
// next() and look at what came back. The forward part (coalesce → store → fetch) also runs on
// its own for background revalidations (stale-while-revalidate).
import type { Readable } from 'node:stream';
import type { StoredResponse } from '../cache-store.js';
import { coalesce } from './coalesce.js';
import { conditional } from './conditional.js';
import { compose, createContext, type EdgeContext, type Middleware } from './context.js';
import { fetchUpstream } from './fetch.js';
import { invalidate } from './invalidate.js';
import { key } from './key.js';
import { lookup } from './lookup.js';
import { range } from './range.js';
import { staleIfError } from './stale-if-error.js';
import { store } from './store.js';

/** Client side: what the request is and what is stored for it. */
export const FRONT: readonly Middleware[] = [key(), invalidate(), range(), conditional(), lookup(), staleIfError()];
/** Forward side: one upstream request per key, its answer stored. */
export const FORWARD: readonly Middleware[] = [coalesce(), store(), fetchUpstream()];

export const runRequest = compose([...FRONT, ...FORWARD]);
const runForward = compose(FORWARD);

/**
 * Revalidates `entry` in the background for the request `c` (which was answered stale): one
 * refresh per key at a time, its body read into the cache with no client attached.
 */
export function refreshInBackground(c: EdgeContext, entry: StoredResponse): Promise<void> | undefined {
  const { edge } = c;
  const key = c.variantKey ?? c.key;
  if (edge.inflight.has(key)) return undefined;
  // A shared refresh is anonymous: one client's credentials must not fetch everyone's copy.
  const { authorization: _, ...headers } = c.req.headers;
  const bg = createContext(edge, { ...c.req, method: 'GET', body: undefined, headers, authorization: false }, true);
  bg.key = c.key;
  bg.variantKey = c.variantKey;
  bg.cacheable = true;
  bg.coalescible = true;
  bg.stale = entry;
  return runForward(bg)
    .then(async () => {
      const body = bg.response?.body;
      if (body !== undefined && !Buffer.isBuffer(body)) (body as Readable).on('error', () => {}).resume();
      await bg.outcome;
    })
    .catch((err: unknown) => edge.log.debug({ err, key }, 'background revalidation failed'));
}
