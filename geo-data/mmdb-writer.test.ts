// The writer is judged by the real reader: every database here is opened with `maxmind`'s Reader.
import fc from 'fast-check';
import { Reader } from 'maxmind';
import { describe, expect, it } from 'vitest';
import { contains, formatIp, networkMask, type IpNetwork } from '../common/ip.js';
import { writeMmdb, type MmdbNetwork, type MmdbOptions, type MmdbValue } from './mmdb-writer.js';
import { writeNode } from './search-tree.js';

type Data = Record<string, unknown>;

function write(networks: MmdbNetwork[], opts: Partial<MmdbOptions> = {}): Buffer {
  return writeMmdb(networks, { databaseType: 'Meridian-Test', ...opts });
}
function open(networks: MmdbNetwork[], opts: Partial<MmdbOptions> = {}): Reader<Data> {
  return new Reader<Data>(write(networks, opts));
}
function occurrences(haystack: Buffer, needle: string): number {
  let count = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) count++;
  return count;
}

describe('writeMmdb: lookups', () => {
  it('finds IPv4 networks and reports their prefix length', () => {
    const r = open([
      { network: '192.0.2.0/24', data: { name: 'doc-1' } },
      { network: '198.51.100.0/25', data: { name: 'doc-2 low half' } },
    ]);
    expect(r.getWithPrefixLength('192.0.2.77')).toEqual([{ name: 'doc-1' }, 24]);
    expect(r.getWithPrefixLength('192.0.2.0')).toEqual([{ name: 'doc-1' }, 24]);
    expect(r.getWithPrefixLength('192.0.2.255')).toEqual([{ name: 'doc-1' }, 24]);
    expect(r.getWithPrefixLength('198.51.100.127')).toEqual([{ name: 'doc-2 low half' }, 25]);
    expect(r.get('198.51.100.128')).toBeNull();
    expect(r.get('192.0.3.0')).toBeNull();
    expect(r.get('203.0.113.1')).toBeNull();
    expect(r.get('2001:db8::1')).toBeNull();
  });

  it('finds IPv6 networks and reports their prefix length', () => {
    const r = open([
      { network: '2001:db8::/32', data: { name: 'doc' } },
      { network: '2001:db8:1::/48', data: { name: 'doc-1' } },
      { network: '2001:db8:2:3::/64', data: { name: 'doc-2-3' } },
    ]);
    expect(r.getWithPrefixLength('2001:db8:1:ffff::1')).toEqual([{ name: 'doc-1' }, 48]);
    expect(r.getWithPrefixLength('2001:db8:2:3::abcd')).toEqual([{ name: 'doc-2-3' }, 64]);
    expect(r.get('2001:db8:ffff::1')).toEqual({ name: 'doc' });
    expect(r.get('2001:db9::1')).toBeNull();
    expect(r.get('192.0.2.1')).toBeNull();
  });

  it('lets a more specific network override the one covering it, whatever the input order', () => {
    const networks: MmdbNetwork[] = [
      { network: '10.0.0.0/8', data: { n: 'A' } },
      { network: '10.1.2.0/24', data: { n: 'C' } },
      { network: '10.1.0.0/16', data: { n: 'B' } },
    ];
    const r = open(networks);
    expect(r.getWithPrefixLength('10.1.2.3')).toEqual([{ n: 'C' }, 24]);
    expect(r.getWithPrefixLength('10.1.3.1')).toEqual([{ n: 'B' }, 24]); // the split around 10.1.2/24 shows
    expect(r.getWithPrefixLength('10.200.0.1')).toEqual([{ n: 'A' }, 9]);
    expect(r.getWithPrefixLength('11.0.0.1')).toEqual([null, 8]);
    expect(write([...networks].reverse()).equals(write(networks))).toBe(true);
  });

  it('keeps the last entry for a network given twice', () => {
    const r = open([
      { network: '192.0.2.0/24', data: { n: 'first' } },
      { network: '192.0.2.0/24', data: { n: 'second' } },
    ]);
    expect(r.get('192.0.2.1')).toEqual({ n: 'second' });
  });

  it('stores IPv4 at ::a.b.c.d and aliases ::ffff:0:0/96 and 2002::/16 to it', () => {
    const r = open([{ network: '192.0.2.0/24', data: { n: 'doc' } }]);
    expect(r.getWithPrefixLength('::192.0.2.1')).toEqual([{ n: 'doc' }, 120]);
    expect(r.getWithPrefixLength('::ffff:192.0.2.1')).toEqual([{ n: 'doc' }, 120]);
    expect(r.getWithPrefixLength('2002:c000:0201::1')).toEqual([{ n: 'doc' }, 40]);
    expect(r.get('::ffff:192.0.3.1')).toBeNull();

    const plain = open([{ network: '192.0.2.0/24', data: { n: 'doc' } }], { ipv4Aliases: false });
    expect(plain.get('192.0.2.1')).toEqual({ n: 'doc' });
    expect(plain.get('::ffff:192.0.2.1')).toBeNull();
  });

  it('refuses a network inside an alias range unless aliases are off', () => {
    const networks = [
      { network: '192.0.2.0/24', data: { n: 'v4' } },
      { network: '2002:c000::/24', data: { n: '6to4' } },
    ];
    expect(() => write(networks)).toThrow("'2002:c000::/24' lies in the IPv4 alias range 2002::/16");
    expect(open(networks, { ipv4Aliases: false }).get('2002:c000::1')).toEqual({ n: '6to4' });
  });

  it('writes an IPv4-only tree', () => {
    const r = open([{ network: '192.0.2.0/24', data: { n: 'doc' } }], { ipVersion: 4 });
    expect(r.metadata.ipVersion).toBe(4);
    expect(r.metadata.treeDepth).toBe(32);
    expect(r.getWithPrefixLength('192.0.2.1')).toEqual([{ n: 'doc' }, 24]);
    expect(r.get('192.0.3.1')).toBeNull();
    expect(() => write([{ network: '2001:db8::/32', data: {} }], { ipVersion: 4 })).toThrow(
      /'2001:db8::\/32' is IPv6 but the database is IPv4-only/,
    );
  });

  it('covers everything with /0 networks', () => {
    const r = open([
      { network: '::/0', data: { n: 'v6' } },
      { network: '0.0.0.0/0', data: { n: 'v4' } },
    ]);
    expect(r.getWithPrefixLength('203.0.113.9')).toEqual([{ n: 'v4' }, 0]);
    expect(r.get('2001:db8::1')).toEqual({ n: 'v6' });
  });

  it('opens an empty database', () => {
    const r = open([]);
    expect(r.metadata.nodeCount).toBe(1);
    expect(r.get('192.0.2.1')).toBeNull();
    expect(r.get('2001:db8::1')).toBeNull();
  });
});

describe('writeMmdb: values', () => {
  it('round-trips every value type', () => {
    const strings = [0, 28, 29, 284, 285, 65_820, 65_821, 70_000].map((n) => 'x'.repeat(n));
    const data: { [k: string]: MmdbValue } = {
      strings,
      unicode: 'São Paulo · 東京 · 🛰️',
      uint32: [0, 1, 255, 256, 65_535, 65_536, 2 ** 32 - 1],
      int32: [-1, -256, -(2 ** 31)],
      uint64: [2 ** 32, Number.MAX_SAFE_INTEGER],
      double: [1.5, -0.25, 51.5072, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      booleans: [true, false],
      arrays: [[], [[1], ['a', [true]]]],
      maps: { empty: {}, nested: { deeper: { deepest: 'yes' } } },
      typed: [
        { type: 'uint16', value: 65_535 },
        { type: 'uint16', value: 0 },
        { type: 'uint32', value: 7 },
        { type: 'uint64', value: 2n ** 64n - 1n },
        { type: 'uint64', value: 5 },
        { type: 'int32', value: 100 },
        { type: 'int32', value: 2 ** 31 - 1 },
        { type: 'int32', value: -5 },
        { type: 'double', value: 3 },
        { type: 'float', value: 1.5 },
        { type: 'float', value: 0.1 },
      ],
      'key with spaces and ünïcode': 1,
    };
    expect(open([{ network: '192.0.2.0/24', data }]).get('192.0.2.1')).toEqual({
      ...data,
      uint64: [2n ** 32n, BigInt(Number.MAX_SAFE_INTEGER)],
      typed: [65_535, 0, 7, 2n ** 64n - 1n, 5n, 100, 2 ** 31 - 1, -5, 3, 1.5, Math.fround(0.1)],
    });
  });

  it.each<[string, MmdbValue, RegExp]>([
    [
      'uint16 above range',
      { type: 'uint16', value: 65_536 },
      /data of 192.0.2.0\/24\.v: 65536 is outside the uint16 range/,
    ],
    ['negative uint32', { type: 'uint32', value: -1 }, /outside the uint32 range/],
    ['negative uint64', { type: 'uint64', value: -1n }, /outside the uint64 range/],
    ['int32 above range', { type: 'int32', value: 2 ** 31 }, /outside the int32 range/],
    ['fractional uint32', { type: 'uint32', value: 1.5 }, /1.5 is not an integer, so not a uint32/],
    ['integer below int32', -(2 ** 31) - 1, /below the int32 range; store it as \{ type: 'double'/],
    ['integer above uint64', 2 ** 64, /outside the uint64 range/],
  ])('refuses %s', (_name, v, message) => {
    expect(() => write([{ network: '192.0.2.0/24', data: { v } }])).toThrow(message);
  });

  it('stores identical records once and repeated parts by pointer', () => {
    const shared = { place: 'a-rather-unique-place-name', location: { latitude: 40.71, longitude: -74.01 } };
    const buf = write([
      { network: '192.0.2.0/24', data: shared },
      { network: '198.51.100.0/24', data: { ...shared } },
      { network: '2001:db8::/32', data: { other: 'x', place: 'a-rather-unique-place-name' } },
    ]);
    expect(occurrences(buf, 'a-rather-unique-place-name')).toBe(1);
    expect(occurrences(buf, 'location')).toBe(1);
    const r = new Reader<Data>(buf);
    expect(r.get('198.51.100.1')).toEqual(shared);
    expect(r.get('2001:db8::1')).toEqual({ other: 'x', place: 'a-rather-unique-place-name' });
  });

  it('reaches far values with the longer pointer forms', () => {
    // value-x sits below offset 2048 (2-byte pointer), value-y past it (3 bytes), value-z past 526336 (4 bytes).
    const data = {
      x: 'value-x',
      pad1: 'a'.repeat(3000),
      y: 'value-y',
      pad2: 'b'.repeat(600_000),
      z: 'value-z',
      again: ['value-x', 'value-y', 'value-z'],
    };
    const buf = write([{ network: '192.0.2.0/24', data }]);
    expect(occurrences(buf, 'value-y')).toBe(1);
    expect(occurrences(buf, 'value-z')).toBe(1);
    expect(new Reader<Data>(buf).get('192.0.2.1')).toEqual(data);
  });

  it('leaves out a record that more specific networks hide completely', () => {
    const buf = write([
      { network: '10.0.0.0/24', data: { n: 'hidden-record' } },
      { network: '10.0.0.0/25', data: { n: 'low' } },
      { network: '10.0.0.128/25', data: { n: 'high' } },
    ]);
    expect(occurrences(buf, 'hidden-record')).toBe(0);
    expect(new Reader<Data>(buf).get('10.0.0.200')).toEqual({ n: 'high' });
  });
});

describe('writeMmdb: file format', () => {
  const networks: MmdbNetwork[] = [
    { network: '192.0.2.0/24', data: { n: 'v4' } },
    { network: '2001:db8::/32', data: { n: 'v6' } },
  ];

  it.each([24, 28, 32] as const)('reads back with %d-bit records', (recordSize) => {
    const r = open(networks, { recordSize });
    expect(r.metadata.recordSize).toBe(recordSize);
    expect(r.getWithPrefixLength('192.0.2.1')).toEqual([{ n: 'v4' }, 24]);
    expect(r.getWithPrefixLength('::ffff:192.0.2.1')).toEqual([{ n: 'v4' }, 120]);
    expect(r.getWithPrefixLength('2001:db8::1')).toEqual([{ n: 'v6' }, 32]);
    expect(r.get('198.51.100.1')).toBeNull();
  });

  it('packs record values as the spec lays them out, high nibbles of 28-bit records in the middle byte', () => {
    const left = 0x0fedcba;
    const right = 0x1234567;
    const b24 = Buffer.alloc(6);
    writeNode(b24, 0, 24, 0xabcdef, 0x123456);
    expect(b24.toString('hex')).toBe('abcdef123456');
    const b28 = Buffer.alloc(7);
    writeNode(b28, 0, 28, (0xa << 24) | left, (0x5 << 24) | right);
    expect(((b28[3]! & 0xf0) << 20) | b28.readUIntBE(0, 3)).toBe((0xa << 24) | left);
    expect(((b28[3]! & 0x0f) << 24) | b28.readUIntBE(4, 3)).toBe((0x5 << 24) | right);
    const b32 = Buffer.alloc(8);
    writeNode(b32, 0, 32, 0xfedcba98, 0x01234567);
    expect(b32.toString('hex')).toBe('fedcba9801234567');
  });

  it('writes the metadata', () => {
    const r = open(networks, {
      description: { en: 'test data', de: 'Testdaten' },
      languages: ['en', 'de'],
      buildEpoch: 1_700_000_000,
    });
    expect(r.metadata).toMatchObject({
      binaryFormatMajorVersion: 2,
      binaryFormatMinorVersion: 0,
      databaseType: 'Meridian-Test',
      description: { en: 'test data', de: 'Testdaten' },
      languages: ['en', 'de'],
      ipVersion: 6,
      buildEpoch: new Date(1_700_000_000_000),
    });
    expect(open(networks).metadata.buildEpoch).toEqual(new Date(0));
  });

  it('is deterministic', () => {
    expect(write(networks, { buildEpoch: 1 }).equals(write(networks, { buildEpoch: 1 }))).toBe(true);
  });

  it.each([
    ['192.0.2.0', /not a CIDR network/],
    ['192.0.2.0/33', /prefix length from 0 to 32/],
    ['300.1.2.0/24', /not an IPv4 or IPv6 address/],
    ['2001:db8::/129', /prefix length from 0 to 128/],
    ['192.0.2.1/24', /host bits set beyond \/24 \(did you mean 192.0.2.0\/24\?\)/],
    ['2001:db8::1/32', /host bits set beyond \/32 \(did you mean 2001:db8::\/32\?\)/],
  ])('refuses the network %s', (network, message) => {
    expect(() => write([{ network, data: {} }])).toThrow(message);
  });

  it('refuses bad options', () => {
    expect(() => writeMmdb([], { databaseType: '' })).toThrow(/databaseType/);
    expect(() => write([], { recordSize: 16 as 24 })).toThrow(/recordSize must be 24, 28 or 32/);
    expect(() => write([], { ipVersion: 5 as 6 })).toThrow(/ipVersion must be 4 or 6/);
    expect(() => write([], { buildEpoch: -1 })).toThrow(/buildEpoch/);
  });
});

describe('writeMmdb: property', () => {
  // IPv6 networks start at 24xx:: or above, clear of the IPv4 subtree (::/96) and both aliases.
  const v4 = fc
    .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }))
    .map(([a, prefix]): IpNetwork => ({ family: 4, address: BigInt(a) & networkMask(32, prefix), prefix }));
  const v6 = fc
    .tuple(
      fc.integer({ min: 0x24, max: 0xff }),
      fc.bigInt({ min: 0n, max: (1n << 120n) - 1n }),
      fc.integer({ min: 8, max: 128 }),
    )
    .map(([top, rest, prefix]): IpNetwork => ({
      family: 6,
      address: ((BigInt(top) << 120n) | rest) & networkMask(128, prefix),
      prefix,
    }));

  const key = fc.string({ unit: 'grapheme', maxLength: 6 }).filter((k) => k !== '__proto__');
  const scalar = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
    // Whole doubles in this range are stored as integers and read back as the same number; -0 reads back as 0.
    fc.double({ min: -1e9, max: 1e9 }).map((d) => (Object.is(d, -0) ? 0 : d)),
    fc.boolean(),
  );
  const { value } = fc.letrec<{ value: MmdbValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      scalar,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    ),
  }));
  const record = fc.dictionary(key, value, { maxKeys: 5, noNullPrototype: true });

  const overlaps = (a: IpNetwork, b: IpNetwork): boolean => contains(a, b) || contains(b, a);
  const within = (net: IpNetwork, offset: bigint): bigint =>
    net.address | (offset & ((1n << BigInt((net.family === 4 ? 32 : 128) - net.prefix)) - 1n));

  it('reads back random non-overlapping networks exactly, and nothing elsewhere', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(v4, v6), record), { maxLength: 20 }),
        fc.constantFrom(24, 28, 32),
        fc.array(fc.oneof(v4, v6), { maxLength: 10 }),
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        (candidates, recordSize, probes, offset) => {
          const entries: [IpNetwork, { [k: string]: MmdbValue }][] = [];
          for (const [net, data] of candidates)
            if (!entries.some(([kept]) => overlaps(kept, net))) entries.push([net, data]);
          const text = (net: IpNetwork): string => `${formatIp(net.family, net.address)}/${net.prefix}`;
          const r = new Reader<Data>(
            writeMmdb(
              entries.map(([net, data]) => ({ network: text(net), data })),
              { databaseType: 'prop', recordSize },
            ),
          );

          for (const [net, data] of entries) {
            for (const address of [net.address, within(net, -1n), within(net, offset)]) {
              expect(r.getWithPrefixLength(formatIp(net.family, address)), text(net)).toEqual([data, net.prefix]);
            }
          }
          for (const probe of probes) {
            if (entries.some(([net]) => overlaps(net, probe))) continue;
            expect(r.get(formatIp(probe.family, probe.address)), text(probe)).toBeNull();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
