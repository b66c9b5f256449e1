// GNTTABOP_copy data movement for a whole batch. The host has already done Xen's part (domain
// lookup, XSM, grant pinning, gfn -> mfn); each record names two machine frames and the
// domains that must own them. The kernel re-checks what it can see before moving a byte:
// both frames are live guest RAM (never a p2m page, a grant-table page or the zero frame),
// owned by the named domain and not orphaned, and the range stays inside each frame.
import {
  GCOPY_REC_SIZE, GCOPY_SRC_MFN, GCOPY_DST_MFN, GCOPY_SRC_OFF, GCOPY_DST_OFF, GCOPY_LEN,
  GCOPY_SRC_DOM, GCOPY_DST_DOM, GCOPY_STATUS, FRAME_RAM, FRAME_FLAGS, FRAMEF_ORPHAN, PAGE_SIZE,
  MST_OK, MST_RANGE, MST_BAD_MFN, MST_NOT_OWNER, CNT_GNT_COPIES, CNT_GNT_COPY_BYTES, CNT_GNT_COPY_REFUSED,
  CNT_CPU_COPIES_BASE, CNT_CPU_COPY_BYTES_BASE, CNT_HV_COPIES_BASE, CNT_HV_COPY_BYTES_BASE,
} from "../layout";
import { count, countCopy } from "../counters";
import { frameAddr, frameEntry, frameKind, frameLive, frameOwner } from "../machine/frames";

/** MST_OK when `mfn` is a live, non-orphaned RAM frame of `dom`. */
function frameCheck(mfn: u32, dom: u32): i32 {
  if (!frameLive(mfn) || frameKind(mfn) != FRAME_RAM) return MST_BAD_MFN;
  if (frameOwner(mfn) != dom || (load<u8>(frameEntry(mfn), FRAME_FLAGS) & FRAMEF_ORPHAN) != 0) return MST_NOT_OWNER;
  return MST_OK;
}

/** Runs `n` copy records at `recs`, in order; writes each record's status. Returns how many
 *  were performed. */
export function grantCopyBatch(recs: usize, n: u32): u32 {
  let done: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const r = recs + <usize>i * GCOPY_REC_SIZE;
    const src = load<u32>(r, GCOPY_SRC_MFN);
    const dst = load<u32>(r, GCOPY_DST_MFN);
    const so = <u32>load<u16>(r, GCOPY_SRC_OFF);
    const dof = <u32>load<u16>(r, GCOPY_DST_OFF);
    const len = <u32>load<u16>(r, GCOPY_LEN);
    let st: i32 = MST_OK;
    if (so + len > PAGE_SIZE || dof + len > PAGE_SIZE) st = MST_RANGE;
    if (st == MST_OK) st = frameCheck(src, <u32>load<u16>(r, GCOPY_SRC_DOM));
    if (st == MST_OK) st = frameCheck(dst, <u32>load<u16>(r, GCOPY_DST_DOM));
    store<i32>(r, st, GCOPY_STATUS);
    if (st != MST_OK) {
      count(CNT_GNT_COPY_REFUSED);
      continue;
    }
    // memmove semantics: source and destination may be the same frame.
    memory.copy(frameAddr(dst) + dof, frameAddr(src) + so, len);
    count(CNT_GNT_COPIES);
    count(CNT_GNT_COPY_BYTES, len);
    countCopy(CNT_HV_COPIES_BASE, CNT_HV_COPY_BYTES_BASE, len);
    done++;
  }
  return done;
}
