// The guest's virtio-blk driver on top of the generic virtio driver: builds request chains in
// guest RAM as Linux's virtio_blk does (header and status in a per-request slot, data in its
// own pages), and turns completions into statuses and bytes read back from guest memory.
import * as L from "../wasm/layout.ts";
import type { Machine } from "../wasm/machine.ts";
import type { Completion, VirtioDriver } from "../virtio/driver.ts";
import type { ConfigField } from "../virtio/driver-probe.ts";
import type { GuestPages } from "../virtio/guest-pages.ts";
import type { GuestBuf } from "../virtio/port.ts";

const bit = (n: number) => 1n << BigInt(n);

/** Device features this driver understands. */
export const BLK_DRIVER_FEATURES =
  bit(L.VIRTIO_BLK_F_SEG_MAX) | bit(L.VIRTIO_BLK_F_BLK_SIZE) | bit(L.VIRTIO_BLK_F_RO) | bit(L.VIRTIO_BLK_F_FLUSH) |
  bit(L.VIRTIO_BLK_F_DISCARD) | bit(L.VIRTIO_BLK_F_WRITE_ZEROES);

/** What the driver reads from config at probe: the capacity (two 32-bit halves). */
export const BLK_CONFIG_READS: ConfigField[] = [{ off: L.VIRTIO_BLK_CONFIG_CAPACITY, size: 8 }];

/** Header (16) and status (1) of one request, in a slot of this size. */
const SLOT = 32;
const SLOTS_PER_PAGE = L.PAGE_SIZE / SLOT;

export interface BlkRange {
  sector: number | bigint;
  sectors: number;
  unmap?: boolean;
  /** Raw flags (overrides `unmap`), to send bits a device must refuse. */
  flags?: number;
}

export interface BlkTag<U = unknown> {
  type: number;
  slot: number;
  dataGfn: number;
  dataPages: number;
  dataLen: number;
  user: U;
}

export interface BlkResult<U = unknown> {
  user: U;
  type: number;
  status: number;
  /** Bytes read back from the data buffer (IN and GET_ID; up to what the device wrote). */
  data: Uint8Array | undefined;
  written: number;
}

export class BlkGuest<U = unknown> {
  readonly driver: VirtioDriver<BlkTag<U>>;
  readonly machine: Machine;
  readonly domid: number;
  readonly pages: GuestPages;
  private readonly slabs: number[] = [];
  private readonly freeSlots: number[] = [];

  constructor(driver: VirtioDriver<BlkTag<U>>, pages: GuestPages) {
    this.driver = driver;
    this.machine = driver.opts.machine;
    this.domid = driver.opts.domid;
    this.pages = pages;
  }

  /** Capacity in sectors, as read at probe. */
  get capacity(): bigint {
    const cfg = this.driver.probe?.config;
    if (!cfg || cfg.length < 8) throw new Error("virtio-blk guest: capacity not read (probe with BLK_CONFIG_READS)");
    return new DataView(cfg.buffer, cfg.byteOffset).getBigUint64(L.VIRTIO_BLK_CONFIG_CAPACITY, true);
  }

  slotGpa(slot: number): number {
    return this.slabs[Math.floor(slot / SLOTS_PER_PAGE)]! * L.PAGE_SIZE + (slot % SLOTS_PER_PAGE) * SLOT;
  }

  private takeSlot(): number {
    if (this.freeSlots.length === 0) {
      const base = this.slabs.length * SLOTS_PER_PAGE;
      this.slabs.push(this.pages.alloc(1));
      for (let i = SLOTS_PER_PAGE - 1; i >= 0; i--) this.freeSlots.push(base + i);
    }
    return this.freeSlots.pop()!;
  }

  read(sector: number | bigint, len: number, user: U): boolean {
    return this.request(L.VIRTIO_BLK_T_IN, sector, { in: len }, user);
  }

  write(sector: number | bigint, data: Uint8Array, user: U): boolean {
    return this.request(L.VIRTIO_BLK_T_OUT, sector, { out: data }, user);
  }

  flush(user: U, sector: number | bigint = 0): boolean {
    return this.request(L.VIRTIO_BLK_T_FLUSH, sector, {}, user);
  }

  getId(user: U, len: number = L.VIRTIO_BLK_ID_BYTES): boolean {
    return this.request(L.VIRTIO_BLK_T_GET_ID, 0, { in: len }, user);
  }

  discard(ranges: BlkRange[], user: U): boolean {
    return this.request(L.VIRTIO_BLK_T_DISCARD, 0, { out: encodeRanges(ranges) }, user);
  }

  writeZeroes(ranges: BlkRange[], user: U): boolean {
    return this.request(L.VIRTIO_BLK_T_WRITE_ZEROES, 0, { out: encodeRanges(ranges) }, user);
  }

  /** Any request type with readable data `out` or writable data of `in` bytes. False (nothing
   *  allocated) when the ring is full. */
  request(type: number, sector: number | bigint, data: { out?: Uint8Array; in?: number }, user: U): boolean {
    const m = this.machine;
    const slot = this.takeSlot();
    const at = this.slotGpa(slot);
    const hdr = new DataView(new ArrayBuffer(L.VIRTIO_BLK_OUTHDR_SIZE));
    hdr.setUint32(L.VIRTIO_BLK_OUTHDR_TYPE, type, true);
    hdr.setBigUint64(L.VIRTIO_BLK_OUTHDR_SECTOR, BigInt(sector), true);
    m.write(this.domid, at, new Uint8Array(hdr.buffer));
    m.write(this.domid, at + L.VIRTIO_BLK_OUTHDR_SIZE, Uint8Array.of(0xff)); // status: not yet answered
    const dataLen = data.out?.length ?? data.in ?? 0;
    const dataPages = Math.ceil(dataLen / L.PAGE_SIZE);
    const dataGfn = dataPages > 0 ? this.pages.alloc(dataPages) : -1;
    const bufs: GuestBuf[] = [{ gpa: at, len: L.VIRTIO_BLK_OUTHDR_SIZE, write: false }];
    if (dataLen > 0) {
      if (data.out) m.write(this.domid, dataGfn * L.PAGE_SIZE, data.out);
      bufs.push({ gpa: dataGfn * L.PAGE_SIZE, len: dataLen, write: data.out === undefined });
    }
    bufs.push({ gpa: at + L.VIRTIO_BLK_OUTHDR_SIZE, len: 1, write: true });
    const tag: BlkTag<U> = { type, slot, dataGfn, dataPages, dataLen, user };
    if (this.driver.submit(0, bufs, tag)) return true;
    this.release(tag);
    return false;
  }

  /** Reads the status (and data) of a completed request and frees its memory. */
  complete(c: Completion<BlkTag<U>>): BlkResult<U> {
    const t = c.tag;
    const m = this.machine;
    const status = m.read(this.domid, this.slotGpa(t.slot) + L.VIRTIO_BLK_OUTHDR_SIZE, 1)[0]!;
    let data: Uint8Array | undefined;
    if ((t.type === L.VIRTIO_BLK_T_IN || t.type === L.VIRTIO_BLK_T_GET_ID) && t.dataLen > 0) {
      data = m.read(this.domid, t.dataGfn * L.PAGE_SIZE, Math.min(t.dataLen, Math.max(c.written - 1, 0)));
    }
    this.release(t);
    return { user: t.user, type: t.type, status, data, written: c.written };
  }

  private release(t: BlkTag<U>): void {
    this.freeSlots.push(t.slot);
    if (t.dataPages > 0) this.pages.release(t.dataGfn, t.dataPages);
  }
}

export function encodeRanges(ranges: BlkRange[]): Uint8Array {
  const d = new DataView(new ArrayBuffer(ranges.length * L.VIRTIO_BLK_DWZ_SIZE));
  ranges.forEach((r, i) => {
    const s = i * L.VIRTIO_BLK_DWZ_SIZE;
    d.setBigUint64(s + L.VIRTIO_BLK_DWZ_SECTOR, BigInt(r.sector), true);
    d.setUint32(s + L.VIRTIO_BLK_DWZ_NUM_SECTORS, r.sectors, true);
    d.setUint32(s + L.VIRTIO_BLK_DWZ_FLAGS, r.flags ?? (r.unmap ? L.VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0), true);
  });
  return new Uint8Array(d.buffer);
}
