// A compiled zone's names and records packed into one byte blob and a few typed arrays, so
// that a million-record zone costs tens of megabytes, not a gigabyte of small objects (issue 17):
// per name its owner wire, per RRset its type and TTL, per RDATA its bytes, found through an
// open-addressing hash table of the lower-cased names. A node is turned back into objects
// (ZoneNode, RRset, Buffer views of the blob) when it is looked up, and the hot ones are kept:
// the query path sees the same ZoneNode interface as before, and identical objects within a
// query (resolve.ts compares RRsets by identity when it fills the additional section).
//
// Layout, for n nodes, m RRsets and r RDATAs:
//   names                 the owner wires, one after the other
//   wireAt[n], wireLen[n] where each owner's wire is in `names`
//   rrsetsFrom[n + 1]     node i has the RRsets rrsetsFrom[i] .. rrsetsFrom[i + 1] - 1
//   cutAt[n]              the node index of the delegation at or above node i, or -1
//   type[m], ttl[m]       per RRset
//   rdataFrom[m + 1]      RRset j has the RDATAs rdataFrom[j] .. rdataFrom[j + 1] - 1
//   blob                  the RDATAs, encoded (see encodeRData), one after the other
//   rdataAt[r + 1]        RDATA k is blob[rdataAt[k], rdataAt[k + 1])
//   slots[2^k ≥ 2n]       hash of the lower-cased name → node index, -1 empty
import { LRUCache } from 'lru-cache';
import { keyOfWire, nameFromWire, type Name } from '../wire/name.js';
import type { RData, RDataPart, RRset } from '../wire/rdata.js';
import { RRsetsByType } from './rrsets.js';
import { lowerKeyOf } from './name-text.js';
import { STEPS_PER_YIELD, type Work } from './slices.js';
import type { Route, Zone, ZoneNode, ZoneNodes } from './zone.js';

/** Nodes kept as objects once looked up: the hot names of a big zone, every name of a small one. */
const HOT_NODES = 10_000;

const RAW = 0;
const NAME_COMPRESSED = 1;
const NAME_AS_IS = 2;

/**
 * What a packed zone is made of: typed arrays and the few routes, so that a worker thread can
 * compile a zone and hand it over without a copy (transferring the arrays' buffers).
 */
export interface PackedData {
  readonly names: Uint8Array;
  readonly blob: Uint8Array;
  readonly wireAt: Uint32Array;
  readonly wireLen: Uint8Array;
  readonly rrsetsFrom: Uint32Array;
  readonly cutAt: Int32Array;
  readonly type: Uint16Array;
  readonly ttl: Uint32Array;
  readonly rdataFrom: Uint32Array;
  readonly rdataAt: Uint32Array;
  readonly slots: Int32Array;
  readonly routes: readonly (readonly [number, Route])[];
}

/** What packing needs of a node: compile.ts passes its working nodes, no ZoneNode is built. */
export interface NodeToPack {
  readonly name: Name;
  /** In the order first written (as answers list them). */
  readonly rrsets: readonly RRset[];
  readonly route: Route | null;
  /** The delegation point at or above this node (never the apex), if any. */
  readonly delegation: { readonly name: Name } | null;
}

export class PackedNodes implements ZoneNodes {
  private readonly hot = new LRUCache<number, ZoneNode>({ max: HOT_NODES });

  private constructor(
    private readonly zone: Zone,
    private readonly names: Buffer,
    private readonly blob: Buffer,
    private readonly wireAt: Uint32Array,
    private readonly wireLen: Uint8Array,
    private readonly rrsetsFrom: Uint32Array,
    private readonly cutAt: Int32Array,
    private readonly type: Uint16Array,
    private readonly ttl: Uint32Array,
    private readonly rdataFrom: Uint32Array,
    private readonly rdataAt: Uint32Array,
    private readonly slots: Int32Array,
    /** The few routed names, by node index. */
    private readonly routes: ReadonlyMap<number, Route>,
  ) {}

  /**
   * Packs `nodes` (parents before children, as compile.ts orders them) for `zone`. The objects
   * passed in are not kept: once packed they are garbage.
   */
  static *packing(zone: Zone, nodes: readonly NodeToPack[]): Work<PackedNodes> {
    const n = nodes.length;
    let m = 0;
    let r = 0;
    let steps = 0;
    for (const node of nodes) {
      if (++steps % STEPS_PER_YIELD === 0) yield;
      m += node.rrsets.length;
      for (const rrset of node.rrsets) r += rrset.rdata.length;
    }
    const names = new BlobWriter();
    const blob = new BlobWriter();
    const wireAt = new Uint32Array(n);
    const wireLen = new Uint8Array(n);
    const rrsetsFrom = new Uint32Array(n + 1);
    const cutAt = new Int32Array(n).fill(-1);
    const type = new Uint16Array(m);
    const ttl = new Uint32Array(m);
    const rdataFrom = new Uint32Array(m + 1);
    const rdataAt = new Uint32Array(r + 1);
    const slots = new Int32Array(tableSize(n)).fill(-1);
    const mask = slots.length - 1;
    const routes = new Map<number, Route>();

    let j = 0;
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (i % STEPS_PER_YIELD === 0) yield;
      const node = nodes[i]!;
      wireAt[i] = names.length;
      names.name(node.name);
      wireLen[i] = names.length - wireAt[i]!;
      let h = hashKey(node.name.key) & mask;
      while (slots[h]! >= 0) h = (h + 1) & mask;
      slots[h] = i;
      if (node.route) routes.set(i, node.route);
      rrsetsFrom[i] = j;
      for (const rrset of node.rrsets) {
        type[j] = rrset.type;
        ttl[j] = rrset.ttl;
        rdataFrom[j] = k;
        for (const rdata of rrset.rdata) rdataAt[k++] = encodeRData(blob, rdata);
        j++;
      }
    }
    rrsetsFrom[n] = j;
    rdataFrom[m] = k;
    rdataAt[r] = blob.length;

    const packed = new PackedNodes(
      zone,
      names.done(),
      blob.done(),
      wireAt,
      wireLen,
      rrsetsFrom,
      cutAt,
      type,
      ttl,
      rdataFrom,
      rdataAt,
      slots,
      routes,
    );
    // Delegations last: they name other nodes, found through the table just filled.
    for (let i = 0; i < n; i++) {
      if (i % STEPS_PER_YIELD === 0) yield;
      const cut = nodes[i]!.delegation;
      if (cut) cutAt[i] = packed.indexOf(cut.name.key);
    }
    return packed;
  }

  get size(): number {
    return this.wireAt.length;
  }

  get(key: string): ZoneNode | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.node(i, key);
  }

  has(key: string): boolean {
    return this.indexOf(key) >= 0;
  }

  routeOf(key: string): Route | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.routes.get(i);
  }

  /** Every node, parents before children; each is built anew unless it is hot. */
  *values(): IterableIterator<ZoneNode> {
    for (let i = 0; i < this.size; i++) yield this.node(i);
  }

  /** This zone's arrays, for another thread (each owns its buffer: see BlobWriter.done). */
  get data(): PackedData {
    const { names, blob, wireAt, wireLen, rrsetsFrom, cutAt, type, ttl, rdataFrom, rdataAt, slots } = this;
    const routes = [...this.routes];
    return { names, blob, wireAt, wireLen, rrsetsFrom, cutAt, type, ttl, rdataFrom, rdataAt, slots, routes };
  }

  /** The buffers to transfer with `data` (postMessage's transfer list): every typed array in it. */
  get transfer(): ArrayBuffer[] {
    return Object.values(this.data)
      .filter((v): v is ArrayBufferView => ArrayBuffer.isView(v))
      .map((a) => a.buffer as ArrayBuffer);
  }

  /** A zone's nodes from `data` (as another thread packed them); `zone` is the zone they belong to. */
  static fromData(zone: Zone, d: PackedData): PackedNodes {
    const buffer = (a: Uint8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    return new PackedNodes(
      zone,
      buffer(d.names),
      buffer(d.blob),
      d.wireAt,
      d.wireLen,
      d.rrsetsFrom,
      d.cutAt,
      d.type,
      d.ttl,
      d.rdataFrom,
      d.rdataAt,
      d.slots,
      new Map(d.routes),
    );
  }

  /** The routed nodes only: a handful in a zone of millions. */
  *routed(): IterableIterator<ZoneNode> {
    for (const i of this.routes.keys()) yield this.node(i);
  }

  /** Bytes held by this zone's names and records (for the zone-scale bench and /v1/status). */
  get bytes(): number {
    const arrays = [this.wireAt, this.wireLen, this.rrsetsFrom, this.cutAt, this.type, this.ttl];
    return (
      this.names.length +
      this.blob.length +
      [...arrays, this.rdataFrom, this.rdataAt, this.slots].reduce((sum, a) => sum + a.byteLength, 0)
    );
  }

  private indexOf(key: string): number {
    const mask = this.slots.length - 1;
    for (let h = hashKey(key) & mask; ; h = (h + 1) & mask) {
      const i = this.slots[h]!;
      if (i < 0 || this.keyIs(i, key)) return i;
    }
  }

  /** Whether node i's owner, lower-cased, is `key` (the wire without its root byte). */
  private keyIs(i: number, key: string): boolean {
    if (this.wireLen[i]! - 1 !== key.length) return false;
    const { names } = this;
    const at = this.wireAt[i]!;
    for (let c = 0; c < key.length; c++) {
      let b = names[at + c]!;
      // Label lengths are < 64, so only letters are folded (ASCII only, RFC 4343).
      if (b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (b !== key.charCodeAt(c)) return false;
    }
    return true;
  }

  private node(i: number, key?: string): ZoneNode {
    const hot = this.hot.get(i);
    if (hot) return hot;
    const at = this.wireAt[i]!;
    const end = at + this.wireLen[i]!;
    const name: Name = { wire: this.names.subarray(at, end), key: key ?? keyOfWire(this.names, at, end - 1) };
    const from = this.rrsetsFrom[i]!;
    const list = new Array<RRset>(this.rrsetsFrom[i + 1]! - from);
    for (let j = from; j < from + list.length; j++) {
      const rdata = new Array<RData>(this.rdataFrom[j + 1]! - this.rdataFrom[j]!);
      for (let k = 0; k < rdata.length; k++) rdata[k] = this.rdata(this.rdataFrom[j]! + k);
      list[j - from] = { owner: name, type: this.type[j]!, ttl: this.ttl[j]!, rdata };
    }
    const node: { -readonly [K in keyof ZoneNode]: ZoneNode[K] } = {
      name,
      zone: this.zone,
      rrsets: list.length === 0 ? RRsetsByType.EMPTY : new RRsetsByType(list),
      delegation: null,
      route: this.routes.get(i) ?? null,
    };
    const cut = this.cutAt[i]!;
    // A delegation point is its own cut (resolve.ts tells it apart by identity).
    if (cut >= 0) node.delegation = cut === i ? node : this.node(cut);
    this.hot.set(i, node);
    return node;
  }

  private rdata(k: number): RData {
    const { blob } = this;
    const end = this.rdataAt[k + 1]!;
    const parts: RDataPart[] = [];
    for (let p = this.rdataAt[k]!; p < end;) {
      const tag = blob[p++]!;
      if (tag === RAW) {
        const len = blob.readUInt16BE(p);
        parts.push(blob.subarray(p + 2, p + 2 + len));
        p += 2 + len;
        continue;
      }
      let e = p;
      while (blob[e] !== 0) e += blob[e]! + 1;
      parts.push({ name: nameFromWire(blob.subarray(p, e + 1)), compress: tag === NAME_COMPRESSED });
      p = e + 1;
    }
    return parts;
  }
}

/** FNV-1a over the key's bytes: the same for a lower-cased wire and its latin1 key string. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let c = 0; c < key.length; c++) h = Math.imul(h ^ key.charCodeAt(c), 0x01000193);
  return h >>> 0;
}

/** A power of two at least twice the nodes: probes stay short. */
function tableSize(n: number): number {
  let size = 8;
  while (size < n * 2) size *= 2;
  return size;
}

/** Each part as a tag byte, then a raw part's u16 length and bytes, or a name's wire. */
function encodeRData(blob: BlobWriter, rdata: RData): number {
  const at = blob.length;
  for (const part of rdata) {
    if (Buffer.isBuffer(part)) {
      blob.byte(RAW);
      blob.u16(part.length);
      blob.write(part);
    } else {
      blob.byte(part.compress ? NAME_COMPRESSED : NAME_AS_IS);
      blob.name(part.name);
    }
  }
  return at;
}

/** An append-only buffer that doubles as it fills. */
class BlobWriter {
  private buf = Buffer.allocUnsafe(1 << 16);
  length = 0;

  write(bytes: Buffer): void {
    this.room(bytes.length);
    // Most parts are a few bytes (an IPv4 address): a loop beats Buffer#copy's call into C++.
    if (bytes.length <= 32) for (let i = 0; i < bytes.length; i++) this.buf[this.length + i] = bytes[i]!;
    else bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }

  /** A name's wire form; a lower-case name straight from its key, with no Buffer made for it. */
  name(name: Name): void {
    const key = lowerKeyOf(name);
    if (key === undefined) return this.write(name.wire);
    this.room(key.length + 1);
    for (let i = 0; i < key.length; i++) this.buf[this.length + i] = key.charCodeAt(i);
    this.length += key.length;
    this.buf[this.length++] = 0;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.length);
    this.length += 2;
  }

  /**
   * The bytes written, in a buffer of exactly their size and of its own: Buffer.from may place
   * small ones in Node's shared pool, whose memory cannot be transferred to another thread.
   */
  done(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.length);
    this.buf.copy(out, 0, 0, this.length);
    return out;
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
}
