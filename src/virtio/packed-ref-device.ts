// Plain-TS reference of the packed device side (assembly/virtq/packed-device.ts): the same
// walk, the same checks in the same order, the same records and counters.
import type { Machine } from "../wasm/machine.ts";
import { TsGuestMemory, newHostCounters, type HostCounters } from "../wasm/ts-guest-memory.ts";
import {
  checkRingArgs, decodeChains, encodeUsed, packedQueueFlags, type PackedChain, type PackedDeviceConfig, type UsedRec,
} from "../wasm/packed.ts";
import * as L from "../wasm/layout.ts";
import {
  armEvents, BufferCheck, D_ADDR, disarmEvents, D_FLAGS, D_ID, D_LEN, deviceLive, fail, isAvail, newRing, ringSetup, wantsNotify,
  wraps64, type RefRing,
} from "./packed-ref-common.ts";

const NO_ROOM = 0xffff;
const MAX_CHAIN_BYTES = 2 ** 32;
const sat32 = (v: number): number => (v > 0xffffffff ? 0xffffffff : v);

export class RefPackedDevice {
  readonly machine: Machine;
  readonly counters: HostCounters;
  readonly ring: RefRing;
  readonly mem: TsGuestMemory;
  readonly bufDomid: number;
  readonly maxSegsCfg: number;
  private readonly bufCheck: BufferCheck;
  slotsInFlight = 0;
  // The buffer-id table (the Wasm aux area).
  private readonly idWritable = new Uint32Array(L.PK_DEV_IDS);
  private readonly idSlots = new Uint16Array(L.PK_DEV_IDS);
  private readonly idHead = new Uint16Array(L.PK_DEV_IDS);
  // Walk state of the buffer being popped.
  private sRd = 0;
  private sWr = 0;
  private sSegs = 0;
  private sSeenWrite = false;
  private sSeg = 0;
  private sEnd = 0;
  private sTableDescs = 0;
  private tLo = 0;
  private tHi = 0;
  private tLen = 0;
  private tFlags = 0;
  private out: DataView = new DataView(new ArrayBuffer(0));
  /** End offset of the last record the latest pop committed. */
  popEnd = 0;
  private scratch = new DataView(new ArrayBuffer(1 << 20));

  constructor(machine: Machine, cfg: PackedDeviceConfig, counters: HostCounters = newHostCounters()) {
    this.machine = machine;
    this.counters = counters;
    this.ring = newRing(packedQueueFlags(cfg.features, cfg.strict), cfg.ringDomid);
    this.mem = new TsGuestMemory(machine, cfg.ringDomid, counters);
    this.bufDomid = cfg.bufDomid ?? L.DOMID_INVALID;
    this.maxSegsCfg = cfg.maxSegs ?? 0;
    this.bufCheck = new BufferCheck(machine, counters, this.bufDomid);
  }

  enable(size: number, desc: number, driverArea: number, deviceArea: number): number {
    checkRingArgs(size, desc, driverArea, deviceArea);
    const err = ringSetup(this.machine, this.counters, this.ring, size, desc, driverArea, deviceArea, true);
    if (err !== 0) return err;
    const r = this.ring;
    r.nextAvail = 0;
    r.availWrap = 1;
    r.nextUsed = 0;
    r.usedWrap = 1;
    return 0;
  }

  driverOk(): void {
    this.ring.flags |= L.QF_DRIVER_OK;
  }

  private segment(qf: number, maxSegs: number, lo: number, hi: number, len: number, write: boolean): number {
    if (write) this.sSeenWrite = true;
    else if (this.sSeenWrite) return L.VQ_E15_READ_AFTER_WRITE;
    if (len === 0 && (qf & L.QF_STRICT_E16) !== 0) return L.VQ_E16_ZERO_LENGTH;
    if (wraps64(lo, hi, len)) return L.VQ_E17_BUFFER_OUTSIDE_RAM;
    if (this.bufDomid !== L.DOMID_INVALID && !this.bufCheck.rangeOk64(lo, hi, len, write)) {
      return L.VQ_E17_BUFFER_OUTSIDE_RAM;
    }
    if (write) this.sWr += len;
    else this.sRd += len;
    if (this.sRd + this.sWr > MAX_CHAIN_BYTES) return L.VQ_E18_CHAIN_TOO_LONG_BYTES;
    if ((qf & L.QF_STRICT_E19) !== 0 && this.sSegs >= maxSegs) return L.VQ_E19_TOO_MANY_SEGMENTS;
    const s = this.sSeg;
    if (s + L.SEG_SIZE > this.sEnd) return NO_ROOM;
    const o = this.out;
    o.setUint32(s + L.SEG_ADDR, lo, true);
    o.setUint32(s + L.SEG_ADDR + 4, hi, true);
    o.setUint32(s + L.SEG_LEN, len, true);
    o.setUint32(s + L.SEG_FLAGS, write ? L.VRING_DESC_F_WRITE : 0, true);
    this.sSeg = s + L.SEG_SIZE;
    this.sSegs++;
    return 0;
  }

  private readEntry(gpa: number): boolean {
    const mem = this.mem;
    if (gpa % L.PAGE_SIZE <= L.PAGE_SIZE - 16) {
      const p = mem.addr(gpa, false);
      if (p < 0) return false;
      const dv = this.machine.dv;
      this.tLo = dv.getUint32(p + D_ADDR, true);
      this.tHi = dv.getUint32(p + D_ADDR + 4, true);
      this.tLen = dv.getUint32(p + D_LEN, true);
      this.tFlags = dv.getUint16(p + D_FLAGS, true);
      return true;
    }
    const b: number[] = [];
    for (let i = 0; i < 16; i++) {
      const p = mem.addr(gpa + i, false);
      if (p < 0) return false;
      b.push(this.machine.dv.getUint8(p));
    }
    const u32 = (k: number) => (b[k]! | (b[k + 1]! << 8) | (b[k + 2]! << 16) | (b[k + 3]! << 24)) >>> 0;
    this.tLo = u32(0);
    this.tHi = u32(4);
    this.tLen = u32(8);
    this.tFlags = b[14]! | (b[15]! << 8);
    return true;
  }

  private walkIndirect(qf: number, maxSegs: number, size: number, flags: number, lo: number, hi: number, len: number, slots: number): number {
    if ((qf & L.QF_INDIRECT) === 0) return L.VQ_E13_INDIRECT_NOT_NEGOTIATED;
    if (slots > 1) return L.VQ_E26_PACKED;
    if ((flags & L.VRING_DESC_F_NEXT) !== 0 && (qf & L.QF_STRICT_E14) !== 0) return L.VQ_E14_INDIRECT_WITH_NEXT;
    if (len === 0 || (len & 15) !== 0) return L.VQ_E11_BAD_INDIRECT_LEN;
    const n = len >>> 4;
    if (n > size) return L.VQ_E12_INDIRECT_TOO_BIG;
    if (hi !== 0 || lo + len - 1 >= 2 ** 32) return L.VQ_E17_BUFFER_OUTSIDE_RAM;
    for (let k = 0; k < n; k++) {
      if (!this.readEntry(lo + k * 16)) return L.VQ_E17_BUFFER_OUTSIDE_RAM;
      this.sTableDescs++;
      if ((this.tFlags & L.VRING_DESC_F_INDIRECT) !== 0) return L.VQ_E10_NESTED_INDIRECT;
      const err = this.segment(qf, maxSegs, this.tLo, this.tHi, this.tLen, (this.tFlags & L.VRING_DESC_F_WRITE) !== 0);
      if (err !== 0) return err;
    }
    return 0;
  }

  /** Pops up to `max` buffers into chain records at [off, off + len) of `out`. */
  pop(out: DataView, off: number, len: number, max: number): number {
    const r = this.ring;
    const c = this.counters;
    this.popEnd = off;
    if (!deviceLive(r, c)) return 0;
    this.out = out;
    this.bufCheck.refresh();
    const mem = this.mem;
    const qf = r.flags;
    const size = r.size;
    const desc = r.desc;
    const maxSegs = this.maxSegsCfg === 0 ? size : this.maxSegsCfg;
    let slot = r.nextAvail;
    let wrap = r.availWrap;
    let inSlots = this.slotsInFlight;
    this.sEnd = off + len;
    let rec = off;
    let n = 0;
    let cDescs = 0;
    let cTables = 0;
    let cRd = 0;
    let cWr = 0;
    const dv = this.machine.dv; // pops only read guest memory: no growth, the view stays valid
    let prevP = -1; // linear address of the slot before `slot`, when known
    while (n < max) {
      let p = slot !== 0 && prevP >= 0 && (prevP + 16) % L.PAGE_SIZE !== 0 ? prevP + 16 : mem.addr(desc + slot * 16, false);
      if (p < 0) { fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM); break; }
      let f = dv.getUint16(p + D_FLAGS, true);
      if (!isAvail(f, wrap)) break;
      if (inSlots >= size) { fail(r, c, L.VQ_E6_TOO_MANY_IN_FLIGHT); break; }
      if (rec + L.CHAIN_HDR_SIZE > this.sEnd) break;
      this.sRd = 0;
      this.sWr = 0;
      this.sSegs = 0;
      this.sSeenWrite = false;
      this.sSeg = rec + L.CHAIN_HDR_SIZE;
      this.sTableDescs = 0;
      let j = slot;
      let wj = wrap;
      let slots = 0;
      let id = 0;
      let indirect = false;
      let err = 0;
      for (;;) {
        slots++;
        const lo = dv.getUint32(p + D_ADDR, true);
        const hi = dv.getUint32(p + D_ADDR + 4, true);
        const dlen = dv.getUint32(p + D_LEN, true);
        id = dv.getUint16(p + D_ID, true);
        if ((f & L.VRING_DESC_F_INDIRECT) !== 0) {
          indirect = true;
          err = this.walkIndirect(qf, maxSegs, size, f, lo, hi, dlen, slots);
          break;
        }
        err = this.segment(qf, maxSegs, lo, hi, dlen, (f & L.VRING_DESC_F_WRITE) !== 0);
        if (err !== 0 || (f & L.VRING_DESC_F_NEXT) === 0) break;
        if (slots >= size) { err = L.VQ_E9_LOOP; break; }
        if (inSlots + slots >= size) { err = L.VQ_E6_TOO_MANY_IN_FLIGHT; break; }
        if (++j === size) { j = 0; wj ^= 1; }
        p = j !== 0 && (p + 16) % L.PAGE_SIZE !== 0 ? p + 16 : mem.addr(desc + j * 16, false);
        if (p < 0) { err = L.VQ_E3_RING_OUTSIDE_RAM; break; }
        f = dv.getUint16(p + D_FLAGS, true);
        if (!isAvail(f, wj)) { err = L.VQ_E7_HEAD_OUT_OF_RANGE; break; }
      }
      if (err === NO_ROOM) break;
      if (err !== 0) { fail(r, c, err); break; }
      if (this.idSlots[id] !== 0) { fail(r, c, L.VQ_E26_PACKED); break; }
      const wr = sat32(this.sWr);
      this.idWritable[id] = wr;
      this.idSlots[id] = slots;
      this.idHead[id] = slot;
      out.setUint16(rec + L.CHAIN_ID, id, true);
      out.setUint16(rec + L.CHAIN_NSEGS, this.sSegs, true);
      out.setUint16(rec + L.CHAIN_SLOTS, slots, true);
      out.setUint16(rec + L.CHAIN_FLAGS, indirect ? L.CHAINF_INDIRECT : 0, true);
      out.setUint32(rec + L.CHAIN_READABLE, sat32(this.sRd), true);
      out.setUint32(rec + L.CHAIN_WRITABLE, wr, true);
      rec = this.sSeg;
      prevP = p;
      if (++j === size) { j = 0; wj ^= 1; }
      slot = j;
      wrap = wj;
      inSlots += slots;
      n++;
      cDescs += slots + this.sTableDescs;
      if (indirect) cTables++;
      cRd += this.sRd;
      cWr += this.sWr;
    }
    this.popEnd = rec;
    r.nextAvail = slot;
    r.availWrap = wrap;
    this.slotsInFlight = inSlots;
    r.inFlight += n;
    if (n !== 0) {
      c[L.CNT_VQ_CHAINS_POPPED]! += n;
      c[L.CNT_VQ_DESCS_POPPED]! += cDescs;
      c[L.CNT_VQ_INDIRECT_TABLES]! += cTables;
      c[L.CNT_VQ_BYTES_READABLE]! += cRd;
      c[L.CNT_VQ_BYTES_WRITABLE]! += cWr;
    }
    return n;
  }

  /** pop() into an internal buffer, decoded. */
  popChains(max = 64): PackedChain[] {
    const n = this.pop(this.scratch, 0, this.scratch.byteLength, max);
    return decodeChains(this.scratch, 0, n);
  }

  /** Writes a used descriptor's id and len (and flags unless < 0); its linear address or -1. */
  private writeUsed(u: number, id: number, len: number, flags: number): number {
    const p = this.mem.addr(this.ring.desc + u * 16, true);
    if (p < 0) return -1;
    const dv = this.machine.dv;
    dv.setUint16(p + D_ID, id, true);
    dv.setUint32(p + D_LEN, len, true);
    if (flags >= 0) dv.setUint16(p + D_FLAGS, flags, true);
    return p;
  }

  /** Completes `n` used records (id, len) read from `src` at `off`. */
  pushRaw(src: DataView, off: number, n: number): number {
    const r = this.ring;
    const c = this.counters;
    if (!deviceLive(r, c)) return 0;
    const size = r.size;
    let u = r.nextUsed;
    let uw = r.usedWrap;
    let done = 0;
    let total = 0;
    let bytes = 0;
    let err = 0;
    const usedBits = (w: number) => (w !== 0 ? L.VRING_PACKED_DESC_F_AVAIL | L.VRING_PACKED_DESC_F_USED : 0);
    if ((r.flags & L.QF_IN_ORDER) !== 0) {
      let expect = u;
      let lastId = 0;
      let lastLen = 0;
      for (let k = 0; k < n; k++) {
        const id = src.getUint32(off + k * 8 + L.PK_USED_REC_ID, true);
        const len = src.getUint32(off + k * 8 + L.PK_USED_REC_LEN, true);
        if (id > 0xffff) { err = L.VQ_E21_BAD_USED_ID; break; }
        const s = this.idSlots[id]!;
        if (s === 0 || this.idHead[id] !== expect) { err = L.VQ_E21_BAD_USED_ID; break; }
        if (len > this.idWritable[id]!) { err = L.VQ_E22_USED_LEN_TOO_BIG; break; }
        this.idSlots[id] = 0;
        expect += s;
        if (expect >= size) expect -= size;
        total += s;
        lastId = id;
        lastLen = len;
        done++;
      }
      if (done !== 0) {
        const fl = usedBits(uw) | (lastLen !== 0 ? L.VRING_DESC_F_WRITE : 0);
        if (this.writeUsed(u, lastId, lastLen, fl) < 0) {
          if (err === 0) err = L.VQ_E3_RING_OUTSIDE_RAM;
        } else {
          bytes = lastLen;
        }
        u += total;
        if (u >= size) { u -= size; uw ^= 1; }
      }
    } else {
      let headP = -1;
      let headF = 0;
      for (let k = 0; k < n; k++) {
        const id = src.getUint32(off + k * 8 + L.PK_USED_REC_ID, true);
        const len = src.getUint32(off + k * 8 + L.PK_USED_REC_LEN, true);
        if (id > 0xffff) { err = L.VQ_E21_BAD_USED_ID; break; }
        const s = this.idSlots[id]!;
        if (s === 0) { err = L.VQ_E21_BAD_USED_ID; break; }
        if (len > this.idWritable[id]!) { err = L.VQ_E22_USED_LEN_TOO_BIG; break; }
        const fl = usedBits(uw) | (len !== 0 ? L.VRING_DESC_F_WRITE : 0);
        const p = this.writeUsed(u, id, len, k === 0 ? -1 : fl);
        if (p < 0) { err = L.VQ_E3_RING_OUTSIDE_RAM; break; }
        if (k === 0) { headP = p; headF = fl; }
        this.idSlots[id] = 0;
        u += s;
        if (u >= size) { u -= size; uw ^= 1; }
        total += s;
        bytes += len;
        done++;
      }
      if (headP >= 0) this.machine.dv.setUint16(headP + D_FLAGS, headF, true);
    }
    r.nextUsed = u;
    r.usedWrap = uw;
    this.slotsInFlight -= total;
    r.inFlight -= done;
    r.numAdded = Math.min(0xffff, r.numAdded + total);
    if (done !== 0) {
      c[L.CNT_VQ_USED_PUSHED]! += done;
      c[L.CNT_VQ_USED_BYTES]! += bytes;
    }
    if (err !== 0) fail(r, c, err);
    return done;
  }

  push(used: readonly UsedRec[]): number {
    encodeUsed(this.scratch, 0, used);
    return this.pushRaw(this.scratch, 0, used.length);
  }

  /** devPopPush(): pop, then complete each buffer with len = its writable bytes. */
  popPush(out: DataView, off: number, len: number, max: number): number {
    const room = len > max * L.PK_USED_REC_SIZE ? len - max * L.PK_USED_REC_SIZE : 0;
    const n = this.pop(out, off, room, max);
    if (n === 0) return 0;
    const recs = this.popEnd;
    let rec = off;
    for (let i = 0; i < n; i++) {
      out.setUint32(recs + i * 8 + L.PK_USED_REC_ID, out.getUint16(rec + L.CHAIN_ID, true), true);
      out.setUint32(recs + i * 8 + L.PK_USED_REC_LEN, out.getUint32(rec + L.CHAIN_WRITABLE, true), true);
      rec += L.CHAIN_HDR_SIZE + out.getUint16(rec + L.CHAIN_NSEGS, true) * L.SEG_SIZE;
    }
    return this.pushRaw(out, recs, n);
  }

  needIrq(): boolean {
    const r = this.ring;
    const c = this.counters;
    if (!deviceLive(r, c)) return false;
    if (r.numAdded === 0) return false;
    const p = this.mem.addr(r.driverArea, false);
    if (p < 0) { fail(r, c, L.VQ_E3_RING_OUTSIDE_RAM); return false; }
    const yes = wantsNotify(r.flags, r.size, this.machine.dv.getUint32(p, true), r.nextUsed, r.usedWrap, r.numAdded);
    r.numAdded = 0;
    c[yes ? L.CNT_VQ_IRQ_SENT : L.CNT_VQ_IRQ_SUPPRESSED]!++;
    return yes;
  }

  enableNotify(): boolean {
    if (!deviceLive(this.ring, this.counters)) return false;
    return armEvents(this.mem, this.ring, this.counters, this.ring.deviceArea, this.ring.nextAvail, this.ring.availWrap, isAvail);
  }

  disableNotify(): void {
    if (!deviceLive(this.ring, this.counters)) return;
    disarmEvents(this.mem, this.ring, this.counters, this.ring.deviceArea);
  }

  get error(): number {
    return this.ring.error;
  }

  get broken(): boolean {
    return (this.ring.flags & L.QF_BROKEN) !== 0;
  }
}
