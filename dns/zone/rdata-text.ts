// RDATA in presentation form → wire parts, for the record types Meridian serves. Shared by the
// YAML config and RFC 1035 master files, so both accept exactly the same syntax.
import { isIPv6 } from 'node:net';
import { ipBytes, ipv4Bytes } from '../../common/ip.js';
import { Type, typeName } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import type { RData, RDataPart } from '../wire/rdata.js';
import { parseName } from './name-text.js';
import { TextError, parseTtl, unescapeCharString, type Token } from './text.js';

/** The types a zone may hold; anything else needs RFC 3597 generic syntax (`\# len hex`). */
export const SUPPORTED_TYPES: ReadonlySet<number> = new Set([
  Type.A,
  Type.AAAA,
  Type.NS,
  Type.CNAME,
  Type.PTR,
  Type.SOA,
  Type.MX,
  Type.TXT,
  Type.SRV,
  Type.CAA,
]);

/** Parses the RDATA tokens of one record of `type`; throws TextError naming what is wrong. */
export function parseRdata(type: number, tokens: readonly Token[], origin: Name): RData {
  if (tokens[0]?.text === '\\#' && !tokens[0].quoted) return parseGeneric(tokens);
  const r = new Reader(tokens, type);
  let parts: RDataPart[];
  switch (type) {
    case Type.A:
      parts = [ipv4(r.word('IPv4 address'))];
      break;
    case Type.AAAA:
      parts = [ipv6(r.word('IPv6 address'))];
      break;
    case Type.NS:
    case Type.CNAME:
    case Type.PTR:
      parts = [{ name: r.name(origin, 'target name'), compress: true }];
      break;
    case Type.MX:
      parts = [u16(r.int('preference', 0xffff)), { name: r.name(origin, 'exchange'), compress: true }];
      break;
    case Type.SRV:
      // RFC 2782: the target is never compressed.
      parts = [
        u16(r.int('priority', 0xffff)),
        u16(r.int('weight', 0xffff)),
        u16(r.int('port', 0xffff)),
        { name: r.name(origin, 'target'), compress: false },
      ];
      break;
    case Type.SOA:
      parts = [
        { name: r.name(origin, 'MNAME (primary server)'), compress: true },
        { name: r.name(origin, 'RNAME (contact mailbox)'), compress: true },
        u32(r.int('serial', 0xffffffff)),
        u32(r.ttl('refresh')),
        u32(r.ttl('retry')),
        u32(r.ttl('expire')),
        u32(r.ttl('minimum')),
      ];
      break;
    case Type.TXT:
      parts = [txt(r.rest('text'))];
      break;
    case Type.CAA:
      parts = [caa(r.int('flags', 255), r.word('tag'), r.string('value'))];
      break;
    default:
      throw new TextError(`type ${typeName(type)} is not supported; use RFC 3597 syntax '\\# <length> <hex>'`);
  }
  r.end();
  return parts;
}

class Reader {
  private i = 0;
  constructor(
    private readonly tokens: readonly Token[],
    private readonly type: number,
  ) {}

  private next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new TextError(`${typeName(this.type)} record is missing its ${what}`);
    return t;
  }

  word(what: string): string {
    return this.next(what).text;
  }

  string(what: string): Token {
    return this.next(what);
  }

  int(what: string, max: number): number {
    const text = this.word(what);
    if (!/^\d+$/.test(text) || Number(text) > max)
      throw new TextError(`${what} '${text}' is not a whole number from 0 to ${max}`);
    return Number(text);
  }

  ttl(what: string): number {
    const text = this.word(what);
    try {
      return parseTtl(text);
    } catch (e) {
      throw new TextError(`${what}: ${(e as Error).message}`);
    }
  }

  name(origin: Name, what: string): Name {
    return parseName(this.word(what), origin);
  }

  rest(what: string): Token[] {
    if (this.i >= this.tokens.length) this.next(what);
    const rest = this.tokens.slice(this.i);
    this.i = this.tokens.length;
    return rest;
  }

  end(): void {
    const extra = this.tokens[this.i];
    if (extra) throw new TextError(`unexpected '${extra.text}' after the ${typeName(this.type)} data`);
  }
}

function ipv4(text: string): Buffer {
  // From Node's shared pool: a Buffer with its own ArrayBuffer costs ~100 bytes per A record.
  const bytes = ipv4Bytes(text);
  if (!bytes) throw new TextError(`'${text}' is not an IPv4 address`);
  return bytes;
}

function ipv6(text: string): Buffer {
  const bytes = isIPv6(text) ? ipBytes(text) : undefined;
  if (!bytes || bytes.length !== 16) throw new TextError(`'${text}' is not an IPv6 address`);
  return Buffer.from(bytes);
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

/** TXT: each token is one <character-string>; longer than 255 bytes is an error, not a silent split. */
function txt(tokens: Token[]): Buffer {
  return Buffer.concat(tokens.map((t) => charString(t)));
}

function charString(t: Token): Buffer {
  const bytes = unescapeCharString(t);
  if (bytes.length > 255)
    throw new TextError(
      `string of ${bytes.length} bytes; a DNS <character-string> holds at most 255 (split it into several quoted strings)`,
    );
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/** RFC 8659: flags, tag (letters and digits), value (rest of the RDATA, no length byte). */
function caa(flags: number, tag: string, value: Token): Buffer {
  if (!/^[A-Za-z0-9]{1,15}$/.test(tag)) throw new TextError(`CAA tag '${tag}' must be 1 to 15 letters or digits`);
  return Buffer.concat([
    Buffer.from([flags, tag.length]),
    Buffer.from(tag, 'ascii'),
    Buffer.from(unescapeCharString(value)),
  ]);
}

/** RFC 3597 §5: `\# <length> <hex words>`. */
function parseGeneric(tokens: readonly Token[]): RData {
  const lenText = tokens[1]?.text;
  if (lenText === undefined || !/^\d+$/.test(lenText)) throw new TextError("generic RDATA '\\#' needs a length");
  const hex = tokens
    .slice(2)
    .map((t) => t.text)
    .join('');
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) throw new TextError('generic RDATA has invalid hex');
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length !== Number(lenText))
    throw new TextError(`generic RDATA says ${lenText} bytes but has ${bytes.length}`);
  return [bytes];
}

/** TXT from plain text (YAML): one record, split into 255-byte strings as RFC 7208 §3.3 does for SPF. */
export function txtRdata(text: string): RData {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length || chunks.length === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    chunks.push(Buffer.from([chunk.length]), chunk);
  }
  return [Buffer.concat(chunks)];
}
