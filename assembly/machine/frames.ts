// Machine frames: a pool of 4 KiB frames in linear memory, a frame table entry per mfn,
// bump allocation plus a free list, and memory growth on demand.
import {
  FRAME_ENTRY_SIZE, FRAME_FLAGS, FRAME_GFN, FRAME_KIND, FRAME_NEXT_FREE, FRAME_OWNER, FRAME_REFS,
  FRAME_FREE, FRAME_ZERO, FRAME_TABLE_BASE, MACHINE_BASE, MACHINE_FREE_COUNT, MACHINE_FREE_HEAD,
  MACHINE_LIMIT_MFN, MACHINE_NEXT_MFN, MAX_FRAMES, PAGE_SHIFT, PAGE_SIZE, POOL_BASE, DOMID_INVALID,
  CNT_FRAMES_FREED,
} from "../layout";
import { count } from "../counters";

@inline export function frameEntry(mfn: u32): usize {
  return FRAME_TABLE_BASE + mfn * FRAME_ENTRY_SIZE;
}

@inline export function frameAddr(mfn: u32): usize {
  return <usize>(POOL_BASE + (mfn << PAGE_SHIFT));
}

@inline export function frameOwner(mfn: u32): u32 { return load<u16>(frameEntry(mfn), FRAME_OWNER); }
@inline export function frameKind(mfn: u32): u32 { return load<u8>(frameEntry(mfn), FRAME_KIND); }
@inline export function frameRefs(mfn: u32): u32 { return load<u32>(frameEntry(mfn), FRAME_REFS); }

export function framesInit(limit: u32): void {
  const m = MACHINE_BASE;
  // mfn 0 is the zero frame: every unpopulated read is served from it.
  store<u32>(m, 1, MACHINE_NEXT_MFN);
  store<u32>(m, 0, MACHINE_FREE_HEAD);
  store<u32>(m, 0, MACHINE_FREE_COUNT);
  store<u32>(m, limit < MAX_FRAMES ? limit : MAX_FRAMES, MACHINE_LIMIT_MFN);
  const e = frameEntry(0);
  store<u16>(e, <u16>DOMID_INVALID, FRAME_OWNER);
  store<u8>(e, <u8>FRAME_ZERO, FRAME_KIND);
}

/** Makes sure linear memory covers frame `mfn`; false when the Wasm limit is reached. */
function ensureBacked(mfn: u32): bool {
  const end = <u64>frameAddr(mfn) + PAGE_SIZE;
  const have = <u64>memory.size() << 16;
  if (end <= have) return true;
  // Grow in 16 MiB steps (fewer detaches of the host's views), never past what is needed
  // when close to the limit.
  let want = <i32>((end - have + 0xffff) >> 16);
  const step = 256;
  const room = 65536 - memory.size();
  if (want < step) want = step < room ? step : want;
  return memory.grow(want) >= 0;
}

/** Allocates a zeroed frame for `owner`; returns the mfn, or 0 when the machine is full. */
export function frameAlloc(owner: u32, kind: u32, gfn: u32): u32 {
  const m = MACHINE_BASE;
  let mfn = load<u32>(m, MACHINE_FREE_HEAD);
  if (mfn != 0) {
    store<u32>(m, load<u32>(frameEntry(mfn), FRAME_NEXT_FREE), MACHINE_FREE_HEAD);
    store<u32>(m, load<u32>(m, MACHINE_FREE_COUNT) - 1, MACHINE_FREE_COUNT);
  } else {
    mfn = load<u32>(m, MACHINE_NEXT_MFN);
    if (mfn >= load<u32>(m, MACHINE_LIMIT_MFN) || !ensureBacked(mfn)) return 0;
    store<u32>(m, mfn + 1, MACHINE_NEXT_MFN);
  }
  memory.fill(frameAddr(mfn), 0, PAGE_SIZE);
  const e = frameEntry(mfn);
  store<u16>(e, <u16>owner, FRAME_OWNER);
  store<u8>(e, <u8>kind, FRAME_KIND);
  store<u8>(e, 0, FRAME_FLAGS);
  store<u32>(e, 0, FRAME_REFS);
  store<u32>(e, gfn, FRAME_GFN);
  store<u32>(e, 0, FRAME_NEXT_FREE);
  return mfn;
}

/** Allocates `n` zeroed frames contiguous in linear memory (for host-private tables that must
 *  be addressed as one array, such as a queue's aux area). Returns the first mfn or 0. */
export function frameAllocContig(owner: u32, kind: u32, n: u32): u32 {
  if (n == 0) return 0;
  const m = MACHINE_BASE;
  const first = load<u32>(m, MACHINE_NEXT_MFN);
  const last = first + n - 1;
  if (last < first || last >= load<u32>(m, MACHINE_LIMIT_MFN) || !ensureBacked(last)) return 0;
  store<u32>(m, last + 1, MACHINE_NEXT_MFN);
  memory.fill(frameAddr(first), 0, <usize>n << PAGE_SHIFT);
  for (let mfn = first; mfn <= last; mfn++) {
    const e = frameEntry(mfn);
    store<u16>(e, <u16>owner, FRAME_OWNER);
    store<u8>(e, <u8>kind, FRAME_KIND);
    store<u8>(e, 0, FRAME_FLAGS);
    store<u32>(e, 0, FRAME_REFS);
    store<u32>(e, 0, FRAME_GFN);
    store<u32>(e, 0, FRAME_NEXT_FREE);
  }
  return first;
}

export function frameFree(mfn: u32): void {
  const m = MACHINE_BASE;
  const e = frameEntry(mfn);
  store<u16>(e, <u16>DOMID_INVALID, FRAME_OWNER);
  store<u8>(e, <u8>FRAME_FREE, FRAME_KIND);
  store<u8>(e, 0, FRAME_FLAGS);
  store<u32>(e, 0, FRAME_REFS);
  store<u32>(e, load<u32>(m, MACHINE_FREE_HEAD), FRAME_NEXT_FREE);
  store<u32>(m, mfn, MACHINE_FREE_HEAD);
  store<u32>(m, load<u32>(m, MACHINE_FREE_COUNT) + 1, MACHINE_FREE_COUNT);
  count(CNT_FRAMES_FREED);
}

/** True when `mfn` names a frame that is currently allocated (not free, not the zero frame). */
export function frameLive(mfn: u32): bool {
  if (mfn == 0 || mfn >= load<u32>(MACHINE_BASE, MACHINE_NEXT_MFN)) return false;
  return frameKind(mfn) != FRAME_FREE;
}
