// Split virtqueue, device side: queue setup (E1-E3) and popping a batch of chains with full
// validation (E4-E19). Completion and notification decisions are in split-used.ts.
//
// Pop writes CHAIN records (CHAIN_* header + SEG_* segments) into a caller-given area. A ring
// error stops the batch: the chains before it are returned and the queue is broken (fail()).
// Counters cover only the chains returned, so a chain abandoned for lack of output space is
// popped again, unchanged, by the next call.
import {
  Q_FLAGS, Q_RING_DOMID, Q_SIZE, Q_ERROR, Q_DESC, Q_DRIVER, Q_DEVICE, Q_NEXT_AVAIL, Q_NEXT_USED,
  Q_NUM_ADDED, Q_MAX_SEGS, Q_IN_FLIGHT, Q_BUF_DOMID, Q_AUX, Q_SIGNALLED, Q_SIGNALLED_VALID, Q_TLB,
  QTLB_ENTRIES, QTLB_ENTRY_SIZE, QUEUE_STATE_SIZE,
  QF_READY, QF_EVENT_IDX, QF_INDIRECT, QF_IN_ORDER, QF_BROKEN, QF_STRICT_E14, QF_STRICT_E16,
  QF_STRICT_E19, QF_DRIVER_OK, QS_MAX_SIZE, QS_MAX_INDIRECT, QS_STATUS, QS_NOTIFY_ON, QS_AUX_ENTRY,
  QS_AUX_BYTES_PER_SLOT, QSA_DEV_WRITABLE, QSA_DEV_OUTSTANDING, DOMID_INVALID, VIRTQ_MAX_SIZE,
  VQ_OK, VQ_E1_BAD_SIZE, VQ_E2_MISALIGNED, VQ_E3_RING_OUTSIDE_RAM, VQ_E4_NOT_READY,
  VQ_E5_AVAIL_IDX_JUMP, VQ_E6_TOO_MANY_IN_FLIGHT, VQ_E7_HEAD_OUT_OF_RANGE, VQ_E8_NEXT_OUT_OF_RANGE,
  VQ_E9_LOOP, VQ_E10_NESTED_INDIRECT, VQ_E11_BAD_INDIRECT_LEN, VQ_E12_INDIRECT_TOO_BIG,
  VQ_E13_INDIRECT_NOT_NEGOTIATED, VQ_E14_INDIRECT_WITH_NEXT, VQ_E15_READ_AFTER_WRITE,
  VQ_E16_ZERO_LENGTH, VQ_E17_BUFFER_OUTSIDE_RAM, VQ_E18_CHAIN_TOO_LONG_BYTES,
  VQ_E19_TOO_MANY_SEGMENTS, CHAIN_HDR_SIZE, CHAIN_ID, CHAIN_NSEGS, CHAIN_SLOTS, CHAIN_FLAGS,
  CHAIN_READABLE, CHAIN_WRITABLE, CHAINF_INDIRECT, SEG_SIZE, SEG_ADDR, SEG_LEN, SEG_FLAGS,
  VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT, PAGE_SHIFT, PAGE_MASK, PAGE_SIZE,
  CNT_VQ_CHAINS_POPPED, CNT_VQ_DESCS_POPPED, CNT_VQ_INDIRECT_TABLES, CNT_VQ_BYTES_READABLE,
  CNT_VQ_BYTES_WRITABLE,
} from "../layout";
import { count } from "../counters";
import { qBlock, ringAddr } from "./common";
import { GPA_LIMIT, broke, bufferOk, rangeAccessible, refuse } from "./split-check";

/** Flags the host may choose at enable time (features and strictness policy). */
const ENABLE_FLAGS: u32 = QF_EVENT_IDX | QF_INDIRECT | QF_IN_ORDER | QF_STRICT_E14 | QF_STRICT_E16 | QF_STRICT_E19;
/** Walk result: the output area cannot hold the chain (not an error). */
const NO_SPACE: u32 = 0xffff;
const MAX_RECORD_SEGS: u32 = 65535; // CHAIN_NSEGS is a u16

export function splitDevReset(q: u32, ringDomid: u32, maxSize: u32, aux: u32): void {
  const qb = qBlock(q);
  memory.fill(qb, 0, QUEUE_STATE_SIZE);
  store<u32>(qb, ringDomid, Q_RING_DOMID);
  store<u32>(qb, maxSize, QS_MAX_SIZE);
  store<u32>(qb, aux, Q_AUX);
  store<u32>(qb, DOMID_INVALID, Q_BUF_DOMID);
  store<u32>(qb, 1, QS_NOTIFY_ON);
}

/** Puts the ring state in place and validates it (QueueReady = 1). Fresh indices, as after a
 *  reset. On E1-E3 the queue is broken and stays not ready. */
export function splitDevEnable(
  q: u32, size: u32, desc: u64, avail: u64, used: u64, features: u32, bufDomid: u32, maxSegs: u32, maxIndirect: u32,
): u32 {
  const qb = qBlock(q);
  let flags = load<u32>(qb, Q_FLAGS);
  if (flags & QF_BROKEN) {
    store<u32>(qb, load<u32>(qb, Q_ERROR), QS_STATUS);
    return load<u32>(qb, Q_ERROR);
  }
  flags = (flags & ~(ENABLE_FLAGS | QF_READY)) | (features & ENABLE_FLAGS);
  store<u32>(qb, flags, Q_FLAGS);
  store<u32>(qb, size, Q_SIZE);
  store<u64>(qb, desc, Q_DESC);
  store<u64>(qb, avail, Q_DRIVER);
  store<u64>(qb, used, Q_DEVICE);
  store<u32>(qb, bufDomid, Q_BUF_DOMID);
  store<u32>(qb, maxSegs, Q_MAX_SEGS);
  store<u32>(qb, maxIndirect, QS_MAX_INDIRECT);
  store<u16>(qb, 0, Q_NEXT_AVAIL);
  store<u16>(qb, 0, Q_NEXT_USED);
  store<u16>(qb, 0, Q_NUM_ADDED);
  store<u32>(qb, 0, Q_IN_FLIGHT);
  store<u16>(qb, 0, Q_SIGNALLED);
  store<u8>(qb, 0, Q_SIGNALLED_VALID);
  store<u32>(qb, 1, QS_NOTIFY_ON);
  memory.fill(qb + Q_TLB, 0, QTLB_ENTRIES * QTLB_ENTRY_SIZE);
  if (size == 0 || (size & (size - 1)) != 0 || size > VIRTQ_MAX_SIZE || size > load<u32>(qb, QS_MAX_SIZE)) {
    return broke(qb, VQ_E1_BAD_SIZE);
  }
  if ((desc & 15) != 0 || (avail & 1) != 0 || (used & 3) != 0) return broke(qb, VQ_E2_MISALIGNED);
  const dom = load<u32>(qb, Q_RING_DOMID);
  if (!rangeAccessible(dom, desc, size << 4, false) || !rangeAccessible(dom, avail, 6 + (size << 1), false) ||
      !rangeAccessible(dom, used, 6 + (size << 3), true)) {
    return broke(qb, VQ_E3_RING_OUTSIDE_RAM);
  }
  memory.fill(<usize>load<u32>(qb, Q_AUX), 0, size * QS_AUX_BYTES_PER_SLOT);
  store<u32>(qb, flags | QF_READY, Q_FLAGS);
  store<u32>(qb, VQ_OK, QS_STATUS);
  return VQ_OK;
}

/** Restores the ring indices of an enabled queue with nothing in flight (migration, as QEMU's
 *  virtio_queue_set_last_avail_idx or rust-vmm's set_next_avail/set_next_used). The next
 *  notification decision is unconditional. */
export function splitDevRestore(q: u32, nextAvail: u32, nextUsed: u32): void {
  const qb = qBlock(q);
  store<u16>(qb, <u16>nextAvail, Q_NEXT_AVAIL);
  store<u16>(qb, <u16>nextUsed, Q_NEXT_USED);
  store<u16>(qb, 0, Q_NUM_ADDED);
  store<u32>(qb, 0, Q_IN_FLIGHT);
  store<u8>(qb, 0, Q_SIGNALLED_VALID);
  memory.fill(<usize>load<u32>(qb, Q_AUX), 0, load<u32>(qb, Q_SIZE) * QS_AUX_BYTES_PER_SLOT);
}

/** Host-controlled flags after enable: DRIVER_OK and the strictness policy. */
export function splitSetFlags(q: u32, set: u32, clear: u32): void {
  const qb = qBlock(q);
  const allowed = QF_DRIVER_OK | QF_STRICT_E14 | QF_STRICT_E16 | QF_STRICT_E19;
  store<u32>(qb, (load<u32>(qb, Q_FLAGS) & ~(clear & allowed)) | (set & allowed), Q_FLAGS);
}

// ---- pop ----------------------------------------------------------------------------------

// Results of walk() for the chain just walked.
let wSegs: u32 = 0;
let wSlots: u32 = 0;
let wDescs: u32 = 0;
let wIndirect: u32 = 0;
let wReadable: u64 = 0;
let wWritable: u64 = 0;
// One-page cache of the descriptor table for the current pop call. Within a pop nothing is
// written to guest memory, so the p2m generation cannot move under it.
let dGfn: u32 = 0xffff_ffff;
let dBase: usize = 0;
// A descriptor of an indirect table that straddles two pages is assembled here.
const scratch: usize = memory.data(16);

/** Linear address of indirect-table descriptor `gpa` (any alignment), or 0 if unreadable. */
function indirectDesc(qb: usize, gpa: u64): usize {
  const off = <u32>gpa & PAGE_MASK;
  if (off <= PAGE_SIZE - 16) return ringAddr(qb, gpa, false);
  const a = ringAddr(qb, gpa, false);
  if (a == 0) return 0;
  const first = PAGE_SIZE - off;
  const b = ringAddr(qb, gpa + first, false);
  if (b == 0) return 0;
  memory.copy(scratch, a, first);
  memory.copy(scratch + first, b, 16 - first);
  return scratch;
}

/** Walks the chain at `head`, writing its segments after the record header at `rec`.
 *  Returns VQ_OK, a ring error code, or NO_SPACE. */
function walk(qb: usize, flags: u32, size: u32, head: u32, rec: usize, end: usize, bufDom: u32, maxSegs: u32, maxInd: u32): u32 {
  let table = load<u64>(qb, Q_DESC);
  let tsize = size;
  let idx = head;
  let inInd = false;
  let steps: u32 = 0;
  let seenWrite = false;
  let readable: u64 = 0;
  let writable: u64 = 0;
  let nsegs: u32 = 0;
  let descs: u32 = 0;
  let slots: u32 = 0;
  let seg = rec + CHAIN_HDR_SIZE;
  wIndirect = 0;
  while (true) {
    if (++steps > tsize) return VQ_E9_LOOP;
    const gpa = table + (<u64>idx << 4);
    let d: usize;
    if (!inInd) {
      const gfn = <u32>(gpa >> PAGE_SHIFT);
      if (gfn != dGfn) {
        dBase = ringAddr(qb, gpa & ~(<u64>PAGE_MASK), false);
        if (dBase == 0) { dGfn = 0xffff_ffff; return VQ_E3_RING_OUTSIDE_RAM; }
        dGfn = gfn;
      }
      d = dBase + (<u32>gpa & PAGE_MASK);
      slots++;
    } else {
      d = indirectDesc(qb, gpa);
      if (d == 0) return VQ_E17_BUFFER_OUTSIDE_RAM;
    }
    const addr = load<u64>(d);
    const len = load<u32>(d, 8);
    const f = <u32>load<u16>(d, 12);
    const next = <u32>load<u16>(d, 14);
    descs++;
    if (f & VRING_DESC_F_INDIRECT) {
      if (inInd) return VQ_E10_NESTED_INDIRECT;
      if ((flags & QF_INDIRECT) == 0) return VQ_E13_INDIRECT_NOT_NEGOTIATED;
      if ((f & VRING_DESC_F_NEXT) != 0 && (flags & QF_STRICT_E14) != 0) return VQ_E14_INDIRECT_WITH_NEXT;
      if (len == 0 || (len & 15) != 0) return VQ_E11_BAD_INDIRECT_LEN;
      if ((len >> 4) > maxInd) return VQ_E12_INDIRECT_TOO_BIG;
      if (addr >= GPA_LIMIT || <u64>len > GPA_LIMIT - addr) return VQ_E17_BUFFER_OUTSIDE_RAM;
      // NEXT on the referring descriptor is ignored: the chain continues in the table only.
      table = addr;
      tsize = len >> 4;
      idx = 0;
      steps = 0;
      inInd = true;
      wIndirect = 1;
      continue;
    }
    const w = (f & VRING_DESC_F_WRITE) != 0;
    if (w) seenWrite = true;
    else if (seenWrite) return VQ_E15_READ_AFTER_WRITE;
    if (len == 0 && (flags & QF_STRICT_E16) != 0) return VQ_E16_ZERO_LENGTH;
    if (!bufferOk(bufDom, addr, len, w)) return VQ_E17_BUFFER_OUTSIDE_RAM;
    if (w) writable += len;
    else readable += len;
    if (readable + writable > 0xffff_ffff) return VQ_E18_CHAIN_TOO_LONG_BYTES;
    if (++nsegs > maxSegs) return VQ_E19_TOO_MANY_SEGMENTS;
    if (seg + SEG_SIZE > end) return NO_SPACE;
    store<u64>(seg, addr, SEG_ADDR);
    store<u32>(seg, len, SEG_LEN);
    store<u32>(seg, f & VRING_DESC_F_WRITE, SEG_FLAGS); // u16 flags + 2 zero bytes
    seg += SEG_SIZE;
    if ((f & VRING_DESC_F_NEXT) == 0) break;
    if (next >= tsize) return VQ_E8_NEXT_OUT_OF_RANGE;
    idx = next;
  }
  wSegs = nsegs;
  wSlots = slots;
  wDescs = descs;
  wReadable = readable;
  wWritable = writable;
  return VQ_OK;
}

/** Pops up to `max` chains into [out, out+cap). Returns the number of chain records written. */
export function splitPop(q: u32, out: usize, cap: u32, max: u32): u32 {
  const qb = qBlock(q);
  const flags = load<u32>(qb, Q_FLAGS);
  if (flags & QF_BROKEN) {
    store<u32>(qb, load<u32>(qb, Q_ERROR), QS_STATUS);
    return 0;
  }
  if ((flags & (QF_READY | QF_DRIVER_OK)) != (QF_READY | QF_DRIVER_OK)) {
    refuse(qb, VQ_E4_NOT_READY);
    return 0;
  }
  store<u32>(qb, VQ_OK, QS_STATUS);
  const size = load<u32>(qb, Q_SIZE);
  const mask = size - 1;
  const avail = load<u64>(qb, Q_DRIVER);
  const idxAddr = ringAddr(qb, avail + 2, false);
  if (idxAddr == 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
  const availIdx = <u32>load<u16>(idxAddr);
  let nextAvail = <u32>load<u16>(qb, Q_NEXT_AVAIL);
  if (((availIdx - nextAvail) & 0xffff) > size) { broke(qb, VQ_E5_AVAIL_IDX_JUMP); return 0; }

  let inFlight = load<u32>(qb, Q_IN_FLIGHT);
  const aux = <usize>load<u32>(qb, Q_AUX);
  const fifo = aux + size * QS_AUX_ENTRY;
  const inOrder = (flags & QF_IN_ORDER) != 0;
  const bufDom = load<u32>(qb, Q_BUF_DOMID);
  let maxSegs = MAX_RECORD_SEGS;
  if (flags & QF_STRICT_E19) {
    const m = load<u32>(qb, Q_MAX_SEGS);
    maxSegs = m == 0 ? size : m;
    if (maxSegs > MAX_RECORD_SEGS) maxSegs = MAX_RECORD_SEGS;
  }
  let maxInd = load<u32>(qb, QS_MAX_INDIRECT);
  if (maxInd == 0 || maxInd > 65535) maxInd = 65535;
  const end = out + cap;
  dGfn = 0xffff_ffff;
  let aGfn: u32 = 0xffff_ffff;
  let aBase: usize = 0;
  let rec = out;
  let n: u32 = 0;
  let err: u32 = VQ_OK;
  let descs: u64 = 0;
  let tables: u64 = 0;
  let rbytes: u64 = 0;
  let wbytes: u64 = 0;
  while (n < max && nextAvail != availIdx) {
    if (inFlight >= size) { err = VQ_E6_TOO_MANY_IN_FLIGHT; break; }
    const slot = avail + 4 + (<u64>(nextAvail & mask) << 1);
    const gfn = <u32>(slot >> PAGE_SHIFT);
    if (gfn != aGfn) {
      aBase = ringAddr(qb, slot & ~(<u64>PAGE_MASK), false);
      if (aBase == 0) { err = VQ_E3_RING_OUTSIDE_RAM; break; }
      aGfn = gfn;
    }
    const head = <u32>load<u16>(aBase + (<u32>slot & PAGE_MASK));
    if (head >= size) { err = VQ_E7_HEAD_OUT_OF_RANGE; break; }
    const r = walk(qb, flags, size, head, rec, end, bufDom, maxSegs, maxInd);
    if (r != VQ_OK) {
      if (r != NO_SPACE) err = r;
      break;
    }
    store<u16>(rec, <u16>head, CHAIN_ID);
    store<u16>(rec, <u16>wSegs, CHAIN_NSEGS);
    store<u16>(rec, <u16>wSlots, CHAIN_SLOTS);
    store<u16>(rec, <u16>(wIndirect != 0 ? CHAINF_INDIRECT : 0), CHAIN_FLAGS);
    store<u32>(rec, <u32>wReadable, CHAIN_READABLE);
    store<u32>(rec, <u32>wWritable, CHAIN_WRITABLE);
    const e = aux + head * QS_AUX_ENTRY;
    store<u32>(e, <u32>wWritable, QSA_DEV_WRITABLE);
    store<u32>(e, load<u32>(e, QSA_DEV_OUTSTANDING) + 1, QSA_DEV_OUTSTANDING);
    if (inOrder) store<u16>(fifo + ((nextAvail & mask) << 1), <u16>head);
    nextAvail = (nextAvail + 1) & 0xffff;
    inFlight++;
    n++;
    rec += CHAIN_HDR_SIZE + wSegs * SEG_SIZE;
    descs += wDescs;
    tables += wIndirect;
    rbytes += wReadable;
    wbytes += wWritable;
  }
  store<u16>(qb, <u16>nextAvail, Q_NEXT_AVAIL);
  store<u32>(qb, inFlight, Q_IN_FLIGHT);
  if (n != 0) {
    count(CNT_VQ_CHAINS_POPPED, n);
    count(CNT_VQ_DESCS_POPPED, descs);
    count(CNT_VQ_INDIRECT_TABLES, tables);
    count(CNT_VQ_BYTES_READABLE, rbytes);
    count(CNT_VQ_BYTES_WRITABLE, wbytes);
  }
  if (err != VQ_OK) {
    broke(qb, err);
    return n;
  }
  // EVENT_IDX: ask for a kick once the driver goes past what we have taken (QEMU does this on
  // every pop while notifications are on; once per batch leaves the same value behind).
  if (n != 0 && (flags & QF_EVENT_IDX) != 0 && load<u32>(qb, QS_NOTIFY_ON) != 0) {
    const ev = ringAddr(qb, load<u64>(qb, Q_DEVICE) + 4 + (<u64>size << 3), true);
    if (ev == 0) broke(qb, VQ_E3_RING_OUTSIDE_RAM);
    else store<u16>(ev, <u16>nextAvail);
  }
  return n;
}
