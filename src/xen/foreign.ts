// Foreign mapping (xen/common/memory.c, XENMAPSPACE_gmfn_foreign): a privileged domain puts
// frames of another domain's RAM into its own p2m (P2M_FOREIGN, holding a reference) and takes
// them out with XENMEM_remove_from_physmap. The privilege is XSM map_gmfn_foreign: under the
// dummy policy the control domain or the guest's device-model target. Holding it, a backend can
// reach ALL of the guest's RAM, which is what exposure() reports next to what it has mapped.
import type { Domain } from "./domain.ts";
import type { Hypervisor, Subsystem } from "./hypervisor.ts";
import { EBUSY, EFAULT, EINVAL, ENOENT, ENOMEM, ENOSYS, EOPNOTSUPP, EPERM, ESRCH } from "./errno.ts";
import { xsmDenialErrno } from "./xsm-errno.ts";
import { copyFromGuest, copyToGuest } from "./guest-copy.ts";
import type { MemoryOpTable } from "./memory-op.ts";
import * as L from "../wasm/layout.ts";

/** errs[] of add_to_physmap_batch is an array of C int. */
export const ERR_SIZE = 4;

export interface ForeignEntry {
  /** Where the mapper sees the frame. */
  gfn: number;
  owner: Domain;
  ownerGfn: number;
  mfn: number;
}

export interface Exposure {
  /** Guest pages the backend may map (all RAM when it holds the privilege, else 0). */
  reachable: number;
  /** Distinct guest pages the backend has mapped now. */
  mapped: number;
}

export class ForeignMapping implements Subsystem {
  readonly name = "foreign";
  readonly hv: Hypervisor;
  /** Foreign entries by mapping domain, then by gfn in its p2m. */
  private readonly maps = new Map<number, Map<number, ForeignEntry>>();

  constructor(hv: Hypervisor) {
    this.hv = hv;
    hv.register(this);
  }

  domainCreated(d: Domain): void {
    this.maps.set(d.domid, new Map());
  }

  /** The dying domain's foreign entries go with its p2m (the machine drops their references).
   *  Entries other domains hold on ITS frames stay valid: the frames live on as orphans until
   *  those domains unmap them, as Xen keeps a page while a reference is held. */
  domainDestroyed(d: Domain): void {
    const mine = this.maps.get(d.domid);
    if (mine && mine.size > 0) this.bump(L.CNT_FOREIGN_TEARDOWN, mine.size);
    this.maps.delete(d.domid);
  }

  // ---- HYPERVISOR_memory_op ------------------------------------------------------------

  /** What this subsystem serves of the memory_op dispatcher (hv.memoryOp). */
  memoryOps(): MemoryOpTable {
    return {
      commands: {
        [L.XENMEM_ADD_TO_PHYSMAP_BATCH]: (c, gpa) => this.batch(c, gpa),
        [L.XENMEM_REMOVE_FROM_PHYSMAP]: (c, gpa) => this.remove(c, gpa),
      },
    };
  }

  /** memory_op restricted to the two sub-commands of this subsystem (others: -ENOSYS here;
   *  hv.memoryOp is the whole dispatcher). */
  memoryOp(caller: number, cmd: number, argGpa: number): number {
    if (cmd === L.XENMEM_ADD_TO_PHYSMAP_BATCH) return this.addToPhysmapBatch(caller, argGpa);
    if (cmd === L.XENMEM_REMOVE_FROM_PHYSMAP) return this.removeFromPhysmap(caller, argGpa);
    this.hv.countHypercall();
    this.liveCaller(caller);
    return -ENOSYS;
  }

  /** XENMEM_add_to_physmap_batch. Per-entry results go to errs[]; the call itself fails only
   *  for a bad struct, domain or privilege over the physmap being changed. */
  addToPhysmapBatch(caller: number, argGpa: number): number {
    this.hv.countHypercall();
    return this.batch(this.liveCaller(caller), argGpa);
  }

  private batch(c: Domain, argGpa: number): number {
    const caller = c.domid;
    const m = this.hv.machine;
    const a = copyFromGuest(m, caller, argGpa, L.ADD_TO_PHYSMAP_BATCH_SIZE);
    if (!a) return -EFAULT;
    const space = a.getUint16(L.ADD_TO_PHYSMAP_BATCH_SPACE, true);
    if (space === L.XENMAPSPACE_GMFN_RANGE) return -EOPNOTSUPP;
    const d = this.byAnyId(c, a.getUint16(L.ADD_TO_PHYSMAP_BATCH_DOMID, true));
    if (!d) return -ESRCH;
    if (!this.hv.targetCheck(c, d)) return -EPERM; // xsm_add_to_physmap(XSM_TARGET)
    if (space !== L.XENMAPSPACE_GMFN_FOREIGN) return -EOPNOTSUPP; // other spaces: not modelled here
    this.bump(L.CNT_FOREIGN_BATCHES);
    const n = a.getUint16(L.ADD_TO_PHYSMAP_BATCH_SIZE_OFF, true);
    const fdom = a.getUint16(L.ADD_TO_PHYSMAP_BATCH_FOREIGN_DOMID, true);
    const idxs = a.getBigUint64(L.ADD_TO_PHYSMAP_BATCH_IDXS, true);
    const gpfns = a.getBigUint64(L.ADD_TO_PHYSMAP_BATCH_GPFNS, true);
    const errs = a.getBigUint64(L.ADD_TO_PHYSMAP_BATCH_ERRS, true);
    const err = new DataView(new ArrayBuffer(ERR_SIZE));
    for (let i = 0; i < n; i++) {
      const idx = copyFromGuest(m, caller, idxs + BigInt(i * L.ULONG_SIZE), L.ULONG_SIZE);
      const gpfn = copyFromGuest(m, caller, gpfns + BigInt(i * L.PFN_SIZE), L.PFN_SIZE);
      if (!idx || !gpfn) return -EFAULT;
      const rc = this.addOne(c, d, fdom, idx.getBigUint64(0, true), gpfn.getBigUint64(0, true)); // both 8 bytes
      err.setInt32(0, rc, true);
      if (!copyToGuest(m, caller, errs + BigInt(i * ERR_SIZE), err)) return -EFAULT;
    }
    return 0;
  }

  /** xenmem_add_to_physmap_one(), XENMAPSPACE_gmfn_foreign. */
  private addOne(c: Domain, d: Domain, fdom: number, idx: bigint, gpfn: bigint): number {
    const od = this.byAnyId(c, fdom);
    if (!od) return this.fail(-ESRCH);
    if (od === d) return this.fail(-EINVAL);
    if (!this.hv.xsmCheck("map_gmfn_foreign", d, od, c)) {
      this.bump(L.CNT_FOREIGN_DENIED);
      return xsmDenialErrno(this.hv.xsm);
    }
    const m = this.hv.machine;
    // The foreign gfn must be RAM of its owner (get_page_from_gfn + p2m_is_ram).
    if (idx >= BigInt(od.ramPages)) return this.fail(-EINVAL);
    const info = m.domainInfo(d.domid);
    // The model never balloons RAM out, so the target gfn must lie above the mapper's RAM.
    if (gpfn < BigInt(info.ramPages) || gpfn >= BigInt(info.maxGfn)) return this.fail(-EINVAL);
    const g = Number(gpfn);
    const ent = m.p2mLookup(d.domid, g);
    if (ent > 0) {
      // Xen replaces what is at the gfn; the model replaces an older foreign entry only.
      if ((ent & L.P2M_TYPE_MASK) !== L.P2M_FOREIGN) return this.fail(-EBUSY);
      this.unmapOne(d.domid, g);
    }
    let mfn: number;
    try {
      mfn = m.populate(od.domid, Number(idx));
    } catch {
      return this.fail(-ENOMEM);
    }
    const st = m.p2mMap(d.domid, g, mfn, L.P2M_FOREIGN);
    if (st !== L.MST_OK) return this.fail(st === L.MST_NO_MEMORY ? -ENOMEM : -EINVAL);
    this.maps.get(d.domid)!.set(g, { gfn: g, owner: od, ownerGfn: Number(idx), mfn });
    this.bump(L.CNT_FOREIGN_MAPS);
    return 0;
  }

  /** XENMEM_remove_from_physmap: takes a foreign (or Xen-shared, e.g. an acquired ioreq page)
   *  entry out of the p2m; a foreign page's reference goes with it. */
  removeFromPhysmap(caller: number, argGpa: number): number {
    this.hv.countHypercall();
    return this.remove(this.liveCaller(caller), argGpa);
  }

  private remove(c: Domain, argGpa: number): number {
    const caller = c.domid;
    const m = this.hv.machine;
    const a = copyFromGuest(m, caller, argGpa, L.REMOVE_FROM_PHYSMAP_SIZE);
    if (!a) return -EFAULT;
    const d = this.byAnyId(c, a.getUint16(L.REMOVE_FROM_PHYSMAP_DOMID, true));
    if (!d) return -ESRCH;
    if (!this.hv.targetCheck(c, d)) return -EPERM; // xsm_remove_from_physmap(XSM_TARGET)
    const gpfn = a.getBigUint64(L.REMOVE_FROM_PHYSMAP_GPFN, true);
    const info = m.domainInfo(d.domid);
    if (gpfn >= BigInt(info.maxGfn)) return -ENOENT;
    const g = Number(gpfn);
    if (g < info.ramPages) return -EOPNOTSUPP; // ballooning RAM out is not modelled
    const ent = m.p2mLookup(d.domid, g);
    const type = ent > 0 ? ent & L.P2M_TYPE_MASK : 0;
    if (type === L.P2M_FOREIGN) {
      this.unmapOne(d.domid, g);
      return 0;
    }
    if (type === L.P2M_XEN) {
      m.p2mUnmap(d.domid, g);
      return 0;
    }
    return -ENOENT; // nothing there, or a grant mapping (its owner is GNTTABOP_unmap)
  }

  private unmapOne(domid: number, gfn: number): void {
    this.hv.machine.p2mUnmap(domid, gfn);
    this.maps.get(domid)?.delete(gfn);
    this.bump(L.CNT_FOREIGN_UNMAPS);
  }

  // ---- exposure ------------------------------------------------------------------------

  /** What `backend` can reach of `guest` and what it has mapped now (entries on frames of a
   *  destroyed guest with that domid count as mapped: the memory is still reachable). */
  exposure(backend: number, guest: number): Exposure {
    const b = this.hv.live(backend);
    const g = this.hv.live(guest);
    const reachable = b && g && b !== g && this.hv.xsm.check("map_gmfn_foreign", b, g) ? g.ramPages : 0;
    const seen = new Set<string>();
    for (const e of this.maps.get(backend)?.values() ?? []) {
      if (e.owner.domid === guest) seen.add(`${e.owner === g ? "live" : "old"}:${e.ownerGfn}`);
    }
    return { reachable, mapped: seen.size };
  }

  /** Every other live domain's exposure to `guest`, and the guest pages mapped by anyone. */
  guestExposure(guest: number): { backends: (Exposure & { domid: number })[]; mappedPages: number } {
    const g = this.hv.live(guest);
    const backends: (Exposure & { domid: number })[] = [];
    const pages = new Set<number>();
    for (const b of this.hv.allDomains) {
      if (b.domid === guest || !b.alive) continue;
      const e = this.exposure(b.domid, guest);
      if (e.reachable > 0 || e.mapped > 0) backends.push({ domid: b.domid, ...e });
      for (const x of this.maps.get(b.domid)?.values() ?? []) if (x.owner === g) pages.add(x.ownerGfn);
    }
    return { backends, mappedPages: pages.size };
  }

  /** The foreign entries in `domid`'s p2m. */
  entries(domid: number): ForeignEntry[] {
    return [...(this.maps.get(domid)?.values() ?? [])];
  }

  // ---- helpers -------------------------------------------------------------------------

  private byAnyId(caller: Domain, domid: number): Domain | undefined {
    return domid === L.DOMID_SELF ? caller : this.hv.live(domid);
  }

  private liveCaller(domid: number): Domain {
    return this.hv.liveCaller(domid, "memory_op");
  }

  private fail(rc: number): number {
    this.bump(L.CNT_FOREIGN_ERRORS);
    return rc;
  }

  private bump(id: number, n = 1): void {
    this.hv.machine.bump(id, n);
  }
}
