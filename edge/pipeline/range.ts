// Range requests (RFC 9110 §14): a GET with Range is looked up, coalesced and fetched like any
// other (the upstream is asked for the whole representation, never the range, so the cache
// fills), and the full 200 about to be sent becomes a 206 here:
// - from storage: one range as a slice of the stored body (no copy), several as
//   multipart/byteranges, none satisfiable as 416 with `Content-Range: bytes */length`;
// - while it is fetched: a body read whole (whole-body.ts) like one from storage; one range sliced
//   out of a streamed body when its length is declared; several ranges of a streamed body, or a
//   body of unknown length, get the whole 200 (§14.2 lets a server ignore Range).
// If-Range that does not match, a Range that does not parse strictly, too many or overlapping
// ranges: the whole 200 (range-header.ts). Anything but a 200 (a 304 to the client's own
// validators, an error, a 206 passed through from upstream) is left alone. A URL whose answers
// are not stored (hit-for-miss) sends the Range upstream instead (key.ts) and passes the 206 on.
// The step runs outside `conditional`: validators first, then If-Range and Range (§13.2.2).
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { StoredResponse } from '../cache-store.js';
import { headerValue, type HeaderMap } from '../headers.js';
import { sliceBody } from './byte-slice.js';
import type { EdgeContext, EdgeResponse, Middleware } from './context.js';
import { ifRangeMatches, parseRange, resolveRanges, type ByteRange, type RangeSpec } from './range-header.js';
import { discard } from './tee.js';

export function range(): Middleware {
  return async function range(c, next) {
    const value = headerValue(c.req.headers, 'range');
    // Range is defined for GET only (§14.2); HEAD and the rest ignore it. Other requests pass
    // straight through, without a frame of this step around the rest.
    if (value === undefined || c.req.method !== 'GET') return next();
    await next();
    if (!c.cacheable) return;
    const r = c.response;
    if (r === undefined || r.status !== 200) return;
    const ifRange = headerValue(c.req.headers, 'if-range');
    if (ifRange !== undefined && !ifRangeMatches(ifRange, r.entry ? r.entry.headers : r.headers, c.edge.now())) return;
    const specs = parseRange(value);
    if (specs === undefined) return;
    c.response = r.entry ? fromStorage(r, r.entry, specs) : fromStream(r, specs);
  };
}

function fromStorage(r: EdgeResponse, entry: StoredResponse, specs: readonly RangeSpec[]): EdgeResponse {
  const { body } = entry;
  const answer = resolveRanges(specs, body.length);
  if (answer.kind === 'ignore') return r;
  if (answer.kind === 'unsatisfiable') return unsatisfiable(body.length);
  const { ranges } = answer;
  if (ranges.length === 1) {
    const { start, end } = ranges[0]!;
    return {
      ...r,
      status: 206,
      body: body.subarray(start, end + 1),
      partial: ['content-length', String(end - start + 1), 'content-range', contentRange(ranges[0]!, body.length)],
    };
  }
  const parts = multipart(body, ranges, headerValue(entry.headers, 'content-type'));
  return { ...r, status: 206, body: parts.body, partial: parts.fields };
}

function fromStream(r: EdgeResponse, specs: readonly RangeSpec[]): EdgeResponse {
  const declared = headerValue(r.headers, 'content-length');
  if (declared === undefined || !/^[0-9]{1,15}$/.test(declared) || r.body === undefined) return r;
  const length = Number(declared);
  const answer = resolveRanges(specs, length);
  if (answer.kind === 'ignore') return r;
  if (answer.kind === 'unsatisfiable') {
    if (!Buffer.isBuffer(r.body)) discard(r.body);
    return unsatisfiable(length);
  }
  if (answer.ranges.length > 1) {
    // Several ranges need the whole body at hand: a small one read whole (whole-body.ts) has it;
    // a streamed one gets the whole 200 (§14.2 lets a server ignore Range).
    if (!Buffer.isBuffer(r.body)) return r;
    const parts = multipart(r.body, answer.ranges, headerValue(r.headers, 'content-type'));
    const [, type, , length] = parts.fields;
    return { status: 206, headers: { ...r.headers, 'content-type': type, 'content-length': length }, body: parts.body };
  }
  const only = answer.ranges[0]!;
  const headers: HeaderMap = {
    ...r.headers,
    'content-length': String(only.end - only.start + 1),
    'content-range': contentRange(only, length),
  };
  const body = Buffer.isBuffer(r.body)
    ? r.body.subarray(only.start, only.end + 1)
    : sliceBody(r.body as Readable, only.start, only.end);
  return { status: 206, headers, body };
}

/** §15.5.17: 416 with the length the ranges were measured against. */
function unsatisfiable(length: number): EdgeResponse {
  return {
    status: 416,
    headers: { 'content-range': `bytes */${length}`, 'content-length': '0' },
    body: Buffer.alloc(0),
  };
}

function contentRange({ start, end }: ByteRange, length: number): string {
  return `bytes ${start}-${end}/${length}`;
}

/** A multipart/byteranges answer of `ranges` of `body`, and the fields that describe it (name, value, …). */
function multipart(
  body: Buffer,
  ranges: readonly ByteRange[],
  contentType: string | undefined,
): { body: Buffer; fields: [string, string, string, string] } {
  const boundary = randomBytes(12).toString('hex');
  const whole = multipartBody(body, ranges, contentType, boundary);
  return {
    body: whole,
    fields: ['content-type', `multipart/byteranges; boundary=${boundary}`, 'content-length', String(whole.length)],
  };
}

/** §14.6: each part with the representation's Content-Type and its Content-Range. */
export function multipartBody(
  body: Buffer,
  ranges: readonly ByteRange[],
  contentType: string | undefined,
  boundary: string,
): Buffer {
  const parts: Buffer[] = [];
  const type = contentType === undefined ? '' : `Content-Type: ${contentType}\r\n`;
  for (const [i, r] of ranges.entries()) {
    parts.push(
      Buffer.from(
        `${i === 0 ? '' : '\r\n'}--${boundary}\r\n${type}Content-Range: ${contentRange(r, body.length)}\r\n\r\n`,
      ),
      body.subarray(r.start, r.end + 1),
    );
  }
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return Buffer.concat(parts);
}
