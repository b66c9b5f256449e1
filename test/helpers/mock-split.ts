// A mock split ring in a domain's guest memory, in the spirit of rust-vmm's MockSplitQueue:
// the descriptor table at `base`, the avail ring right after it, the used ring after that
// (4-aligned). Everything is written with plain guest writes (machine.write), so tests can
// build any ring, valid or not, without going through a driver.
import type { Machine } from "../../src/wasm/machine.ts";
import type { SplitRing } from "../../src/wasm/split.ts";
import * as L from "../../src/wasm/layout.ts";

export interface Desc {
  /** number below 2^53, or a bigint for any u64 */
  addr: number | bigint;
  len: number;
  flags?: number;
  next?: number;
}

export const NEXT = L.VRING_DESC_F_NEXT;
export const WRITE = L.VRING_DESC_F_WRITE;
export const INDIRECT = L.VRING_DESC_F_INDIRECT;

export function descBytes(d: Desc): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(d.addr), true);
  dv.setUint32(8, d.len >>> 0, true);
  dv.setUint16(12, d.flags ?? 0, true);
  dv.setUint16(14, d.next ?? 0, true);
  return b;
}

const u16 = (v: number) => new Uint8Array([v & 0xff, (v >> 8) & 0xff]);

export class MockSplitQueue {
  readonly machine: Machine;
  readonly domid: number;
  readonly ring: { size: number; desc: number; avail: number; used: number };

  /** Lays the ring out from `base`, or uses the areas of `ring` when given. */
  constructor(machine: Machine, domid: number, size: number, base = 0, ring?: { size: number; desc: number; avail: number; used: number }) {
    this.machine = machine;
    this.domid = domid;
    const avail = base + 16 * size;
    const used = (avail + 6 + 2 * size + 3) & ~3;
    this.ring = ring ?? { size, desc: base, avail, used };
  }

  get size(): number {
    return this.ring.size;
  }

  private w16(gpa: number, v: number): void {
    this.machine.write(this.domid, gpa, u16(v));
  }
  private r16(gpa: number): number {
    return new DataView(this.machine.read(this.domid, gpa, 2).buffer).getUint16(0, true);
  }
  private r32(gpa: number): number {
    return new DataView(this.machine.read(this.domid, gpa, 4).buffer).getUint32(0, true);
  }

  writeDesc(i: number, d: Desc): void {
    this.machine.write(this.domid, this.ring.desc + 16 * i, descBytes(d));
  }

  /** An indirect table (any alignment) of `descs`, in order. */
  writeTable(gpa: number, descs: Desc[]): void {
    const b = new Uint8Array(16 * descs.length);
    descs.forEach((d, i) => b.set(descBytes(d), 16 * i));
    this.machine.write(this.domid, gpa, b);
  }

  /** Writes `descs` at table indices start, start+1, ... chained with NEXT (flags other than
   *  NEXT are kept); returns the head. */
  addChain(start: number, descs: Desc[]): number {
    descs.forEach((d, i) => {
      const more = i + 1 < descs.length;
      const idx = (start + i) % this.size;
      this.writeDesc(idx, { ...d, flags: ((d.flags ?? 0) & ~NEXT) | (more ? NEXT : 0), next: more ? (idx + 1) % this.size : 0 });
    });
    return start;
  }

  get availIdx(): number {
    return this.r16(this.ring.avail + 2);
  }
  set availIdx(v: number) {
    this.w16(this.ring.avail + 2, v & 0xffff);
  }
  set availFlags(v: number) {
    this.w16(this.ring.avail, v);
  }
  set usedEvent(v: number) {
    this.w16(this.ring.avail + 4 + 2 * this.size, v & 0xffff);
  }
  setAvailSlot(slot: number, head: number): void {
    this.w16(this.ring.avail + 4 + 2 * (slot % this.size), head);
  }

  /** Appends heads to the avail ring and publishes them (avail.idx += heads.length). */
  publish(...heads: number[]): void {
    const idx = this.availIdx;
    heads.forEach((h, i) => this.setAvailSlot((idx + i) & 0xffff, h));
    this.availIdx = idx + heads.length;
  }

  get usedIdx(): number {
    return this.r16(this.ring.used + 2);
  }
  set usedIdx(v: number) {
    this.w16(this.ring.used + 2, v & 0xffff);
  }
  get usedFlags(): number {
    return this.r16(this.ring.used);
  }
  set usedFlags(v: number) {
    this.w16(this.ring.used, v);
  }
  get availEvent(): number {
    return this.r16(this.ring.used + 4 + 8 * this.size);
  }
  set availEvent(v: number) {
    this.w16(this.ring.used + 4 + 8 * this.size, v & 0xffff);
  }
  get availFlagsValue(): number {
    return this.r16(this.ring.avail);
  }
  get usedEventValue(): number {
    return this.r16(this.ring.avail + 4 + 2 * this.size);
  }
  usedElem(slot: number): { id: number; len: number } {
    const a = this.ring.used + 4 + 8 * (slot % this.size);
    return { id: this.r32(a), len: this.r32(a + 4) };
  }
  setUsedElem(slot: number, id: number, len: number): void {
    const a = this.ring.used + 4 + 8 * (slot % this.size);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, id >>> 0, true);
    new DataView(b.buffer).setUint32(4, len >>> 0, true);
    this.machine.write(this.domid, a, b);
  }
  readDesc(i: number): { addr: bigint; len: number; flags: number; next: number } {
    const dv = new DataView(this.machine.read(this.domid, this.ring.desc + 16 * i, 16).buffer);
    return { addr: dv.getBigUint64(0, true), len: dv.getUint32(8, true), flags: dv.getUint16(12, true), next: dv.getUint16(14, true) };
  }
}
