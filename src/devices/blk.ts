// virtio-blk (virtio.md §5.1): one request queue over a BlkBacking (raw image file or memory).
// A request is one chain: a 16-byte device-readable header, data, and a device-writable status
// byte at the very end. Every check of §5.1 and rows E20/E27 of §8 ends in a status: IOERR for
// a malformed or impossible request (wrong direction, bad length, beyond capacity, write to a
// read-only disk), UNSUPP for an unknown type, a feature not negotiated or unknown flags. The
// used len is the bytes written: data + 1 for IN and GET_ID, 1 otherwise, 0 when the chain has
// no writable byte for the status.
import * as L from "../wasm/layout.ts";
import { DeviceIoError, type Chain, type ChainIo, type Completion, type VirtioDevice } from "./types.ts";
import type { BlkBacking } from "./blk-backing.ts";

export interface VirtioBlkOptions {
  backing: BlkBacking;
  /** Offer VIRTIO_BLK_F_RO and refuse writes (default: the backing's own read-only flag). */
  readOnly?: boolean;
  /** GET_ID answer: up to 20 ASCII bytes, NUL-padded (default "vxsim"). */
  id?: string;
  flush?: boolean;
  discard?: boolean;
  writeZeroes?: boolean;
  /** QueueNumMax (default 256). */
  queueMax?: number;
  /** Segments per request the driver may use (config seg_max; default queueMax - 2). */
  segMax?: number;
  maxDiscardSectors?: number;
  maxDiscardSeg?: number;
  maxWriteZeroesSectors?: number;
  maxWriteZeroesSeg?: number;
  /** How the data reaches the disk: the backend's CPU (default) or the disk's DMA on the pages
   *  the transport reached (the header and status are read and written by the CPU either way). */
  dataPath?: "cpu" | "dma";
}

export interface BlkStats {
  requests: number;
  byType: Map<number, number>;
  ok: number;
  ioerr: number;
  unsupp: number;
  /** Chains with no writable byte: no status could be given. */
  noStatus: number;
  /** Backing-store failures (each answered with IOERR). */
  backingErrors: number;
  bytesRead: number;
  bytesWritten: number;
}

const bit = (n: number) => 1n << BigInt(n);
const SECTOR = BigInt(L.VIRTIO_BLK_SECTOR_SIZE);
const HDR = L.VIRTIO_BLK_OUTHDR_SIZE;
/** Data moves between guest buffers and the backing in pieces of at most this many bytes. */
const CHUNK = 1 << 20;

/** A request outcome inside handle(): the status and the data bytes written before it. */
class Answer {
  readonly status: number;
  readonly data: number;
  constructor(status: number, data = 0) {
    this.status = status;
    this.data = data;
  }
}

export class VirtioBlk implements VirtioDevice {
  readonly deviceId = L.VIRTIO_ID_BLOCK;
  readonly numQueues = 1;
  readonly queueMax: number;
  readonly features: bigint;
  readonly config: Uint8Array;
  readonly readOnly: boolean;
  readonly backing: BlkBacking;
  readonly stats: BlkStats;
  private readonly id: Uint8Array;
  private readonly o: Required<Omit<VirtioBlkOptions, "backing" | "readOnly" | "id" | "dataPath">>;
  readonly dataPath: "cpu" | "dma";
  private accepted = 0n;

  constructor(opts: VirtioBlkOptions) {
    this.backing = opts.backing;
    this.readOnly = opts.readOnly ?? opts.backing.readOnly;
    if (!this.readOnly && opts.backing.readOnly) throw new Error("virtio-blk: a read-only backing cannot serve a writable disk");
    const queueMax = opts.queueMax ?? 256;
    this.o = {
      flush: opts.flush ?? true,
      discard: opts.discard ?? true,
      writeZeroes: opts.writeZeroes ?? true,
      queueMax,
      segMax: opts.segMax ?? queueMax - 2,
      maxDiscardSectors: opts.maxDiscardSectors ?? 65536,
      maxDiscardSeg: opts.maxDiscardSeg ?? 16,
      maxWriteZeroesSectors: opts.maxWriteZeroesSectors ?? 65536,
      maxWriteZeroesSeg: opts.maxWriteZeroesSeg ?? 16,
    };
    this.queueMax = queueMax;
    this.dataPath = opts.dataPath ?? "cpu";
    const id = new TextEncoder().encode(opts.id ?? "vxsim");
    if (id.length > L.VIRTIO_BLK_ID_BYTES) throw new Error(`virtio-blk: id longer than ${L.VIRTIO_BLK_ID_BYTES} bytes`);
    this.id = new Uint8Array(L.VIRTIO_BLK_ID_BYTES);
    this.id.set(id);
    this.features =
      bit(L.VIRTIO_BLK_F_SEG_MAX) | bit(L.VIRTIO_BLK_F_BLK_SIZE) |
      (this.readOnly ? bit(L.VIRTIO_BLK_F_RO) : 0n) |
      (this.o.flush ? bit(L.VIRTIO_BLK_F_FLUSH) : 0n) |
      (this.o.discard ? bit(L.VIRTIO_BLK_F_DISCARD) : 0n) |
      (this.o.writeZeroes ? bit(L.VIRTIO_BLK_F_WRITE_ZEROES) : 0n);
    this.config = this.makeConfig();
    this.stats = { requests: 0, byType: new Map(), ok: 0, ioerr: 0, unsupp: 0, noStatus: 0, backingErrors: 0, bytesRead: 0, bytesWritten: 0 };
  }

  /** Capacity in 512-byte sectors. */
  get capacity(): number {
    return this.backing.size / L.VIRTIO_BLK_SECTOR_SIZE;
  }

  private makeConfig(): Uint8Array {
    const c = new DataView(new ArrayBuffer(L.VIRTIO_BLK_CONFIG_SIZE));
    c.setBigUint64(L.VIRTIO_BLK_CONFIG_CAPACITY, BigInt(this.capacity), true);
    c.setUint32(L.VIRTIO_BLK_CONFIG_SEG_MAX, this.o.segMax, true);
    c.setUint32(L.VIRTIO_BLK_CONFIG_BLK_SIZE, L.VIRTIO_BLK_SECTOR_SIZE, true);
    c.setUint16(L.VIRTIO_BLK_CONFIG_NUM_QUEUES, 1, true);
    c.setUint32(L.VIRTIO_BLK_CONFIG_MAX_DISCARD_SECTORS, this.o.maxDiscardSectors, true);
    c.setUint32(L.VIRTIO_BLK_CONFIG_MAX_DISCARD_SEG, this.o.maxDiscardSeg, true);
    c.setUint32(L.VIRTIO_BLK_CONFIG_DISCARD_SECTOR_ALIGNMENT, 1, true);
    c.setUint32(L.VIRTIO_BLK_CONFIG_MAX_WRITE_ZEROES_SECTORS, this.o.maxWriteZeroesSectors, true);
    c.setUint32(L.VIRTIO_BLK_CONFIG_MAX_WRITE_ZEROES_SEG, this.o.maxWriteZeroesSeg, true);
    return new Uint8Array(c.buffer);
  }

  negotiated(features: bigint): void {
    this.accepted = features;
  }

  reset(): void {
    this.accepted = 0n;
  }

  private has(f: number): boolean {
    return ((this.accepted >> BigInt(f)) & 1n) === 1n;
  }

  handle(_q: number, chain: Chain, io: ChainIo): Completion {
    this.stats.requests++;
    if (chain.writable === 0) {
      this.stats.noStatus++; // E20: no status byte to answer in
      return { written: 0 };
    }
    let a: Answer;
    try {
      a = this.execute(chain, io);
    } catch (e) {
      if (!(e instanceof DeviceIoError)) throw e;
      a = new Answer(L.VIRTIO_BLK_S_IOERR); // a buffer the transport could not reach
    }
    try {
      io.write(chain.writable - 1, Uint8Array.of(a.status));
    } catch (e) {
      if (!(e instanceof DeviceIoError)) throw e;
      return { written: 0 };
    }
    if (a.status === L.VIRTIO_BLK_S_OK) this.stats.ok++;
    else if (a.status === L.VIRTIO_BLK_S_IOERR) this.stats.ioerr++;
    else this.stats.unsupp++;
    return { written: a.data + 1 };
  }

  private dataRead(io: ChainIo, offset: number, len: number): Uint8Array {
    return this.dataPath === "dma" && io.dmaRead ? io.dmaRead(offset, len) : io.read(offset, len);
  }

  private dataWrite(io: ChainIo, offset: number, data: Uint8Array): number {
    return this.dataPath === "dma" && io.dmaWrite ? io.dmaWrite(offset, data) : io.write(offset, data);
  }

  private execute(chain: Chain, io: ChainIo): Answer {
    const ioerr = new Answer(L.VIRTIO_BLK_S_IOERR);
    const unsupp = new Answer(L.VIRTIO_BLK_S_UNSUPP);
    if (chain.readable < HDR) return ioerr; // E20: the header is missing or device-writable
    const h = new DataView(io.read(0, HDR).buffer);
    const type = h.getUint32(L.VIRTIO_BLK_OUTHDR_TYPE, true);
    const sector = h.getBigUint64(L.VIRTIO_BLK_OUTHDR_SECTOR, true);
    this.stats.byType.set(type, (this.stats.byType.get(type) ?? 0) + 1);
    const dataIn = chain.writable - 1; // device-writable bytes before the status
    const dataOut = chain.readable - HDR; // device-readable bytes after the header
    switch (type) {
      case L.VIRTIO_BLK_T_IN: {
        if (dataOut !== 0 || dataIn % L.VIRTIO_BLK_SECTOR_SIZE !== 0) return ioerr; // E20, E27
        const off = this.range(sector, dataIn);
        if (off < 0) return ioerr;
        for (let done = 0; done < dataIn; done += CHUNK) { // bounded buffers whatever the guest asks
          const n = Math.min(CHUNK, dataIn - done);
          const data = this.backed(() => this.backing.read(off + done, n));
          if (!data) return new Answer(L.VIRTIO_BLK_S_IOERR, done);
          this.dataWrite(io, done, data);
        }
        this.stats.bytesRead += dataIn;
        return new Answer(L.VIRTIO_BLK_S_OK, dataIn);
      }
      case L.VIRTIO_BLK_T_OUT: {
        if (dataIn !== 0 || dataOut % L.VIRTIO_BLK_SECTOR_SIZE !== 0 || this.readOnly) return ioerr;
        const off = this.range(sector, dataOut);
        if (off < 0) return ioerr;
        for (let done = 0; done < dataOut; done += CHUNK) {
          const data = this.dataRead(io, HDR + done, Math.min(CHUNK, dataOut - done));
          if (!this.backed(() => this.backing.write(off + done, data))) return ioerr;
        }
        this.stats.bytesWritten += dataOut;
        return new Answer(L.VIRTIO_BLK_S_OK);
      }
      case L.VIRTIO_BLK_T_FLUSH:
        if (!this.has(L.VIRTIO_BLK_F_FLUSH)) return unsupp;
        if (sector !== 0n || dataIn !== 0 || dataOut !== 0) return ioerr;
        return this.backed(() => this.backing.flush()) ? new Answer(L.VIRTIO_BLK_S_OK) : ioerr;
      case L.VIRTIO_BLK_T_GET_ID:
        if (dataOut !== 0 || dataIn !== L.VIRTIO_BLK_ID_BYTES) return ioerr;
        io.write(0, this.id);
        return new Answer(L.VIRTIO_BLK_S_OK, L.VIRTIO_BLK_ID_BYTES);
      case L.VIRTIO_BLK_T_DISCARD:
      case L.VIRTIO_BLK_T_WRITE_ZEROES:
        return this.discardOrZero(type === L.VIRTIO_BLK_T_DISCARD, io, dataIn, dataOut);
      default:
        return unsupp; // SCSI_CMD, GET_LIFETIME, SECURE_ERASE, zoned, anything unknown
    }
  }

  /** DISCARD and WRITE_ZEROES: N 16-byte segments; every segment is checked before any runs. */
  private discardOrZero(discard: boolean, io: ChainIo, dataIn: number, dataOut: number): Answer {
    const ioerr = new Answer(L.VIRTIO_BLK_S_IOERR);
    if (!this.has(discard ? L.VIRTIO_BLK_F_DISCARD : L.VIRTIO_BLK_F_WRITE_ZEROES)) return new Answer(L.VIRTIO_BLK_S_UNSUPP);
    const maxSeg = discard ? this.o.maxDiscardSeg : this.o.maxWriteZeroesSeg;
    const maxSectors = discard ? this.o.maxDiscardSectors : this.o.maxWriteZeroesSectors;
    if (dataIn !== 0 || dataOut === 0 || dataOut % L.VIRTIO_BLK_DWZ_SIZE !== 0) return ioerr;
    const n = dataOut / L.VIRTIO_BLK_DWZ_SIZE;
    if (n > maxSeg) return ioerr;
    const raw = new DataView(io.read(HDR, dataOut).buffer);
    const runs: [number, number][] = [];
    let bad: Answer | undefined;
    for (let i = 0; i < n; i++) {
      const s = i * L.VIRTIO_BLK_DWZ_SIZE;
      const flags = raw.getUint32(s + L.VIRTIO_BLK_DWZ_FLAGS, true);
      const allowed = discard ? 0 : L.VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
      if ((flags & ~allowed) !== 0) return new Answer(L.VIRTIO_BLK_S_UNSUPP);
      const num = raw.getUint32(s + L.VIRTIO_BLK_DWZ_NUM_SECTORS, true);
      const off = num > maxSectors ? -1 : this.range(raw.getBigUint64(s + L.VIRTIO_BLK_DWZ_SECTOR, true), num * L.VIRTIO_BLK_SECTOR_SIZE);
      if (off < 0) bad = ioerr;
      runs.push([off, num * L.VIRTIO_BLK_SECTOR_SIZE]);
    }
    if (bad || this.readOnly) return ioerr;
    for (const [off, len] of runs) {
      if (!this.backed(() => (discard ? this.backing.discard(off, len) : this.backing.zero(off, len)))) return ioerr;
    }
    return new Answer(L.VIRTIO_BLK_S_OK);
  }

  /** Byte offset of [sector, +len bytes) if it lies inside the disk, else -1 (E27). */
  private range(sector: bigint, len: number): number {
    const off = sector * SECTOR;
    return off + BigInt(len) <= BigInt(this.backing.size) ? Number(off) : -1;
  }

  /** Runs a backing-store operation; false (counted) when it failed. */
  private backed<T>(f: () => T): T | false {
    try {
      const r = f();
      return r === undefined ? (true as T) : r;
    } catch {
      this.stats.backingErrors++;
      return false;
    }
  }
}
