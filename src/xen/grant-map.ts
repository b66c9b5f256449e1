// GNTTABOP_map_grant_ref and GNTTABOP_unmap_grant_ref for translated grantees (HVM, PVH,
// Arm): a mapping is an entry in the grantee's p2m at host_addr. Follows the order of Xen's
// map_grant_ref / unmap_common / unmap_common_complete, including where each status arises.
import type { Domain } from "./domain.ts";
import * as L from "../wasm/layout.ts";
import { GNTTAB_UNMAP_BATCH_SIZE } from "./grant-abi.ts";
import type { GuestArgs } from "./grant-args.ts";
import type { GrantCore } from "./grant-core.ts";
import {
  GNTPIN_hstr_inc, GNTPIN_hstw_inc, GNTPIN_overflow_mask, GNTPIN_write_mask, type GrantTable,
} from "./grant-state.ts";
import { EFAULT } from "./errno.ts";

const PAGE = L.PAGE_SIZE;
const GFN_LIMIT = 2 ** 32;

export interface MapResult {
  status: number;
  handle: number;
  /** Machine address of the frame (Xen reports it whatever the flags). */
  devBusAddr: number;
}

const failed = (status: number): MapResult => ({ status, handle: 0, devBusAddr: 0 });

/** One map_grant_ref by `caller` (whose grant state is `lt`). */
export function mapGrantRef(core: GrantCore, caller: Domain, lt: GrantTable, hostAddr: number, flags: number, ref: number, dom: number): MapResult {
  if ((flags & (L.GNTMAP_DEVICE_MAP | L.GNTMAP_HOST_MAP)) === 0) return failed(L.GNTST_BAD_GNTREF);
  // A translated grantee has no device or PTE mappings.
  if (flags & (L.GNTMAP_DEVICE_MAP | L.GNTMAP_APPLICATION_MAP | L.GNTMAP_CONTAINS_PTE)) return failed(L.GNTST_GENERAL_ERROR);
  const rd = core.hv.live(dom);
  const rt = rd && core.tables.get(rd.domid);
  if (!rd || !rt) return failed(L.GNTST_BAD_DOMAIN);
  if (!core.hv.xsmCheck("grant_mapref", caller, rd)) return failed(L.GNTST_PERMISSION_DENIED);

  const handle = lt.getHandle();
  if (handle < 0) return failed(L.GNTST_NO_SPACE);
  core.adjustMaptrack(1);
  const fail = (st: number): MapResult => {
    lt.putHandle(handle);
    core.adjustMaptrack(-1);
    return failed(st);
  };

  if (ref >= rt.nrEntries) return fail(L.GNTST_BAD_GNTREF);
  const act = rt.activeEntry(ref);
  if (act.pin !== 0 && (act.domid !== caller.domid || (act.pin & GNTPIN_overflow_mask) !== 0)) {
    return fail(L.GNTST_GENERAL_ERROR);
  }
  const readonly = (flags & L.GNTMAP_READONLY) !== 0;
  if (act.pin === 0 || (!readonly && (act.pin & GNTPIN_write_mask) === 0)) {
    const st = core.setStatus(rt, ref, act, readonly, true, caller.domid);
    if (st !== L.GNTST_OKAY) {
      core.forgetIfIdle(rt, ref, act);
      return fail(st);
    }
    if (act.pin === 0) {
      const mfn = core.resolveRam(rd, core.entryFrame(rt, ref));
      if (mfn < 0) {
        core.settleFlags(rt, ref, act, readonly);
        core.forgetIfIdle(rt, ref, act);
        return fail(mfn);
      }
      act.domid = caller.domid;
      act.mfn = mfn;
    }
  }
  const inc = readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
  core.pinAdd(rt, act, inc);

  // The host mapping: the granted frame enters the grantee's p2m at host_addr.
  const gfn = Math.floor(hostAddr / PAGE);
  const st = gfn < GFN_LIMIT
    ? core.machine.p2mMap(caller.domid, gfn, act.mfn, L.P2M_GRANT | (readonly ? L.P2MF_RO : 0))
    : L.MST_RANGE;
  if (st !== L.MST_OK) {
    core.pinDrop(rt, ref, act, inc, readonly);
    return fail(L.GNTST_GENERAL_ERROR);
  }
  core.adjustMapped(lt, 1);
  // Maptrack entry: flags (a u16 in Xen) written last.
  lt.mtRef[handle] = ref;
  lt.mtTable[handle] = rt;
  lt.mtFlags[handle] = flags & 0xffff;
  core.bump(L.CNT_GNT_MAPS);
  return { status: L.GNTST_OKAY, handle, devBusAddr: act.mfn * PAGE };
}

/** The batched map hypercall body: returns 0 or -EFAULT. */
export function mapBatch(core: GrantCore, caller: Domain, lt: GrantTable, args: GuestArgs, count: number): number {
  for (let i = 0; i < count; i++) {
    if (!args.load(i)) return -EFAULT;
    core.bump(L.CNT_GNT_OP_MAP);
    const r = mapGrantRef(core, caller, lt, args.u64(i, L.GNTTAB_MAP_HOST_ADDR), args.u32(i, L.GNTTAB_MAP_FLAGS), args.u32(i, L.GNTTAB_MAP_REF), args.u16(i, L.GNTTAB_MAP_DOM));
    core.outcome(r.status);
    args.setI16(i, L.GNTTAB_MAP_STATUS, r.status);
    if (r.status === L.GNTST_OKAY) {
      args.setU32(i, L.GNTTAB_MAP_HANDLE, r.handle);
      args.setU64(i, L.GNTTAB_MAP_DEV_BUS_ADDR, r.devBusAddr);
    }
    if (!args.store(i)) return -EFAULT;
  }
  return 0;
}

/** What an unmap did, to be completed after the batch's TLB flush. */
interface Unmapped {
  rt: GrantTable;
  ref: number;
  readonly: boolean;
}

interface UnmapResult {
  status: number;
  done?: Unmapped;
  /** The removed p2m entry had its Accessed bit set: a TLB may hold the translation. */
  accessed: boolean;
}

/** unmap_common: removes the host mapping and frees the handle; pins and flags wait. */
function unmapOne(core: GrantCore, caller: Domain, lt: GrantTable, hostAddr: number, devBusAddr: number, handle: number): UnmapResult {
  const bad = (status: number): UnmapResult => ({ status, accessed: false });
  if (handle >= lt.mtLimit) return bad(L.GNTST_BAD_HANDLE);
  const flags = lt.mtFlags[handle]!;
  if (flags === 0) return bad(L.GNTST_BAD_HANDLE);
  const rt = lt.mtTable[handle]!;
  const ref = lt.mtRef[handle]!;
  const act = rt.active.get(ref);
  if (!act || act.pin === 0) return bad(L.GNTST_BAD_HANDLE);
  if (devBusAddr !== 0 && devBusAddr !== act.mfn * PAGE) return bad(L.GNTST_GENERAL_ERROR);

  let done: Unmapped | undefined;
  let accessed = false;
  if (hostAddr !== 0 && (flags & L.GNTMAP_HOST_MAP)) {
    // replace_grant_host_mapping: host_addr must hold a grant mapping of this very frame.
    const gfn = Math.floor(hostAddr / PAGE);
    const ent = gfn < GFN_LIMIT ? core.machine.p2mLookup(caller.domid, gfn) : -1;
    if (ent <= 0 || (ent & L.P2M_TYPE_MASK) !== L.P2M_GRANT || ent >>> L.P2M_MFN_SHIFT !== act.mfn) {
      return bad(L.GNTST_GENERAL_ERROR);
    }
    const old = core.machine.p2mUnmap(caller.domid, gfn);
    accessed = (old & L.P2MF_ACCESSED) !== 0;
    core.adjustMapped(lt, -1);
    lt.mtFlags[handle] = flags & ~L.GNTMAP_HOST_MAP;
    done = { rt, ref, readonly: (flags & L.GNTMAP_READONLY) !== 0 };
    core.bump(L.CNT_GNT_UNMAPS);
  }
  if ((lt.mtFlags[handle]! & (L.GNTMAP_DEVICE_MAP | L.GNTMAP_HOST_MAP)) === 0) {
    lt.putHandle(handle);
    core.adjustMaptrack(-1);
  }
  return { status: L.GNTST_OKAY, done, accessed };
}

/** unmap_common_complete: drops the pin and clears GTF_reading/GTF_writing. */
function completeUnmap(core: GrantCore, u: Unmapped): void {
  const act = u.rt.active.get(u.ref)!;
  core.pinDrop(u.rt, u.ref, act, u.readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc, u.readonly);
}

/** The batched unmap hypercall body: batches of 32, one TLB flush each (or none when
 *  eliding and nothing in the batch was accessed), pins released only after the flush.
 *  Returns 0 or -EFAULT. */
export function unmapBatch(core: GrantCore, caller: Domain, lt: GrantTable, args: GuestArgs, count: number): number {
  let i = 0;
  while (i < count) {
    const end = Math.min(count, i + GNTTAB_UNMAP_BATCH_SIZE);
    const pending: Unmapped[] = [];
    let accessed = false;
    let fault = false;
    for (; i < end; i++) {
      if (!args.load(i)) {
        fault = true;
        break;
      }
      core.bump(L.CNT_GNT_OP_UNMAP);
      const r = unmapOne(core, caller, lt, args.u64(i, L.GNTTAB_UNMAP_HOST_ADDR), args.u64(i, L.GNTTAB_UNMAP_DEV_BUS_ADDR), args.u32(i, L.GNTTAB_UNMAP_HANDLE));
      core.outcome(r.status);
      if (r.done) pending.push(r.done);
      accessed ||= r.accessed;
      args.setI16(i, L.GNTTAB_UNMAP_STATUS, r.status);
      if (!args.store(i)) {
        fault = true;
        break;
      }
    }
    if (core.elideUnaccessedFlush && !accessed) core.bump(L.CNT_GNT_TLB_FLUSHES_ELIDED);
    else core.bump(L.CNT_GNT_TLB_FLUSHES);
    for (const u of pending) completeUnmap(core, u);
    if (fault) return -EFAULT;
  }
  return 0;
}
