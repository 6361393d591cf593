// The MaxMind DB data section encoding (spec §"Output Data Section"): every value is a control
// byte (3 bits of type, 5 bits of size), an optional extended-type byte, optional size bytes,
// then the payload. `encodeValue` writes one value plainly (the metadata, and the canonical form
// that identifies a value); `DataSection` appends records and writes a pointer instead of any
// value — a record, a key, a nested map, a double — that it already holds, as MaxMind's writers
// do, so repeated keys and places cost 2-3 bytes each.

/** A typed number, for when the JS number → MMDB type rule below is not the type a schema wants. */
export type MmdbTypedNumber = {
  type: 'uint16' | 'uint32' | 'uint64' | 'int32' | 'double' | 'float';
  value: number | bigint;
};

/**
 * A value in a record. Plain JS numbers map to uint32 (integers 0..2^32-1), int32 (negative
 * integers down to -2^31), uint64 (larger integers) or double (anything else, NaN and ±Infinity
 * included). An object whose only keys are `type` (one of the names above) and `value` is a typed
 * number, not a map.
 */
export type MmdbValue = string | number | boolean | MmdbValue[] | { [k: string]: MmdbValue } | MmdbTypedNumber;

/** Type numbers from the spec (the ones this writer emits). */
const T = {
  Utf8String: 2,
  Double: 3,
  Uint16: 5,
  Uint32: 6,
  Map: 7,
  Int32: 8,
  Uint64: 9,
  Array: 11,
  Boolean: 14,
  Float: 15,
} as const;
type TypeNumber = (typeof T)[keyof typeof T];

const MAX_PAYLOAD = 65_821 + 0xff_ffff;
const TYPED_NAMES = new Set(['uint16', 'uint32', 'uint64', 'int32', 'double', 'float']);

/** Encode one value without pointers; `path` only names the value in error messages (e.g. `data.location`). */
export function encodeValue(value: MmdbValue, path = 'value'): Buffer {
  const sink: Sink = { out: [], length: 0 };
  write(value, path, sink);
  return Buffer.concat(sink.out);
}

/** The data section being built: records appended in order, earlier values reused by pointer. */
export class DataSection {
  private readonly sink: Sink = { out: [], length: 0, seen: new Map() };

  /** Offset of `value` in the section: an existing copy's, or where it is appended now. */
  add(value: MmdbValue, path = 'value'): number {
    const earlier = this.sink.seen?.get(encodeValue(value, path).toString('latin1'));
    if (earlier !== undefined) return earlier;
    const offset = this.sink.length;
    write(value, path, this.sink);
    return offset;
  }

  get length(): number {
    return this.sink.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.sink.out);
  }
}

interface Sink {
  readonly out: Buffer[];
  length: number;
  /** Offsets of values written inline so far, by their plain encoding; absent: never use pointers. */
  readonly seen?: Map<string, number>;
}

function push(sink: Sink, ...bufs: Buffer[]): void {
  for (const b of bufs) {
    sink.out.push(b);
    sink.length += b.length;
  }
}

function write(value: MmdbValue, path: string, sink: Sink): void {
  if (sink.seen) {
    const plain = encodeValue(value, path);
    const key = plain.toString('latin1');
    const earlier = sink.seen.get(key);
    if (earlier === undefined) sink.seen.set(key, sink.length);
    else {
      const ptr = pointer(earlier);
      if (ptr.length < plain.length) return push(sink, ptr);
    }
    // Scalars are done; containers are written part by part so their parts can be pointers.
    if (typeof value !== 'object' || isTypedNumber(value)) return push(sink, plain);
  }
  writeParts(value, path, sink);
}

function writeParts(value: MmdbValue, path: string, sink: Sink): void {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    push(sink, control(T.Utf8String, bytes.length, path), bytes);
  } else if (typeof value === 'boolean') {
    // A boolean has no payload: the size field is the value.
    push(sink, control(T.Boolean, value ? 1 : 0, path));
  } else if (typeof value === 'number') {
    writeNumber(value, path, sink);
  } else if (Array.isArray(value)) {
    push(sink, control(T.Array, value.length, path));
    value.forEach((item, i) => write(item, `${path}[${i}]`, sink));
  } else if (isTypedNumber(value)) {
    writeTyped(value, path, sink);
  } else if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    push(sink, control(T.Map, keys.length, path));
    for (const key of keys) {
      write(key, `${path} key`, sink);
      write(value[key] as MmdbValue, `${path}.${key}`, sink);
    }
  } else {
    throw new Error(`${path}: ${typeof value} cannot be stored in a MaxMind DB`);
  }
}

function writeNumber(n: number, path: string, sink: Sink): void {
  if (!Number.isInteger(n)) return writeTyped({ type: 'double', value: n }, path, sink);
  if (n >= 0 && n <= 0xffff_ffff) return writeTyped({ type: 'uint32', value: n }, path, sink);
  if (n < 0 && n >= -0x8000_0000) return writeTyped({ type: 'int32', value: n }, path, sink);
  if (n > 0) return writeTyped({ type: 'uint64', value: n }, path, sink);
  throw new Error(`${path}: ${n} is below the int32 range; store it as { type: 'double', value: ${n} }`);
}

function writeTyped({ type, value }: MmdbTypedNumber, path: string, sink: Sink): void {
  switch (type) {
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(Number(value));
      push(sink, control(T.Double, 8, path), b);
      return;
    }
    case 'float': {
      const b = Buffer.alloc(4);
      b.writeFloatBE(Number(value));
      push(sink, control(T.Float, 4, path), b);
      return;
    }
    case 'int32': {
      const n = checkedInteger(value, -0x8000_0000n, 0x7fff_ffffn, type, path);
      // Readers sign-extend only a 4-byte int32, so negatives always take 4 bytes.
      const bytes = n < 0n ? unsignedBytes(n + 0x1_0000_0000n) : unsignedBytes(n);
      const payload = n < 0n ? Buffer.concat([Buffer.alloc(4 - bytes.length, 0xff), bytes]) : bytes;
      push(sink, control(T.Int32, payload.length, path), payload);
      return;
    }
    case 'uint16':
    case 'uint32':
    case 'uint64': {
      const bits = { uint16: 16n, uint32: 32n, uint64: 64n }[type];
      const n = checkedInteger(value, 0n, (1n << bits) - 1n, type, path);
      const payload = unsignedBytes(n);
      const code = { uint16: T.Uint16, uint32: T.Uint32, uint64: T.Uint64 }[type];
      push(sink, control(code, payload.length, path), payload);
      return;
    }
  }
}

function checkedInteger(value: number | bigint, min: bigint, max: bigint, type: string, path: string): bigint {
  if (typeof value === 'number' && !Number.isInteger(value))
    throw new Error(`${path}: ${value} is not an integer, so not a ${type}`);
  const n = BigInt(value);
  if (n < min || n > max) throw new Error(`${path}: ${value} is outside the ${type} range ${min}..${max}`);
  return n;
}

/** Big-endian with leading zero bytes dropped: the spec lets integers use only the bytes they need. */
function unsignedBytes(n: bigint): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  return Buffer.from(bytes);
}

/** A pointer to `offset` in the data section, in the shortest of the spec's four sizes. */
function pointer(offset: number): Buffer {
  // Control byte 001SSVVV: SS picks 1-4 more bytes, VVV are the pointer's top bits (unused for SS=3).
  if (offset < 2048) return Buffer.from([0x20 | (offset >> 8), offset & 0xff]);
  if (offset < 2048 + 2 ** 19) {
    const v = offset - 2048;
    return Buffer.from([0x28 | (v >> 16), (v >> 8) & 0xff, v & 0xff]);
  }
  if (offset < 526_336 + 2 ** 27) {
    const v = offset - 526_336;
    return Buffer.from([0x30 | (v >>> 24), (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
  }
  const b = Buffer.alloc(5);
  b[0] = 0x38;
  b.writeUInt32BE(offset, 1);
  return b;
}

function control(type: TypeNumber, size: number, path: string): Buffer {
  if (size > MAX_PAYLOAD) throw new Error(`${path}: size ${size} is above the format's limit of ${MAX_PAYLOAD}`);
  let sizeField: number;
  let sizeBytes: number[];
  if (size < 29) {
    sizeField = size;
    sizeBytes = [];
  } else if (size < 285) {
    sizeField = 29;
    sizeBytes = [size - 29];
  } else if (size < 65_821) {
    const s = size - 285;
    sizeField = 30;
    sizeBytes = [s >> 8, s & 0xff];
  } else {
    const s = size - 65_821;
    sizeField = 31;
    sizeBytes = [(s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff];
  }
  // Types above 7 are "extended": type field 0, then a byte holding type - 7, before the size bytes.
  const head = type <= 7 ? [(type << 5) | sizeField] : [sizeField, type - 7];
  return Buffer.from([...head, ...sizeBytes]);
}

function isTypedNumber(value: object): value is MmdbTypedNumber {
  const keys = Object.keys(value);
  const v = value as Record<string, unknown>;
  return (
    keys.length === 2 &&
    typeof v['type'] === 'string' &&
    TYPED_NAMES.has(v['type']) &&
    (typeof v['value'] === 'number' || typeof v['value'] === 'bigint')
  );
}
