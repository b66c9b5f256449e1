// HYPERVISOR_memory_op: one dispatcher for the sub-commands the model implements. The parts
// every caller shares are done here, in Xen's order (xen/common/memory.c): reading the
// argument struct, the target domain, the permission check; what a physmap space or a
// resource type means is up to the subsystem that registered it:
//   XENMEM_add_to_physmap        by space: XENMAPSPACE_grant_table -> grant tables
//   XENMEM_add_to_physmap_batch  foreign mapping (XENMAPSPACE_gmfn_foreign)
//   XENMEM_remove_from_physmap   foreign mapping (foreign and Xen entries)
//   XENMEM_acquire_resource      by type: ioreq_server -> IOREQ, grant_table -> grant tables
import type { Domain } from "./domain.ts";
import type { Hypervisor } from "./hypervisor.ts";
import { XenConfigError } from "./config-error.ts";
import { EFAULT, EINVAL, ENOSYS, EOPNOTSUPP, EPERM, ESRCH } from "./errno.ts";
import { xsmDenialErrno } from "./xsm-errno.ts";
import { copyFromGuest } from "./guest-copy.ts";
import * as L from "../wasm/layout.ts";

/** A memory_op sub-command: the caller and the guest-physical address of its argument. */
export type MemoryCmdHandler = (c: Domain, argGpa: number) => number;
/** XENMEM_add_to_physmap for one space: `d` is the (permitted) domain whose physmap changes,
 *  `a` the struct xen_add_to_physmap as read. */
export type PhysmapHandler = (c: Domain, d: Domain, a: DataView) => number;
/** XENMEM_acquire_resource for one type: `d` is the (permitted) owner, `a` the struct as read
 *  from `argGpa` (OUT fields go back there). */
export type ResourceHandler = (c: Domain, d: Domain, a: DataView, argGpa: number) => number;

/** What a subsystem serves of memory_op (see Subsystem.memoryOps). */
export interface MemoryOpTable {
  commands?: Readonly<Record<number, MemoryCmdHandler>>;
  physmapSpaces?: Readonly<Record<number, PhysmapHandler>>;
  resources?: Readonly<Record<number, ResourceHandler>>;
}

/** rcu_lock_domain_by_any_id(): DOMID_SELF is the caller; dying domains are not found. */
export function byAnyId(hv: Hypervisor, caller: Domain, domid: number): Domain | undefined {
  return domid === L.DOMID_SELF ? caller : hv.live(domid);
}

/** The common part of XENMEM_acquire_resource: the struct (pad must be 0), the owner (another
 *  live domain: rcu_lock_remote_domain_by_id) and XSM domain_resource_map (XSM_DM_PRIV, the
 *  dm_op rule). Returns the struct and the owner, or -errno. */
export function readAcquireResource(hv: Hypervisor, c: Domain, argGpa: number): { a: DataView; d: Domain } | number {
  const a = copyFromGuest(hv.machine, c.domid, argGpa, L.MEM_ACQUIRE_RESOURCE_SIZE);
  if (!a) return -EFAULT;
  if (a.getUint32(L.MEM_ACQUIRE_RESOURCE_PAD, true) !== 0) return -EINVAL;
  const d = hv.live(a.getUint16(L.MEM_ACQUIRE_RESOURCE_DOMID, true));
  if (!d) return -ESRCH;
  if (d === c) return -EPERM;
  if (!hv.xsmCheck("dm_op", c, d, c)) return xsmDenialErrno(hv.xsm);
  return { a, d };
}

export class MemoryOps {
  private readonly hv: Hypervisor;
  private readonly commands = new Map<number, MemoryCmdHandler>();
  private readonly spaces = new Map<number, PhysmapHandler>();
  private readonly resources = new Map<number, ResourceHandler>();

  constructor(hv: Hypervisor) {
    this.hv = hv;
  }

  /** Installs a subsystem's handlers; a command, space or type served twice is a config error. */
  install(owner: string, t: MemoryOpTable): void {
    const put = <H>(m: Map<number, H>, what: string, rec: Readonly<Record<number, H>> | undefined): void => {
      for (const [k, h] of Object.entries(rec ?? {})) {
        if (m.has(Number(k))) throw new XenConfigError(`memory_op: ${what} ${k} is already served (registering ${owner})`);
        m.set(Number(k), h);
      }
    };
    put(this.commands, "command", t.commands);
    put(this.spaces, "physmap space", t.physmapSpaces);
    put(this.resources, "resource type", t.resources);
  }

  /** One memory_op by `c` (the hypercall is counted by the caller). */
  call(c: Domain, cmd: number, argGpa: number): number {
    switch (cmd) {
      case L.XENMEM_ADD_TO_PHYSMAP:
        return this.addToPhysmap(c, argGpa);
      case L.XENMEM_ACQUIRE_RESOURCE: {
        const r = readAcquireResource(this.hv, c, argGpa);
        if (typeof r === "number") return r;
        const h = this.resources.get(r.a.getUint16(L.MEM_ACQUIRE_RESOURCE_TYPE, true));
        return h ? h(c, r.d, r.a, argGpa) : -EOPNOTSUPP;
      }
      default: {
        const h = this.commands.get(cmd);
        return h ? h(c, argGpa) : -ENOSYS;
      }
    }
  }

  private addToPhysmap(c: Domain, argGpa: number): number {
    const a = copyFromGuest(this.hv.machine, c.domid, argGpa, L.ADD_TO_PHYSMAP_SIZE);
    if (!a) return -EFAULT;
    const space = a.getUint32(L.ADD_TO_PHYSMAP_SPACE, true);
    // Foreign mapping is only possible through add_to_physmap_batch.
    if (space === L.XENMAPSPACE_GMFN_FOREIGN) return -ENOSYS;
    const d = byAnyId(this.hv, c, a.getUint16(L.ADD_TO_PHYSMAP_DOMID, true));
    if (!d) return -ESRCH;
    // xsm_add_to_physmap(XSM_TARGET): the domain itself, its device model or the control domain.
    if (!this.hv.targetCheck(c, d)) return -EPERM;
    const h = this.spaces.get(space);
    return h ? h(c, d, a) : -EOPNOTSUPP;
  }
}
