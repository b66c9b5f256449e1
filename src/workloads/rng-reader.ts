// virtio-rng reads: buffers of readSize bytes handed to the device, up to iodepth at a time.
// The device may fill less than a buffer but must write at least one byte and never more
// than the buffer (virtio.md 5.3). When the caller supplies the reference stream the device
// draws from, every returned byte is compared with it, in completion order (the order in
// which the device produced them); a running CRC-32C of all returned bytes lets two runs be
// compared for determinism either way.
import { LatencyRecorder, throughput, type LatencySummary } from "../sim/stats.ts";
import type { ByteSource } from "./byte-stream.ts";
import { crc32c } from "./pattern.ts";

export interface RngReadOptions {
  /** Bytes per buffer (the scenario's read_size). */
  readSize: number;
  /** Buffers in flight (default 1). */
  iodepth?: number;
  /** Reads to make (default: until stop()). */
  numberIos?: number;
  /** The stream the device's bytes must equal. */
  reference?: ByteSource;
}

export interface RngRequest {
  tag: number;
  /** Device-writable bytes of the buffer. */
  len: number;
}

export type RngFailureKind =
  /** The device wrote no byte. */
  | "empty"
  /** The device claims more bytes than the buffer holds. */
  | "overrun"
  /** Bytes differ from the reference stream. */
  | "mismatch"
  /** A completion for a tag not in flight. */
  | "unexpected";

export interface RngFailure {
  kind: RngFailureKind;
  tag: number;
  detail: string;
}

export interface RngStats {
  reads: number;
  bytes: number;
  readsPerSec: number;
  bytesPerSec: number;
  /** Reads that came back with fewer bytes than the buffer (allowed by the spec). */
  partial: number;
  /** CRC-32C of every byte returned, in completion order. */
  digest: number;
  latency: LatencySummary;
  failures: number;
}

export class RngReader {
  private readonly o: RngReadOptions;
  private readonly iodepth: number;
  private readonly inflight = new Map<number, number>();
  private readonly latency = new LatencyRecorder("rng read");
  private readonly failed: RngFailure[] = [];
  private nextTag = 1;
  private issued = 0;
  private reads = 0;
  private bytes = 0;
  private partial = 0;
  private crc = 0;
  private stopped = false;

  constructor(o: RngReadOptions) {
    const int = (v: number, min: number, name: string) => {
      if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`rng reads: ${name} must be an integer >= ${min}, got ${v}`);
    };
    int(o.readSize, 1, "readSize");
    int(o.iodepth ?? 1, 1, "iodepth");
    if (o.numberIos !== undefined) int(o.numberIos, 1, "numberIos");
    this.o = o;
    this.iodepth = o.iodepth ?? 1;
  }

  get inFlight(): number {
    return this.inflight.size;
  }

  get done(): boolean {
    return this.inflight.size === 0 && !this.mayIssue();
  }

  get completed(): number {
    return this.reads;
  }

  get failures(): readonly RngFailure[] {
    return this.failed;
  }

  /** CRC-32C of every byte returned so far. */
  get digest(): number {
    return this.crc;
  }

  stop(): void {
    this.stopped = true;
  }

  next(now: number): RngRequest | undefined {
    if (this.inflight.size >= this.iodepth || !this.mayIssue()) return undefined;
    const tag = this.nextTag++;
    this.issued++;
    this.inflight.set(tag, now);
    return { tag, len: this.o.readSize };
  }

  /** `data`: the bytes the device wrote (the used length of them). */
  complete(tag: number, data: Uint8Array, now: number): readonly RngFailure[] {
    const t0 = this.inflight.get(tag);
    const failures: RngFailure[] = [];
    const fail = (kind: RngFailureKind, detail: string) => failures.push({ kind, tag, detail: `rng read ${tag}: ${detail}` });
    if (t0 === undefined) {
      fail("unexpected", "not in flight");
    } else {
      this.inflight.delete(tag);
      this.reads++;
      this.latency.record(now - t0);
      const size = this.o.readSize;
      if (data.length === 0) fail("empty", `no bytes written into a ${size}-byte buffer`);
      else if (data.length > size) fail("overrun", `${data.length} bytes claimed for a ${size}-byte buffer`);
      if (data.length < size) this.partial++;
      this.bytes += data.length;
      this.crc = crc32c(this.crc, data);
      if (this.o.reference && data.length > 0) {
        const want = this.o.reference.take(data.length);
        const at = want.findIndex((b, i) => b !== data[i]);
        if (at >= 0) fail("mismatch", `byte ${at} is 0x${data[at]!.toString(16)}, the reference stream has 0x${want[at]!.toString(16)} (stream offset ${this.bytes - data.length + at})`);
      }
    }
    this.failed.push(...failures);
    return failures;
  }

  stats(durationNs: number): RngStats {
    return {
      reads: this.reads, bytes: this.bytes, readsPerSec: throughput(this.reads, durationNs), bytesPerSec: throughput(this.bytes, durationNs),
      partial: this.partial, digest: this.crc, latency: this.latency.summary(), failures: this.failed.length,
    };
  }

  private mayIssue(): boolean {
    return !this.stopped && (this.o.numberIos === undefined || this.issued < this.o.numberIos);
  }
}
