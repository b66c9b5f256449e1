// Fast paths of the packed device's memory checks, with the exact semantics of the slow ones:
// the buffer domain's p2m looked up once per pop for the E17 check (falling back to translate(),
// which decides and counts, whenever the fast test is not sure), and ringAddr() with its cache
// hit inlined.
import {
  DOMID_INVALID, DOM_MAX_GFN, DOM_P2M_TOP, P2M_LEVEL_BITS, P2M_MAX_GFNS, P2M_MFN_SHIFT, P2M_TYPE_MASK,
  P2M_RAM, P2MF_RO, FRAME_OWNER, PAGE_MASK, PAGE_SHIFT, Q_TLB, QTLB_TAG, QTLB_BASE, QTLB_GEN,
  QTLB_WRITABLE, MACHINE_BASE, MACHINE_P2M_GEN,
} from "../layout";
import { translate } from "../machine/access";
import { frameAddr, frameEntry } from "../machine/frames";
import { domEntry, domExists } from "../machine/p2m";
import { ringAddr } from "./common";

// The buffer domain's p2m, looked up once per call for the fast path of the E17 check. The
// p2m cannot change during a pop (probes neither populate nor mark), so this stays valid.
export let bDom: u32 = 0;
export let bTop: usize = 0; // linear address of its top p2m page; 0 when there is no such domain
export let bMaxGfn: u32 = 0;
const GPA_LIMIT: u64 = <u64>P2M_MAX_GFNS << PAGE_SHIFT;
const LEAF_MASK: u32 = (1 << P2M_LEVEL_BITS) - 1;

export function bufContext(dom: u32): void {
  bDom = dom;
  bTop = 0;
  bMaxGfn = 0;
  if (dom == DOMID_INVALID || !domExists(dom)) return;
  const d = domEntry(dom);
  bMaxGfn = load<u32>(d, DOM_MAX_GFN);
  bTop = frameAddr(load<u32>(d, DOM_P2M_TOP));
}

/** True when translate(dom, gfn, write, probe) would surely allow the access: a present p2m
 *  entry that passes the rights checks. Anything else goes the slow way (which also counts).
 *  `top` is the linear address of the domain's top p2m page, 0 when the domain is absent. */
@inline function bufPageFast(dom: u32, top: usize, maxGfn: u32, gfn: u32, write: bool): bool {
  if (top == 0 || gfn >= maxGfn) return false;
  const leaf = load<u32>(top + ((gfn >> P2M_LEVEL_BITS) << 2));
  if (leaf == 0) return false;
  const ent = load<u32>(frameAddr(leaf) + ((gfn & LEAF_MASK) << 2));
  if (ent == 0 || (write && (ent & P2MF_RO) != 0)) return false;
  return (ent & P2M_TYPE_MASK) != P2M_RAM || <u32>load<u16>(frameEntry(ent >> P2M_MFN_SHIFT), FRAME_OWNER) == dom;
}

/** rangeOk() of packed.ts for the buffer domain, with the fast path per page. */
@inline export function bufRangeOk(dom: u32, top: usize, maxGfn: u32, addr: u64, len: u32, write: bool): bool {
  if (len == 0) return true;
  const last = addr + <u64>(len - 1);
  if (last < addr || last >= GPA_LIMIT) return false;
  const end = <u32>(last >> PAGE_SHIFT);
  for (let g = <u32>(addr >> PAGE_SHIFT); g <= end; g++) {
    if (!bufPageFast(dom, top, maxGfn, g, write) && translate(dom, g, write, true) == 0) return false;
  }
  return true;
}

/** bufRangeOk() for a non-empty range that does not wrap, given its last byte. The first page
 *  is checked outside the loop: most elements fit in one page. */
@inline export function bufLastOk(dom: u32, top: usize, maxGfn: u32, addr: u64, last: u64, write: bool): bool {
  if (last >= GPA_LIMIT) return false;
  let g = <u32>(addr >> PAGE_SHIFT);
  const end = <u32>(last >> PAGE_SHIFT);
  if (!bufPageFast(dom, top, maxGfn, g, write) && translate(dom, g, write, true) == 0) return false;
  while (g < end) {
    g++;
    if (!bufPageFast(dom, top, maxGfn, g, write) && translate(dom, g, write, true) == 0) return false;
  }
  return true;
}

/** True when bufPageFast() vouches for every page of [addr, last]: no call, no count. */
@inline export function bufLastFast(dom: u32, top: usize, maxGfn: u32, addr: u64, last: u64, write: bool): bool {
  if (last >= GPA_LIMIT) return false;
  let g = <u32>(addr >> PAGE_SHIFT);
  const end = <u32>(last >> PAGE_SHIFT);
  if (!bufPageFast(dom, top, maxGfn, g, write)) return false;
  while (g < end) {
    g++;
    if (!bufPageFast(dom, top, maxGfn, g, write)) return false;
  }
  return true;
}

/** ringAddr() with its cache hit inlined (the common case on a hot ring). */
@inline export function ringFast(qb: usize, gpa: u64, write: bool): usize {
  const gfn = <u32>(gpa >> PAGE_SHIFT);
  const e = qb + Q_TLB + ((gfn & 3) << 4);
  if (load<u32>(e, QTLB_TAG) == gfn + 1 && load<u32>(e, QTLB_GEN) == load<u32>(MACHINE_BASE, MACHINE_P2M_GEN) &&
      (!write || load<u32>(e, QTLB_WRITABLE) != 0)) {
    return load<u32>(e, QTLB_BASE) + (<u32>gpa & PAGE_MASK);
  }
  return ringAddr(qb, gpa, write);
}
