// Guest-physical access with rights: every read, write and copy a domain makes goes through
// translate(), which refuses (and counts) anything the domain has no right to.
import {
  DOM_MAX_GFN, DOM_RAM_PAGES, P2M_MFN_SHIFT, P2M_TYPE_MASK, P2M_RAM, P2MF_RO, P2MF_ACCESSED,
  P2MF_DIRTY, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE, P2M_MAX_GFNS,
  MST_OK, MST_NO_DOMAIN, MST_NOT_MAPPED, MST_READ_ONLY, MST_NOT_OWNER, MST_RANGE, MST_BAD_MFN,
  CNT_ACCESS_REFUSED, CNT_REFUSED_NOT_MAPPED, CNT_REFUSED_READ_ONLY, CNT_REFUSED_NOT_OWNER,
  CNT_REFUSED_NO_DOMAIN, CNT_REFUSED_RANGE, CNT_GUEST_READS, CNT_GUEST_READ_BYTES, CNT_GUEST_WRITES,
  CNT_GUEST_WRITE_BYTES, CNT_COPIES, CNT_COPY_BYTES, CNT_MFN_READ_BYTES, CNT_MFN_WRITE_BYTES,
  CNT_CPU_COPIES_BASE, CNT_CPU_COPY_BYTES_BASE, CNT_HV_COPIES_BASE, CNT_HV_COPY_BYTES_BASE,
} from "../layout";
import { count, countCopy } from "../counters";
import { frameAddr, frameLive, frameOwner } from "./frames";
import { domEntry, domExists, gfnPopulate, p2mSlot } from "./p2m";

/** Status of the last refused translate(), for callers that only see a 0 address. */
export let accessStatus: i32 = MST_OK;

const GPA_LIMIT: u64 = <u64>P2M_MAX_GFNS << PAGE_SHIFT;

function refuse(status: i32): usize {
  accessStatus = status;
  count(CNT_ACCESS_REFUSED);
  if (status == MST_NOT_MAPPED) count(CNT_REFUSED_NOT_MAPPED);
  else if (status == MST_READ_ONLY) count(CNT_REFUSED_READ_ONLY);
  else if (status == MST_NOT_OWNER) count(CNT_REFUSED_NOT_OWNER);
  else if (status == MST_NO_DOMAIN) count(CNT_REFUSED_NO_DOMAIN);
  else count(CNT_REFUSED_RANGE);
  return 0;
}

/** Linear address of guest frame `gfn` of `domid` for a read or a write, or 0 when refused
 *  (reason in accessStatus, counted). A read of an unpopulated RAM frame returns the zero
 *  frame; a write populates it. With `probe` set nothing is populated or marked: the call
 *  only says whether the access would be allowed (non-zero) or not. */
export function translate(domid: u32, gfn: u32, write: bool, probe: bool = false): usize {
  if (!domExists(domid)) return refuse(MST_NO_DOMAIN);
  const d = domEntry(domid);
  if (gfn >= load<u32>(d, DOM_MAX_GFN)) return refuse(MST_NOT_MAPPED);
  const slot = p2mSlot(d, gfn, false);
  let ent: u32 = slot == 0 ? 0 : load<u32>(slot);
  if (ent == 0) {
    if (gfn >= load<u32>(d, DOM_RAM_PAGES)) return refuse(MST_NOT_MAPPED);
    if (!write) return frameAddr(0);
    if (probe) return 1;
    const mfn = gfnPopulate(domid, gfn);
    if (mfn < 0) return refuse(mfn);
    return frameAddr(<u32>mfn);
  }
  const mfn = ent >> P2M_MFN_SHIFT;
  if (write && (ent & P2MF_RO) != 0) return refuse(MST_READ_ONLY);
  // Defence in depth: an own-RAM entry must name a frame this domain owns.
  if ((ent & P2M_TYPE_MASK) == P2M_RAM && frameOwner(mfn) != domid) return refuse(MST_NOT_OWNER);
  if (!probe) {
    const want = write ? (P2MF_ACCESSED | P2MF_DIRTY) : P2MF_ACCESSED;
    if ((ent & want) != want) store<u32>(slot, ent | want);
  }
  return frameAddr(mfn);
}

/** Checks [gpa, gpa+len) for the access without performing it. */
export function checkRange(domid: u32, gpa: u64, len: u32, write: bool): i32 {
  if (len == 0) {
    if (domExists(domid)) return MST_OK;
    refuse(MST_NO_DOMAIN);
    return MST_NO_DOMAIN;
  }
  const end = gpa + <u64>len;
  if (end < gpa || end > GPA_LIMIT) { refuse(MST_RANGE); return MST_RANGE; }
  const last = <u32>((end - 1) >> PAGE_SHIFT);
  for (let g = <u32>(gpa >> PAGE_SHIFT); g <= last; g++) {
    if (translate(domid, g, write, true) == 0) return accessStatus;
  }
  return MST_OK;
}

/** Moves [gpa, gpa+len) of `domid` to or from linear `buf`, page by page, after checking
 *  every page: all or nothing. */
function gpaMove(domid: u32, gpa: u64, buf: usize, len: u32, write: bool): i32 {
  const st = checkRange(domid, gpa, len, write);
  if (st != MST_OK) return st;
  let done: u32 = 0;
  while (done < len) {
    const a = gpa + done;
    const off = <u32>a & PAGE_MASK;
    let n = PAGE_SIZE - off;
    if (n > len - done) n = len - done;
    const frame = translate(domid, <u32>(a >> PAGE_SHIFT), write);
    if (frame == 0) return accessStatus; // machine full while populating
    if (write) memory.copy(frame + off, buf + done, n);
    else memory.copy(buf + done, frame + off, n);
    done += n;
  }
  count(write ? CNT_GUEST_WRITES : CNT_GUEST_READS);
  count(write ? CNT_GUEST_WRITE_BYTES : CNT_GUEST_READ_BYTES, len);
  return MST_OK;
}

/** Copies guest memory [gpa, gpa+len) of `domid` to linear `dst`. */
export function gpaRead(domid: u32, gpa: u64, dst: usize, len: u32): i32 {
  return gpaMove(domid, gpa, dst, len, false);
}

/** Copies linear `src` into guest memory [gpa, gpa+len) of `domid`; all or nothing. */
export function gpaWrite(domid: u32, gpa: u64, src: usize, len: u32): i32 {
  return gpaMove(domid, gpa, src, len, true);
}

/** Copies between two domains' guest-physical spaces (both rights checked first). */
export function gpaCopy(srcDom: u32, srcGpa: u64, dstDom: u32, dstGpa: u64, len: u32): i32 {
  let st = checkRange(srcDom, srcGpa, len, false);
  if (st != MST_OK) return st;
  st = checkRange(dstDom, dstGpa, len, true);
  if (st != MST_OK) return st;
  let done: u32 = 0;
  while (done < len) {
    const s = srcGpa + done;
    const t = dstGpa + done;
    const so = <u32>s & PAGE_MASK;
    const to = <u32>t & PAGE_MASK;
    let n = PAGE_SIZE - (so > to ? so : to);
    if (n > len - done) n = len - done;
    const dst = translate(dstDom, <u32>(t >> PAGE_SHIFT), true);
    if (dst == 0) return accessStatus;
    const src = translate(srcDom, <u32>(s >> PAGE_SHIFT), false);
    memory.copy(dst + to, src + so, n);
    done += n;
  }
  count(CNT_COPIES);
  count(CNT_COPY_BYTES, len);
  countCopy(CNT_CPU_COPIES_BASE, CNT_CPU_COPY_BYTES_BASE, len);
  return MST_OK;
}

/** Hypervisor access by machine frame (Xen itself, no p2m): bounds-checked within a frame. */
export function mfnRead(mfn: u32, off: u32, dst: usize, len: u32): i32 {
  if (off >= PAGE_SIZE || len > PAGE_SIZE - off) return MST_RANGE;
  if (mfn != 0 && !frameLive(mfn)) return MST_BAD_MFN;
  memory.copy(dst, frameAddr(mfn) + off, len);
  count(CNT_MFN_READ_BYTES, len);
  return MST_OK;
}

export function mfnWrite(mfn: u32, off: u32, src: usize, len: u32): i32 {
  if (off >= PAGE_SIZE || len > PAGE_SIZE - off) return MST_RANGE;
  if (!frameLive(mfn)) return MST_BAD_MFN;
  memory.copy(frameAddr(mfn) + off, src, len);
  count(CNT_MFN_WRITE_BYTES, len);
  return MST_OK;
}

/** Linear address of a live frame for kernels the hypervisor runs (0 when not live). */
export function mfnAddr(mfn: u32): usize {
  return frameLive(mfn) ? frameAddr(mfn) : 0;
}
