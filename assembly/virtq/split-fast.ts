// The common cases of a split-ring pop and push, as leaf functions: no calls, so V8 keeps the walk's
// state in registers (in Wasm every register is caller-saved, and a possible call anywhere in
// a loop makes the register allocator spill the loop's values). It takes ordinary chains
// (direct descriptors, readable then writable, buffers inside the buffer domain's RAM,
// translations already cached) and stops at anything else, before touching any state for
// that chain; splitPop() then does the translation, or walks that one chain with every check
// (split.ts). The records it writes are the ones the general walk would write.
import {
  QS_USED_REC_SIZE, QS_USED_ID, QS_USED_LEN, CHAIN_HDR_SIZE, CHAIN_ID, CHAIN_NSEGS, CHAIN_READABLE,
  CHAIN_WRITABLE,
  SEG_SIZE, SEG_ADDR, SEG_LEN, SEG_FLAGS, QS_AUX_ENTRY, QSA_DEV_WRITABLE, QSA_DEV_OUTSTANDING,
  VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT, PAGE_SHIFT, PAGE_MASK,
} from "../layout";

export const PF_DONE: u32 = 0; // took `todo` chains
export const PF_AVAIL_PAGE: u32 = 1; // the next avail slot's page is not cached
export const PF_DESC_PAGE: u32 = 2; // a descriptor's page (pfMissGfn) is not cached
export const PF_SLOW: u32 = 3; // the next chain needs the general walk

// Running state of the current pop, shared with splitPop() and its general walk.
export let pfNextAvail: u32 = 0;
export let pfInFlight: u32 = 0;
export let pfN: u32 = 0;
export let pfRec: usize = 0;
export let pfAGfn: u32 = 0xffff_ffff;
export let pfABase: usize = 0;
export let pfDGfn: u32 = 0xffff_ffff;
export let pfDBase: usize = 0;
export let pfMissGfn: u32 = 0;
// Totals of the chains taken so far (for the counters): segments, readable and writable bytes.
export let pfSegs: u64 = 0;
export let pfReadable: u64 = 0;
export let pfWritable: u64 = 0;

/** Index range [lo, lo + count) of `size` entries of `stride` bytes from `base` that lie in
 *  the 4 KiB page at `page` (a gpa), and the linear address entry 0 would have: entry i is
 *  then at lin + i * stride. count is 0 when `page` is 0xffff_ffff (nothing cached). */
let rLo: u32 = 0;
let rCount: u32 = 0;
@inline function pageRange(base: u32, stride: u32, size: u32, gfn: u32, linPage: usize): usize {
  rLo = 0;
  rCount = 0;
  if (gfn == 0xffff_ffff) return 0;
  const page = gfn << PAGE_SHIFT;
  // Entries start at base + i * stride, are `stride`-aligned relative to base and never
  // straddle a page (ring areas are aligned to at least their entry size).
  let lo: i64 = (<i64>page - <i64>base + <i64>stride - 1) / <i64>stride;
  let hi: i64 = (<i64>page + 4096 - <i64>base) / <i64>stride;
  if (lo < 0) lo = 0;
  if (hi > <i64>size) hi = <i64>size;
  if (hi > lo) {
    rLo = <u32>lo;
    rCount = <u32>(hi - lo);
  }
  return linPage - <usize>(page - base);
}

/** Pops ordinary chains until `todo` are taken or one is not ordinary. `fifo` is 0 without
 *  IN_ORDER. Buffers must lie below `ramEnd` and not be empty (an empty one, allowed or not,
 *  is left to the general walk); chains longer than `segLimit` (the queue size or the E19
 *  limit) too. */
export function popFast(
  size: u32, avail: u32, descTable: u32, aux: usize, fifo: usize, end: usize, todo: u32, ramEnd: u64, segLimit: u32,
): u32 {
  const mask = size - 1;
  const first = pfNextAvail;
  const availSlots = avail + 4;
  const aLin = pageRange(availSlots, 2, size, pfAGfn, pfABase);
  const aLo = rLo;
  const aCount = rCount;
  // Descriptors [dLo, dLo + dCount) are in the cached page; this one test per descriptor
  // also catches an index >= size (dLo + dCount <= size).
  const dLin = pageRange(descTable, 16, size, pfDGfn, pfDBase);
  const dLo = rLo;
  const dCount = rCount;
  // Chains this call may take; reaching `room` with more pending is E6 (general walk).
  let limit = todo - pfN;
  const room = size - pfInFlight;
  let atLimit = PF_DONE;
  if (room < limit) {
    limit = room;
    atLimit = PF_SLOW;
  }
  const worst = CHAIN_HDR_SIZE + segLimit * SEG_SIZE; // largest record a fast chain can need
  let why = PF_DONE;
  let k: u32 = 0;
  const recStart = pfRec;
  let rec = recStart;
  let totalSum: u64 = 0;
  let writableSum: u64 = 0;
  let idx: u32 = 0;
  while (k < limit) {
    const s = (first + k) & mask;
    if (s - aLo >= aCount) { pfMissGfn = (availSlots + (s << 1)) >> PAGE_SHIFT; why = PF_AVAIL_PAGE; break; }
    const head = <u32>load<u16>(aLin + (s << 1));
    if (<usize>(end - rec) < <usize>worst) { why = PF_SLOW; break; }
    idx = head;
    let seenWrite = false;
    let total: u64 = 0;
    let writable: u64 = 0;
    let seg = rec + CHAIN_HDR_SIZE;
    const segEnd = seg + segLimit * SEG_SIZE;
    while (true) {
      if (idx - dLo >= dCount) { why = PF_DESC_PAGE; break; }
      const d = dLin + (idx << 4);
      const addr = load<u64>(d);
      const len = load<u32>(d, 8);
      const f = <u32>load<u16>(d, 12);
      const w = (f & VRING_DESC_F_WRITE) != 0;
      if (seg >= segEnd || (f & VRING_DESC_F_INDIRECT) != 0 || (seenWrite && !w) ||
          addr >= ramEnd || <u64>len - 1 >= ramEnd - addr) { why = PF_SLOW; break; }
      seenWrite = w;
      total += len;
      if (w) writable += len;
      store<u64>(seg, addr, SEG_ADDR);
      store<u32>(seg, len, SEG_LEN);
      store<u32>(seg, f & VRING_DESC_F_WRITE, SEG_FLAGS);
      seg += SEG_SIZE;
      if ((f & VRING_DESC_F_NEXT) == 0) break;
      idx = <u32>load<u16>(d, 14);
    }
    // Over 2^32 - 1 bytes is E18: left to the general walk too.
    if (why == PF_DONE && total > 0xffff_ffff) why = PF_SLOW;
    if (why != PF_DONE) break;
    // The header as two 64-bit stores (what a C compiler's store merging makes of it):
    // id, nsegs, slots (= nsegs: all direct), flags 0; then readable and writable bytes.
    const nsegs = <u64>((seg - rec - CHAIN_HDR_SIZE) >> 4);
    store<u64>(rec, <u64>head | (nsegs << 16) | (nsegs << 32), CHAIN_ID);
    store<u64>(rec, (total - writable) | (writable << 32), CHAIN_READABLE);
    const e = aux + head * QS_AUX_ENTRY;
    store<u32>(e, <u32>writable, QSA_DEV_WRITABLE);
    store<u32>(e, load<u32>(e, QSA_DEV_OUTSTANDING) + 1, QSA_DEV_OUTSTANDING);
    if (fifo != 0) store<u16>(fifo + (s << 1), <u16>head);
    k++;
    rec = seg;
    totalSum += total;
    writableSum += writable;
  }
  if (why == PF_DESC_PAGE) {
    if (idx >= size) why = PF_SLOW; // E7 or E8: the general walk says which
    else pfMissGfn = (descTable + (idx << 4)) >> PAGE_SHIFT;
  }
  if (why == PF_DONE) why = atLimit;
  pfSegs += ((rec - recStart) >> 4) - k; // every record: a 16-byte header and 16 per segment
  pfReadable += totalSum - writableSum;
  pfWritable += writableSum;
  pfNextAvail = (first + k) & 0xffff;
  pfInFlight += k;
  pfN += k;
  pfRec = rec;
  return why;
}

// ---- push ----------------------------------------------------------------------------------

export const PU_PAGE: u32 = 1; // the next used element's page is not cached

// Running state of the current push, shared with splitPush() and its general path.
export let puK: u32 = 0; // records taken
export let puP: usize = 0; // next record
export let puNextUsed: u32 = 0;
export let puInFlight: u32 = 0;
export let puDone: u32 = 0; // chains completed
export let puBytes: u64 = 0;
export let puUGfn: u32 = 0xffff_ffff; // one-page write cache of the used ring
export let puUBase: usize = 0;

/** Completes ordinary records: a known outstanding head, a length within its writable
 *  bytes, with IN_ORDER (`fifo` != 0) the oldest outstanding chain, and a used element
 *  inside the cached page. Stops at anything else (PF_SLOW) or at an uncached page (PU_PAGE). */
export function pushFast(size: u32, used: u32, aux: usize, fifo: usize, nextAvail: u32, n: u32, chains: bool): u32 {
  const mask = size - 1;
  let k = puK;
  let p = puP;
  let nextUsed = puNextUsed;
  let inFlight = puInFlight;
  let done = puDone;
  let bytes = puBytes;
  const uGfn = puUGfn;
  const uBase = puUBase;
  let why = PF_DONE;
  while (k < n) {
    let id: u32;
    let len: u32;
    let step: usize;
    if (chains) {
      id = <u32>load<u16>(p, CHAIN_ID);
      len = load<u32>(p, CHAIN_WRITABLE);
      step = <usize>(CHAIN_HDR_SIZE + <u32>load<u16>(p, CHAIN_NSEGS) * SEG_SIZE);
    } else {
      id = load<u32>(p, QS_USED_ID);
      len = load<u32>(p, QS_USED_LEN);
      step = QS_USED_REC_SIZE;
    }
    if (id >= size) { why = PF_SLOW; break; }
    const e = aux + id * QS_AUX_ENTRY;
    const outstanding = load<u32>(e, QSA_DEV_OUTSTANDING);
    if (outstanding == 0 || len > load<u32>(e, QSA_DEV_WRITABLE) ||
        (fifo != 0 && <u32>load<u16>(fifo + (((nextAvail - inFlight) & mask) << 1)) != id)) {
      why = PF_SLOW;
      break;
    }
    const elem = used + 4 + ((nextUsed & mask) << 3);
    if ((elem >> PAGE_SHIFT) != ((elem + 4) >> PAGE_SHIFT)) { why = PF_SLOW; break; }
    if ((elem >> PAGE_SHIFT) != uGfn) { why = PU_PAGE; break; }
    store<u64>(uBase + (elem & PAGE_MASK), <u64>id | (<u64>len << 32)); // {id, len}
    store<u32>(e, outstanding - 1, QSA_DEV_OUTSTANDING);
    bytes += len;
    nextUsed = (nextUsed + 1) & 0xffff;
    inFlight--;
    done++;
    p += step;
    k++;
  }
  puK = k;
  puP = p;
  puNextUsed = nextUsed;
  puInFlight = inFlight;
  puDone = done;
  puBytes = bytes;
  return why;
}
