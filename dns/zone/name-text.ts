// Domain names in presentation form (RFC 1035 §5.1): `www`, `@`, `a\.b.example.`, `\065.x.`.
import { MAX_LABEL, MAX_NAME_WIRE } from '../wire/constants.js';
import { nameFromWire, type Name } from '../wire/name.js';
import { TextError, readEscape } from './text.js';

const utf8 = new TextEncoder();

/**
 * Parses a name; a relative name (no trailing dot) is made absolute with `origin`, and `@` is
 * the origin itself. Throws TextError saying what is wrong.
 */
export function parseName(text: string, origin: Name | null): Name {
  if (text === '@') {
    if (!origin) throw new TextError("'@' used where no origin is known");
    return origin;
  }
  if (text === '.') return nameFromWire(Buffer.from([0]));
  if (text.length === 0) throw new TextError('empty name');
  const plain = PLAIN_LOWER.test(text) ? plainLowerName(text, origin) : null;
  if (plain) return plain;
  const labels: Uint8Array[] = [];
  let label: number[] = [];
  let absolute = false;
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '\\') {
      const { bytes, width } = readEscape(text, i);
      label.push(...bytes);
      i += width;
      continue;
    }
    if (c === '.') {
      if (label.length === 0) throw new TextError(`empty label in name '${text}'`);
      labels.push(Uint8Array.from(label));
      label = [];
      i++;
      if (i === text.length) absolute = true;
      continue;
    }
    const cp = text.codePointAt(i)!;
    // ASCII is its own UTF-8 and nearly every name is ASCII: encoding per character dominated
    // loading a large zone.
    if (cp < 0x80) {
      label.push(cp);
      i++;
      continue;
    }
    const ch = String.fromCodePoint(cp);
    label.push(...utf8.encode(ch));
    i += ch.length;
  }
  if (!absolute) labels.push(Uint8Array.from(label));

  const parts: number[] = [];
  for (const l of labels) {
    if (l.length > MAX_LABEL) throw new TextError(`label longer than ${MAX_LABEL} bytes in name '${text}'`);
    parts.push(l.length, ...l);
  }
  let wire: Buffer;
  if (absolute) {
    wire = Buffer.from([...parts, 0]);
  } else {
    if (!origin) throw new TextError(`relative name '${text}' where no origin is known`);
    wire = Buffer.concat([Buffer.from(parts), origin.wire]);
  }
  if (wire.length > MAX_NAME_WIRE) throw new TextError(`name '${text}' is longer than ${MAX_NAME_WIRE} bytes`);
  const name = nameFromWire(wire);
  // Folding to the key changed nothing: the key alone holds the name.
  return wire.toString('latin1', 0, wire.length - 1) === name.key ? new LowerName(name.key) : name;
}

/** Lower-case letters, digits, `-`, `_` and `*` in non-empty labels: no escapes, nothing to fold. */
const PLAIN_LOWER = /^[a-z0-9_*-]+(?:\.[a-z0-9_*-]+)*\.?$/;

/**
 * The common case without building wire bytes: the key is the labels themselves. Null (parse it
 * the long way, which also says what is wrong) for an over-long label or name, or a relative
 * name under an origin that keeps letter case.
 */
function plainLowerName(text: string, origin: Name | null): Name | null {
  const absolute = text.endsWith('.');
  if (!absolute && !(origin instanceof LowerName)) return null;
  const parts: string[] = [];
  for (const label of (absolute ? text.slice(0, -1) : text).split('.')) {
    if (label.length > MAX_LABEL) return null;
    parts.push(String.fromCharCode(label.length), label);
  }
  if (!absolute) parts.push(origin!.key);
  // join, not +=: a flat string, where concatenation would leave a rope that hashing the key
  // flattens into a second copy (both kept, for every name of the zone).
  const key = parts.join('');
  return key.length + 1 > MAX_NAME_WIRE ? null : new LowerName(key);
}

/** The key of a name whose wire form is that key's bytes and a 0 (a lower-case name), else undefined:
 * packing writes such a name without making its wire Buffer. */
export function lowerKeyOf(name: Name): string | undefined {
  return name instanceof LowerName ? name.key : undefined;
}

/**
 * A name written in lower case, as nearly every name in a zone is: its wire form is its key's
 * bytes, so it is made only when first written (most of a large zone's names never are). A
 * Buffer per name cost ~100 bytes, a tenth of a large zone's memory.
 */
class LowerName implements Name {
  private bytes: Buffer | undefined;

  constructor(readonly key: string) {}

  get wire(): Buffer {
    return (this.bytes ??= Buffer.from(`${this.key}\0`, 'latin1'));
  }
}
