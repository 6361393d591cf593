// RFC 1035 presentation format (section 5.1), the part shared by the YAML config and master
// files: splitting text into tokens, TTLs with BIND units, and <character-string> escapes.
//
// Tokens keep their escapes exactly as written (`\.`, `\DDD`, `\"`): whether `\.` is a dot
// inside a label or a literal byte depends on what the token is (a name or a string), and only
// the rdata parser knows that.

export interface Token {
  /** Raw text; escapes kept as written, surrounding quotes removed. */
  text: string;
  quoted: boolean;
}

export class TextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextError';
  }
}

/** A token, or a parenthesis (which only master files give meaning to). */
export type Lexeme = Token | '(' | ')';

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

// BIND's master-file lexer also ends a word at a quote, so `a"b c"` is two tokens.
const endsWord = (c: string): boolean => isSpace(c) || c === ';' || c === '(' || c === ')' || c === '"';

/**
 * Split text into lexemes. Comments (`;` outside quotes, to the end of the line) are dropped.
 * A quoted string must close on the line it opened on, as in BIND.
 */
export function scanLine(s: string): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s.charAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === ';') {
      const nl = s.indexOf('\n', i);
      i = nl === -1 ? s.length : nl;
    } else if (c === '(' || c === ')') {
      out.push(c);
      i++;
    } else if (c === '"') {
      const close = closingQuote(s, i + 1);
      out.push({ text: s.slice(i + 1, close), quoted: true });
      i = close + 1;
    } else {
      const end = wordEnd(s, i);
      out.push({ text: s.slice(i, end), quoted: false });
      i = end;
    }
  }
  return out;
}

/** Index of the `"` that closes a string whose body starts at `from`. */
function closingQuote(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charAt(i);
    if (c === '"') return i;
    if (c === '\n') break;
    if (c === '\\') {
      if (s.charAt(i + 1) === '\n') break;
      i++; // the escaped character, possibly a quote, is part of the string
    }
  }
  throw new TextError('unterminated quoted string');
}

function wordEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length) {
    const c = s.charAt(i);
    if (endsWord(c)) break;
    if (c === '\\') {
      const next = s.charAt(i + 1);
      if (next === '' || next === '\n' || next === '\r') {
        throw new TextError('backslash at end of line');
      }
      i += 2;
    } else {
      i++;
    }
  }
  return i;
}

/** Tokenize one value such as `10 mail.demo.test.` or `"v=spf1 -all" "second"`. */
export function tokenizeLine(s: string): Token[] {
  const tokens: Token[] = [];
  for (const lx of scanLine(s)) {
    if (typeof lx === 'string') {
      throw new TextError(`unexpected '${lx}': parentheses are only allowed in master files`);
    }
    tokens.push(lx);
  }
  return tokens;
}

// RFC 2181 section 8: a TTL is an unsigned 31-bit number.
export const MAX_TTL = 2_147_483_647;

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3_600,
  d: 86_400,
  w: 604_800,
};

/** A TTL in seconds: `300`, or BIND units `1h`, `2d`, `1w2d3h4m5s` (any case). */
export function parseTtl(text: string): number {
  let seconds: number;
  if (/^[0-9]+$/.test(text)) {
    seconds = Number(text);
  } else if (/^(?:[0-9]+[smhdw])+$/i.test(text)) {
    seconds = 0;
    for (const m of text.matchAll(/([0-9]+)([smhdw])/gi)) {
      seconds += Number(m[1]) * (UNIT_SECONDS[(m[2] ?? '').toLowerCase()] ?? NaN);
    }
  } else {
    throw new TextError(`bad TTL '${text}' (expected seconds or units like 1h30m)`);
  }
  // Not Number.isSafeInteger alone: a long digit string parses to a huge but finite float.
  if (!(seconds <= MAX_TTL)) {
    throw new TextError(`TTL '${text}' is larger than ${MAX_TTL} seconds`);
  }
  return seconds;
}

const utf8 = new TextEncoder();

/**
 * The bytes of an RFC 1035 <character-string>: `\DDD` is a decimal byte, `\X` is X itself,
 * anything else is its UTF-8 encoding. The 255-byte limit is the caller's to check.
 */
export function unescapeCharString(tok: Token): Uint8Array {
  const s = tok.text;
  const parts: Uint8Array[] = [];
  let plain = 0; // start of the run of unescaped text not yet encoded
  let i = 0;
  while (i < s.length) {
    if (s.charAt(i) !== '\\') {
      i++;
      continue;
    }
    parts.push(utf8.encode(s.slice(plain, i)));
    const { bytes, width } = readEscape(s, i);
    parts.push(bytes);
    i += width;
    plain = i;
  }
  parts.push(utf8.encode(s.slice(plain)));
  return concat(parts);
}

/** Decode the escape whose backslash is at `s[i]`: its bytes and its length in UTF-16 units. */
export function readEscape(s: string, i: number): { bytes: Uint8Array; width: number } {
  const next = s.codePointAt(i + 1);
  if (next === undefined) throw new TextError('backslash at end of string');
  if (next >= 0x30 && next <= 0x39) {
    const digits = s.slice(i + 1, i + 4);
    if (!/^[0-9]{3}$/.test(digits)) {
      throw new TextError(`bad escape '\\${digits}': \\DDD needs exactly three digits`);
    }
    const value = Number(digits);
    if (value > 255) throw new TextError(`bad escape '\\${digits}': value above 255`);
    return { bytes: Uint8Array.of(value), width: 4 };
  }
  const ch = String.fromCodePoint(next);
  return { bytes: utf8.encode(ch), width: 1 + ch.length };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
