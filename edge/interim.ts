// Interim (1xx) responses from the upstream, forwarded to the client before the final response
// (RFC 9110 §15.2: a proxy forwards the 1xx it did not ask for). undici's request API hands them
// over through `onInfo` (fetch.ts); node:http writes them: 103 Early Hints (RFC 8297) with
// `writeEarlyHints`, 102 with `writeProcessing`. node has no way to write another 1xx code, and
// 100/101 are not ours to forward (the edge never sends Expect upstream and does not proxy
// upgrades), so those are dropped. They are never stored: only the final response reaches `store`.
import { validateHeaderName, validateHeaderValue, type ServerResponse } from 'node:http';
import { CDN_ONLY } from './cache-store.js';
import { appendVia, type HeaderMap } from './headers.js';

/** Writes one interim response to the client of `res`, if it still can. */
export function forwardInterim(res: ServerResponse, status: number, headers: HeaderMap, via: string): void {
  if (res.headersSent || res.destroyed || res.writableEnded) return;
  if (status === 102) return void res.writeProcessing();
  if (status !== 103 || headers.link === undefined) return;
  const hints: Record<string, string | string[]> = {};
  for (const name in headers) {
    if ((CDN_ONLY as readonly string[]).includes(name) || name === 'set-cookie') continue;
    const value = headers[name]!;
    try {
      // writeEarlyHints writes the fields other than Link without checking them.
      validateHeaderName(name);
      for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue(name, v);
    } catch {
      continue;
    }
    if (name === 'link') hints.link = (Array.isArray(value) ? value : [value]).flatMap(splitLinks);
    else hints[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  hints.via = appendVia(headers.via, via);
  try {
    res.writeEarlyHints(hints);
  } catch {
    // A Link value node refuses: the hint is only a hint, the final response follows as usual.
  }
}

/** RFC 9110 §15.2: no 1xx to an HTTP/1.0 client. */
export function takesInterim(httpVersionMajor: number, httpVersionMinor: number): boolean {
  return httpVersionMajor > 1 || (httpVersionMajor === 1 && httpVersionMinor >= 1);
}

/**
 * One Link field value as its link-values (RFC 8288 §3): node's writeEarlyHints checks each
 * value alone and refuses a comma-separated list. Commas inside <…> or a quoted string stay.
 */
export function splitLinks(value: string): string[] {
  const links: string[] = [];
  let start = 0;
  let inUri = false;
  let inQuote = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (inQuote) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuote = false;
    } else if (ch === '"' && !inUri) inQuote = true;
    else if (ch === '<') inUri = true;
    else if (ch === '>') inUri = false;
    else if (ch === ',' && !inUri) {
      links.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  links.push(value.slice(start).trim());
  return links.filter((l) => l !== '');
}
