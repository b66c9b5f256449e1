// Range checks used by the split ring: are whole ring areas reachable in the ring domain (E3),
// and does a buffer stay inside the address space and the buffer domain's memory (E17)?
// Probes never populate or mark anything; refusals are counted by translate().
import {
  P2M_MAX_GFNS, PAGE_SHIFT, DOMID_INVALID, DOM_RAM_PAGES, QS_STATUS, CNT_VIRTQ_ERR_BASE,
} from "../layout";
import { count } from "../counters";
import { fail } from "./common";
import { translate } from "../machine/access";
import { domEntry, domExists } from "../machine/p2m";

export const GPA_LIMIT: u64 = <u64>P2M_MAX_GFNS << PAGE_SHIFT;

/** True when every page of [gpa, gpa+len) allows the access (len > 0). Ranges past the
 *  guest-physical limit fail without a translation (nothing is counted for them). */
export function rangeAccessible(domid: u32, gpa: u64, len: u32, write: bool): bool {
  if (gpa >= GPA_LIMIT || <u64>len > GPA_LIMIT - gpa) return false;
  const last = <u32>((gpa + <u64>len - 1) >> PAGE_SHIFT);
  for (let g = <u32>(gpa >> PAGE_SHIFT); g <= last; g++) {
    if (translate(domid, g, write, true) == 0) return false;
  }
  return true;
}

/** E17: the buffer must not wrap 2^64; when `dom` names a domain it must also lie in memory
 *  that domain may access (read, or write for device-writable buffers). A range wholly inside
 *  the domain's RAM is accepted without a walk: RAM gfns are either unpopulated (allowed) or
 *  hold the domain's own frame (grant and foreign maps live above RAM). */
export function bufferOk(dom: u32, addr: u64, len: u32, write: bool): bool {
  if (len == 0) return true;
  if (addr > 0xffff_ffff_ffff_ffff - <u64>(len - 1)) return false;
  if (dom == DOMID_INVALID) return true;
  if (addr >= GPA_LIMIT || <u64>len > GPA_LIMIT - addr) return false;
  const first = <u32>(addr >> PAGE_SHIFT);
  const last = <u32>((addr + <u64>len - 1) >> PAGE_SHIFT);
  if (domExists(dom) && last < load<u32>(domEntry(dom), DOM_RAM_PAGES)) return true;
  for (let g = first; g <= last; g++) {
    if (translate(dom, g, write, true) == 0) return false;
  }
  return true;
}

/** A refused call that leaves the queue usable (E4, our own E21/E22): status and a count. */
export function refuse(qb: usize, code: u32): void {
  store<u32>(qb, code, QS_STATUS);
  count(CNT_VIRTQ_ERR_BASE + code);
}

/** A ring error: the queue is broken (fail()) and the code is also this call's outcome. */
export function broke(qb: usize, code: u32): u32 {
  store<u32>(qb, fail(qb, code), QS_STATUS);
  return code;
}
