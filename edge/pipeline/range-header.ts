// Range and If-Range as RFC 9110 writes them (§14.1.2, §14.2, §13.1.5), read strictly: anything
// that is not exactly a byte-range set is ignored (the full 200 is the answer, never a guess).
// A set the edge will not serve piecewise — more than MAX_RANGES ranges, or ranges that overlap
// (§14.2 lets a server ignore them; they are how one request asks for a body many times over) —
// is ignored the same way.
import { parseHttpDate } from '../freshness/http-date.js';
import { headerValue, type HeaderMap } from '../headers.js';

/** More ranges than this in one request: the Range field is ignored (200). */
export const MAX_RANGES = 16;

/** One range-spec: `first-last`, `first-` (last undefined) or `-suffix` (first undefined). */
export interface RangeSpec {
  readonly first: string | undefined;
  readonly last: string | undefined;
}

/** Byte positions, inclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export type RangeAnswer =
  | { readonly kind: 'ignore' }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'partial'; readonly ranges: readonly ByteRange[] };

const IGNORE: RangeAnswer = { kind: 'ignore' };
const UNSATISFIABLE: RangeAnswer = { kind: 'unsatisfiable' };
const DIGITS = /^[0-9]+$/;
const OWS = /^[ \t]*|[ \t]*$/g;

/**
 * The byte-range set of a Range value, or undefined when it must be ignored: another unit
 * (`bytes` is case-insensitive), a syntax error anywhere, a last-pos before its first-pos
 * (the whole set is then invalid, §14.1.1), no range at all, or more than MAX_RANGES.
 * Empty list elements are allowed (§5.6.1.2); OWS only around commas.
 */
export function parseRange(value: string): RangeSpec[] | undefined {
  const eq = value.indexOf('=');
  if (eq < 0 || value.slice(0, eq).toLowerCase() !== 'bytes') return undefined;
  const set = value.slice(eq + 1);
  // OWS only around the commas (§5.6.1): none between '=' and the first range.
  if (set.startsWith(' ') || set.startsWith('\t')) return undefined;
  const specs: RangeSpec[] = [];
  for (const element of set.split(',')) {
    const text = element.replace(OWS, '');
    if (text === '') continue;
    if (specs.length === MAX_RANGES) return undefined;
    const dash = text.indexOf('-');
    if (dash < 0) return undefined;
    const first = text.slice(0, dash);
    const last = text.slice(dash + 1);
    if (first === '') {
      if (!DIGITS.test(last)) return undefined;
      specs.push({ first: undefined, last });
    } else {
      if (!DIGITS.test(first) || (last !== '' && !DIGITS.test(last))) return undefined;
      if (last !== '' && compareDigits(last, first) < 0) return undefined;
      specs.push({ first, last: last === '' ? undefined : last });
    }
  }
  return specs.length === 0 ? undefined : specs;
}

/**
 * What to answer for `specs` on a representation of `length` bytes (§14.1.2, §15.5.17): the
 * satisfiable ranges in the order asked, 416 when none is, or ignore (200) when two overlap.
 */
export function resolveRanges(specs: readonly RangeSpec[], length: number): RangeAnswer {
  const ranges: ByteRange[] = [];
  for (const { first, last } of specs) {
    if (first === undefined) {
      const suffix = digitsValue(last!);
      if (suffix === 0 || length === 0) continue;
      ranges.push({ start: Math.max(0, length - suffix), end: length - 1 });
      continue;
    }
    const start = digitsValue(first);
    if (start >= length) continue;
    ranges.push({ start, end: last === undefined ? length - 1 : Math.min(digitsValue(last), length - 1) });
  }
  if (ranges.length === 0) return UNSATISFIABLE;
  if (ranges.length > 1) {
    const sorted = [...ranges].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) if (sorted[i]!.start <= sorted[i - 1]!.end) return IGNORE;
  }
  return { kind: 'partial', ranges };
}

/**
 * RFC 9110 §13.1.5: whether If-Range lets the Range apply to the stored response `headers`.
 * An entity-tag must match the ETag strongly (a weak tag on either side never does); an
 * HTTP-date must equal Last-Modified exactly, and Last-Modified must be a strong validator for
 * a cache: at least 60 s before the response's Date (§8.8.2.2). Anything else is false.
 */
export function ifRangeMatches(ifRange: string, headers: HeaderMap, now: number): boolean {
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    const etag = headerValue(headers, 'etag')?.trim();
    return !value.startsWith('W/') && /^"[\x21\x23-\x7e\x80-\xff]*"$/.test(value) && etag === value;
  }
  const date = parseHttpDate(value, now);
  const lastModified = parseDate(headerValue(headers, 'last-modified'), now);
  const served = parseDate(headerValue(headers, 'date'), now);
  if (date === undefined || lastModified === undefined || served === undefined) return false;
  return date === lastModified && lastModified <= served - 60_000;
}

function parseDate(value: string | undefined, now: number): number | undefined {
  return value === undefined ? undefined : parseHttpDate(value, now);
}

/** A digit string's value; past 2^53 it only has to compare right against a body length. */
function digitsValue(digits: string): number {
  return Number(digits);
}

/** Compares two digit strings as the integers they are, at any length. */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=.)/, '');
  const y = b.replace(/^0+(?=.)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}
