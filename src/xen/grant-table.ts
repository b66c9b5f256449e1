// Xen grant tables, v1 (what Xen on Arm supports and what Linux's virtio and PV drivers use):
// per-domain tables in hypervisor-owned frames that guests map into their p2m, the
// HYPERVISOR_grant_table_op hypercall with its real argument structures in the caller's
// memory, the memory_op parts (XENMEM_add_to_physmap(XENMAPSPACE_grant_table) and
// XENMEM_acquire_resource(XENMEM_resource_grant_table)), and the release of grant state when
// a domain dies. Map/unmap live in grant-map.ts, copy in grant-copy.ts, the shared entry and
// pin logic in grant-core.ts.
import type { Domain } from "./domain.ts";
import { XenConfigError, type Hypervisor, type Subsystem } from "./hypervisor.ts";
import * as L from "../wasm/layout.ts";
import { GrantCopyBatch } from "../wasm/grant.ts";
import {
  GNTTAB_DEFAULT_MAX_FRAMES, GNTTAB_DEFAULT_MAX_MAPTRACK_FRAMES, GNTTAB_INITIAL_FRAMES, INVALID_GFN, MAPTRACK_PER_FRAME, gntWordDomid,
  gntWordFlags,
} from "./grant-abi.ts";
import { GuestArgs } from "./grant-args.ts";
import { GrantCore, type GrantOptions } from "./grant-core.ts";
import { mapBatch, unmapBatch } from "./grant-map.ts";
import { CopyRun } from "./grant-copy.ts";
import { GNTPIN_hstr_inc, GNTPIN_hstw_inc, GrantTable } from "./grant-state.ts";
import { EBUSY, EEXIST, EFAULT, EINVAL, EIO, ENOMEM, ENOSYS, EPERM, ESRCH } from "./errno.ts";
import { copyFromGuest, copyToGuest } from "./guest-copy.ts";
import type { HypercallHandler } from "./hypervisor.ts";
import type { MemoryOpTable } from "./memory-op.ts";

export type { GrantOptions } from "./grant-core.ts";

function checkLimit(what: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new XenConfigError(`grant tables: ${what} must be an integer in [0, ${max}], got ${v}`);
  return v;
}

export class GrantTables implements Subsystem {
  readonly name = "grant-table";
  private readonly core: GrantCore;
  private readonly copyBatch: GrantCopyBatch;
  private readonly maxFrames: number;
  private readonly maxMaptrackFrames: number;

  constructor(hv: Hypervisor, opts: GrantOptions = {}) {
    this.maxFrames = checkLimit("maxFrames", opts.maxFrames ?? GNTTAB_DEFAULT_MAX_FRAMES, 1 << 16);
    if (this.maxFrames < GNTTAB_INITIAL_FRAMES) throw new XenConfigError(`grant tables: maxFrames must be at least ${GNTTAB_INITIAL_FRAMES}`);
    this.maxMaptrackFrames = checkLimit("maxMaptrackFrames", opts.maxMaptrackFrames ?? GNTTAB_DEFAULT_MAX_MAPTRACK_FRAMES, 1 << 16);
    this.core = new GrantCore(hv, opts);
    this.copyBatch = new GrantCopyBatch(hv.machine);
    hv.register(this);
  }

  get hv(): Hypervisor {
    return this.core.hv;
  }

  /** HYPERVISOR_grant_table_op (hv.hypercall). */
  hypercalls(): Record<number, HypercallHandler> {
    return { [L.HYPERVISOR_GRANT_TABLE_OP]: (c, cmd, gpa, count) => this.grantTableOp(c, cmd, gpa, count) };
  }

  /** The memory_op parts of grant tables (hv.memoryOp). */
  memoryOps(): MemoryOpTable {
    return {
      physmapSpaces: {
        [L.XENMAPSPACE_GRANT_TABLE]: (_c, d, a) => this.mapTableFrame(d, u64(a, L.ADD_TO_PHYSMAP_IDX), u64(a, L.ADD_TO_PHYSMAP_GPFN)),
      },
      resources: { [L.XENMEM_RESOURCE_GRANT_TABLE]: (c, d, a, gpa) => this.acquireFrames(c, d, a, gpa) },
    };
  }

  /** Switches the XenServer TLB-flush elision on or off. */
  set elideUnaccessedFlush(on: boolean) {
    this.core.elideUnaccessedFlush = on;
  }
  get elideUnaccessedFlush(): boolean {
    return this.core.elideUnaccessedFlush;
  }

  /** Per-domain limits (xl.cfg max_grant_frames / max_maptrack_frames). */
  setLimits(domid: number, limits: { maxFrames?: number; maxMaptrackFrames?: number }): void {
    const t = this.mustTable(domid);
    if (limits.maxFrames !== undefined) {
      const v = checkLimit("maxFrames", limits.maxFrames, 1 << 16);
      if (v < t.nrFrames) throw new XenConfigError(`d${domid}: maxFrames ${v} is below the ${t.nrFrames} frames in use`);
      t.maxFrames = v;
    }
    if (limits.maxMaptrackFrames !== undefined) {
      const v = checkLimit("maxMaptrackFrames", limits.maxMaptrackFrames, 1 << 16);
      if (v * MAPTRACK_PER_FRAME < t.mtLimit) throw new XenConfigError(`d${domid}: maxMaptrackFrames ${v} is below the maptrack in use`);
      t.maxMaptrackFrames = v;
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  domainCreated(d: Domain): void {
    const t = new GrantTable(d.domid, this.maxFrames, this.maxMaptrackFrames);
    if (!this.core.grow(t, GNTTAB_INITIAL_FRAMES)) throw new XenConfigError(`d${d.domid}: no machine frame for its grant table`);
    this.core.tables.set(d.domid, t);
  }

  /** gnttab_release_mappings for the dying domain's maptrack, then its own table: freed at
   *  once when nobody holds its grants, else kept (with the granted frames, which the machine
   *  keeps alive as orphans) until the last grantee unmaps, as Xen keeps the pages referenced. */
  domainDestroyed(d: Domain): void {
    const core = this.core;
    const t = core.tables.get(d.domid);
    if (!t) return;
    for (let h = 0; h < t.mtLimit; h++) {
      const flags = t.mtFlags[h]!;
      if ((flags & (L.GNTMAP_HOST_MAP | L.GNTMAP_DEVICE_MAP)) === 0) continue;
      const rt = t.mtTable[h]!;
      const ref = t.mtRef[h]!;
      const readonly = (flags & L.GNTMAP_READONLY) !== 0;
      core.pinDrop(rt, ref, rt.active.get(ref)!, readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc, readonly);
      t.putHandle(h);
      core.adjustMaptrack(-1);
    }
    // The p2m entries themselves (and their frame references) go with the domain's p2m.
    core.adjustMapped(t, -t.grantMapped);
    for (let i = 0; i < t.frames.length; i++) {
      if (this.placedAt(t, i) >= 0) core.machine.p2mUnmap(d.domid, t.frameGfn[i]!);
      t.frameGfn[i] = -1;
    }
    // Frames of other tables this domain acquired went with its p2m.
    for (const other of core.tables.values()) {
      for (let i = other.acquired.length - 1; i >= 0; i--) if (other.acquired[i]!.domid === d.domid) other.acquired.splice(i, 1);
    }
    core.tables.delete(d.domid);
    t.dead = true;
    if (t.pinned === 0) core.freeFrames(t);
  }

  // ---- HYPERVISOR_grant_table_op ----------------------------------------------------------

  /** The hypercall as `caller` makes it: `argsGpa` is a guest-physical address of `count`
   *  argument structs in the caller's memory. Returns 0 or a negative errno; per-op results
   *  (status, handle, ...) are written back into the structs. */
  grantTableOp(caller: number, cmd: number, argsGpa: number, count: number): number {
    const hv = this.core.hv;
    const d = hv.live(caller);
    if (!d) throw new XenConfigError(`grant_table_op: caller d${caller} is not a live domain`);
    hv.countHypercall();
    const rc = this.dispatch(d, cmd, argsGpa, count);
    if (rc < 0) this.core.bump(L.CNT_GNT_HC_ERRORS);
    return rc;
  }

  private dispatch(d: Domain, cmd: number, gpa: number, count: number): number {
    if (!Number.isInteger(count) || count < 0 || count > 0x7fffffff) return -EINVAL;
    const core = this.core;
    const lt = core.tables.get(d.domid)!;
    const m = core.machine;
    switch (cmd) {
      case L.GNTTABOP_MAP_GRANT_REF: {
        const args = new GuestArgs(m, d.domid, gpa, L.GNTTAB_MAP_SIZE, count);
        const rc = mapBatch(core, d, lt, args, count);
        if (rc === 0) args.finish();
        return rc;
      }
      case L.GNTTABOP_UNMAP_GRANT_REF: {
        const args = new GuestArgs(m, d.domid, gpa, L.GNTTAB_UNMAP_SIZE, count);
        const rc = unmapBatch(core, d, lt, args, count);
        if (rc === 0) args.finish();
        return rc;
      }
      case L.GNTTABOP_COPY: {
        const args = new GuestArgs(m, d.domid, gpa, L.GNTTAB_COPY_SIZE, count);
        const rc = new CopyRun(core, d, this.copyBatch).run(args, count);
        if (rc === 0) args.finish();
        return rc;
      }
      case L.GNTTABOP_SETUP_TABLE:
        return count === 1 ? this.setupTable(d, gpa) : -EINVAL;
      case L.GNTTABOP_QUERY_SIZE:
        return count === 1 ? this.querySize(d, gpa) : -EINVAL;
      default:
        core.bump(L.CNT_GNT_OP_UNSUPPORTED);
        return -ENOSYS;
    }
  }

  /** DOMID_SELF or a live domain (rcu_lock_domain_by_any_id). */
  private byAnyId(caller: Domain, domid: number): Domain | undefined {
    return domid === L.DOMID_SELF ? caller : this.core.hv.live(domid);
  }

  private setupTable(d: Domain, gpa: number): number {
    const core = this.core;
    const args = new GuestArgs(core.machine, d.domid, gpa, L.GNTTAB_SETUP_TABLE_SIZE, 1);
    if (!args.load(0)) return -EFAULT;
    core.bump(L.CNT_GNT_OP_SETUP_TABLE);
    const nr = args.u32(0, L.GNTTAB_SETUP_TABLE_NR_FRAMES);
    const list = args.u64(0, L.GNTTAB_SETUP_TABLE_FRAME_LIST);
    let st = L.GNTST_OKAY;
    const td = this.byAnyId(d, args.u16(0, L.GNTTAB_SETUP_TABLE_DOM));
    const t = td && core.tables.get(td.domid);
    if (!td || !t) st = L.GNTST_BAD_DOMAIN;
    else if (!core.hv.xsmCheck("grant_setup", d, td)) st = L.GNTST_PERMISSION_DENIED;
    else if (nr > t.maxFrames || !core.grow(t, nr)) st = L.GNTST_GENERAL_ERROR;
    else {
      // frame_list: for a translated guest, the gfn where each frame sits in its p2m.
      const slot = new Uint8Array(L.PFN_SIZE);
      const sv = new DataView(slot.buffer);
      for (let i = 0; i < nr; i++) {
        const at = this.placedAt(t, i);
        sv.setBigUint64(0, at >= 0 ? BigInt(at) : INVALID_GFN, true);
        const a = list + i * L.PFN_SIZE;
        if (!Number.isSafeInteger(a) || core.machine.tryWrite(d.domid, a, slot) !== L.MST_OK) st = L.GNTST_BAD_VIRT_ADDR;
      }
    }
    core.outcome(st);
    args.setI16(0, L.GNTTAB_SETUP_TABLE_STATUS, st);
    if (!args.store(0)) return -EFAULT;
    args.finish();
    return 0;
  }

  private querySize(d: Domain, gpa: number): number {
    const core = this.core;
    const args = new GuestArgs(core.machine, d.domid, gpa, L.GNTTAB_QUERY_SIZE_SIZE, 1);
    if (!args.load(0)) return -EFAULT;
    core.bump(L.CNT_GNT_OP_QUERY_SIZE);
    let st = L.GNTST_OKAY;
    const td = this.byAnyId(d, args.u16(0, L.GNTTAB_QUERY_SIZE_DOM));
    const t = td && core.tables.get(td.domid);
    if (!td || !t) st = L.GNTST_BAD_DOMAIN;
    else if (!core.hv.xsmCheck("grant_setup", d, td)) st = L.GNTST_PERMISSION_DENIED;
    else {
      args.setU32(0, L.GNTTAB_QUERY_SIZE_NR_FRAMES, t.nrFrames);
      args.setU32(0, L.GNTTAB_QUERY_SIZE_MAX_NR_FRAMES, t.maxFrames);
    }
    core.outcome(st);
    args.setI16(0, L.GNTTAB_QUERY_SIZE_STATUS, st);
    if (!args.store(0)) return -EFAULT;
    args.finish();
    return 0;
  }

  // ---- XENMEM_add_to_physmap(XENMAPSPACE_grant_table) -----------------------------------------

  /** The memory_op as `caller` makes it, with a struct xen_add_to_physmap at `argsGpa`.
   *  Only the grant-table space is handled here (the memory_op dispatcher routes the others). */
  addToPhysmap(caller: number, argsGpa: number): number {
    const hv = this.core.hv;
    const d = hv.live(caller);
    if (!d) throw new XenConfigError(`add_to_physmap: caller d${caller} is not a live domain`);
    hv.countHypercall();
    const args = new GuestArgs(this.core.machine, d.domid, argsGpa, L.ADD_TO_PHYSMAP_SIZE, 1);
    if (!args.load(0)) return -EFAULT;
    if (args.u32(0, L.ADD_TO_PHYSMAP_SPACE) !== L.XENMAPSPACE_GRANT_TABLE) return -EINVAL;
    const td = this.byAnyId(d, args.u16(0, L.ADD_TO_PHYSMAP_DOMID));
    if (!td) return -ESRCH;
    if (!hv.targetCheck(d, td)) return -EPERM; // xsm_add_to_physmap(XSM_TARGET)
    return this.mapTableFrame(td, args.u64(0, L.ADD_TO_PHYSMAP_IDX), args.u64(0, L.ADD_TO_PHYSMAP_GPFN));
  }

  /** Places table frame `idx` of `d` at `gfn` of its p2m (growing the table up to its limit,
   *  as gnttab_map_frame does). A frame already placed elsewhere moves. The model only
   *  places frames in free gfns above RAM (-EINVAL for RAM or beyond the p2m, -EEXIST when
   *  something else is there). */
  mapTableFrame(d: Domain, idx: number, gfn: number): number {
    const core = this.core;
    const t = core.tables.get(d.domid)!;
    if (idx >= L.XENMAPIDX_GRANT_TABLE_STATUS) return -EINVAL; // status frames are v2 only
    if (idx >= t.nrFrames && idx < t.maxFrames) core.grow(t, idx + 1);
    if (idx >= t.nrFrames) return -EINVAL;
    const info = core.machine.domainInfo(d.domid);
    if (!Number.isInteger(gfn) || gfn < info.ramPages || gfn >= info.maxGfn) return -EINVAL;
    const mfn = t.frames[idx]!;
    const at = this.placedAt(t, idx);
    if (at === gfn) return 0;
    if (core.machine.p2mLookup(d.domid, gfn) !== 0) return -EEXIST;
    if (at >= 0) core.machine.p2mUnmap(d.domid, at);
    const st = core.machine.p2mMap(d.domid, gfn, mfn, L.P2M_XEN);
    if (st !== L.MST_OK) {
      t.frameGfn[idx] = -1;
      return -EBUSY;
    }
    t.frameGfn[idx] = gfn;
    core.bump(L.CNT_GNT_TABLE_MAPS);
    return 0;
  }

  /** Where table frame `idx` sits in its owner's p2m now, or -1. The guest may have taken it
   *  out (XENMEM_remove_from_physmap) and put something else there: only an entry naming the
   *  frame counts, so the model never unmaps what is not the frame. */
  private placedAt(t: GrantTable, idx: number): number {
    const gfn = t.frameGfn[idx]!;
    if (gfn < 0) return -1;
    const ent = this.core.machine.p2mLookup(t.domid, gfn);
    if (ent > 0 && (ent & L.P2M_TYPE_MASK) === L.P2M_XEN && ent >>> L.P2M_MFN_SHIFT === t.frames[idx]) return gfn;
    t.frameGfn[idx] = -1;
    return -1;
  }

  // ---- XENMEM_acquire_resource(XENMEM_resource_grant_table) ---------------------------------

  /** gnttab_acquire_resource: a device model (dm_op privilege, checked by the dispatcher) maps
   *  frames of `d`'s shared table at gfns of its own p2m. Status frames are v2 only. A size
   *  query (no frame list, nr_frames 0) returns the table's maximum. Returns 0 or -errno. */
  acquireFrames(c: Domain, d: Domain, a: DataView, argGpa: number): number {
    const core = this.core;
    const m = core.machine;
    const t = core.tables.get(d.domid)!;
    const nr = a.getUint32(L.MEM_ACQUIRE_RESOURCE_NR_FRAMES, true);
    const list = a.getBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME_LIST, true);
    if (a.getUint32(L.MEM_ACQUIRE_RESOURCE_ID, true) !== L.XENMEM_RESOURCE_GRANT_TABLE_ID_SHARED) return -EINVAL;
    if (nr === 0) {
      if (list !== 0n) return -EINVAL;
      a.setUint32(L.MEM_ACQUIRE_RESOURCE_NR_FRAMES, t.maxFrames, true);
      return copyToGuest(m, c.domid, argGpa, a) ? 0 : -EFAULT;
    }
    const frame = a.getBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME, true);
    if (frame + BigInt(nr) > BigInt(t.maxFrames)) return -EINVAL;
    const first = Number(frame);
    if (!core.grow(t, first + nr)) return -ENOMEM;
    const gfns = copyFromGuest(m, c.domid, list, nr * L.PFN_SIZE);
    if (!gfns) return -EFAULT;
    const info = m.domainInfo(c.domid);
    for (let i = 0; i < nr; i++) {
      const g = gfns.getBigUint64(i * L.PFN_SIZE, true);
      const mfn = t.frames[first + i]!;
      let rc = 0;
      if (g < BigInt(info.ramPages) || g >= BigInt(info.maxGfn)) rc = -EINVAL;
      else if (m.p2mMap(c.domid, Number(g), mfn, L.P2M_XEN) !== L.MST_OK) rc = -EBUSY;
      // As for ioreq pages: a failure after the first frame is -EIO (some frames are mapped).
      if (rc) return i === 0 ? rc : -EIO;
      t.acquired.push({ domid: c.domid, gfn: Number(g), mfn });
      core.bump(L.CNT_GNT_TABLE_MAPS);
    }
    return 0;
  }

  // ---- introspection (tests, transports, reports) -------------------------------------------

  /** A snapshot of a live domain's grant state. */
  info(domid: number): { nrFrames: number; maxFrames: number; frameGfns: number[]; frameMfns: number[]; maptrackInUse: number; grantMapped: number; pinnedEntries: number } {
    const t = this.mustTable(domid);
    return {
      nrFrames: t.nrFrames, maxFrames: t.maxFrames, frameGfns: t.frames.map((_, i) => this.placedAt(t, i)), frameMfns: [...t.frames],
      maptrackInUse: t.mtInUse, grantMapped: t.grantMapped, pinnedEntries: t.pinned,
    };
  }

  /** The pin word of (domid, ref): host-write in bits 0-7, host-read in 8-15 (0 = not in use). */
  pin(domid: number, ref: number): number {
    return this.mustTable(domid).active.get(ref)?.pin ?? 0;
  }

  /** Xen's view of a shared entry. */
  entry(domid: number, ref: number): { flags: number; domid: number; frame: number } {
    const t = this.mustTable(domid);
    if (!Number.isInteger(ref) || ref < 0 || ref >= t.nrEntries) throw new XenConfigError(`d${domid}: grant ref ${ref} out of range`);
    const w = this.core.mem.word(t.entryMfn(ref), t.entryOff(ref) + L.GRANT_ENTRY_V1_FLAGS);
    return { flags: gntWordFlags(w), domid: gntWordDomid(w), frame: this.core.entryFrame(t, ref) };
  }

  private mustTable(domid: number): GrantTable {
    const t = this.core.tables.get(domid);
    if (!t) throw new XenConfigError(`no grant table for d${domid}`);
    return t;
  }
}


/** A u64 field as a number (exact below 2^53, and out of every range above). */
function u64(a: DataView, off: number): number {
  return a.getUint32(off, true) + a.getUint32(off + 4, true) * 2 ** 32;
}
