// Which cache directives this cache obeys. A CDN-targeted field (RFC 9213) replaces Cache-Control
// (and Expires) for this cache: CDN-Cache-Control, else the older Surrogate-Control, else
// Cache-Control itself.
//
// CDN-Cache-Control is a Structured Field Dictionary (RFC 9213 §2.1, RFC 9651 §3.2), read with
// `structured-headers`. One that does not parse (`max-age=10000, &&&&&`, `Max-Age=60`: keys are
// lower-case) is ignored entirely, as if absent, and so is one whose delta-seconds directive is
// not a non-negative Integer (`max-age="10000"`, a String): a field the origin got wrong must
// not override what Cache-Control says, least of all `no-store`. Surrogate-Control predates
// Structured Fields and is read with Cache-Control's syntax.
import { parseDictionary } from 'structured-headers';
import { parseCacheControl, type Directives } from './cache-control.js';
import { DELTA_SECONDS_MAX } from './delta-seconds.js';
import { headerValue, type IncomingHeaders } from '../headers.js';

const DELTA = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error']);

export interface TargetedDirectives {
  readonly directives: Directives;
  /** Which field they came from. */
  readonly source: 'cdn-cache-control' | 'surrogate-control' | 'cache-control';
}

// The last fields read and what they said: a stored response's fields are read three times
// (freshness view, storability, the stored entry), and an origin sends the same Cache-Control
// with most of its responses. Directives are read-only, so the answer can be shared.
let last: { cdn?: string; surrogate?: string; cc?: string; answer: TargetedDirectives } | undefined;

export function targetedDirectives(headers: IncomingHeaders): TargetedDirectives {
  const cdn = headerValue(headers, 'cdn-cache-control');
  const surrogate = headerValue(headers, 'surrogate-control');
  const cc = headerValue(headers, 'cache-control');
  if (last !== undefined && last.cdn === cdn && last.surrogate === surrogate && last.cc === cc) return last.answer;
  const answer = readTargeted(cdn, surrogate?.trim(), cc);
  last = { cdn, surrogate, cc, answer };
  return answer;
}

function readTargeted(
  cdn: string | undefined,
  surrogate: string | undefined,
  cc: string | undefined,
): TargetedDirectives {
  if (cdn !== undefined) {
    const directives = parseTargeted(cdn);
    if (directives) return { directives, source: 'cdn-cache-control' };
  }
  if (surrogate) return { directives: parseCacheControl(surrogate), source: 'surrogate-control' };
  return { directives: parseCacheControl(cc), source: 'cache-control' };
}

/** A targeted field's directives, or undefined when the field must be ignored. */
export function parseTargeted(value: string): Directives | undefined {
  if (value.trim() === '') return undefined;
  let dict;
  try {
    dict = parseDictionary(value);
  } catch {
    return undefined;
  }
  const out: Record<string, string | true> = {};
  // Parameters on a member are ignored (RFC 9213 §2.1); other values only say the directive is there.
  for (const [name, [item]] of dict) {
    if (DELTA.has(name)) {
      // structured-headers gives Integers and Decimals both as numbers: `max-age=1.5` is refused
      // here, `max-age=60.0` passes as 60 (the one Decimal it cannot tell apart).
      if (typeof item !== 'number' || !Number.isInteger(item) || item < 0) return undefined;
      out[name] = String(Math.min(item, DELTA_SECONDS_MAX));
    } else if (item === false)
      continue; // `no-store=?0` says it is off
    else if (item === true) out[name] = true;
    else if (typeof item === 'string' || typeof item === 'number') out[name] = String(item);
    else out[name] = '';
  }
  return out;
}
