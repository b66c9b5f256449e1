// Host-side access for the grant-table model: Xen's reads of shared grant entries (by machine
// frame), a guest's own accesses to its grant table (through its p2m, rights checked), and
// the batch copy kernel. The only grant code that touches linear-memory offsets.
import type { Machine } from "./machine.ts";
import * as L from "./layout.ts";
import { copyRecordsRef } from "./grant-copy-ref.ts";
import type { HostCounters } from "./ts-guest-memory.ts";

interface GrantExports {
  gnttab_copy_batch(n: number): number;
}

const frameBase = (mfn: number): number => L.POOL_BASE + mfn * L.PAGE_SIZE;

export class GrantMemory {
  readonly machine: Machine;
  constructor(machine: Machine) {
    this.machine = machine;
  }

  /** Xen's plain read of a 32-bit word of a (hypervisor-owned or guest) frame. */
  word(mfn: number, off: number): number {
    return this.machine.dv.getUint32(frameBase(mfn) + off, true);
  }

  half(mfn: number, off: number): number {
    return this.machine.dv.getUint16(frameBase(mfn) + off, true);
  }

  /** The machine frame behind a guest's gfn for an access by that guest, or a negative
   *  MST_* status (refusals are counted by the machine). */
  guestMfn(domid: number, gfn: number, write: boolean): number {
    if (!Number.isInteger(gfn) || gfn < 0 || gfn >= L.P2M_MAX_GFNS) return L.MST_RANGE;
    const a = this.machine.translate(domid, gfn, write);
    return a < 0 ? a : (a - L.POOL_BASE) / L.PAGE_SIZE;
  }

  /** Guest writes of a v1 entry at `gpa` in the order Linux uses: domid, frame, then flags
   *  (x86 keeps stores in program order, so the flags store is the one that publishes). */
  guestWriteEntry(domid: number, gpa: number, entryDomid: number, frame: number, flags: number): number {
    const mfn = this.guestMfn(domid, Math.floor(gpa / L.PAGE_SIZE), true);
    if (mfn < 0) return mfn;
    const a = frameBase(mfn) + (gpa % L.PAGE_SIZE);
    const dv = this.machine.dv;
    dv.setUint16(a + L.GRANT_ENTRY_V1_DOMID, entryDomid, true);
    dv.setUint32(a + L.GRANT_ENTRY_V1_FRAME, frame >>> 0, true);
    dv.setUint16(a + L.GRANT_ENTRY_V1_FLAGS, flags, true);
    this.machine.bump(L.CNT_GUEST_WRITES, 3);
    this.machine.bump(L.CNT_GUEST_WRITE_BYTES, L.GRANT_ENTRY_V1_SIZE);
    return L.MST_OK;
  }

  /** A guest's plain 16-bit read, or a negative status. */
  guestRead16(domid: number, gpa: number): number {
    const mfn = this.guestMfn(domid, Math.floor(gpa / L.PAGE_SIZE), false);
    if (mfn < 0) return mfn;
    this.machine.bump(L.CNT_GUEST_READS);
    this.machine.bump(L.CNT_GUEST_READ_BYTES, 2);
    return this.machine.dv.getUint16(frameBase(mfn) + (gpa % L.PAGE_SIZE), true);
  }
}

/** Staging area for one GNTTABOP_copy batch: records are built host-side (the IO window is
 *  also used for reading hypercall arguments), then moved in one kernel call. */
export class GrantCopyBatch {
  private readonly machine: Machine;
  private readonly x: GrantExports;
  private buf = new Uint8Array(L.GCOPY_REC_SIZE * 32);
  private dv = new DataView(this.buf.buffer);
  count = 0;

  constructor(machine: Machine) {
    this.machine = machine;
    this.x = machine.raw<GrantExports>();
  }

  /** Queues one copy; returns its index in the batch. Offsets and length are u16 as in the ABI. */
  add(srcDom: number, srcMfn: number, srcOff: number, dstDom: number, dstMfn: number, dstOff: number, len: number): number {
    if ((this.count + 1) * L.GCOPY_REC_SIZE > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
      this.dv = new DataView(bigger.buffer);
    }
    const r = this.count * L.GCOPY_REC_SIZE;
    const dv = this.dv;
    dv.setUint32(r + L.GCOPY_SRC_MFN, srcMfn, true);
    dv.setUint32(r + L.GCOPY_DST_MFN, dstMfn, true);
    dv.setUint16(r + L.GCOPY_SRC_OFF, srcOff, true);
    dv.setUint16(r + L.GCOPY_DST_OFF, dstOff, true);
    dv.setUint16(r + L.GCOPY_LEN, len, true);
    dv.setUint16(r + L.GCOPY_SRC_DOM, srcDom, true);
    dv.setUint16(r + L.GCOPY_DST_DOM, dstDom, true);
    dv.setInt32(r + L.GCOPY_STATUS, 0, true);
    return this.count++;
  }

  /** Drops queued records (a run that was abandoned). */
  clear(): void {
    this.count = 0;
  }

  /** Runs the queued copies in the Wasm kernel (one call per IO window's worth of records)
   *  and returns each record's MST_* status. The batch is emptied. */
  run(): Int32Array {
    const n = this.count;
    const out = new Int32Array(n);
    for (let first = 0; first < n; first += L.GCOPY_MAX_RECS) {
      const k = Math.min(L.GCOPY_MAX_RECS, n - first);
      const bytes = this.buf.subarray(first * L.GCOPY_REC_SIZE, (first + k) * L.GCOPY_REC_SIZE);
      this.machine.u8.set(bytes, L.IO_BASE);
      this.x.gnttab_copy_batch(k);
      const dv = this.machine.dv;
      for (let i = 0; i < k; i++) out[first + i] = dv.getInt32(L.IO_BASE + i * L.GCOPY_REC_SIZE + L.GCOPY_STATUS, true);
    }
    this.count = 0;
    return out;
  }

  /** The same batch through the plain-TS reference (differential tests, benchmarks). */
  runReference(counters: HostCounters): Int32Array {
    const out = copyRecordsRef(this.machine, this.dv, this.count, counters);
    this.count = 0;
    return out;
  }
}
