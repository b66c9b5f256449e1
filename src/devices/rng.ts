// virtio-rng (entropy device, id 4): one requestq of device-writable buffers, each filled with
// bytes from a labelled fork of the scenario's seeded Rng, so the bytes a guest reads are fixed
// by the seed and unaffected by other devices' draws.
import { VIRTIO_F_VERSION_1, VIRTIO_ID_RNG } from "../wasm/layout.ts";
import type { Rng } from "../sim/rng.ts";
import { checkQueueMax } from "./device-options.ts";
import { DeviceIoError, type Chain, type ChainIo, type Completion, type VirtioDevice } from "./types.ts";

export interface VirtioRngOptions {
  /** The scenario's generator; the device draws from `rng.fork(label)`. */
  rng: Rng;
  /** Fork label (default "virtio-rng"); give each rng device its own. */
  label?: string;
  /** Most bytes written per request (default 65536); a larger buffer is filled partly, as the
   *  spec allows. Also bounds what one guest request makes the host allocate. */
  maxBytesPerRequest?: number;
  /** QueueNumMax (default 256). */
  queueMax?: number;
}

export interface VirtioRngStats {
  /** Requests answered with entropy. */
  requests: number;
  /** Random bytes written. */
  bytes: number;
  /** E20: chains with device-readable segments, completed with 0 bytes. */
  readableRejected: number;
  /** Chains without writable bytes (nothing to fill), completed with 0 bytes. */
  empty: number;
  /** Buffers the transport could not reach (DeviceIoError), completed with 0 bytes. */
  ioErrors: number;
}

export const RNG_DEFAULT_MAX_BYTES = 65536;
// Bytes drawn per Rng.bytes call: a multiple of 4, so chunking does not change the stream.
const CHUNK = 4096;

export class VirtioRng implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_RNG;
  // No device-specific features; VERSION_1 is the one every modern device must offer.
  readonly features = 1n << BigInt(VIRTIO_F_VERSION_1);
  readonly numQueues = 1;
  readonly queueMax: number;
  readonly config = new Uint8Array(0);
  readonly maxBytesPerRequest: number;
  readonly stats: VirtioRngStats = { requests: 0, bytes: 0, readableRejected: 0, empty: 0, ioErrors: 0 };
  private readonly source: Rng;

  constructor(opts: VirtioRngOptions) {
    const max = opts.maxBytesPerRequest ?? RNG_DEFAULT_MAX_BYTES;
    if (!Number.isInteger(max) || max < 1 || max > 0xffffffff) {
      throw new RangeError(`virtio-rng: maxBytesPerRequest must be an integer in 1..2^32-1, got ${max}`);
    }
    this.maxBytesPerRequest = max;
    this.queueMax = checkQueueMax(opts.queueMax ?? 256, "virtio-rng");
    this.source = opts.rng.fork(opts.label ?? "virtio-rng");
  }

  negotiated(_features: bigint): void {
    // Nothing depends on features: the device behaves the same with or without VERSION_1.
  }

  handle(q: number, chain: Chain, io: ChainIo): Completion {
    if (q !== 0) throw new RangeError(`virtio-rng has one queue, handle() got queue ${q}`);
    if (chain.readable > 0) {
      // The driver must post device-writable buffers only (spec 5.4.6.1): reject, fill nothing.
      this.stats.readableRejected++;
      return { written: 0 };
    }
    const n = Math.min(chain.writable, this.maxBytesPerRequest);
    if (n === 0) {
      this.stats.empty++;
      return { written: 0 };
    }
    let written = 0;
    try {
      const buf = new Uint8Array(Math.min(n, CHUNK));
      while (written < n) {
        const part = buf.subarray(0, Math.min(CHUNK, n - written));
        this.source.bytes(part);
        const w = io.write(written, part);
        written += w;
        if (w < part.length) break; // the transport wrote less than asked: report what landed
      }
    } catch (e) {
      if (!(e instanceof DeviceIoError)) throw e;
      this.stats.ioErrors++;
      return { written: 0 };
    }
    this.stats.requests++;
    this.stats.bytes += written;
    return { written };
  }

  reset(): void {
    // No per-queue state. The entropy stream continues: a reset does not replay old bytes.
  }
}
