// Split virtqueue, device side: popping a batch of chains with full validation (E4-E19).
// Queue setup (E1-E3) is in split-setup.ts, completion and notification decisions in
// split-used.ts, the call-free common case of pop and push in split-fast.ts.
//
// Pop writes CHAIN records (CHAIN_* header + SEG_* segments) into a caller-given area. A ring
// error stops the batch: the chains before it are returned and the queue is broken (fail()).
// Counters cover only the chains returned, so a chain abandoned for lack of output space is
// popped again, unchanged, by the next call.
import {
  Q_FLAGS, Q_SIZE, Q_ERROR, Q_DESC, Q_DRIVER, Q_DEVICE, Q_NEXT_AVAIL, Q_MAX_SEGS, Q_IN_FLIGHT,
  Q_BUF_DOMID, Q_AUX, QF_READY, QF_EVENT_IDX, QF_INDIRECT, QF_IN_ORDER, QF_BROKEN, QF_STRICT_E14,
  QF_STRICT_E16, QF_STRICT_E19, QF_DRIVER_OK, QS_MAX_INDIRECT, QS_STATUS, QS_NOTIFY_ON,
  QS_AUX_ENTRY, QSA_DEV_WRITABLE, QSA_DEV_OUTSTANDING, DOMID_INVALID, VQ_OK,
  VQ_E3_RING_OUTSIDE_RAM, VQ_E4_NOT_READY, VQ_E5_AVAIL_IDX_JUMP, VQ_E6_TOO_MANY_IN_FLIGHT,
  VQ_E7_HEAD_OUT_OF_RANGE, VQ_E8_NEXT_OUT_OF_RANGE, VQ_E9_LOOP, VQ_E10_NESTED_INDIRECT,
  VQ_E11_BAD_INDIRECT_LEN, VQ_E12_INDIRECT_TOO_BIG, VQ_E13_INDIRECT_NOT_NEGOTIATED,
  VQ_E14_INDIRECT_WITH_NEXT, VQ_E15_READ_AFTER_WRITE, VQ_E16_ZERO_LENGTH,
  VQ_E17_BUFFER_OUTSIDE_RAM, VQ_E18_CHAIN_TOO_LONG_BYTES, VQ_E19_TOO_MANY_SEGMENTS, CHAIN_HDR_SIZE,
  CHAIN_ID, CHAIN_NSEGS, CHAIN_SLOTS, CHAIN_FLAGS, CHAIN_READABLE, CHAIN_WRITABLE, CHAINF_INDIRECT,
  SEG_SIZE, SEG_ADDR, SEG_LEN, SEG_FLAGS, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE,
  VRING_DESC_F_INDIRECT, PAGE_SHIFT, PAGE_MASK, PAGE_SIZE, DOM_RAM_PAGES, CNT_VQ_CHAINS_POPPED,
  CNT_VQ_DESCS_POPPED, CNT_VQ_INDIRECT_TABLES, CNT_VQ_BYTES_READABLE, CNT_VQ_BYTES_WRITABLE,
} from "../layout";
import { count } from "../counters";
import { qBlock, ringAddr } from "./common";
import { GPA_LIMIT, broke, bufferOk, refuse } from "./split-check";
import { domEntry, domExists } from "../machine/p2m";
import {
  PF_DONE, PF_AVAIL_PAGE, PF_DESC_PAGE, popFast, pfNextAvail, pfInFlight, pfN, pfRec, pfAGfn, pfABase, pfDGfn,
  pfDBase, pfMissGfn, pfSegs, pfReadable, pfWritable,
} from "./split-fast";

/** Walk result: the output area cannot hold the chain (not an error). */
const NO_SPACE: u32 = 0xffff;
const MAX_RECORD_SEGS: u32 = 65535; // CHAIN_NSEGS is a u16

// ---- pop ----------------------------------------------------------------------------------

// A descriptor of an indirect table that straddles two pages is assembled here.
const scratch: usize = memory.data(16);

/** Linear address of indirect-table descriptor `gpa` (any alignment), or 0 if unreadable. */
function indirectDesc(qb: usize, gpa: u32): usize {
  const off = gpa & PAGE_MASK;
  if (off <= PAGE_SIZE - 16) return ringAddr(qb, gpa, false);
  const a = ringAddr(qb, gpa, false);
  if (a == 0) return 0;
  const first = PAGE_SIZE - off;
  const b = ringAddr(qb, <u64>(gpa + first), false);
  if (b == 0) return 0;
  memory.copy(scratch, a, first);
  memory.copy(scratch + first, b, 16 - first);
  return scratch;
}

// State handed back by indirectTail() (only chains with an indirect table go through it).
let tSeg: usize = 0;
let tSegs: u32 = 0;
let tTotal: u64 = 0;
let tWritable: u64 = 0;

/** The rest of a chain whose descriptor (addr, len, f) is INDIRECT: checks the reference and
 *  walks the table. Takes the walk's running state, returns VQ_OK (state in t*), an error, or
 *  NO_SPACE. Kept out of splitPop's loop so the direct path stays small. */
function indirectTail(
  qb: usize, flags: u32, addr: u64, len: u32, f: u32, seenWrite: bool, total: u64, writable: u64,
  nsegs: u32, seg: usize, end: usize, bufDom: u32, maxSegs: u32, maxInd: u32,
): u32 {
  if ((flags & QF_INDIRECT) == 0) return VQ_E13_INDIRECT_NOT_NEGOTIATED;
  if ((f & VRING_DESC_F_NEXT) != 0 && (flags & QF_STRICT_E14) != 0) return VQ_E14_INDIRECT_WITH_NEXT;
  if (len == 0 || (len & 15) != 0) return VQ_E11_BAD_INDIRECT_LEN;
  if ((len >> 4) > maxInd) return VQ_E12_INDIRECT_TOO_BIG;
  if (addr >= GPA_LIMIT || <u64>len > GPA_LIMIT - addr) return VQ_E17_BUFFER_OUTSIDE_RAM;
  // NEXT on the referring descriptor is ignored: the chain continues in the table only.
  const table = <u32>addr;
  const tsize = len >> 4;
  let idx: u32 = 0;
  let steps: u32 = 0;
  while (true) {
    if (++steps > tsize) return VQ_E9_LOOP;
    const d = indirectDesc(qb, table + (idx << 4));
    if (d == 0) return VQ_E17_BUFFER_OUTSIDE_RAM;
    const a = load<u64>(d);
    const l = load<u32>(d, 8);
    const g = <u32>load<u16>(d, 12);
    const next = <u32>load<u16>(d, 14);
    if (g & VRING_DESC_F_INDIRECT) return VQ_E10_NESTED_INDIRECT;
    const w = (g & VRING_DESC_F_WRITE) != 0;
    if (w) seenWrite = true;
    else if (seenWrite) return VQ_E15_READ_AFTER_WRITE;
    if (l == 0 && (flags & QF_STRICT_E16) != 0) return VQ_E16_ZERO_LENGTH;
    if (!bufferOk(bufDom, a, l, w)) return VQ_E17_BUFFER_OUTSIDE_RAM;
    total += l;
    if (w) writable += l;
    if (total > 0xffff_ffff) return VQ_E18_CHAIN_TOO_LONG_BYTES;
    if (++nsegs > maxSegs) return VQ_E19_TOO_MANY_SEGMENTS;
    if (seg + SEG_SIZE > end) return NO_SPACE;
    store<u64>(seg, a, SEG_ADDR);
    store<u32>(seg, l, SEG_LEN);
    store<u32>(seg, g & VRING_DESC_F_WRITE, SEG_FLAGS);
    seg += SEG_SIZE;
    if ((g & VRING_DESC_F_NEXT) == 0) break;
    if (next >= tsize) return VQ_E8_NEXT_OUT_OF_RANGE;
    idx = next;
  }
  tSeg = seg;
  tSegs = nsegs;
  tTotal = total;
  tWritable = writable;
  return VQ_OK;
}

/** Walks the one chain at pfNextAvail with every check (E6-E19, indirect tables) and, when it
 *  is valid, records it and advances the pop state. Returns VQ_OK, an error, or NO_SPACE. */
function slowChain(qb: usize, flags: u32, size: u32, avail: u32, descTable: u32, aux: usize, end: usize, ramEnd: u64,
  bufDom: u32, maxSegs: u32, maxInd: u32): u32 {
  const mask = size - 1;
  const nextAvail = pfNextAvail;
  if (pfInFlight >= size) return VQ_E6_TOO_MANY_IN_FLIGHT;
  const slot = avail + 4 + ((nextAvail & mask) << 1);
  if ((slot >> PAGE_SHIFT) != pfAGfn) {
    pfABase = ringAddr(qb, <u64>(slot & ~PAGE_MASK), false);
    if (pfABase == 0) { pfAGfn = 0xffff_ffff; return VQ_E3_RING_OUTSIDE_RAM; }
    pfAGfn = slot >> PAGE_SHIFT;
  }
  const head = <u32>load<u16>(pfABase + (slot & PAGE_MASK));
  if (head >= size) return VQ_E7_HEAD_OUT_OF_RANGE;

  // Walk the chain through the descriptor table; an INDIRECT descriptor hands the rest of
  // the walk to indirectTail().
  const rec = pfRec;
  let idx = head;
  let steps: u32 = 0;
  let seenWrite = false;
  let total: u64 = 0;
  let writable: u64 = 0;
  let nsegs: u32 = 0;
  let indirect: u32 = 0;
  let seg = rec + CHAIN_HDR_SIZE;
  while (true) {
    if (++steps > size) return VQ_E9_LOOP;
    const gpa = descTable + (idx << 4);
    if ((gpa >> PAGE_SHIFT) != pfDGfn) {
      pfDBase = ringAddr(qb, <u64>(gpa & ~PAGE_MASK), false);
      if (pfDBase == 0) { pfDGfn = 0xffff_ffff; return VQ_E3_RING_OUTSIDE_RAM; }
      pfDGfn = gpa >> PAGE_SHIFT;
    }
    const d = pfDBase + (gpa & PAGE_MASK);
    const addr = load<u64>(d);
    const len = load<u32>(d, 8);
    const f = <u32>load<u16>(d, 12);
    if (f & VRING_DESC_F_INDIRECT) {
      const r = indirectTail(qb, flags, addr, len, f, seenWrite, total, writable, nsegs, seg, end, bufDom, maxSegs, maxInd);
      if (r != VQ_OK) return r;
      seg = tSeg;
      nsegs = tSegs;
      total = tTotal;
      writable = tWritable;
      indirect = 1;
      break;
    }
    const w = (f & VRING_DESC_F_WRITE) != 0;
    if (w) seenWrite = true;
    else if (seenWrite) return VQ_E15_READ_AFTER_WRITE;
    if (len == 0 && (flags & QF_STRICT_E16) != 0) return VQ_E16_ZERO_LENGTH;
    if ((addr >= ramEnd || <u64>len > ramEnd - addr) && !bufferOk(bufDom, addr, len, w)) return VQ_E17_BUFFER_OUTSIDE_RAM;
    total += len;
    if (w) writable += len;
    if (total > 0xffff_ffff) return VQ_E18_CHAIN_TOO_LONG_BYTES;
    if (++nsegs > maxSegs) return VQ_E19_TOO_MANY_SEGMENTS;
    if (seg + SEG_SIZE > end) return NO_SPACE;
    store<u64>(seg, addr, SEG_ADDR);
    store<u32>(seg, len, SEG_LEN);
    store<u32>(seg, f & VRING_DESC_F_WRITE, SEG_FLAGS); // u16 flags + 2 zero bytes
    seg += SEG_SIZE;
    if ((f & VRING_DESC_F_NEXT) == 0) break;
    idx = <u32>load<u16>(d, 14);
    if (idx >= size) return VQ_E8_NEXT_OUT_OF_RANGE;
  }
  store<u16>(rec, <u16>head, CHAIN_ID);
  store<u16>(rec, <u16>nsegs, CHAIN_NSEGS);
  store<u16>(rec, <u16>steps, CHAIN_SLOTS);
  store<u16>(rec, <u16>(indirect != 0 ? CHAINF_INDIRECT : 0), CHAIN_FLAGS);
  store<u32>(rec, <u32>(total - writable), CHAIN_READABLE);
  store<u32>(rec, <u32>writable, CHAIN_WRITABLE);
  const e = aux + head * QS_AUX_ENTRY;
  store<u32>(e, <u32>writable, QSA_DEV_WRITABLE);
  store<u32>(e, load<u32>(e, QSA_DEV_OUTSTANDING) + 1, QSA_DEV_OUTSTANDING);
  if (flags & QF_IN_ORDER) store<u16>(aux + size * QS_AUX_ENTRY + ((nextAvail & mask) << 1), <u16>head);
  pfNextAvail = (nextAvail + 1) & 0xffff;
  pfInFlight++;
  pfN++;
  pfRec = seg;
  pfTables += indirect;
  pfSegs += nsegs;
  pfReadable += total - writable;
  pfWritable += writable;
  return VQ_OK;
}

let pfTables: u32 = 0;

/** Pops up to `max` chains into [out, out+cap). Returns the number of chain records written.
 *  Ordinary chains go through popFast() (split-fast.ts); the general walk above takes the
 *  rest, one chain at a time. Guest-physical ring and table addresses fit 32 bits here:
 *  enable checked the ring areas, and an indirect table is refused unless it ends below
 *  GPA_LIMIT (2^32). */
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
  const avail = <u32>load<u64>(qb, Q_DRIVER);
  const descTable = <u32>load<u64>(qb, Q_DESC);
  const idxAddr = ringAddr(qb, <u64>(avail + 2), false);
  if (idxAddr == 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
  const availIdx = <u32>load<u16>(idxAddr);
  const nextAvail = <u32>load<u16>(qb, Q_NEXT_AVAIL);
  if (((availIdx - nextAvail) & 0xffff) > size) { broke(qb, VQ_E5_AVAIL_IDX_JUMP); return 0; }
  let todo = (availIdx - nextAvail) & 0xffff;
  if (todo > max) todo = max;

  const aux = <usize>load<u32>(qb, Q_AUX);
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
  // Buffers below `ramEnd` pass E17 at once: it is the end of the buffer domain's RAM (or the
  // top of the 64-bit space when only wrapping is checked), where bufferOk() would accept
  // without translating anything. Everything else goes through bufferOk().
  let ramEnd: u64 = 0xffff_ffff_ffff_ffff;
  if (bufDom != DOMID_INVALID) ramEnd = domExists(bufDom) ? <u64>load<u32>(domEntry(bufDom), DOM_RAM_PAGES) << PAGE_SHIFT : 0;
  const fifo: usize = (flags & QF_IN_ORDER) != 0 ? aux + size * QS_AUX_ENTRY : 0;
  // Pop state, and one-page caches of the avail ring and the descriptor table for this call.
  // Within a pop nothing is written to guest memory, so the p2m generation cannot move under
  // the caches.
  pfNextAvail = nextAvail;
  pfInFlight = load<u32>(qb, Q_IN_FLIGHT);
  pfN = 0;
  pfRec = out;
  pfTables = 0;
  pfSegs = 0;
  pfReadable = 0;
  pfWritable = 0;
  pfAGfn = 0xffff_ffff;
  pfDGfn = 0xffff_ffff;
  let err: u32 = VQ_OK;
  while (pfN < todo) {
    const why = popFast(size, avail, descTable, aux, fifo, end, todo, ramEnd, maxSegs < size ? maxSegs : size);
    if (why == PF_DONE) break;
    if (why == PF_AVAIL_PAGE) {
      pfABase = ringAddr(qb, <u64>(pfMissGfn << PAGE_SHIFT), false);
      if (pfABase == 0) { pfAGfn = 0xffff_ffff; err = VQ_E3_RING_OUTSIDE_RAM; break; }
      pfAGfn = pfMissGfn;
    } else if (why == PF_DESC_PAGE) {
      // Every descriptor before this one in the chain was ordinary, so an untranslatable page
      // here is where the general walk would stop too.
      pfDBase = ringAddr(qb, <u64>(pfMissGfn << PAGE_SHIFT), false);
      if (pfDBase == 0) { pfDGfn = 0xffff_ffff; err = VQ_E3_RING_OUTSIDE_RAM; break; }
      pfDGfn = pfMissGfn;
    } else {
      const r = slowChain(qb, flags, size, avail, descTable, aux, end, ramEnd, bufDom, maxSegs, maxInd);
      if (r == NO_SPACE) break;
      if (r != VQ_OK) { err = r; break; }
    }
  }
  const n = pfN;
  store<u16>(qb, <u16>pfNextAvail, Q_NEXT_AVAIL);
  store<u32>(qb, pfInFlight, Q_IN_FLIGHT);
  if (n != 0) {
    // A chain walks its segments' descriptors, plus the referring one when it used a table.
    count(CNT_VQ_CHAINS_POPPED, n);
    count(CNT_VQ_DESCS_POPPED, pfSegs + pfTables);
    count(CNT_VQ_INDIRECT_TABLES, pfTables);
    count(CNT_VQ_BYTES_READABLE, pfReadable);
    count(CNT_VQ_BYTES_WRITABLE, pfWritable);
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
    else store<u16>(ev, <u16>pfNextAvail);
  }
  return n;
}
