// Warming a cache before the load: a miss that fills it, then a request that must be a hit, told
// by each server's own header (Meridian's Cache-Status, Varnish's X-Varnish).
import { log } from '../lib.mjs';
import { httpGet } from './http.mjs';
import { OBJECT_BYTES, OBJECT_PATH } from './origin.mjs';

const meridianHit = (h) =>
  /;\s*hit\b/.test(
    String(h['cache-status'] ?? '')
      .split(',')
      .at(-1) ?? '',
  );
const meridianHitHeader = (h) => `Cache-Status: ${h['cache-status'] ?? '(none)'}`;
/** Whether a response was served from cache, by server name (each says so its own way). */
const isHit = {
  // Cache-Status (RFC 9211): our member is the last one.
  meridian: meridianHit,
  'meridian-1': meridianHit,
  'meridian-cores': meridianHit,
  // X-Varnish carries two transaction ids when the object came from cache.
  varnish: (h) => /^\d+\s+\d+$/.test(String(h['x-varnish'] ?? '').trim()),
  // No cache: every answer comes from memory.
  'node:http': () => true,
};
/** The header field that shows it, for the report. */
export const hitHeader = {
  meridian: meridianHitHeader,
  'meridian-1': meridianHitHeader,
  'meridian-cores': meridianHitHeader,
  varnish: (h) => `X-Varnish: ${h['x-varnish'] ?? '(none)'}, Age: ${h.age ?? '(none)'}`,
  'node:http': () => 'no cache, answered from memory',
};

/** A miss that fills the cache, then a request that must be a hit. */
export async function warm(name, port, origin) {
  const before = origin.total;
  const first = await httpGet(port, OBJECT_PATH);
  const second = await httpGet(port, OBJECT_PATH);
  const ok =
    first.status === 200 && second.status === 200 && second.bytes === OBJECT_BYTES && isHit[name](second.headers);
  log(
    `bench: ${name} warm-up: 1st ${first.status} (${hitHeader[name](first.headers)}), 2nd ${second.status} (${hitHeader[name](second.headers)}) -> ${name === 'node:http' ? (ok ? 'ok' : 'NOT OK') : ok ? 'hit' : 'NOT A HIT'}`,
  );
  return { ok, originRequests: origin.total - before, second };
}
