// Packed virtqueue, device side: pop a batch of buffers with full validation, push used
// descriptors, decide interrupts, toggle kick suppression. virtio.md 2, 7.6 and 8.
//
// Error codes for conditions the packed ring adds to the general rows of virtio.md 8:
//   E6   the driver made a slot available that the device still owns: the slots popped and not
//        yet covered by used descriptors would exceed Q (so, too, would buffers in flight)
//   E7   a NEXT chain runs into a slot that is not available (the packed analogue of an index
//        out of range: the chain runs past what the driver published)
//   E9   a NEXT chain longer than Q descriptors
//   E21  push of an id that is not outstanding (in-order: not the oldest outstanding buffer)
//   E26  an INDIRECT descriptor inside a NEXT chain, or a buffer id already in flight
import {
  Q_FLAGS, Q_SIZE, Q_DESC, Q_DRIVER, Q_DEVICE, Q_AUX, Q_BUF_DOMID, Q_MAX_SEGS, Q_NEXT_AVAIL, Q_NEXT_USED,
  Q_AVAIL_WRAP, Q_USED_WRAP, Q_NUM_ADDED, Q_IN_FLIGHT, Q_PK_SLOTS_IN_FLIGHT, QF_EVENT_IDX,
  QF_INDIRECT, QF_IN_ORDER, QF_STRICT_E14, QF_STRICT_E16, QF_STRICT_E19, DOMID_INVALID,
  VQ_E3_RING_OUTSIDE_RAM, VQ_E6_TOO_MANY_IN_FLIGHT, VQ_E7_HEAD_OUT_OF_RANGE, VQ_E9_LOOP,
  VQ_E10_NESTED_INDIRECT, VQ_E11_BAD_INDIRECT_LEN, VQ_E12_INDIRECT_TOO_BIG,
  VQ_E13_INDIRECT_NOT_NEGOTIATED, VQ_E14_INDIRECT_WITH_NEXT, VQ_E15_READ_AFTER_WRITE,
  VQ_E16_ZERO_LENGTH, VQ_E17_BUFFER_OUTSIDE_RAM, VQ_E18_CHAIN_TOO_LONG_BYTES,
  VQ_E19_TOO_MANY_SEGMENTS, VQ_E21_BAD_USED_ID, VQ_E22_USED_LEN_TOO_BIG, VQ_E26_PACKED,
  CHAIN_HDR_SIZE, CHAIN_ID, CHAIN_NSEGS, CHAIN_SLOTS, CHAIN_FLAGS, CHAIN_READABLE, CHAIN_WRITABLE,
  CHAINF_INDIRECT, SEG_SIZE, SEG_ADDR, SEG_LEN, SEG_FLAGS, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE,
  VRING_DESC_F_INDIRECT, VRING_PACKED_DESC_F_AVAIL, VRING_PACKED_DESC_F_USED,
  VRING_PACKED_EVENT_FLAG_ENABLE, VRING_PACKED_EVENT_FLAG_DISABLE, VRING_PACKED_EVENT_FLAG_DESC,
  PK_ID_WRITABLE, PK_ID_SLOTS, PK_ID_HEAD, PK_USED_REC_SIZE, PK_USED_REC_ID, PK_USED_REC_LEN,
  CNT_VQ_CHAINS_POPPED, CNT_VQ_DESCS_POPPED, CNT_VQ_INDIRECT_TABLES, CNT_VQ_BYTES_READABLE,
  CNT_VQ_BYTES_WRITABLE, CNT_VQ_USED_PUSHED, CNT_VQ_USED_BYTES, CNT_VQ_IRQ_SENT, CNT_VQ_IRQ_SUPPRESSED,
  PAGE_MASK, PAGE_SHIFT,
} from "../layout";
import { count } from "../counters";
import { qBlock, fail, ringAddr } from "./common";
import { bDom, bTop, bMaxGfn, bufContext, bufRangeOk, bufLastOk, bufLastFast, ringFast } from "./packed-access";
import { D_ADDR, D_LEN, D_ID, D_FLAGS, DESC_SIZE, isAvail, deviceLive, wantsNotify } from "./packed";

/** Returned by the walk when the output area is full: the buffer is left for the next call. */
const NO_ROOM: u32 = 0xffff;
// What the walk's outer loop does before (re)entering its call-free inner loop.
const STEP_WALK: u32 = 0;
const STEP_RING: u32 = 1; // translate the descriptor at slot j
const STEP_PROBE: u32 = 2; // check the current element's pages the slow way
const STEP_INDIRECT: u32 = 3; // walk the current descriptor's table
const STEP_DONE: u32 = 4;
const MAX_CHAIN_BYTES: u64 = 0x1_0000_0000;

// Walk state of the buffer being popped (globals: no closures, no allocation).
let sRd: u64 = 0; // readable bytes so far
let sWr: u64 = 0; // writable bytes so far
let sSegs: u32 = 0;
let sSeenWrite = false;
let sSeg: usize = 0; // where the next segment record goes
let sEnd: usize = 0; // end of the output area
let sTableDescs: u32 = 0; // indirect entries read
// The descriptor just read from an indirect table.
let tAddr: u64 = 0;
let tLen: u32 = 0;
let tFlags: u32 = 0;
/** End of the last record the latest pop committed. */
export let popEnd: usize = 0;

@inline function sat32(v: u64): u32 {
  return v > 0xffffffff ? 0xffffffff : <u32>v;
}

/** Validates one buffer element and appends its segment record; 0, an error code or NO_ROOM. */
@inline function segment(qf: u32, bufDom: u32, maxSegs: u32, addr: u64, len: u32, write: bool): u32 {
  if (write) sSeenWrite = true;
  else if (sSeenWrite) return VQ_E15_READ_AFTER_WRITE;
  if (len == 0 && (qf & QF_STRICT_E16) != 0) return VQ_E16_ZERO_LENGTH;
  if (len != 0 && addr + <u64>(len - 1) < addr) return VQ_E17_BUFFER_OUTSIDE_RAM;
  if (bufDom != DOMID_INVALID && !bufRangeOk(bDom, bTop, bMaxGfn, addr, len, write)) return VQ_E17_BUFFER_OUTSIDE_RAM;
  if (write) sWr += len;
  else sRd += len;
  if (sRd + sWr > MAX_CHAIN_BYTES) return VQ_E18_CHAIN_TOO_LONG_BYTES;
  if ((qf & QF_STRICT_E19) != 0 && sSegs >= maxSegs) return VQ_E19_TOO_MANY_SEGMENTS;
  const s = sSeg;
  if (s + SEG_SIZE > sEnd) return NO_ROOM;
  store<u64>(s, addr, SEG_ADDR);
  store<u32>(s, len, SEG_LEN);
  store<u32>(s, write ? VRING_DESC_F_WRITE : 0, SEG_FLAGS); // also clears the pad
  sSeg = s + SEG_SIZE;
  sSegs++;
  return 0;
}

/** Reads indirect entry `gpa` into tAddr/tLen/tFlags; false when the ring domain may not read
 *  it. Tables need no alignment, so an entry may straddle two pages: read it byte by byte. */
function readEntry(qb: usize, gpa: u64): bool {
  if ((<u32>gpa & PAGE_MASK) <= PAGE_MASK - 15) {
    const p = ringAddr(qb, gpa, false);
    if (p == 0) return false;
    tAddr = load<u64>(p, D_ADDR);
    tLen = load<u32>(p, D_LEN);
    tFlags = load<u16>(p, D_FLAGS);
    return true;
  }
  let lo: u64 = 0;
  let hi: u64 = 0;
  for (let i: u32 = 0; i < 16; i++) {
    const p = ringAddr(qb, gpa + i, false);
    if (p == 0) return false;
    const b = <u64>load<u8>(p);
    if (i < 8) lo |= b << (i * 8);
    else hi |= b << ((i - 8) * 8);
  }
  tAddr = lo;
  tLen = <u32>hi;
  tFlags = <u32>(hi >> 48);
  return true;
}

/** The buffer is one INDIRECT descriptor (`flags`, table at `addr`, `len` bytes) found as the
 *  `slots`-th descriptor of its list: validates it and walks the table. */
function walkIndirect(qb: usize, qf: u32, bufDom: u32, maxSegs: u32, size: u32, flags: u32, addr: u64, len: u32, slots: u32): u32 {
  if ((qf & QF_INDIRECT) == 0) return VQ_E13_INDIRECT_NOT_NEGOTIATED;
  if (slots > 1) return VQ_E26_PACKED; // INDIRECT inside a NEXT chain
  if ((flags & VRING_DESC_F_NEXT) != 0 && (qf & QF_STRICT_E14) != 0) return VQ_E14_INDIRECT_WITH_NEXT;
  if (len == 0 || (len & 15) != 0) return VQ_E11_BAD_INDIRECT_LEN;
  const n = len >> 4;
  if (n > size) return VQ_E12_INDIRECT_TOO_BIG;
  const last = addr + <u64>(len - 1);
  if (last < addr || (last >> 32) != 0) return VQ_E17_BUFFER_OUTSIDE_RAM;
  for (let k: u32 = 0; k < n; k++) {
    if (!readEntry(qb, addr + (<u64>k << 4))) return VQ_E17_BUFFER_OUTSIDE_RAM;
    sTableDescs++;
    // Only WRITE means something in a table entry; NEXT and the id are ignored.
    if ((tFlags & VRING_DESC_F_INDIRECT) != 0) return VQ_E10_NESTED_INDIRECT;
    const err = segment(qf, bufDom, maxSegs, tAddr, tLen, (tFlags & VRING_DESC_F_WRITE) != 0);
    if (err != 0) return err;
  }
  return 0;
}

/** Pops up to `max` available buffers into chain records at [out, out + outLen). Returns how
 *  many were popped; on a ring error the queue fails and the buffers before it are returned. */
export function devPop(q: u32, out: usize, outLen: u32, max: u32): i32 {
  const qb = qBlock(q);
  popEnd = out;
  if (!deviceLive(qb)) return 0;
  const qf = load<u32>(qb, Q_FLAGS);
  const size = load<u32>(qb, Q_SIZE);
  const desc = load<u64>(qb, Q_DESC);
  const aux = <usize>load<u32>(qb, Q_AUX);
  const bufDom = load<u32>(qb, Q_BUF_DOMID);
  let maxSegs = load<u32>(qb, Q_MAX_SEGS);
  if (maxSegs == 0) maxSegs = size;
  let slot = <u32>load<u16>(qb, Q_NEXT_AVAIL);
  let wrap = <u32>load<u8>(qb, Q_AVAIL_WRAP);
  let inSlots = load<u32>(qb, Q_PK_SLOTS_IN_FLIGHT);
  bufContext(bufDom);
  const bTop_ = bTop;
  const bMaxGfn_ = bMaxGfn;
  const end = out + outLen;
  sEnd = end;
  let rec = out;
  let n: u32 = 0;
  let cDescs: u64 = 0;
  let cTables: u64 = 0;
  let cRd: u64 = 0;
  let cWr: u64 = 0;
  // Linear address of the slot before `slot` when known (0 otherwise): the next descriptor is
  // usually 16 bytes further in the same page, so the translation is reused.
  let prevP: usize = 0;
  let failed: u32 = 0; // the ring error that stopped the pop (reported after the loop)
  while (n < max) {
    let p = slot != 0 && prevP != 0 && ((<u32>desc + (slot << 4)) & PAGE_MASK) != 0
      ? prevP + DESC_SIZE : ringFast(qb, desc + (<u64>slot << 4), false);
    if (p == 0) { failed = VQ_E3_RING_OUTSIDE_RAM; break; }
    let f = <u32>load<u16>(p, D_FLAGS);
    if (!isAvail(f, wrap)) break;
    if (inSlots >= size) { failed = VQ_E6_TOO_MANY_IN_FLIGHT; break; }
    if (rec + CHAIN_HDR_SIZE > end) break;
    // The walk state lives in locals; segment() (globals) is only used inside indirect
    // tables, which always start from the initial state (INDIRECT must be the first
    // descriptor, or the buffer fails with E26 before any element is taken).
    // The inner loop handles the common case without calls; whatever needs one (a ring
    // translation at a page boundary or wrap, a buffer page the fast test is unsure about, an
    // indirect table) leaves it with a step for the outer loop, which then resumes the walk
    // at the same descriptor. The checks run in the same order either way.
    const first = rec + CHAIN_HDR_SIZE;
    let rd: u64 = 0;
    let wr: u64 = 0;
    let seenWrite = false;
    let seg = first;
    let tableDescs: u32 = 0;
    let j = slot;
    let wj = wrap;
    let slots: u32 = 1;
    let err: u32 = 0;
    let step = STEP_WALK;
    let rangeChecked = false; // the current element's pages were checked the slow way
    while (true) {
      if (step == STEP_WALK) {
        // (re)enter the inner loop below
      } else if (step == STEP_RING) {
        p = ringFast(qb, desc + (<u64>j << 4), false);
        if (p == 0) { err = VQ_E3_RING_OUTSIDE_RAM; break; }
        f = load<u16>(p, D_FLAGS);
        if (!isAvail(f, wj)) { err = VQ_E7_HEAD_OUT_OF_RANGE; break; }
      } else if (step == STEP_PROBE) {
        const addr = load<u64>(p, D_ADDR);
        if (!bufLastOk(bufDom, bTop_, bMaxGfn_, addr, addr + <u64>(load<u32>(p, D_LEN) - 1), (f & VRING_DESC_F_WRITE) != 0)) {
          err = VQ_E17_BUFFER_OUTSIDE_RAM;
          break;
        }
        rangeChecked = true;
      } else if (step == STEP_INDIRECT) {
        sRd = 0;
        sWr = 0;
        sSegs = 0;
        sSeenWrite = false;
        sSeg = seg;
        sTableDescs = 0;
        err = walkIndirect(qb, qf, bufDom, maxSegs, size, f, load<u64>(p, D_ADDR), load<u32>(p, D_LEN), slots);
        rd = sRd;
        wr = sWr;
        seg = sSeg;
        tableDescs = sTableDescs;
        break;
      }
      step = STEP_WALK;
      while (true) {
        const addr = load<u64>(p, D_ADDR);
        const len = load<u32>(p, D_LEN);
        if ((f & VRING_DESC_F_INDIRECT) != 0) { step = STEP_INDIRECT; break; }
        // segment(), inlined over the locals: the same checks in the same order.
        const write = (f & VRING_DESC_F_WRITE) != 0;
        if (write) seenWrite = true;
        else if (seenWrite) { err = VQ_E15_READ_AFTER_WRITE; break; }
        if (len == 0 && (qf & QF_STRICT_E16) != 0) { err = VQ_E16_ZERO_LENGTH; break; }
        if (len != 0) {
          const last = addr + <u64>(len - 1);
          if (last < addr) { err = VQ_E17_BUFFER_OUTSIDE_RAM; break; }
          if (bufDom != DOMID_INVALID && !rangeChecked && !bufLastFast(bufDom, bTop_, bMaxGfn_, addr, last, write)) {
            step = STEP_PROBE;
            break;
          }
        }
        rangeChecked = false;
        if (write) wr += len;
        else rd += len;
        if (rd + wr > MAX_CHAIN_BYTES) { err = VQ_E18_CHAIN_TOO_LONG_BYTES; break; }
        if ((qf & QF_STRICT_E19) != 0 && <u32>(seg - first) >> 4 >= maxSegs) { err = VQ_E19_TOO_MANY_SEGMENTS; break; }
        if (seg + SEG_SIZE > end) { err = NO_ROOM; break; }
        // SEG_LEN and SEG_FLAGS (with its pad) share the second u64 of the record.
        store<u64>(seg, addr, SEG_ADDR);
        store<u64>(seg, <u64>len | (write ? <u64>VRING_DESC_F_WRITE << 32 : 0), SEG_LEN);
        seg += SEG_SIZE;
        if ((f & VRING_DESC_F_NEXT) == 0) { step = STEP_DONE; break; }
        if (slots >= size) { err = VQ_E9_LOOP; break; }
        if (inSlots + slots >= size) { err = VQ_E6_TOO_MANY_IN_FLIGHT; break; }
        if (++j == size) { j = 0; wj ^= 1; }
        slots++;
        // Usually the next descriptor is 16 bytes further in the same frame (frames are
        // page-aligned in linear memory, so the page offset is the guest one).
        if (j == 0 || ((p + DESC_SIZE) & PAGE_MASK) == 0) { step = STEP_RING; break; }
        p += DESC_SIZE;
        f = load<u16>(p, D_FLAGS);
        if (!isAvail(f, wj)) { err = VQ_E7_HEAD_OUT_OF_RANGE; break; }
      }
      if (err != 0 || step == STEP_DONE) break;
    }
    if (err == NO_ROOM) break;
    if (err != 0) { failed = err; break; }
    // The walk ends on the buffer's last descriptor: it holds the id (and INDIRECT, if any).
    const id = <u32>load<u16>(p, D_ID);
    const indirect = (f & VRING_DESC_F_INDIRECT) != 0;
    const e = aux + (<usize>id << 3);
    if (load<u16>(e, PK_ID_SLOTS) != 0) { failed = VQ_E26_PACKED; break; } // id already in flight
    const wr32 = sat32(wr);
    const segs = <u32>(seg - first) >> 4;
    // Whole u64 stores over adjacent fields (PK_ID_WRITABLE/SLOTS/HEAD; CHAIN_ID/NSEGS/SLOTS/
    // FLAGS; CHAIN_READABLE/WRITABLE), little-endian as the layout reads them.
    store<u64>(e, <u64>wr32 | (<u64>slots << 32) | (<u64>slot << 48), PK_ID_WRITABLE);
    store<u64>(rec, <u64>id | (<u64>segs << 16) | (<u64>slots << 32) | (indirect ? <u64>CHAINF_INDIRECT << 48 : 0), CHAIN_ID);
    store<u64>(rec, <u64>sat32(rd) | (<u64>wr32 << 32), CHAIN_READABLE);
    rec = seg;
    prevP = p;
    if (++j == size) { j = 0; wj ^= 1; }
    slot = j;
    wrap = wj;
    inSlots += slots;
    n++;
    cDescs += slots + tableDescs;
    if (indirect) cTables++;
    cRd += rd;
    cWr += wr;
  }
  if (failed != 0) fail(qb, failed);
  popEnd = rec;
  store<u16>(qb, <u16>slot, Q_NEXT_AVAIL);
  store<u8>(qb, <u8>wrap, Q_AVAIL_WRAP);
  store<u32>(qb, inSlots, Q_PK_SLOTS_IN_FLIGHT);
  store<u32>(qb, load<u32>(qb, Q_IN_FLIGHT) + n, Q_IN_FLIGHT);
  if (n != 0) {
    count(CNT_VQ_CHAINS_POPPED, n);
    count(CNT_VQ_DESCS_POPPED, cDescs);
    if (cTables != 0) count(CNT_VQ_INDIRECT_TABLES, cTables);
    count(CNT_VQ_BYTES_READABLE, cRd);
    count(CNT_VQ_BYTES_WRITABLE, cWr);
  }
  return <i32>n;
}

/** Completes `n` buffers given as used records (id, len) at `src`: one used descriptor per buffer
 *  (in-order: one for the whole batch, with the id and len of the last), the first one's flags
 *  written last so that the driver sees the batch at once. Returns how many were completed; on
 *  a bad record the ones before it are published and the queue fails. */
export function devPush(q: u32, src: usize, n: u32): i32 {
  const qb = qBlock(q);
  if (!deviceLive(qb)) return 0;
  const qf = load<u32>(qb, Q_FLAGS);
  const size = load<u32>(qb, Q_SIZE);
  const desc = load<u64>(qb, Q_DESC);
  const aux = <usize>load<u32>(qb, Q_AUX);
  let u = <u32>load<u16>(qb, Q_NEXT_USED);
  let uw = <u32>load<u8>(qb, Q_USED_WRAP);
  let done: u32 = 0;
  let total: u32 = 0; // slots covered
  let bytes: u64 = 0;
  let err: u32 = 0;
  if ((qf & QF_IN_ORDER) != 0) {
    let expect = u;
    let lastId: u32 = 0;
    let lastLen: u32 = 0;
    for (let k: u32 = 0; k < n; k++) {
      const r = src + k * PK_USED_REC_SIZE;
      const id = load<u32>(r, PK_USED_REC_ID);
      const len = load<u32>(r, PK_USED_REC_LEN);
      if (id > 0xffff) { err = VQ_E21_BAD_USED_ID; break; }
      const e = aux + (<usize>id << 3);
      const s = <u32>load<u16>(e, PK_ID_SLOTS);
      if (s == 0 || <u32>load<u16>(e, PK_ID_HEAD) != expect) { err = VQ_E21_BAD_USED_ID; break; }
      if (len > load<u32>(e, PK_ID_WRITABLE)) { err = VQ_E22_USED_LEN_TOO_BIG; break; }
      store<u16>(e, 0, PK_ID_SLOTS);
      expect += s;
      if (expect >= size) expect -= size;
      total += s;
      lastId = id;
      lastLen = len;
      done++;
    }
    if (done != 0) {
      const p = ringAddr(qb, desc + (<u64>u << 4), true);
      if (p == 0) {
        if (err == 0) err = VQ_E3_RING_OUTSIDE_RAM;
      } else {
        store<u16>(p, <u16>lastId, D_ID);
        store<u32>(p, lastLen, D_LEN);
        store<u16>(p, <u16>((uw != 0 ? VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED : 0) |
          (lastLen != 0 ? VRING_DESC_F_WRITE : 0)), D_FLAGS);
        bytes = lastLen;
      }
      u += total;
      if (u >= size) { u -= size; uw ^= 1; }
    }
  } else {
    let headP: usize = 0;
    let headF: u32 = 0;
    let p: usize = 0; // linear address of used slot u, when `have` says it is known
    let have = false;
    let k: u32 = 0;
    // The inner loop makes no calls: when the next used slot is on another page (or the ring
    // wrapped) it leaves to translate, then resumes at the same record (its checks only read).
    while (true) {
      while (k < n) {
        const rv = load<u64>(src + k * PK_USED_REC_SIZE); // PK_USED_REC_ID, then PK_USED_REC_LEN
        const id = <u32>rv;
        const len = <u32>(rv >> 32);
        if (id > 0xffff) { err = VQ_E21_BAD_USED_ID; break; }
        const e = aux + (<usize>id << 3);
        const ev = load<u64>(e, PK_ID_WRITABLE); // writable, slots, head
        const s = <u32>(ev >> 32) & 0xffff;
        if (s == 0) { err = VQ_E21_BAD_USED_ID; break; }
        if (len > <u32>ev) { err = VQ_E22_USED_LEN_TOO_BIG; break; }
        if (!have) break; // translate first
        const fl = (uw != 0 ? VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED : 0) | (len != 0 ? VRING_DESC_F_WRITE : 0);
        if (k == 0) {
          store<u32>(p, len, D_LEN);
          store<u16>(p, <u16>id, D_ID);
          headP = p;
          headF = fl;
        } else {
          store<u64>(p, <u64>len | (<u64>id << 32) | (<u64>fl << 48), D_LEN); // D_LEN, D_ID, D_FLAGS
        }
        store<u16>(e, 0, PK_ID_SLOTS);
        const pu = u;
        u += s;
        if (u >= size) { u -= size; uw ^= 1; }
        total += s;
        bytes += len;
        done++;
        k++;
        // Same page as this used slot, further on: reuse its translation.
        if (u > pu && ((<u32>desc + (u << 4)) >> PAGE_SHIFT) == ((<u32>desc + (pu << 4)) >> PAGE_SHIFT)) {
          p += (u - pu) << 4;
          have = true;
        } else {
          have = false;
        }
      }
      if (err != 0 || k >= n) break;
      p = ringFast(qb, desc + (<u64>u << 4), true); // record k passed its checks
      if (p == 0) { err = VQ_E3_RING_OUTSIDE_RAM; break; }
      have = true;
    }
    if (headP != 0) store<u16>(headP, <u16>headF, D_FLAGS);
  }
  store<u16>(qb, <u16>u, Q_NEXT_USED);
  store<u8>(qb, <u8>uw, Q_USED_WRAP);
  store<u32>(qb, load<u32>(qb, Q_PK_SLOTS_IN_FLIGHT) - total, Q_PK_SLOTS_IN_FLIGHT);
  store<u32>(qb, load<u32>(qb, Q_IN_FLIGHT) - done, Q_IN_FLIGHT);
  const added = <u32>load<u16>(qb, Q_NUM_ADDED) + total;
  store<u16>(qb, <u16>(added > 0xffff ? 0xffff : added), Q_NUM_ADDED);
  if (done != 0) {
    count(CNT_VQ_USED_PUSHED, done);
    count(CNT_VQ_USED_BYTES, bytes);
  }
  if (err != 0) fail(qb, err);
  return <i32>done;
}

/** Pops up to `max` buffers and completes each at once with len = its writable bytes (a device
 *  that fills every buffer): the device-only loop of the benchmarks, one call per batch. The
 *  used records are built after the chain records, so `outLen` must leave 8 bytes per buffer. */
export function devPopPush(q: u32, out: usize, outLen: u32, max: u32): i32 {
  const room = outLen > max * PK_USED_REC_SIZE ? outLen - max * PK_USED_REC_SIZE : 0;
  const n = <u32>devPop(q, out, room, max);
  if (n == 0) return 0;
  const recs = popEnd;
  let r = out;
  for (let i: u32 = 0; i < n; i++) {
    store<u64>(recs + i * PK_USED_REC_SIZE, <u64>load<u16>(r, CHAIN_ID) | (<u64>load<u32>(r, CHAIN_WRITABLE) << 32));
    r += <usize>(CHAIN_HDR_SIZE + (<u32>load<u16>(r, CHAIN_NSEGS) << 4));
  }
  return devPush(q, recs, n);
}

/** Used-buffer notification decision against the driver's event suppression structure; resets
 *  the slots-added window. Nothing added since the last decision: no interrupt, nothing counted. */
export function devNeedIrq(q: u32): bool {
  const qb = qBlock(q);
  if (!deviceLive(qb)) return false;
  const added = <u32>load<u16>(qb, Q_NUM_ADDED);
  if (added == 0) return false;
  const p = ringAddr(qb, load<u64>(qb, Q_DRIVER), false);
  if (p == 0) { fail(qb, VQ_E3_RING_OUTSIDE_RAM); return false; }
  const yes = wantsNotify(load<u32>(qb, Q_FLAGS), load<u32>(qb, Q_SIZE), load<u32>(p),
    load<u16>(qb, Q_NEXT_USED), load<u8>(qb, Q_USED_WRAP), added);
  store<u16>(qb, 0, Q_NUM_ADDED);
  count(yes ? CNT_VQ_IRQ_SENT : CNT_VQ_IRQ_SUPPRESSED);
  return yes;
}

/** Asks the driver for kicks again (DESC at the avail cursor with EVENT_IDX, else ENABLE):
 *  off_wrap first, then flags, then re-check the ring. True when a buffer is already available
 *  (a kick that raced the re-enable would otherwise be lost). */
export function devNotifyEnable(q: u32): bool {
  const qb = qBlock(q);
  if (!deviceLive(qb)) return false;
  const p = ringAddr(qb, load<u64>(qb, Q_DEVICE), true);
  if (p == 0) { fail(qb, VQ_E3_RING_OUTSIDE_RAM); return false; }
  const slot = <u32>load<u16>(qb, Q_NEXT_AVAIL);
  const wrap = <u32>load<u8>(qb, Q_AVAIL_WRAP);
  if ((load<u32>(qb, Q_FLAGS) & QF_EVENT_IDX) != 0) {
    store<u16>(p, <u16>(slot | (wrap << 15)));
    store<u16>(p, <u16>VRING_PACKED_EVENT_FLAG_DESC, 2);
  } else {
    store<u16>(p, <u16>VRING_PACKED_EVENT_FLAG_ENABLE, 2);
  }
  const d = ringAddr(qb, load<u64>(qb, Q_DESC) + (<u64>slot << 4), false);
  if (d == 0) { fail(qb, VQ_E3_RING_OUTSIDE_RAM); return false; }
  return isAvail(load<u16>(d, D_FLAGS), wrap);
}

export function devNotifyDisable(q: u32): void {
  const qb = qBlock(q);
  if (!deviceLive(qb)) return;
  const p = ringAddr(qb, load<u64>(qb, Q_DEVICE), true);
  if (p == 0) { fail(qb, VQ_E3_RING_OUTSIDE_RAM); return; }
  store<u16>(p, <u16>VRING_PACKED_EVENT_FLAG_DISABLE, 2);
}
