// A small writer for MaxMind DB files (https://maxmind.github.io/MaxMind-DB/), enough to build
// test databases that the real `maxmind` reader opens: search tree, 16-byte separator, data
// section, metadata. Output is a pure function of the input (no clock, no randomness), so a
// committed database can be checked byte for byte against a fresh build.
import { contains, familyBits, parseCidr, type IpNetwork } from '../common/ip.js';
import { DataSection, encodeValue, type MmdbValue } from './mmdb-encode.js';
import { SearchTree, isNode, numberNodes, writeNode, type Child } from './search-tree.js';

export type { MmdbTypedNumber, MmdbValue } from './mmdb-encode.js';

export interface MmdbNetwork {
  /** CIDR: IPv4 '192.0.2.0/24' or IPv6 '2001:db8::/32'; host bits must be zero. */
  network: string;
  data: { [k: string]: MmdbValue };
}

export interface MmdbOptions {
  databaseType: string;
  description?: Record<string, string>;
  languages?: string[];
  /** Bits per record; by default the smallest that can address every node and record. */
  recordSize?: 24 | 28 | 32;
  /** Seconds since 1970 stored in the metadata; 0 unless given, so output never depends on the clock. */
  buildEpoch?: number;
  /** 6 (default): one tree for both families, IPv4 at ::a.b.c.d. 4: IPv4 only. */
  ipVersion?: 6 | 4;
  /**
   * In an IPv6 tree holding IPv4 networks, also route ::ffff:0:0/96 (IPv4-mapped) and 2002::/16
   * (6to4) into the IPv4 subtree, as MaxMind's own databases do. Default true.
   */
  ipv4Aliases?: boolean;
}

const DATA_SEPARATOR_BYTES = 16;
const METADATA_MARKER = Buffer.from('abcdef4d61784d696e642e636f6d', 'hex'); // "\xAB\xCD\xEFMaxMind.com"
// Teredo (2001::/32) is not aliased although MaxMind does: its embedded IPv4 is bit-inverted,
// so the alias would answer for the wrong address.
const IPV4_ALIASES = ['::ffff:0:0/96', '2002::/16'].map((text) => ({ text, net: parseCidr(text) }));

interface Placed {
  readonly text: string;
  readonly net: IpNetwork;
  /** Prefix length in the tree: IPv4 networks sit 96 bits deep in an IPv6 tree. */
  readonly depth: number;
  readonly record: number;
}

export function writeMmdb(networks: MmdbNetwork[], opts: MmdbOptions): Buffer {
  const ipVersion = opts.ipVersion ?? 6;
  checkOptions(opts, ipVersion);

  // Identical records (same encoded bytes) get one id, so they are stored once and shared.
  // Encoding here also reports a bad value before any work on the tree.
  const records: MmdbValue[] = [];
  const recordIds = new Map<string, number>();
  const placed: Placed[] = networks.map(({ network, data }) => {
    const net = parseCidr(network);
    if (net.family === 6 && ipVersion === 4)
      throw new Error(`'${network}' is IPv6 but the database is IPv4-only (ipVersion: 4)`);
    const key = encodeValue(data, `data of ${network}`).toString('latin1');
    let record = recordIds.get(key);
    if (record === undefined) {
      record = records.length;
      records.push(data);
      recordIds.set(key, record);
    }
    const depth = net.family === 4 && ipVersion === 6 ? net.prefix + 96 : net.prefix;
    return { text: network, net, depth, record };
  });

  // Least specific first, so more specific networks override the ones covering them. The sort is
  // stable: of two entries for the same network, the later one wins.
  placed.sort((a, b) => a.depth - b.depth);
  const tree = new SearchTree(familyBits(ipVersion));
  for (const p of placed) tree.set(p.net.address, p.depth, p.record);
  if (ipVersion === 6 && opts.ipv4Aliases !== false && placed.some((p) => p.net.family === 4))
    addIpv4Aliases(tree, placed);

  return assemble(tree, records, opts, ipVersion);
}

function addIpv4Aliases(tree: SearchTree, placed: readonly Placed[]): void {
  for (const alias of IPV4_ALIASES) {
    const inside = placed.find((p) => contains(alias.net, p.net));
    if (inside) {
      throw new Error(
        `'${inside.text}' lies in the IPv4 alias range ${alias.text}; pass ipv4Aliases: false to store it as given`,
      );
    }
  }
  const ipv4 = tree.get(0n, 96);
  for (const { net } of IPV4_ALIASES) tree.set(net.address, net.prefix, ipv4);
}

function assemble(tree: SearchTree, records: readonly MmdbValue[], opts: MmdbOptions, ipVersion: 4 | 6): Buffer {
  const { nodes, numbers } = numberNodes(tree.root);
  const nodeCount = nodes.length;

  // Records go in the order the tree first reaches them; a record no address reaches any more
  // (its network wholly covered by more specific ones) is left out.
  const data = new DataSection();
  const offsets = new Map<number, number>();
  for (const node of nodes) {
    for (const child of [node.left, node.right]) {
      if (typeof child === 'number' && !offsets.has(child)) offsets.set(child, data.add(records[child]!));
    }
  }

  const recordSize = chooseRecordSize(nodeCount + DATA_SEPARATOR_BYTES + data.length, opts.recordSize);
  // Record values: a node number, nodeCount for "no data", or nodeCount + 16 + offset for data.
  const valueOf = (child: Child): number => {
    if (isNode(child)) return numbers.get(child)!;
    if (child === null) return nodeCount;
    return nodeCount + DATA_SEPARATOR_BYTES + offsets.get(child)!;
  };
  const nodeBytes = recordSize / 4;
  const treeBytes = Buffer.alloc(nodeCount * nodeBytes);
  nodes.forEach((node, i) => writeNode(treeBytes, i * nodeBytes, recordSize, valueOf(node.left), valueOf(node.right)));

  const metadata = encodeValue(
    {
      binary_format_major_version: { type: 'uint16', value: 2 },
      binary_format_minor_version: { type: 'uint16', value: 0 },
      build_epoch: { type: 'uint64', value: opts.buildEpoch ?? 0 },
      database_type: opts.databaseType,
      description: opts.description ?? {},
      ip_version: { type: 'uint16', value: ipVersion },
      languages: opts.languages ?? [],
      node_count: { type: 'uint32', value: nodeCount },
      record_size: { type: 'uint16', value: recordSize },
    },
    'metadata',
  );
  return Buffer.concat([treeBytes, Buffer.alloc(DATA_SEPARATOR_BYTES), data.bytes(), METADATA_MARKER, metadata]);
}

/** Every record value is below `limit`; pick (or check) a record size that can hold it. */
function chooseRecordSize(limit: number, requested: 24 | 28 | 32 | undefined): 24 | 28 | 32 {
  const fits = (size: number): boolean => limit <= 2 ** size;
  if (requested !== undefined) {
    if (!fits(requested))
      throw new Error(`${requested}-bit records cannot address ${limit} nodes and data bytes; use a larger recordSize`);
    return requested;
  }
  const size = ([24, 28, 32] as const).find(fits);
  if (size === undefined) throw new Error(`database too large for the format: ${limit} nodes and data bytes`);
  return size;
}

function checkOptions(opts: MmdbOptions, ipVersion: number): void {
  if (typeof opts.databaseType !== 'string' || opts.databaseType === '')
    throw new Error('databaseType must be a non-empty string');
  if (ipVersion !== 4 && ipVersion !== 6) throw new Error(`ipVersion must be 4 or 6, not ${ipVersion}`);
  if (opts.recordSize !== undefined && ![24, 28, 32].includes(opts.recordSize)) {
    throw new Error(`recordSize must be 24, 28 or 32, not ${opts.recordSize}`);
  }
  const epoch = opts.buildEpoch;
  if (epoch !== undefined && !(Number.isSafeInteger(epoch) && epoch >= 0))
    throw new Error(`buildEpoch must be whole seconds since 1970, not ${epoch}`);
}
