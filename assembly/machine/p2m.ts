// Domains and their p2m tables (gfn -> mfn), two levels of 1024 u32 entries each.
import {
  DOMAINS_BASE, DOMAIN_ENTRY_SIZE, MAX_DOMAINS, DOM_FLAGS, DOM_P2M_TOP, DOM_RAM_PAGES, DOM_MAX_GFN,
  DOM_POPULATED, DOM_MAPPED, DOMF_EXISTS, DOMF_DYING, DOMID_XEN, P2M_LEVEL_BITS, P2M_MAX_GFNS,
  P2M_MFN_SHIFT, P2M_TYPE_MASK, P2M_RAM, P2M_GRANT, P2M_FOREIGN, P2M_XEN, FRAME_P2M, FRAME_RAM,
  FRAME_FLAGS, FRAME_REFS, FRAMEF_ORPHAN, MST_OK, MST_BAD_ARG, MST_EXISTS, MST_NO_DOMAIN,
  MST_NO_MEMORY, MST_NOT_MAPPED, MST_BAD_MFN, CNT_FRAMES_POPULATED, CNT_P2M_MAPS, CNT_P2M_UNMAPS, MACHINE_BASE, MACHINE_P2M_GEN,
} from "../layout";
import { count } from "../counters";
import { frameAddr, frameAlloc, frameEntry, frameFree, frameLive } from "./frames";

const LEAF_MASK: u32 = (1 << P2M_LEVEL_BITS) - 1;

/** Invalidates every cached translation (queue ring caches compare against it). */
@inline export function p2mChanged(): void {
  store<u32>(MACHINE_BASE, load<u32>(MACHINE_BASE, MACHINE_P2M_GEN) + 1, MACHINE_P2M_GEN);
}

@inline export function domEntry(domid: u32): usize {
  return DOMAINS_BASE + domid * DOMAIN_ENTRY_SIZE;
}

@inline export function domExists(domid: u32): bool {
  return domid < MAX_DOMAINS && (load<u32>(domEntry(domid), DOM_FLAGS) & DOMF_EXISTS) != 0;
}

/** Pointer to the p2m entry of `gfn`, or 0 when its leaf does not exist and `create` is false
 *  (or the machine is out of frames). The caller has checked the domain and gfn range. */
export function p2mSlot(dom: usize, gfn: u32, create: bool): usize {
  const top = frameAddr(load<u32>(dom, DOM_P2M_TOP)) + ((gfn >> P2M_LEVEL_BITS) << 2);
  let leaf = load<u32>(top);
  if (leaf == 0) {
    if (!create) return 0;
    leaf = frameAlloc(DOMID_XEN, FRAME_P2M, 0);
    if (leaf == 0) return 0;
    store<u32>(top, leaf);
  }
  return frameAddr(leaf) + ((gfn & LEAF_MASK) << 2);
}

export function domainCreate(domid: u32, ramPages: u32, maxGfn: u32): i32 {
  if (domid >= MAX_DOMAINS || maxGfn == 0 || maxGfn > P2M_MAX_GFNS || ramPages > maxGfn) return MST_BAD_ARG;
  const d = domEntry(domid);
  if (load<u32>(d, DOM_FLAGS) & DOMF_EXISTS) return MST_EXISTS;
  const top = frameAlloc(DOMID_XEN, FRAME_P2M, 0);
  if (top == 0) return MST_NO_MEMORY;
  store<u32>(d, DOMF_EXISTS, DOM_FLAGS);
  store<u32>(d, top, DOM_P2M_TOP);
  store<u32>(d, ramPages, DOM_RAM_PAGES);
  store<u32>(d, maxGfn, DOM_MAX_GFN);
  store<u32>(d, 0, DOM_POPULATED);
  store<u32>(d, 0, DOM_MAPPED);
  return MST_OK;
}

/** Drops one reference to a frame mapped by another domain; frees an orphan at zero. */
function frameUnref(mfn: u32): void {
  const e = frameEntry(mfn);
  const refs = load<u32>(e, FRAME_REFS);
  if (refs > 0) store<u32>(e, refs - 1, FRAME_REFS);
  if (refs <= 1 && (load<u8>(e, FRAME_FLAGS) & FRAMEF_ORPHAN) != 0) frameFree(mfn);
}

/** Releases every frame of a domain. Frames other domains still map (grant or foreign
 *  references) stay allocated as orphans until the last mapping goes, as Xen keeps a page
 *  alive while a reference to it is held. Returns the number of orphaned frames. */
export function domainDestroy(domid: u32): i32 {
  if (!domExists(domid)) return MST_NO_DOMAIN;
  const d = domEntry(domid);
  p2mChanged();
  store<u32>(d, load<u32>(d, DOM_FLAGS) | DOMF_DYING, DOM_FLAGS);
  const topMfn = load<u32>(d, DOM_P2M_TOP);
  const top = frameAddr(topMfn);
  let orphans: i32 = 0;
  for (let i: u32 = 0; i < (1 << P2M_LEVEL_BITS); i++) {
    const leafMfn = load<u32>(top + (i << 2));
    if (leafMfn == 0) continue;
    const leaf = frameAddr(leafMfn);
    for (let j: u32 = 0; j <= LEAF_MASK; j++) {
      const ent = load<u32>(leaf + (j << 2));
      if (ent == 0) continue;
      const mfn = ent >> P2M_MFN_SHIFT;
      const type = ent & P2M_TYPE_MASK;
      if (type == P2M_RAM) {
        if (frameRefsOf(mfn) == 0) frameFree(mfn);
        else {
          const e = frameEntry(mfn);
          store<u8>(e, load<u8>(e, FRAME_FLAGS) | <u8>FRAMEF_ORPHAN, FRAME_FLAGS);
          orphans++;
        }
      } else if (type == P2M_GRANT || type == P2M_FOREIGN) {
        frameUnref(mfn);
      }
    }
    frameFree(leafMfn);
  }
  frameFree(topMfn);
  memory.fill(d, 0, DOMAIN_ENTRY_SIZE);
  return orphans;
}

@inline function frameRefsOf(mfn: u32): u32 { return load<u32>(frameEntry(mfn), FRAME_REFS); }

/** The raw p2m entry of `gfn` (0 = nothing there), or a negative status. */
export function p2mLookup(domid: u32, gfn: u32): i32 {
  if (!domExists(domid)) return MST_NO_DOMAIN;
  const d = domEntry(domid);
  if (gfn >= load<u32>(d, DOM_MAX_GFN)) return MST_NOT_MAPPED;
  const slot = p2mSlot(d, gfn, false);
  return slot == 0 ? 0 : load<i32>(slot);
}

/** Gives a RAM gfn its frame now (populate on demand). Returns the mfn or a negative status. */
export function gfnPopulate(domid: u32, gfn: u32): i32 {
  if (!domExists(domid)) return MST_NO_DOMAIN;
  const d = domEntry(domid);
  if (gfn >= load<u32>(d, DOM_RAM_PAGES)) return MST_NOT_MAPPED;
  const slot = p2mSlot(d, gfn, true);
  if (slot == 0) return MST_NO_MEMORY;
  const ent = load<u32>(slot);
  if (ent != 0) return <i32>(ent >> P2M_MFN_SHIFT);
  const mfn = frameAlloc(domid, FRAME_RAM, gfn);
  if (mfn == 0) return MST_NO_MEMORY;
  store<u32>(slot, (mfn << P2M_MFN_SHIFT) | P2M_RAM);
  p2mChanged(); // a cached read of the zero frame for this gfn is now stale
  store<u32>(d, load<u32>(d, DOM_POPULATED) + 1, DOM_POPULATED);
  count(CNT_FRAMES_POPULATED);
  return <i32>mfn;
}

/** Inserts another frame (granted, foreign or Xen-shared) at `gfn` and takes a reference.
 *  The hypervisor model has already decided that the mapping is allowed. */
export function p2mMap(domid: u32, gfn: u32, mfn: u32, typeFlags: u32): i32 {
  if (!domExists(domid)) return MST_NO_DOMAIN;
  const type = typeFlags & P2M_TYPE_MASK;
  if (type != P2M_GRANT && type != P2M_FOREIGN && type != P2M_XEN) return MST_BAD_ARG;
  if (!frameLive(mfn)) return MST_BAD_MFN;
  const d = domEntry(domid);
  if (gfn >= load<u32>(d, DOM_MAX_GFN) || gfn < load<u32>(d, DOM_RAM_PAGES)) return MST_BAD_ARG;
  const slot = p2mSlot(d, gfn, true);
  if (slot == 0) return MST_NO_MEMORY;
  if (load<u32>(slot) != 0) return MST_EXISTS;
  // Accessed/dirty start clear: a translation is only cached after an access sets them.
  store<u32>(slot, (mfn << P2M_MFN_SHIFT) | (typeFlags & ~(0x20 | 0x40)));
  if (type != P2M_XEN) {
    const e = frameEntry(mfn);
    store<u32>(e, load<u32>(e, FRAME_REFS) + 1, FRAME_REFS);
  }
  store<u32>(d, load<u32>(d, DOM_MAPPED) + 1, DOM_MAPPED);
  count(CNT_P2M_MAPS);
  return MST_OK;
}

/** Removes a mapping made by p2mMap. Returns the old entry (so the caller sees the
 *  accessed/dirty bits) or a negative status. */
export function p2mUnmap(domid: u32, gfn: u32): i32 {
  if (!domExists(domid)) return MST_NO_DOMAIN;
  const d = domEntry(domid);
  if (gfn >= load<u32>(d, DOM_MAX_GFN)) return MST_NOT_MAPPED;
  const slot = p2mSlot(d, gfn, false);
  const ent = slot == 0 ? 0 : load<u32>(slot);
  const type = ent & P2M_TYPE_MASK;
  if (type != P2M_GRANT && type != P2M_FOREIGN && type != P2M_XEN) return MST_NOT_MAPPED;
  store<u32>(slot, 0);
  p2mChanged();
  if (type != P2M_XEN) frameUnref(ent >> P2M_MFN_SHIFT);
  store<u32>(d, load<u32>(d, DOM_MAPPED) - 1, DOM_MAPPED);
  count(CNT_P2M_UNMAPS);
  return <i32>ent;
}
