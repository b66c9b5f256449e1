// Host boundary of the machine: numbers and offsets only. 64-bit guest addresses cross as
// f64 (exact below 2^53) so the host never builds BigInts on a hot path.
import { FIXED_BASE, MACHINE_BASE, MACHINE_NEXT_MFN, MACHINE_FREE_COUNT, DOMID_XEN, FRAME_XEN, MST_NO_MEMORY } from "../layout";
import { countersReset } from "../counters";
import { framesInit, frameAlloc, frameAllocContig, frameFree, frameLive, frameOwner, frameKind, frameRefs, frameAddr } from "./frames";
import { domainCreate, domainDestroy, p2mLookup, gfnPopulate, p2mMap, p2mUnmap } from "./p2m";
import { accessStatus, gpaCopy, gpaRead, gpaWrite, mfnRead, mfnWrite, translate } from "./access";

export function machine_init(limitFrames: u32): void {
  // Static data must stay below the fixed regions that both sides address directly.
  assert(__heap_base <= FIXED_BASE, "static data overlaps the fixed memory map");
  framesInit(limitFrames);
  countersReset();
}

export function counters_reset(): void { countersReset(); }

export function domain_create(domid: u32, ramPages: u32, maxGfn: u32): i32 {
  return domainCreate(domid, ramPages, maxGfn);
}
export function domain_destroy(domid: u32): i32 { return domainDestroy(domid); }

export function p2m_lookup(domid: u32, gfn: u32): i32 { return p2mLookup(domid, gfn); }
export function gfn_populate(domid: u32, gfn: u32): i32 { return gfnPopulate(domid, gfn); }
export function p2m_map(domid: u32, gfn: u32, mfn: u32, typeFlags: u32): i32 {
  return p2mMap(domid, gfn, mfn, typeFlags);
}
export function p2m_unmap(domid: u32, gfn: u32): i32 { return p2mUnmap(domid, gfn); }

export function gpa_read(domid: u32, gpa: f64, dst: usize, len: u32): i32 {
  return gpaRead(domid, <u64>gpa, dst, len);
}
export function gpa_write(domid: u32, gpa: f64, src: usize, len: u32): i32 {
  return gpaWrite(domid, <u64>gpa, src, len);
}
export function gpa_copy(srcDom: u32, srcGpa: f64, dstDom: u32, dstGpa: f64, len: u32): i32 {
  return gpaCopy(srcDom, <u64>srcGpa, dstDom, <u64>dstGpa, len);
}
/** Linear address of a guest frame for the access, or a negative status. */
export function gfn_translate(domid: u32, gfn: u32, write: bool): f64 {
  const a = translate(domid, gfn, write);
  return a == 0 ? <f64>accessStatus : <f64>a;
}

export function mfn_read(mfn: u32, off: u32, dst: usize, len: u32): i32 { return mfnRead(mfn, off, dst, len); }
export function mfn_write(mfn: u32, off: u32, src: usize, len: u32): i32 { return mfnWrite(mfn, off, src, len); }
/** A frame owned by the hypervisor (grant-table frames, shared_info). Returns mfn or status. */
export function xen_frame_alloc(): i32 {
  const mfn = frameAlloc(DOMID_XEN, FRAME_XEN, 0);
  return mfn == 0 ? MST_NO_MEMORY : <i32>mfn;
}
/** `n` hypervisor frames contiguous in linear memory (host-private tables). Returns the first mfn or status. */
export function xen_frames_alloc(n: u32): i32 {
  const mfn = frameAllocContig(DOMID_XEN, FRAME_XEN, n);
  return mfn == 0 ? MST_NO_MEMORY : <i32>mfn;
}
export function xen_frame_free(mfn: u32): void {
  if (frameLive(mfn) && frameKind(mfn) == FRAME_XEN) frameFree(mfn);
}
export function frame_owner(mfn: u32): i32 { return frameLive(mfn) ? <i32>frameOwner(mfn) : -1; }
export function frame_kind(mfn: u32): i32 { return <i32>frameKind(mfn); }
export function frame_refs(mfn: u32): i32 { return <i32>frameRefs(mfn); }
export function frame_addr(mfn: u32): f64 { return <f64>frameAddr(mfn); }
export function frames_used(): u32 {
  return load<u32>(MACHINE_BASE, MACHINE_NEXT_MFN) - 1 - load<u32>(MACHINE_BASE, MACHINE_FREE_COUNT);
}
