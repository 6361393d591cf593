// The batched UDP path (native/udp_batch.c): one wake-up reads up to BATCH datagrams with one
// recvmmsg, `answer` runs for each, and one sendmmsg sends the answers. The socket is the
// addon's: serving workers each bind their own with SO_REUSEPORT, so the kernel hands a datagram
// to one worker instead of waking all of them on one shared socket. udp.ts falls back to
// node:dgram when the addon was not built (no compiler at install time) or `dns.udpBatching` is
// `off`.
import { loadAddon } from '../../common/native-addon.js';

interface NativeUdpBatch {
  bindUdp(host: string, port: number, v6: boolean, reusePort: boolean): number;
  localPort(fd: number): number;
  closeFd(fd: number): void;
  open(
    fd: number,
    batch: number,
    inSlot: number,
    outSlot: number,
    inArena: ArrayBuffer,
    outArena: ArrayBuffer,
    meta: ArrayBuffer,
    addr: ArrayBuffer,
    onBatch: (n: number) => void,
  ): object;
  close(handle: object): void;
  stats(handle: object): [received: number, sent: number, sendFailed: number, oversize: number];
  readonly ADDR_TEXT: number;
}

/** Datagrams read per recvmmsg: enough to drain a burst, small enough to keep arenas in cache. */
const BATCH = 64;
/** A query longer than this is dropped (counted as `oversize`): real queries are < 512 bytes. */
export const IN_SLOT = 4096;
/** dns.maxUdpPayload is at most 4096 and handle-query.ts truncates to it: every answer fits. */
const OUT_SLOT = 4096;
// Per-datagram int32 fields of the meta arena; native/udp_batch.c has the same enum.
const M_IN_LEN = 0;
const M_OUT_LEN = 1;
const M_PORT = 2;
const M_ADDR_LEN = 3;
const META_INTS = 4;

/** The answer to one datagram, or null to send none. Must not throw. */
export type DatagramAnswerer = (msg: Buffer, port: number, address: string) => Buffer | null;

let native: NativeUdpBatch | null | undefined;
let unavailable = '';

/** The addon, or null (then `batchingUnavailable()` says why). Loaded once. */
export function loadUdpBatch(): NativeUdpBatch | null {
  if (native !== undefined) return native;
  const load = loadAddon<NativeUdpBatch>('udp_batch', ['open'], 'recvmmsg/sendmmsg batching');
  native = load.addon;
  unavailable = load.unavailable ?? '';
  return native;
}

export function batchingUnavailable(): string {
  return unavailable;
}

export interface UdpBatchStats {
  readonly received: number;
  readonly sent: number;
  readonly sendFailed: number;
  readonly oversize: number;
}

export class UdpBatcher {
  private constructor(
    private readonly addon: NativeUdpBatch,
    private readonly handle: object,
    /** The bound port (the kernel's pick when 0 was asked for). */
    readonly port: number,
  ) {}

  /**
   * Binds host:port (port 0: any) and answers what arrives there, or throws the bind error.
   * `reusePort`: one of several serving workers binding the same address (the caller has made
   * sure nobody else holds it). `oversize` counts datagrams longer than IN_SLOT (dropped).
   */
  static bind(
    addon: NativeUdpBatch,
    host: string,
    port: number,
    reusePort: boolean,
    answer: DatagramAnswerer,
    oversize: () => void,
  ): UdpBatcher {
    const fd = addon.bindUdp(host, port, host.includes(':'), reusePort);
    const inArena = Buffer.alloc(BATCH * IN_SLOT);
    const outArena = Buffer.alloc(BATCH * OUT_SLOT);
    const metaArena = new ArrayBuffer(BATCH * META_INTS * 4);
    const meta = new Int32Array(metaArena);
    const addrText = addon.ADDR_TEXT;
    const addr = Buffer.alloc(BATCH * addrText);
    const onBatch = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const m = i * META_INTS;
        const len = meta[m + M_IN_LEN]!;
        if (len < 0) {
          oversize();
          continue;
        }
        const at = i * addrText;
        const address = addr.toString('latin1', at, at + meta[m + M_ADDR_LEN]!);
        const response = answer(inArena.subarray(i * IN_SLOT, i * IN_SLOT + len), meta[m + M_PORT]!, address);
        if (response !== null && response.length <= OUT_SLOT) {
          response.copy(outArena, i * OUT_SLOT);
          meta[m + M_OUT_LEN] = response.length;
        }
      }
    };
    try {
      return new UdpBatcher(
        addon,
        addon.open(fd, BATCH, IN_SLOT, OUT_SLOT, inArena.buffer, outArena.buffer, metaArena, addr.buffer, onBatch),
        addon.localPort(fd),
      );
    } catch (e) {
      addon.closeFd(fd);
      throw e;
    }
  }

  stats(): UdpBatchStats {
    if (this.closed) return { received: 0, sent: 0, sendFailed: 0, oversize: 0 };
    const [received, sent, sendFailed, oversize] = this.addon.stats(this.handle);
    return { received, sent, sendFailed, oversize };
  }

  private closed = false;

  /** Stops reading and closes the socket (once; later calls do nothing). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.addon.close(this.handle);
  }
}

/** How UDP will move for `dns.udpBatching`, for the start-up line and /v1/status. */
export function describeUdpIo(setting: 'auto' | 'off'): string {
  if (setting === 'off') return 'node:dgram (dns.udpBatching: off)';
  return loadUdpBatch() ? 'batched (recvmmsg/sendmmsg)' : `node:dgram (${batchingUnavailable()})`;
}
