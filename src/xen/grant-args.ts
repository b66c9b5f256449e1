// A hypercall's argument array as Xen sees it: `count` structs of `size` bytes at a
// guest-physical address of the caller, read with copy_from_guest and written back with
// copy_to_guest, so every access goes through the caller's p2m and its rights.
//
// Xen reads struct i, processes it and writes it back before reading struct i+1, and stops
// with -EFAULT at the first struct it cannot read or write back. When the whole array is
// readable and writable the model reads it once and writes it back once (the result is the
// same unless the guest points an operation at its own argument array); otherwise it goes
// struct by struct so a fault lands exactly where Xen's would.
import type { Machine } from "../wasm/machine.ts";
import { MST_OK, PAGE_SIZE, P2M_MAX_GFNS, IO_SIZE } from "../wasm/layout.ts";

const GPA_LIMIT = P2M_MAX_GFNS * PAGE_SIZE;

export class GuestArgs {
  private readonly machine: Machine;
  private readonly domid: number;
  private readonly gpa: number;
  private readonly size: number;
  private readonly fast: boolean;
  private readonly buf: Uint8Array;
  private readonly dv: DataView;

  constructor(machine: Machine, domid: number, gpa: number, size: number, count: number) {
    this.machine = machine;
    this.domid = domid;
    this.gpa = gpa;
    this.size = size;
    const total = size * count;
    const whole = count > 0 && total <= IO_SIZE && Number.isSafeInteger(gpa) && gpa >= 0 && gpa + total <= GPA_LIMIT
      ? this.readWhole(total)
      : undefined;
    this.fast = whole !== undefined;
    this.buf = whole ?? new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** The whole array when it is readable and every page of it writable, else undefined. */
  private readWhole(total: number): Uint8Array | undefined {
    const whole = new Uint8Array(total);
    if (this.machine.tryRead(this.domid, this.gpa, whole) !== MST_OK) return undefined;
    const last = Math.floor((this.gpa + total - 1) / PAGE_SIZE);
    for (let g = Math.floor(this.gpa / PAGE_SIZE); g <= last; g++) {
      if (this.machine.translate(this.domid, g, true) < 0) return undefined;
    }
    return whole;
  }

  private base(i: number): number {
    return this.fast ? i * this.size : 0;
  }

  private structGpa(i: number): number {
    return this.gpa + i * this.size;
  }

  /** copy_from_guest of struct i; false means -EFAULT. */
  load(i: number): boolean {
    if (this.fast) return true;
    const a = this.structGpa(i);
    if (!Number.isSafeInteger(a) || a < 0 || a + this.size > GPA_LIMIT) return false;
    return this.machine.tryRead(this.domid, a, this.buf) === MST_OK;
  }

  /** copy_to_guest of struct i (only OUT fields differ from what was read); false means -EFAULT. */
  store(i: number): boolean {
    if (this.fast) return true;
    return this.machine.tryWrite(this.domid, this.structGpa(i), this.buf) === MST_OK;
  }

  /** Ends the call: the single write-back of the fast path (checked writable up front). */
  finish(): void {
    if (this.fast) this.machine.write(this.domid, this.gpa, this.buf);
  }

  u16(i: number, off: number): number { return this.dv.getUint16(this.base(i) + off, true); }
  u32(i: number, off: number): number { return this.dv.getUint32(this.base(i) + off, true); }
  /** A u64 field as a number: exact below 2^53, and at least 2^53 (out of every range) above. */
  u64(i: number, off: number): number {
    const b = this.base(i) + off;
    return this.dv.getUint32(b, true) + this.dv.getUint32(b + 4, true) * 2 ** 32;
  }
  setI16(i: number, off: number, v: number): void { this.dv.setInt16(this.base(i) + off, v, true); }
  setU32(i: number, off: number, v: number): void { this.dv.setUint32(this.base(i) + off, v >>> 0, true); }
  setU64(i: number, off: number, v: number): void {
    const b = this.base(i) + off;
    this.dv.setUint32(b, v % 2 ** 32, true);
    this.dv.setUint32(b + 4, Math.floor(v / 2 ** 32), true);
  }
}
