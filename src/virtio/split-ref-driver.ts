// Plain-TS reference of the split virtqueue, driver side (assembly/virtq/split-driver.ts and
// split-reclaim.ts): same algorithm, codes and counters. Add requests and used records use the
// kernels' binary layouts (QS_ADD_*, SEG_*, QS_USED_*) in a caller-given DataView.
import type { Machine } from "../wasm/machine.ts";
import { newHostCounters, type HostCounters } from "../wasm/ts-guest-memory.ts";
import * as L from "../wasm/layout.ts";
import { rangeAccessible } from "./split-ref-check.ts";
import { RefQueueBase, needEvent } from "./split-ref-base.ts";

const DRV_FLAGS = L.QF_EVENT_IDX | L.QF_INDIRECT | L.QF_IN_ORDER;

export class SplitRefDriver extends RefQueueBase {
  shadow = 0; // avail idx the driver will publish
  lastUsed = 0;
  numAdded = 0;
  inFlight = 0;
  freeHead = 0;
  numFree = 0;
  // Private per-descriptor free-list links, per-head descriptor counts and writable bytes,
  // and heads in availability order.
  private nextOf = new Uint16Array(0);
  private ndescs = new Uint16Array(0);
  private writableOf = new Uint32Array(0);
  private fifo = new Uint16Array(0);

  constructor(machine: Machine, ringDomid: number, counters: HostCounters = newHostCounters()) {
    super(machine, ringDomid, counters);
  }

  private put16(gpa: number, v: number): boolean {
    const a = this.mem.addr(gpa, true);
    if (a < 0) return false;
    this.machine.dv.setUint16(a, v, true);
    return true;
  }

  private get16(gpa: number): number {
    const a = this.mem.addr(gpa, false);
    return a < 0 ? -1 : this.machine.dv.getUint16(a, true);
  }

  init(size: number, desc: number, avail: number, used: number, features: number): number {
    this.flags = features & DRV_FLAGS;
    this.error = 0;
    Object.assign(this, { size, desc, avail, used });
    this.shadow = this.lastUsed = this.numAdded = this.inFlight = this.freeHead = this.numFree = 0;
    this.mem.flush();
    if (size === 0 || (size & (size - 1)) !== 0 || size > L.VIRTQ_MAX_SIZE) return this.broke(L.VQ_E1_BAD_SIZE);
    if (desc % 16 !== 0 || avail % 2 !== 0 || used % 4 !== 0) return this.broke(L.VQ_E2_MISALIGNED);
    const m = this.machine;
    const c = this.counters;
    const dom = this.mem.domid;
    if (!rangeAccessible(m, c, dom, desc, size * 16, true) || !rangeAccessible(m, c, dom, avail, 6 + size * 2, true) ||
        !rangeAccessible(m, c, dom, used, 6 + size * 8, true)) {
      return this.broke(L.VQ_E3_RING_OUTSIDE_RAM);
    }
    const ok = this.put16(avail, 0) && this.put16(avail + 2, 0) && this.put16(avail + 4 + size * 2, 0) &&
      this.put16(used, 0) && this.put16(used + 2, 0) && this.put16(used + 4 + size * 8, 0);
    if (!ok) return this.broke(L.VQ_E3_RING_OUTSIDE_RAM);
    this.nextOf = new Uint16Array(size).map((_, i) => (i + 1) & (size - 1));
    this.ndescs = new Uint16Array(size);
    this.writableOf = new Uint32Array(size);
    this.fifo = new Uint16Array(size);
    this.numFree = size;
    this.flags |= L.QF_READY;
    this.status = L.VQ_OK;
    return L.VQ_OK;
  }

  private usable(): boolean {
    if (this.broken) {
      this.status = this.error;
      return false;
    }
    if ((this.flags & L.QF_READY) === 0) {
      this.status = L.VQ_E4_NOT_READY;
      return false;
    }
    this.status = L.VQ_OK;
    return true;
  }

  /** Writes a descriptor at `gpa` (any alignment; may straddle a page). */
  private putDesc(gpa: number, lo: number, hi: number, len: number, flags: number, next: number): boolean {
    const bytes = new DataView(new ArrayBuffer(16));
    bytes.setUint32(0, lo, true);
    bytes.setUint32(4, hi, true);
    bytes.setUint32(8, len, true);
    bytes.setUint16(12, flags, true);
    bytes.setUint16(14, next, true);
    const off = gpa % L.PAGE_SIZE;
    const first = off <= L.PAGE_SIZE - 16 ? 16 : L.PAGE_SIZE - off;
    const a = this.mem.addr(gpa, true);
    if (a < 0) return false;
    let b = -1;
    if (first < 16) {
      b = this.mem.addr(gpa + first, true);
      if (b < 0) return false;
    }
    const u8 = this.machine.u8;
    for (let i = 0; i < 16; i++) u8[i < first ? a + i : b + i - first] = bytes.getUint8(i);
    return true;
  }

  /** Adds request records from `inp` at `off`; see splitDrvAdd(). Returns chains added. */
  add(inp: DataView, off: number, n: number): number {
    if (!this.usable()) return 0;
    const size = this.size;
    const mask = size - 1;
    const inOrder = (this.flags & L.QF_IN_ORDER) !== 0;
    const indirectOn = (this.flags & L.QF_INDIRECT) !== 0;
    let descs = 0;
    let k = 0;
    let rec = off;
    for (; k < n; k++) {
      const nsegs = inp.getUint16(rec + L.QS_ADD_NSEGS, true);
      const segs = rec + L.QS_ADD_HDR_SIZE;
      if (nsegs === 0) { this.status = L.VQ_SPLIT_BAD_ADD; break; }
      let seenWrite = false;
      let wsum = 0;
      let total = 0;
      let bad = false;
      for (let i = 0; i < nsegs; i++) {
        const s = segs + i * L.SEG_SIZE;
        const len = inp.getUint32(s + L.SEG_LEN, true);
        if (inp.getUint16(s + L.SEG_FLAGS, true) & L.VRING_DESC_F_WRITE) { seenWrite = true; wsum += len; }
        else if (seenWrite) bad = true;
        total += len;
      }
      if (bad || total > 0xffffffff) { this.status = L.VQ_SPLIT_BAD_ADD; break; }
      const useInd = indirectOn && nsegs > 1;
      const need = useInd ? 1 : nsegs;
      if (need > this.numFree) { this.status = L.VQ_ENOSPC; break; }
      const head = this.freeHead;
      let last = head;
      const segAt = (i: number) => {
        const s = segs + i * L.SEG_SIZE;
        return {
          lo: inp.getUint32(s + L.SEG_ADDR, true), hi: inp.getUint32(s + L.SEG_ADDR + 4, true),
          len: inp.getUint32(s + L.SEG_LEN, true), w: inp.getUint16(s + L.SEG_FLAGS, true) & L.VRING_DESC_F_WRITE,
        };
      };
      if (useInd) {
        const tlo = inp.getUint32(rec + L.QS_ADD_TABLE, true);
        const thi = inp.getUint32(rec + L.QS_ADD_TABLE + 4, true);
        const table = thi * 2 ** 32 + tlo;
        if (!rangeAccessible(this.machine, this.counters, this.mem.domid, table, nsegs * 16, true)) {
          this.status = L.VQ_SPLIT_BAD_ADD;
          break;
        }
        for (let i = 0; i < nsegs; i++) {
          const s = segAt(i);
          const more = i + 1 < nsegs;
          this.putDesc(table + i * 16, s.lo, s.hi, s.len, s.w | (more ? L.VRING_DESC_F_NEXT : 0), more ? i + 1 : 0);
        }
        const next = inOrder ? (head + 1) & mask : this.nextOf[head]!;
        if (!this.putDesc(this.desc + head * 16, tlo, thi, nsegs * 16, L.VRING_DESC_F_INDIRECT, next)) {
          this.broke(L.VQ_E3_RING_OUTSIDE_RAM);
          break;
        }
        descs += nsegs + 1;
      } else {
        let i = head;
        let ok = true;
        for (let j = 0; j < nsegs; j++) {
          const s = segAt(j);
          const next = inOrder ? (i + 1) & mask : this.nextOf[i]!;
          const more = j + 1 < nsegs;
          if (!this.putDesc(this.desc + i * 16, s.lo, s.hi, s.len, s.w | (more ? L.VRING_DESC_F_NEXT : 0), next)) { ok = false; break; }
          last = i;
          if (more) i = next;
        }
        if (!ok) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); break; }
        descs += nsegs;
      }
      this.freeHead = inOrder ? (last + 1) & mask : this.nextOf[last]!;
      if (!this.put16(this.avail + 4 + (this.shadow & mask) * 2, head)) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); break; }
      this.numFree -= need;
      this.ndescs[head] = need;
      this.writableOf[head] = wsum;
      this.fifo[this.shadow & mask] = head;
      inp.setUint16(rec + L.QS_ADD_HEAD, head, true);
      this.shadow = (this.shadow + 1) & 0xffff;
      this.numAdded = (this.numAdded + 1) & 0xffff;
      this.inFlight++;
      rec += L.QS_ADD_HDR_SIZE + nsegs * L.SEG_SIZE;
    }
    this.count(L.CNT_VQ_CHAINS_ADDED, k);
    this.count(L.CNT_VQ_DESCS_ADDED, descs);
    return k;
  }

  /** Publishes avail.idx and decides whether to kick; see splitDrvKick(). */
  kick(): boolean {
    if (!this.usable()) return false;
    const shadow = this.shadow;
    const old = (shadow - this.numAdded) & 0xffff;
    if (!this.put16(this.avail + 2, shadow)) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return false; }
    this.numAdded = 0;
    let notify: boolean;
    if (this.flags & L.QF_EVENT_IDX) {
      const ev = this.get16(this.used + 4 + this.size * 8);
      if (ev < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return false; }
      notify = needEvent(ev, shadow, old);
    } else {
      const f = this.get16(this.used);
      if (f < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return false; }
      notify = (f & L.VRING_USED_F_NO_NOTIFY) === 0;
    }
    this.counters[notify ? L.CNT_VQ_NOTIFY_SENT : L.CNT_VQ_NOTIFY_SUPPRESSED]!++;
    return notify;
  }

  /** Reclaims up to `max` used records into `out` at `off`; see splitDrvReclaim(). */
  reclaim(out: DataView, off: number, max: number): number {
    if (!this.usable()) return 0;
    const size = this.size;
    const mask = size - 1;
    const inOrder = (this.flags & L.QF_IN_ORDER) !== 0;
    const usedIdx = this.get16(this.used + 2);
    if (usedIdx < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return 0; }
    let k = 0;
    let chains = 0;
    while (k < max && this.lastUsed !== usedIdx) {
      const elem = this.used + 4 + (this.lastUsed & mask) * 8;
      const ida = this.mem.addr(elem, false);
      if (ida < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); break; }
      const id = this.machine.dv.getUint32(ida, true);
      const lena = this.mem.addr(elem + 4, false);
      if (lena < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); break; }
      const len = this.machine.dv.getUint32(lena, true);
      if (id >= size || this.ndescs[id] === 0) { this.broke(L.VQ_E21_BAD_USED_ID); break; }
      let batch = 1;
      const oldest = (this.shadow - this.inFlight) & 0xffff;
      if (inOrder) {
        let j = 0;
        while (j < this.inFlight && this.fifo[(oldest + j) & mask] !== id) j++;
        if (j === this.inFlight || j + 1 > ((usedIdx - this.lastUsed) & 0xffff)) { this.broke(L.VQ_E21_BAD_USED_ID); break; }
        batch = j + 1;
        if (k + batch > max) break;
      }
      for (let j = 0; j < batch; j++) {
        const h = batch === 1 ? id : this.fifo[(oldest + j) & mask]!;
        const r = off + k * L.QS_USED_REC_SIZE;
        out.setUint32(r + L.QS_USED_ID, h, true);
        out.setUint32(r + L.QS_USED_LEN, j + 1 === batch ? len : this.writableOf[h]!, true);
        const nd = this.ndescs[h]!;
        this.ndescs[h] = 0;
        if (!inOrder) {
          let last = h;
          for (let s = 1; s < nd; s++) last = this.nextOf[last]!;
          this.nextOf[last] = this.freeHead;
          this.freeHead = h;
        }
        this.numFree += nd;
        k++;
      }
      this.lastUsed = (this.lastUsed + batch) & 0xffff;
      this.inFlight -= batch;
      chains += batch;
    }
    this.count(L.CNT_VQ_CHAINS_RECLAIMED, chains);
    return k;
  }

  /** Used-buffer notifications on/off; returns true when entries arrived (enable only). */
  enableCb(enable: boolean): boolean {
    if (!this.usable()) return false;
    const ok = (this.flags & L.QF_EVENT_IDX) !== 0
      ? this.put16(this.avail + 4 + this.size * 2, enable ? this.lastUsed : 0)
      : this.put16(this.avail, enable ? 0 : L.VRING_AVAIL_F_NO_INTERRUPT);
    if (!ok) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return false; }
    if (!enable) return false;
    const ui = this.get16(this.used + 2);
    if (ui < 0) { this.broke(L.VQ_E3_RING_OUTSIDE_RAM); return false; }
    return ui !== this.lastUsed;
  }
}
