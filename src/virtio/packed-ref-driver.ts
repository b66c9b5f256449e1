// Plain-TS reference of the packed driver side (assembly/virtq/packed-driver.ts).
import type { Machine } from "../wasm/machine.ts";
import { TsGuestMemory, newHostCounters, type HostCounters } from "../wasm/ts-guest-memory.ts";
import {
  checkIndirectTable, checkRingArgs, encodeSegs, packedQueueFlags, type PackedDriverConfig, type PackedSeg, type UsedRec,
} from "../wasm/packed.ts";
import * as L from "../wasm/layout.ts";
import { dmaGpa, type DmaAddr } from "./dma-addr.ts";
import {
  armEvents, D_ADDR, D_FLAGS, D_ID, D_LEN, disarmEvents, driverLive, fail, isUsed, newRing, ringSetup, wantsNotify, type RefRing,
} from "./packed-ref-common.ts";

const availBits = (w: number) => (w !== 0 ? L.VRING_PACKED_DESC_F_AVAIL : L.VRING_PACKED_DESC_F_USED);

export class RefPackedDriver {
  readonly machine: Machine;
  readonly counters: HostCounters;
  readonly cfg: PackedDriverConfig;
  ring: RefRing;
  readonly mem: TsGuestMemory;
  freeHead = 0;
  numFree = 0;
  private idSlots = new Uint16Array(0);
  private idNext = new Uint16Array(0);
  private idWritable = new Uint32Array(0);
  private slotId = new Uint16Array(0);
  private segBuf = new DataView(new ArrayBuffer(64 * L.SEG_SIZE));

  constructor(machine: Machine, cfg: PackedDriverConfig, counters: HostCounters = newHostCounters()) {
    this.machine = machine;
    this.counters = counters;
    this.cfg = cfg;
    this.ring = newRing(packedQueueFlags(cfg.features), cfg.ringDomid);
    this.mem = new TsGuestMemory(machine, cfg.ringDomid, counters);
  }

  init(size: number, desc: number, driverArea: number, deviceArea: number): number {
    checkRingArgs(size, desc, driverArea, deviceArea);
    const r = (this.ring = newRing(packedQueueFlags(this.cfg.features), this.cfg.ringDomid));
    this.freeHead = 0;
    this.numFree = 0;
    const c = this.counters;
    const err = ringSetup(this.machine, c, r, size, desc, driverArea, deviceArea, false);
    if (err !== 0) return err;
    const bytes = size * 16;
    for (let done = 0; done < bytes;) {
      const a = desc + done;
      const n = Math.min(L.PAGE_SIZE - (a % L.PAGE_SIZE), bytes - done);
      const p = this.mem.addr(a, true);
      if (p < 0) return fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM);
      this.machine.u8.fill(0, p, p + n);
      done += n;
    }
    if (!this.mem.w32(driverArea, 0)) return fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM);
    this.idSlots = new Uint16Array(size);
    this.idNext = Uint16Array.from({ length: size }, (_, i) => i + 1);
    this.idWritable = new Uint32Array(size);
    this.slotId = new Uint16Array(size);
    this.freeHead = 0;
    this.numFree = size;
    r.nextAvail = 0;
    r.availWrap = 1;
    r.nextUsed = 0;
    r.usedWrap = 1;
    r.numAdded = 0;
    r.inFlight = 0;
    return 0;
  }

  private writeEntry(gpa: number, lo: number, hi: number, len: number, flags: number): boolean {
    const mem = this.mem;
    if (gpa % L.PAGE_SIZE <= L.PAGE_SIZE - 16) {
      const p = mem.addr(gpa, true);
      if (p < 0) return false;
      const dv = this.machine.dv;
      dv.setUint32(p + D_ADDR, lo, true);
      dv.setUint32(p + D_ADDR + 4, hi, true);
      dv.setUint32(p + D_LEN, len, true);
      dv.setUint16(p + D_ID, 0, true);
      dv.setUint16(p + D_FLAGS, flags, true);
      return true;
    }
    const bytes = new Uint8Array(16);
    const v = new DataView(bytes.buffer);
    v.setUint32(0, lo, true);
    v.setUint32(4, hi, true);
    v.setUint32(8, len, true);
    v.setUint16(14, flags, true);
    for (let i = 0; i < 16; i++) {
      const p = mem.addr(gpa + i, true);
      if (p < 0) return false;
      this.machine.dv.setUint8(p, bytes[i]!);
    }
    return true;
  }

  /** drvAdd(): the buffer id, or -VQ_ENOSPC, -VQ_E17 (table not writable) or -error. */
  add(segs: readonly PackedSeg[], indirectTable?: DmaAddr): number {
    checkIndirectTable(this.cfg, indirectTable);
    if (segs.length * L.SEG_SIZE > L.IO_SIZE) throw new RangeError("packed add: too many elements");
    if (segs.length * L.SEG_SIZE > this.segBuf.byteLength) this.segBuf = new DataView(new ArrayBuffer(segs.length * L.SEG_SIZE));
    const sb = this.segBuf;
    encodeSegs(sb, 0, segs);
    const r = this.ring;
    const c = this.counters;
    if (!driverLive(r, c)) return -r.error;
    const nsegs = segs.length;
    const size = r.size;
    const indirect = indirectTable !== undefined && (r.flags & L.QF_INDIRECT) !== 0;
    const need = indirect ? 1 : nsegs;
    if (nsegs === 0 || nsegs > size || this.numFree < need) return -L.VQ_ENOSPC;
    const head = r.nextAvail;
    const wrap = r.availWrap;
    const id = this.freeHead;
    let writable = 0;
    let headP = -1;
    let headF = 0;
    const segLo = (k: number) => sb.getUint32(k * 16 + L.SEG_ADDR, true);
    const segHi = (k: number) => sb.getUint32(k * 16 + L.SEG_ADDR + 4, true);
    const segLen = (k: number) => sb.getUint32(k * 16 + L.SEG_LEN, true);
    const segW = (k: number) => sb.getUint16(k * 16 + L.SEG_FLAGS, true) & L.VRING_DESC_F_WRITE;
    if (indirect) {
      const table = dmaGpa(indirectTable!);
      const tbytes = nsegs * 16;
      if (table + tbytes - 1 >= 2 ** 32) return -L.VQ_E17_BUFFER_OUTSIDE_RAM;
      for (let k = 0; k < nsegs; k++) {
        if (segW(k) !== 0) writable += segLen(k);
        if (!this.writeEntry(table + k * 16, segLo(k), segHi(k), segLen(k), segW(k))) return -L.VQ_E17_BUFFER_OUTSIDE_RAM;
      }
      headP = this.mem.addr(r.desc + head * 16, true);
      if (headP < 0) return -fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM);
      const dv = this.machine.dv;
      dv.setUint32(headP + D_ADDR, table % 2 ** 32, true);
      dv.setUint32(headP + D_ADDR + 4, Math.floor(table / 2 ** 32), true);
      dv.setUint32(headP + D_LEN, tbytes, true);
      dv.setUint16(headP + D_ID, id, true);
      headF = L.VRING_DESC_F_INDIRECT | availBits(wrap);
    } else {
      let j = head;
      let wj = wrap;
      for (let k = 0; k < nsegs; k++) {
        const p = this.mem.addr(r.desc + j * 16, true);
        if (p < 0) return -fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM);
        const w = segW(k);
        if (w !== 0) writable += segLen(k);
        const dv = this.machine.dv;
        dv.setUint32(p + D_ADDR, segLo(k), true);
        dv.setUint32(p + D_ADDR + 4, segHi(k), true);
        dv.setUint32(p + D_LEN, segLen(k), true);
        dv.setUint16(p + D_ID, id, true);
        const fl = (k + 1 < nsegs ? L.VRING_DESC_F_NEXT : 0) | w | availBits(wj);
        if (k === 0) { headP = p; headF = fl; }
        else dv.setUint16(p + D_FLAGS, fl, true);
        if (++j === size) { j = 0; wj ^= 1; }
      }
    }
    this.machine.dv.setUint16(headP + D_FLAGS, headF, true);
    this.freeHead = this.idNext[id]!;
    this.idSlots[id] = need;
    this.idWritable[id] = Math.min(writable, 0xffffffff);
    this.slotId[head] = id;
    this.numFree -= need;
    let next = head + need;
    let nw = wrap;
    if (next >= size) { next -= size; nw ^= 1; }
    r.nextAvail = next;
    r.availWrap = nw;
    r.numAdded = Math.min(0xffff, r.numAdded + need);
    r.inFlight++;
    c[L.CNT_VQ_CHAINS_ADDED]!++;
    c[L.CNT_VQ_DESCS_ADDED]! += indirect ? 1 + nsegs : nsegs;
    return id;
  }

  kickPrepare(): boolean {
    const r = this.ring;
    const c = this.counters;
    if (!driverLive(r, c)) return false;
    if (r.numAdded === 0) return false;
    const p = this.mem.addr(r.deviceArea, false);
    if (p < 0) { fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM); return false; }
    const yes = wantsNotify(r.flags, r.size, this.machine.dv.getUint32(p, true), r.nextAvail, r.availWrap, r.numAdded);
    r.numAdded = 0;
    c[yes ? L.CNT_VQ_NOTIFY_SENT : L.CNT_VQ_NOTIFY_SUPPRESSED]!++;
    return yes;
  }

  getUsed(max?: number): UsedRec[] {
    const r = this.ring;
    const c = this.counters;
    const out: UsedRec[] = [];
    if (!driverLive(r, c)) return out;
    const limit = Math.min(max ?? Math.max(1, r.size), L.IO_SIZE / L.PK_USED_REC_SIZE);
    const inOrder = (r.flags & L.QF_IN_ORDER) !== 0;
    const size = r.size;
    let u = r.nextUsed;
    let uw = r.usedWrap;
    let err = 0;
    while (out.length < limit) {
      const p = this.mem.addr(r.desc + u * 16, false);
      if (p < 0) { err = L.VQ_E3_RING_OUTSIDE_RAM; break; }
      const dv = this.machine.dv;
      if (!isUsed(dv.getUint16(p + D_FLAGS, true), uw)) break;
      const id = dv.getUint16(p + D_ID, true);
      const len = dv.getUint32(p + D_LEN, true);
      let k = 1;
      if (inOrder) {
        let cur = u;
        k = 0;
        let found = false;
        while (k < r.inFlight) {
          const hid = this.slotId[cur]!;
          k++;
          if (hid === id) { found = true; break; }
          cur += this.idSlots[hid]!;
          if (cur >= size) cur -= size;
        }
        if (!found) { err = L.VQ_E21_BAD_USED_ID; break; }
        if (out.length + k > limit) break;
      } else if (id >= size || this.idSlots[id] === 0) {
        err = L.VQ_E21_BAD_USED_ID;
        break;
      }
      for (let i = 0; i < k; i++) {
        const hid = inOrder ? this.slotId[u]! : id;
        const s = this.idSlots[hid]!;
        out.push({ id: hid, len: hid === id ? len : this.idWritable[hid]! });
        this.idSlots[hid] = 0;
        this.idNext[hid] = this.freeHead;
        this.freeHead = hid;
        this.numFree += s;
        r.inFlight--;
        u += s;
        if (u >= size) { u -= size; uw ^= 1; }
      }
    }
    r.nextUsed = u;
    r.usedWrap = uw;
    if (out.length !== 0) c[L.CNT_VQ_CHAINS_RECLAIMED]! += out.length;
    if (err !== 0) fail(r, c, err);
    return out;
  }

  enableCb(): boolean {
    if (!driverLive(this.ring, this.counters)) return false;
    return armEvents(this.mem, this.ring, this.counters, this.ring.driverArea, this.ring.nextUsed, this.ring.usedWrap, isUsed);
  }

  disableCb(): void {
    if (!driverLive(this.ring, this.counters)) return;
    disarmEvents(this.mem, this.ring, this.counters, this.ring.driverArea);
  }

  get error(): number {
    return this.ring.error;
  }

  get broken(): boolean {
    return (this.ring.flags & L.QF_BROKEN) !== 0;
  }
}
