// The bytes of a stored response as node:http would write them for the same writeHead/end
// (fresh-hit.ts, server.ts's send), so a client cannot tell which way in answered it: the status
// line and stored fields are built once per stored response; each answer (a fresh hit, or a miss
// answered as what it stored) adds Age, Cache-Status, Date (unless stored) and node's keep-alive
// fields.
import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import type { Socket } from 'node:net';
import type { StoredResponse } from '../cache-store.js';
import { HOP_BY_HOP } from '../headers.js';
import { hitStatusText } from '../fresh-hit.js';
import { ownLatin1 } from '../stored-bytes.js';

interface Prefix {
  /** Status line and the stored fields, CRLF-terminated. */
  readonly bytes: Buffer;
  /** The stored fields carry a Date (node then adds none). */
  readonly hasDate: boolean;
  /** The last fresh hit's tail (freshHitTail), and what it was made of. */
  tail: string;
  tailAge: number;
  tailTtl: number;
  tailDate: string;
  tailKeepAlive: number;
  tailPseudonym: string;
}

const prefixes = new WeakMap<StoredResponse, Prefix | null>();

/**
 * The status line and stored fields of `entry`, or null when node:http must write it: a status
 * without a body (1xx, 204, 304), a field node would refuse, a hop-by-hop field, or a Content-Length
 * that is not the body's.
 */
export function hitPrefix(entry: StoredResponse): Prefix | null {
  let p = prefixes.get(entry);
  if (p === undefined) {
    p = buildPrefix(entry);
    prefixes.set(entry, p);
  }
  return p;
}

function buildPrefix(entry: StoredResponse): Prefix | null {
  const { status } = entry;
  if (status < 200 || status > 599 || status === 204 || status === 304) return null;
  let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
  let hasDate = false;
  let lengthOk = false;
  const fields = entry.publicHeaders;
  try {
    for (const name in fields) {
      const value = fields[name]!;
      validateHeaderName(name);
      const lower = name.toLowerCase();
      // Never stored (hop-by-hop); if one were, it would change how node frames the answer.
      if (HOP_BY_HOP.has(lower)) return null;
      if (lower === 'date') hasDate = true;
      if (lower === 'content-length') {
        if (value !== String(entry.body.length)) return null;
        lengthOk = true;
      }
      for (const v of Array.isArray(value) ? value : [value]) {
        validateHeaderValue(name, v);
        text += `${name}: ${v}\r\n`;
      }
    }
  } catch {
    return null;
  }
  if (!lengthOk) return null;
  // Kept as long as the stored response: not a slice of the shared pool (stored-bytes.ts).
  return {
    bytes: ownLatin1(text),
    hasDate,
    tail: '',
    tailAge: -1,
    tailTtl: -1,
    tailDate: '',
    tailKeepAlive: -1,
    tailPseudonym: '',
  };
}

let dateLine = '';
let dateSecond = -1;

/** node's Date field (one string per second). */
function currentDateLine(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `Date: ${new Date(now).toUTCString()}\r\n`;
  }
  return dateLine;
}

/** Age, Cache-Status, Date and node's keep-alive fields, ending the head. */
export function hitTail(prefix: Prefix, age: number, cacheStatus: string, keepAliveSeconds: number): string {
  return `age: ${age}\r\ncache-status: ${cacheStatus}\r\n${prefix.hasDate ? '' : currentDateLine()}Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n\r\n`;
}

/**
 * hitTail() for a fresh hit (Cache-Status `pseudonym; hit; ttl=N`), made once for all the hits
 * on the object until its age, ttl or the Date change (about once a second): a popular object's
 * hits then make no string at all. The tail made and flattened per hit was a fifth of the bytes a
 * hit allocated (1,896 → 1,517, bench/RESULTS.md), and fewer bytes allocated is fewer
 * collections, each of which every connection waits through.
 */
export function freshHitTail(
  prefix: Prefix,
  age: number,
  ttl: number,
  pseudonym: string,
  keepAliveSeconds: number,
): string {
  const date = prefix.hasDate ? '' : currentDateLine();
  if (
    prefix.tailAge !== age ||
    prefix.tailTtl !== ttl ||
    prefix.tailDate !== date ||
    prefix.tailKeepAlive !== keepAliveSeconds ||
    prefix.tailPseudonym !== pseudonym
  ) {
    prefix.tail = hitTail(prefix, age, hitStatusText(pseudonym, ttl), keepAliveSeconds);
    prefix.tailAge = age;
    prefix.tailTtl = ttl;
    prefix.tailDate = date;
    prefix.tailKeepAlive = keepAliveSeconds;
    prefix.tailPseudonym = pseudonym;
  }
  return prefix.tail;
}

/**
 * Answers under this size are copied into one buffer and written once: below half of Buffer's
 * pool size the buffer comes from the shared pool, and one copy costs less than a writev. A
 * larger answer writes the stored body itself after its head (one writev): a copy would be a
 * fresh allocation per hit, held for as long as the answer waits in the queue.
 */
const COPY_ANSWER_UNDER = Buffer.poolSize >>> 1;

/** Writes a stored response's head (`prefix` + `tail`) and `body` (none for HEAD) to `socket`. */
export function writeStored(socket: Socket, prefix: Buffer, tail: string, body: Buffer | undefined): void {
  const tailAt = prefix.length;
  const bodyAt = tailAt + tail.length;
  const size = bodyAt + (body?.length ?? 0);
  if (size < COPY_ANSWER_UNDER) {
    const out = Buffer.allocUnsafe(size);
    prefix.copy(out, 0);
    out.write(tail, tailAt, 'latin1');
    body?.copy(out, bodyAt);
    socket.write(out);
    return;
  }
  const head = Buffer.allocUnsafe(bodyAt);
  prefix.copy(head, 0);
  head.write(tail, tailAt, 'latin1');
  if (body === undefined) {
    socket.write(head);
    return;
  }
  socket.cork();
  socket.write(head);
  socket.write(body);
  socket.uncork();
}
