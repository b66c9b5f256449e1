// Plain-TS reference of the split virtqueue, device side (assembly/virtq/split.ts and
// split-used.ts): the same algorithm, error codes and counter effects, over TsGuestMemory and
// a HostCounters array laid out like the Wasm counters block. Queue state lives in this
// object, not in a Wasm queue block. Chain records and used records use the same binary
// layout as the kernels (CHAIN_*, SEG_*, QS_USED_*), in a caller-given DataView.
// The driver side is in split-ref-driver.ts.
import type { Machine } from "../wasm/machine.ts";
import { newHostCounters, type HostCounters } from "../wasm/ts-guest-memory.ts";
import * as L from "../wasm/layout.ts";
import { GPA_LIMIT, bufferOk, domExists, rangeAccessible } from "./split-ref-check.ts";

import { RefQueueBase, needEvent } from "./split-ref-base.ts";

export { SplitRefDriver } from "./split-ref-driver.ts";
export { RefQueueBase, needEvent } from "./split-ref-base.ts";

const ENABLE_FLAGS = L.QF_EVENT_IDX | L.QF_INDIRECT | L.QF_IN_ORDER | L.QF_STRICT_E14 | L.QF_STRICT_E16 | L.QF_STRICT_E19;
const NO_SPACE = 0xffff;
const MAX_RECORD_SEGS = 65535;

export class SplitRefDevice extends RefQueueBase {
  readonly maxSize: number;
  bufDomid = L.DOMID_INVALID;
  maxSegs = 0;
  maxIndirect = 0;
  nextAvail = 0;
  nextUsed = 0;
  numAdded = 0;
  inFlight = 0;
  signalled = 0;
  signalledValid = false;
  notifyOn = true;
  // Per head: writable bytes of the popped chain and pops not yet completed; FIFO of heads.
  private writableOf = new Uint32Array(0);
  private outstanding = new Uint32Array(0);
  private fifo = new Uint16Array(0);

  constructor(machine: Machine, ringDomid: number, maxSize: number, counters: HostCounters = newHostCounters()) {
    super(machine, ringDomid, counters);
    this.maxSize = maxSize;
  }

  /** Device reset of this queue (splitDevReset): everything cleared, the ring forgotten. */
  reset(): void {
    this.flags = this.error = this.status = this.size = this.desc = this.avail = this.used = 0;
    this.bufDomid = L.DOMID_INVALID;
    this.maxSegs = this.maxIndirect = 0;
    this.nextAvail = this.nextUsed = this.numAdded = this.inFlight = this.signalled = 0;
    this.signalledValid = false;
    this.notifyOn = true;
    this.mem.flush();
  }

  enable(size: number, desc: number, avail: number, used: number, features: number, bufDomid: number, maxSegs: number, maxIndirect: number): number {
    if (this.broken) {
      this.status = this.error;
      return this.error;
    }
    this.flags = (this.flags & ~(ENABLE_FLAGS | L.QF_READY)) | (features & ENABLE_FLAGS);
    Object.assign(this, { size, desc, avail, used, bufDomid, maxSegs, maxIndirect });
    this.nextAvail = this.nextUsed = this.numAdded = this.inFlight = this.signalled = 0;
    this.signalledValid = false;
    this.notifyOn = true;
    this.mem.flush();
    if (size === 0 || (size & (size - 1)) !== 0 || size > L.VIRTQ_MAX_SIZE || size > this.maxSize) return this.broke(L.VQ_E1_BAD_SIZE);
    if (desc % 16 !== 0 || avail % 2 !== 0 || used % 4 !== 0) return this.broke(L.VQ_E2_MISALIGNED);
    const m = this.machine;
    const c = this.counters;
    const dom = this.mem.domid;
    if (!rangeAccessible(m, c, dom, desc, size * 16, false) || !rangeAccessible(m, c, dom, avail, 6 + size * 2, false) ||
        !rangeAccessible(m, c, dom, used, 6 + size * 8, true)) {
      return this.broke(L.VQ_E3_RING_OUTSIDE_RAM);
    }
    this.writableOf = new Uint32Array(size);
    this.outstanding = new Uint32Array(size);
    this.fifo = new Uint16Array(size);
    this.flags |= L.QF_READY;
    this.status = L.VQ_OK;
    return L.VQ_OK;
  }

  /** See splitDevRestore(). */
  restore(nextAvail: number, nextUsed: number): void {
    this.nextAvail = nextAvail & 0xffff;
    this.nextUsed = nextUsed & 0xffff;
    this.numAdded = this.inFlight = 0;
    this.signalledValid = false;
    this.writableOf.fill(0);
    this.outstanding.fill(0);
    this.fifo.fill(0);
  }

  setFlags(set: number, clear: number): void {
    const allowed = L.QF_DRIVER_OK | L.QF_STRICT_E14 | L.QF_STRICT_E16 | L.QF_STRICT_E19;
    this.flags = (this.flags & ~(clear & allowed)) | (set & allowed);
  }

  private usable(): boolean {
    if (this.broken) {
      this.status = this.error;
      return false;
    }
    if ((this.flags & (L.QF_READY | L.QF_DRIVER_OK)) !== (L.QF_READY | L.QF_DRIVER_OK)) {
      this.refuse(L.VQ_E4_NOT_READY);
      return false;
    }
    this.status = L.VQ_OK;
    return true;
  }

  // Results of walk() for the chain just walked.
  private wSegs = 0;
  private wSlots = 0;
  private wDescs = 0;
  private wIndirect = 0;
  private wReadable = 0;
  private wWritable = 0;
  private readonly tmp = new DataView(new ArrayBuffer(16));

  /** Linear address of a direct-table or indirect-table descriptor, or -1 (counted). An
   *  indirect descriptor straddling two pages is assembled in `tmp` (returned as -2). */
  private indirectDesc(gpa: number): number {
    const off = gpa % L.PAGE_SIZE;
    if (off <= L.PAGE_SIZE - 16) return this.mem.addr(gpa, false);
    const a = this.mem.addr(gpa, false);
    if (a < 0) return -1;
    const first = L.PAGE_SIZE - off;
    const b = this.mem.addr(gpa + first, false);
    if (b < 0) return -1;
    const u8 = this.machine.u8;
    for (let i = 0; i < 16; i++) this.tmp.setUint8(i, i < first ? u8[a + i]! : u8[b + i - first]!);
    return -2;
  }

  private walk(head: number, out: DataView, rec: number, end: number, maxSegs: number, maxInd: number): number {
    const flags = this.flags;
    const mem = this.mem;
    let table = this.desc;
    let tsize = this.size;
    let idx = head;
    let inInd = false;
    let steps = 0;
    let seenWrite = false;
    let readable = 0;
    let writable = 0;
    let nsegs = 0;
    let descs = 0;
    let slots = 0;
    let seg = rec + L.CHAIN_HDR_SIZE;
    this.wIndirect = 0;
    for (;;) {
      if (++steps > tsize) return L.VQ_E9_LOOP;
      const gpa = table + idx * 16;
      let dv = this.popDv;
      let d: number;
      if (!inInd) {
        // One-page cache of the table for this pop (as the kernel's).
        const page = gpa >>> L.PAGE_SHIFT;
        if (page !== this.dPage) {
          const b = mem.addr(page * L.PAGE_SIZE, false);
          if (b < 0) { this.dPage = -1; return L.VQ_E3_RING_OUTSIDE_RAM; }
          this.dPage = page;
          this.dBase = b;
        }
        d = this.dBase + (gpa & L.PAGE_MASK);
        slots++;
      } else {
        d = this.indirectDesc(gpa);
        if (d === -1) return L.VQ_E17_BUFFER_OUTSIDE_RAM;
        if (d === -2) { dv = this.tmp; d = 0; }
      }
      const lo = dv.getUint32(d, true);
      const hi = dv.getUint32(d + 4, true);
      const len = dv.getUint32(d + 8, true);
      const f = dv.getUint16(d + 12, true);
      const next = dv.getUint16(d + 14, true);
      descs++;
      if (f & L.VRING_DESC_F_INDIRECT) {
        if (inInd) return L.VQ_E10_NESTED_INDIRECT;
        if ((flags & L.QF_INDIRECT) === 0) return L.VQ_E13_INDIRECT_NOT_NEGOTIATED;
        if ((f & L.VRING_DESC_F_NEXT) !== 0 && (flags & L.QF_STRICT_E14) !== 0) return L.VQ_E14_INDIRECT_WITH_NEXT;
        if (len === 0 || (len & 15) !== 0) return L.VQ_E11_BAD_INDIRECT_LEN;
        if (len >>> 4 > maxInd) return L.VQ_E12_INDIRECT_TOO_BIG;
        if (hi !== 0 || len > GPA_LIMIT - lo) return L.VQ_E17_BUFFER_OUTSIDE_RAM;
        table = lo;
        tsize = len >>> 4;
        idx = 0;
        steps = 0;
        inInd = true;
        this.wIndirect = 1;
        continue;
      }
      const w = (f & L.VRING_DESC_F_WRITE) !== 0;
      if (w) seenWrite = true;
      else if (seenWrite) return L.VQ_E15_READ_AFTER_WRITE;
      if (len === 0 && (flags & L.QF_STRICT_E16) !== 0) return L.VQ_E16_ZERO_LENGTH;
      // Inside the buffer domain's RAM (or, with no buffer domain, unable to wrap) passes at
      // once, as in the kernel; everything else goes through bufferOk().
      const quick = this.ramEnd < 0 ? hi !== 0xffffffff : hi === 0 && lo < this.ramEnd && len <= this.ramEnd - lo;
      if (!quick && !bufferOk(this.machine, this.counters, this.bufDomid, lo, hi, len, w)) return L.VQ_E17_BUFFER_OUTSIDE_RAM;
      if (w) writable += len;
      else readable += len;
      if (readable + writable > 0xffffffff) return L.VQ_E18_CHAIN_TOO_LONG_BYTES;
      if (++nsegs > maxSegs) return L.VQ_E19_TOO_MANY_SEGMENTS;
      if (seg + L.SEG_SIZE > end) return NO_SPACE;
      out.setUint32(seg + L.SEG_ADDR, lo, true);
      out.setUint32(seg + L.SEG_ADDR + 4, hi, true);
      out.setUint32(seg + L.SEG_LEN, len, true);
      out.setUint32(seg + L.SEG_FLAGS, f & L.VRING_DESC_F_WRITE, true);
      seg += L.SEG_SIZE;
      if ((f & L.VRING_DESC_F_NEXT) === 0) break;
      if (next >= tsize) return L.VQ_E8_NEXT_OUT_OF_RANGE;
      idx = next;
    }
    this.wSegs = nsegs;
    this.wSlots = slots;
    this.wDescs = descs;
    this.wReadable = readable;
    this.wWritable = writable;
    return L.VQ_OK;
  }

  // Per-pop state: the view (nothing is written to guest memory during the walk, so memory
  // cannot grow under it), page caches of the avail ring and the descriptor table, and the
  // end of the buffer domain's RAM (-1: no buffer domain, only the 2^64 wrap is checked).
  private popDv: DataView = new DataView(new ArrayBuffer(0));
  private aPage = -1;
  private aBase = 0;
  private dPage = -1;
  private dBase = 0;
  private ramEnd = -1;

  /** Pops up to `max` chains as CHAIN records into `out` at [off, off+cap). Returns the count. */
  pop(out: DataView, off: number, cap: number, max: number): number {
    if (!this.usable()) return 0;
    const mem = this.mem;
    this.popDv = this.machine.dv;
    this.aPage = this.dPage = -1;
    const dv0 = this.popDv;
    const bd = this.bufDomid;
    this.ramEnd = bd === L.DOMID_INVALID ? -1 : domExists(dv0, bd)
      ? dv0.getUint32(L.DOMAINS_BASE + bd * L.DOMAIN_ENTRY_SIZE + L.DOM_RAM_PAGES, true) * L.PAGE_SIZE : 0;
    const size = this.size;
    const mask = size - 1;
    const ia = mem.addr(this.avail + 2, false);
    if (ia < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return 0; }
    const availIdx = this.machine.dv.getUint16(ia, true);
    let nextAvail = this.nextAvail;
    if (((availIdx - nextAvail) & 0xffff) > size) { this.broke(L.VQ_E5_AVAIL_IDX_JUMP); return 0; }
    let inFlight = this.inFlight;
    const inOrder = (this.flags & L.QF_IN_ORDER) !== 0;
    let maxSegs = MAX_RECORD_SEGS;
    if (this.flags & L.QF_STRICT_E19) {
      maxSegs = this.maxSegs === 0 ? size : this.maxSegs;
      if (maxSegs > MAX_RECORD_SEGS) maxSegs = MAX_RECORD_SEGS;
    }
    let maxInd = this.maxIndirect;
    if (maxInd === 0 || maxInd > 65535) maxInd = 65535;
    const end = off + cap;
    let rec = off;
    let n = 0;
    let err = L.VQ_OK;
    let descs = 0;
    let tables = 0;
    let rbytes = 0;
    let wbytes = 0;
    while (n < max && nextAvail !== availIdx) {
      if (inFlight >= size) { err = L.VQ_E6_TOO_MANY_IN_FLIGHT; break; }
      const slot = this.avail + 4 + (nextAvail & mask) * 2;
      const page = slot >>> L.PAGE_SHIFT;
      if (page !== this.aPage) {
        const b = mem.addr(page * L.PAGE_SIZE, false);
        if (b < 0) { err = L.VQ_E3_RING_OUTSIDE_RAM; break; }
        this.aPage = page;
        this.aBase = b;
      }
      const head = this.popDv.getUint16(this.aBase + (slot & L.PAGE_MASK), true);
      if (head >= size) { err = L.VQ_E7_HEAD_OUT_OF_RANGE; break; }
      const r = this.walk(head, out, rec, end, maxSegs, maxInd);
      if (r !== L.VQ_OK) {
        if (r !== NO_SPACE) err = r;
        break;
      }
      out.setUint16(rec + L.CHAIN_ID, head, true);
      out.setUint16(rec + L.CHAIN_NSEGS, this.wSegs, true);
      out.setUint16(rec + L.CHAIN_SLOTS, this.wSlots, true);
      out.setUint16(rec + L.CHAIN_FLAGS, this.wIndirect !== 0 ? L.CHAINF_INDIRECT : 0, true);
      out.setUint32(rec + L.CHAIN_READABLE, this.wReadable, true);
      out.setUint32(rec + L.CHAIN_WRITABLE, this.wWritable, true);
      this.writableOf[head] = this.wWritable;
      this.outstanding[head]!++;
      if (inOrder) this.fifo[nextAvail & mask] = head;
      nextAvail = (nextAvail + 1) & 0xffff;
      inFlight++;
      n++;
      rec += L.CHAIN_HDR_SIZE + this.wSegs * L.SEG_SIZE;
      descs += this.wDescs;
      tables += this.wIndirect;
      rbytes += this.wReadable;
      wbytes += this.wWritable;
    }
    this.nextAvail = nextAvail;
    this.inFlight = inFlight;
    if (n !== 0) {
      this.count(L.CNT_VQ_CHAINS_POPPED, n);
      this.count(L.CNT_VQ_DESCS_POPPED, descs);
      this.count(L.CNT_VQ_INDIRECT_TABLES, tables);
      this.count(L.CNT_VQ_BYTES_READABLE, rbytes);
      this.count(L.CNT_VQ_BYTES_WRITABLE, wbytes);
    }
    if (err !== L.VQ_OK) {
      this.broke(err);
      return n;
    }
    if (n !== 0 && (this.flags & L.QF_EVENT_IDX) !== 0 && this.notifyOn) {
      const ev = mem.addr(this.used + 4 + size * 8, true);
      if (ev < 0) this.broke(L.VQ_E3_RING_OUTSIDE_RAM);
      else this.machine.dv.setUint16(ev, nextAvail, true);
    }
    return n;
  }

  /** Completes used records {id, len} (chains = false) or CHAIN records (chains = true) read
   *  from `inp` at `off`; see splitPush(). Returns the number of records taken. */
  push(inp: DataView, off: number, n: number, chains: boolean): number {
    if (!this.usable()) return 0;
    const mem = this.mem;
    const size = this.size;
    const mask = size - 1;
    const inOrder = (this.flags & L.QF_IN_ORDER) !== 0;
    const start = this.nextUsed;
    let nextUsed = start;
    let inFlight = this.inFlight;
    let done = 0;
    let bytes = 0;
    let k = 0;
    let p = off;
    let uPage = -1;
    let uBase = 0;
    let dv = this.machine.dv;
    for (; k < n; k++) {
      let id: number;
      let len: number;
      let step: number;
      if (chains) {
        id = inp.getUint16(p + L.CHAIN_ID, true);
        len = inp.getUint32(p + L.CHAIN_WRITABLE, true);
        step = L.CHAIN_HDR_SIZE + inp.getUint16(p + L.CHAIN_NSEGS, true) * L.SEG_SIZE;
      } else {
        id = inp.getUint32(p + L.QS_USED_ID, true);
        len = inp.getUint32(p + L.QS_USED_LEN, true);
        step = L.QS_USED_REC_SIZE;
      }
      if (id >= size) { this.refuse(L.VQ_E21_BAD_USED_ID); break; }
      const outstanding = this.outstanding[id]!;
      if (outstanding === 0) { this.refuse(L.VQ_E21_BAD_USED_ID); break; }
      let batch = 1;
      const oldest = (this.nextAvail - inFlight) & 0xffff;
      if (inOrder) {
        let j = 0;
        while (j < inFlight && this.fifo[(oldest + j) & mask] !== id) j++;
        if (j === inFlight) { this.refuse(L.VQ_E21_BAD_USED_ID); break; }
        batch = j + 1;
      }
      if (len > this.writableOf[id]!) { this.refuse(L.VQ_E22_USED_LEN_TOO_BIG); break; }
      // The id and len words are written separately (an element may straddle a page), through
      // a one-page cache filled after the write translation (which may populate the page).
      const elem = this.used + 4 + (nextUsed & mask) * 8;
      let ok = true;
      for (let w = 0; w < 8; w += 4) {
        const page = (elem + w) >>> L.PAGE_SHIFT;
        if (page !== uPage) {
          const b = mem.addr(page * L.PAGE_SIZE, true);
          if (b < 0) { uPage = -1; ok = false; break; }
          uPage = page;
          uBase = b;
          dv = this.machine.dv;
        }
        dv.setUint32(uBase + ((elem + w) & L.PAGE_MASK), w === 0 ? id : len, true);
      }
      if (!ok) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); break; }
      for (let j = 0; j + 1 < batch; j++) {
        const h = this.fifo[(oldest + j) & mask]!;
        this.outstanding[h]!--;
        bytes += this.writableOf[h]!;
      }
      this.outstanding[id] = outstanding - 1;
      bytes += len;
      nextUsed = (nextUsed + batch) & 0xffff;
      inFlight -= batch;
      done += batch;
      p += step;
    }
    if (done === 0 || this.broken) return k;
    const idxa = mem.addr(this.used + 2, true);
    if (idxa < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return k; }
    this.machine.dv.setUint16(idxa, nextUsed, true);
    this.nextUsed = nextUsed;
    this.inFlight = inFlight;
    this.numAdded = (this.numAdded + done) & 0xffff;
    const d = (nextUsed - this.signalled) & 0xffff;
    if ((d << 16) >> 16 < ((nextUsed - start) & 0xffff)) this.signalledValid = false;
    this.count(L.CNT_VQ_USED_PUSHED, done);
    this.count(L.CNT_VQ_USED_BYTES, bytes);
    return k;
  }

  /** Used-buffer notification decision; see splitNeedIrq(). */
  needIrq(): boolean {
    if (!this.usable()) return false;
    let notify: boolean;
    if ((this.flags & L.QF_EVENT_IDX) === 0) {
      const a = this.mem.addr(this.avail, false);
      if (a < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return false; }
      notify = (this.machine.dv.getUint16(a, true) & L.VRING_AVAIL_F_NO_INTERRUPT) === 0;
    } else {
      const newIdx = this.nextUsed;
      const old = this.signalled;
      const valid = this.signalledValid;
      this.signalled = newIdx;
      this.signalledValid = true;
      if (!valid) notify = true;
      else {
        const a = this.mem.addr(this.avail + 4 + this.size * 2, false);
        if (a < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return false; }
        notify = needEvent(this.machine.dv.getUint16(a, true), newIdx, old);
      }
    }
    this.numAdded = 0;
    this.counters[notify ? L.CNT_VQ_IRQ_SENT : L.CNT_VQ_IRQ_SUPPRESSED]!++;
    return notify;
  }

  /** Available-buffer notifications on/off; returns true when work arrived (enable only). */
  notify(enable: boolean): boolean {
    if (!this.usable()) return false;
    this.notifyOn = enable;
    if (this.flags & L.QF_EVENT_IDX) {
      if (enable) {
        const a = this.mem.addr(this.used + 4 + this.size * 8, true);
        if (a < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return false; }
        this.machine.dv.setUint16(a, this.nextAvail, true);
      }
    } else {
      const a = this.mem.addr(this.used, true);
      if (a < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return false; }
      this.machine.dv.setUint16(a, enable ? 0 : L.VRING_USED_F_NO_NOTIFY, true);
    }
    if (!enable) return false;
    const ia = this.mem.addr(this.avail + 2, false);
    if (ia < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return false; }
    return this.machine.dv.getUint16(ia, true) !== this.nextAvail;
  }
}
