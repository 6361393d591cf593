// A strict reader of the plainest HTTP/1.1 request heads, for the raw hit front (front.ts).
//
// It reads only what it can read without doubt:
//   GET|HEAD SP origin-form SP "HTTP/1.1" CRLF, then "token: value" CRLF lines, then CRLF,
// values of visible ASCII, obs-text, SP and HT; no folding, no repeated field names, no body.
// Anything else (another method or version, a bare LF or CR, whitespace before a colon, a
// Content-Length, Transfer-Encoding, Expect, Upgrade or Connection other than keep-alive, a head
// cut off by the end of the read) is not plain, and the front hands the bytes, from that request
// on, to node:http's parser (llhttp). So the two parsers never read one byte stream two ways:
// this one answers only requests that llhttp would read the same, and leaves the rest alone.

export interface PlainHead {
  readonly method: 'GET' | 'HEAD';
  /** The request target, an origin-form path (and query). */
  readonly target: string;
  /** Lower-case names, each once; node's IncomingHttpHeaders shape. */
  readonly headers: Record<string, string>;
  /** Offset just past the head's final CRLF: where the next request starts. */
  readonly end: number;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;
const SLASH = 47;
const DEL = 127;
const VERSION = ' HTTP/1.1\r\n';

// RFC 9110 §5.6.2 tchar.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TCHAR[c.charCodeAt(0)] = 1;

/** Fields that mean a body, a protocol switch or a connection rule: node:http's business. */
const NOT_PLAIN = new Set(['content-length', 'transfer-encoding', 'expect', 'upgrade']);

/**
 * The plain request head starting at `start` in `s` (bytes as latin1 characters), or undefined
 * when the head there is not plain, not complete, or longer than `maxBytes`.
 */
export function readPlainHead(s: string, start: number, maxBytes: number): PlainHead | undefined {
  const headEnd = s.indexOf('\r\n\r\n', start);
  if (headEnd < 0 || headEnd + 4 - start > maxBytes) return undefined;

  let method: 'GET' | 'HEAD';
  let i: number;
  if (s.startsWith('GET ', start)) {
    method = 'GET';
    i = start + 4;
  } else if (s.startsWith('HEAD ', start)) {
    method = 'HEAD';
    i = start + 5;
  } else return undefined;

  if (s.charCodeAt(i) !== SLASH) return undefined;
  const targetStart = i;
  for (; i < headEnd; i++) {
    const c = s.charCodeAt(i);
    if (c === SP) break;
    if (c < 0x21 || c >= DEL) return undefined;
  }
  const target = s.slice(targetStart, i);
  if (!s.startsWith(VERSION, i)) return undefined;
  i += VERSION.length;

  // A plain object, not Object.create(null): V8 keeps those in dictionary mode, and every hit
  // reads about a dozen fields. Names the prototype already has ('constructor', '__proto__')
  // read as repeated below, so such a request goes to node:http.
  const headers: Record<string, string> = {};
  // i is at the start of a header line; the head's last line ends at headEnd.
  while (i < headEnd + 2) {
    const nameStart = i;
    for (; i < headEnd; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128 || TCHAR[c] !== 1) break;
    }
    if (i === nameStart || s.charCodeAt(i) !== COLON) return undefined;
    const name = s.slice(nameStart, i).toLowerCase();
    i++;
    while (s.charCodeAt(i) === SP || s.charCodeAt(i) === HT) i++;
    const valueStart = i;
    let valueEnd = i;
    for (; ; i++) {
      const c = s.charCodeAt(i);
      if (c === CR) break;
      if ((c < SP && c !== HT) || c === DEL) return undefined;
      if (c !== SP && c !== HT) valueEnd = i + 1;
    }
    if (s.charCodeAt(i + 1) !== LF) return undefined;
    if (headers[name] !== undefined || NOT_PLAIN.has(name)) return undefined;
    const value = s.slice(valueStart, valueEnd);
    if (name === 'connection' && value.toLowerCase() !== 'keep-alive') return undefined;
    headers[name] = value;
    i += 2;
  }
  return { method, target, headers, end: headEnd + 4 };
}
