// The one place a response's freshness fields are read: each is parsed exactly (the files beside
// this one) and handed on in a form nobody downstream can misread. http-cache-semantics, which
// computes storability, the freshness lifetime and the age for policy.ts, parses loosely itself
// (Date.parse, parseInt, case-sensitive directive names), so it is shown only these values:
//
// - Cache-Control: the directives this cache obeys (targeted.ts), names lower-case, delta-seconds
//   as digits, proxy-revalidate as must-revalidate (for a shared cache they are the same, and the
//   library would zero the lifetime of a fresh one); a targeted field also hides Expires/Pragma;
// - Pragma: `no-cache` when it names no-cache in any case and there is no Cache-Control (§5.4);
// - Expires: an IMF-fixdate, or the epoch when the value is not an HTTP-date: already expired
//   (RFC 9111 §5.3);
// - Date, Last-Modified: an IMF-fixdate, or absent when invalid (RFC 9111 §4.2.3, §4.2.2);
// - Age: digits, capped at 2^31, or absent when invalid (RFC 9111 §5.1, §1.2.2).
//
// It runs when a response is stored or refreshed, never per hit. Dates before 1970 are written as
// the epoch: the library reads dates back with Date.parse, which takes a year below 100 for 19xx.
import type { HeaderMap } from '../headers.js';
import { headerValue } from '../headers.js';
import { parseAge } from './age.js';
import type { Directives } from './cache-control.js';
import { formatHttpDate, parseHttpDate } from './http-date.js';
import { targetedDirectives } from './targeted.js';

export interface FreshnessView {
  /** The response headers as http-cache-semantics is to see them. */
  readonly headers: Record<string, string | string[]>;
  /** The Cache-Control directives this cache obeys (a valid CDN-targeted field's when there is one). */
  readonly directives: Directives;
  readonly targeted: boolean;
}

const EXPIRED = formatHttpDate(0);
const DELTA = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error']);

/** `now` (ms) places RFC 850 two-digit years. */
export function freshnessView(headers: HeaderMap, now: number): FreshnessView {
  const out: Record<string, string | string[]> = { ...headers };
  const { directives, source } = targetedDirectives(headers);
  const targeted = source !== 'cache-control';
  delete out['cdn-cache-control'];
  delete out['surrogate-control'];
  if (targeted) {
    delete out.expires;
    delete out.pragma;
  }
  // Without any Cache-Control the library must still see none: Pragma: no-cache counts then
  // (§5.4), in any case, as a list element (the library looks for the lower-case substring).
  if (!targeted && headers['cache-control'] === undefined) {
    delete out['cache-control'];
    const pragma = headerValue(out, 'pragma');
    if (pragma !== undefined) {
      if (pragma.split(',').some((p) => p.trim().toLowerCase() === 'no-cache')) out.pragma = 'no-cache';
      else delete out.pragma;
    }
  } else out['cache-control'] = libraryCacheControl(directives);

  const expires = out.expires === undefined ? undefined : headerValue(out, 'expires')!;
  if (expires !== undefined) out.expires = formatted(expires, now) ?? EXPIRED;
  for (const name of ['date', 'last-modified']) {
    const value = headerValue(out, name);
    if (value === undefined) continue;
    const date = formatted(value, now);
    if (date === undefined) delete out[name];
    else out[name] = date;
  }
  const age = parseAge(headerValue(out, 'age'));
  if (age === undefined) delete out.age;
  else out.age = String(age);
  return { headers: out, directives, targeted };
}

/** True when `value` is an HTTP-date (RFC 9110 §5.6.7); the clock only places RFC 850 years. */
export function isHttpDate(value: string | undefined): boolean {
  return value !== undefined && parseHttpDate(value, Date.now()) !== undefined;
}

function formatted(value: string, now: number): string | undefined {
  const ms = parseHttpDate(value, now);
  return ms === undefined ? undefined : formatHttpDate(ms);
}

/** Directives as the library reads them: names bare, except the delta-seconds ones with digits. */
function libraryCacheControl(d: Directives): string {
  const parts: string[] = [];
  for (const name in d) {
    const shown = name === 'proxy-revalidate' ? 'must-revalidate' : name;
    parts.push(DELTA.has(name) ? `${shown}=${d[name] as string}` : shown);
  }
  return parts.join(', ');
}
