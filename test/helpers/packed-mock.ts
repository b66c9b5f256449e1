// A mock driver that builds packed rings in guest memory by hand, so tests can publish any
// descriptor a buggy or hostile driver could write (rust-vmm's mock.rs in spirit).
import type { Machine } from "../../src/wasm/machine.ts";
import * as L from "../../src/wasm/layout.ts";

export const NEXT = L.VRING_DESC_F_NEXT;
export const WRITE = L.VRING_DESC_F_WRITE;
export const INDIRECT = L.VRING_DESC_F_INDIRECT;
export const AVAIL = L.VRING_PACKED_DESC_F_AVAIL;
export const USED = L.VRING_PACKED_DESC_F_USED;

export interface RawDesc {
  addr: number | bigint;
  len: number;
  id?: number;
  flags: number; // NEXT/WRITE/INDIRECT; the AVAIL/USED bits are added unless `raw`
  raw?: boolean; // write flags exactly as given
}

export interface Elem {
  addr: number | bigint;
  len: number;
  write?: boolean;
}

/** Packs one descriptor (also the format of indirect table entries). */
export function descBytes(d: RawDesc, flags: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(d.addr), true);
  v.setUint32(8, d.len >>> 0, true);
  v.setUint16(12, d.id ?? 0, true);
  v.setUint16(14, flags, true);
  return b;
}

export class PackedMock {
  readonly m: Machine;
  readonly domid: number;
  readonly size: number;
  readonly desc: number;
  readonly driverArea: number;
  readonly deviceArea: number;
  slot = 0; // the mock driver's avail cursor
  wrap = 1;

  /** Ring at `base`: descriptors, then the driver and device event structures. The ring pages
   *  are written (populated) so that kernels never populate them. */
  constructor(m: Machine, domid: number, size: number, base = 0x10000) {
    this.m = m;
    this.domid = domid;
    this.size = size;
    this.desc = base;
    this.driverArea = base + size * 16;
    this.deviceArea = this.driverArea + 4;
    m.write(domid, base, new Uint8Array(size * 16 + 8));
  }

  availBits(wrap: number): number {
    return wrap ? AVAIL : USED;
  }

  writeDesc(slot: number, d: RawDesc, wrap: number): void {
    const flags = d.raw ? d.flags : (d.flags & ~(AVAIL | USED)) | this.availBits(wrap);
    this.m.write(this.domid, this.desc + slot * 16, descBytes(d, flags));
  }

  readDesc(slot: number): { addr: bigint; len: number; id: number; flags: number } {
    const b = this.m.read(this.domid, this.desc + slot * 16, 16);
    const v = new DataView(b.buffer);
    return { addr: v.getBigUint64(0, true), len: v.getUint32(8, true), id: v.getUint16(12, true), flags: v.getUint16(14, true) };
  }

  /** Publishes descriptors at the cursor as one list, the first one's flags last. Returns the
   *  head slot. The cursor (and wrap) advance by the number of descriptors. */
  publish(descs: RawDesc[]): number {
    const head = this.slot;
    const headWrap = this.wrap;
    let s = this.slot;
    let w = this.wrap;
    const slots: [number, number][] = [];
    for (const d of descs) {
      slots.push([s, w]);
      if (++s === this.size) { s = 0; w ^= 1; }
    }
    for (let i = descs.length - 1; i >= 1; i--) this.writeDesc(slots[i]![0], descs[i]!, slots[i]![1]);
    // Head: everything but the flags, then the flags.
    const h = descs[0]!;
    const hb = descBytes(h, 0);
    this.m.write(this.domid, this.desc + head * 16, hb.subarray(0, 14));
    const flags = h.raw ? h.flags : (h.flags & ~(AVAIL | USED)) | this.availBits(headWrap);
    this.m.write(this.domid, this.desc + head * 16 + 14, new Uint8Array([flags & 0xff, flags >> 8]));
    this.slot = s;
    this.wrap = w;
    return head;
  }

  /** A well-formed buffer: a NEXT chain with the id in every descriptor. */
  chain(id: number, elems: Elem[]): number {
    return this.publish(elems.map((e, i) => ({
      addr: e.addr, len: e.len, id, flags: (i + 1 < elems.length ? NEXT : 0) | (e.write ? WRITE : 0),
    })));
  }

  /** An indirect buffer: the table at `table`, one INDIRECT descriptor in the ring. */
  indirect(id: number, table: number, elems: Elem[], extraFlags = 0): number {
    this.writeTable(table, elems.map((e) => ({ addr: e.addr, len: e.len, flags: e.write ? WRITE : 0 })));
    return this.publish([{ addr: table, len: elems.length * 16, id, flags: INDIRECT | extraFlags }]);
  }

  writeTable(table: number, entries: RawDesc[]): void {
    const b = new Uint8Array(entries.length * 16);
    entries.forEach((e, i) => b.set(descBytes(e, e.flags), i * 16));
    this.m.write(this.domid, table, b);
  }

  /** Skips the cursor forward as if `n` slots had been used and reclaimed. */
  advance(n: number): void {
    for (let i = 0; i < n; i++) if (++this.slot === this.size) { this.slot = 0; this.wrap ^= 1; }
  }

  /** Plays the device: writes a used descriptor at `slot` on lap `wrap`. */
  markUsed(slot: number, id: number, len: number, wrap: number): void {
    const flags = (wrap ? AVAIL | USED : 0) | (len > 0 ? 2 : 0);
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint32(0, len, true);
    v.setUint16(4, id, true);
    v.setUint16(6, flags, true);
    this.m.write(this.domid, this.desc + slot * 16 + 8, b);
  }

  setDriverEvent(offWrap: number, flags: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint16(0, offWrap, true);
    new DataView(b.buffer).setUint16(2, flags, true);
    this.m.write(this.domid, this.driverArea, b);
  }

  setDeviceEvent(offWrap: number, flags: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint16(0, offWrap, true);
    new DataView(b.buffer).setUint16(2, flags, true);
    this.m.write(this.domid, this.deviceArea, b);
  }

  event(area: number): { offWrap: number; flags: number } {
    const v = new DataView(this.m.read(this.domid, area, 4).buffer);
    return { offWrap: v.getUint16(0, true), flags: v.getUint16(2, true) };
  }
}
