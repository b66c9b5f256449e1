// What a backend's userspace reaches through Linux privcmd (libxendevicemodel,
// libxenforeignmemory): it builds the real hypercall structs in a scratch page of its own RAM
// and calls HYPERVISOR_dm_op / HYPERVISOR_memory_op. Results come back as Xen wrote them.
import { XenConfigError, type Hypervisor } from "./hypervisor.ts";
import type { IoreqServers } from "./ioreq.ts";
import { ERR_SIZE, type ForeignMapping } from "./foreign.ts";
import { DOMID_SELF, PAGE_SIZE } from "../wasm/layout.ts";

/** Entries per xenforeignmemory_map call a backend makes (its arguments fit one scratch page). */
export const FOREIGN_MAP_BATCH = 128;
import * as L from "../wasm/layout.ts";

// Scratch page layout: the dm_op / memory_op struct at 0, the dm_op buffer list at DMOP_BUFS,
// arrays after it.
const DMOP_BUFS = L.DM_OP_SIZE;
const ARRAYS = 64;

export class Privcmd {
  readonly hv: Hypervisor;
  readonly ioreq: IoreqServers;
  readonly foreign: ForeignMapping | undefined;
  readonly domid: number;
  readonly scratch: number;

  constructor(opts: { ioreq: IoreqServers; foreign?: ForeignMapping; domid: number; scratchGfn: number }) {
    this.ioreq = opts.ioreq;
    this.hv = opts.ioreq.hv;
    this.foreign = opts.foreign;
    this.domid = opts.domid;
    const d = this.hv.domain(opts.domid);
    if (!d) throw new XenConfigError(`Privcmd: no domain ${opts.domid}`);
    if (!Number.isInteger(opts.scratchGfn) || opts.scratchGfn < 0 || opts.scratchGfn >= d.ramPages) {
      throw new XenConfigError(`Privcmd: scratch gfn ${opts.scratchGfn} is not in domain ${opts.domid}'s RAM`);
    }
    this.scratch = opts.scratchGfn * PAGE_SIZE;
  }

  private put(off: number, dv: DataView): void {
    this.hv.machine.write(this.domid, this.scratch + off, new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength));
  }

  private get(off: number, len: number): DataView {
    return new DataView(this.hv.machine.read(this.domid, this.scratch + off, len).buffer);
  }

  // ---- dm_op ---------------------------------------------------------------------------

  /** One dm_op: `fill` writes the union; returns rc and the union as Xen left it. */
  dmOp(target: number, op: number, fill: (u: DataView) => void = () => {}, bufSize = L.DM_OP_SIZE): { rc: number; u: DataView } {
    const b = new DataView(new ArrayBuffer(L.DM_OP_SIZE));
    b.setUint32(L.DM_OP_OP, op, true);
    fill(new DataView(b.buffer, L.DM_OP_U));
    this.put(0, b);
    // HYPERVISOR_dm_op(domid, 1, bufs): one xen_dm_op_buf naming the struct.
    const buf = new DataView(new ArrayBuffer(L.DM_OP_BUF_SIZE));
    buf.setBigUint64(L.DM_OP_BUF_H, BigInt(this.scratch), true);
    buf.setBigUint64(L.DM_OP_BUF_SIZE_OFF, BigInt(bufSize), true);
    this.put(DMOP_BUFS, buf);
    const rc = this.ioreq.dmOpBufs(this.domid, target, 1, this.scratch + DMOP_BUFS);
    return { rc, u: this.get(L.DM_OP_U, L.DM_OP_SIZE - L.DM_OP_U) };
  }

  /** Returns the server id or -errno. */
  createIoreqServer(target: number, handleBufioreq = L.HVM_IOREQSRV_BUFIOREQ_OFF): number {
    const { rc, u } = this.dmOp(target, L.XEN_DMOP_CREATE_IOREQ_SERVER, (u) => u.setUint8(L.DM_OP_CREATE_IOREQ_SERVER_HANDLE_BUFIOREQ, handleBufioreq));
    return rc < 0 ? rc : u.getUint16(L.DM_OP_CREATE_IOREQ_SERVER_ID, true);
  }

  /** get_ioreq_server_info with XEN_DMOP_no_gfns: the buffered port (0 if none) or -errno. */
  getIoreqServerInfo(target: number, id: number, flags = L.XEN_DMOP_NO_GFNS): { bufioreqPort: number } | number {
    const { rc, u } = this.dmOp(target, L.XEN_DMOP_GET_IOREQ_SERVER_INFO, (u) => {
      u.setUint16(L.DM_OP_GET_IOREQ_SERVER_INFO_ID, id, true);
      u.setUint16(L.DM_OP_GET_IOREQ_SERVER_INFO_FLAGS, flags, true);
    });
    return rc < 0 ? rc : { bufioreqPort: u.getUint32(L.DM_OP_GET_IOREQ_SERVER_INFO_BUFIOREQ_PORT, true) };
  }

  private range(target: number, op: number, id: number, type: number, start: bigint | number, end: bigint | number): number {
    return this.dmOp(target, op, (u) => {
      u.setUint16(L.DM_OP_IOREQ_SERVER_RANGE_ID, id, true);
      u.setUint32(L.DM_OP_IOREQ_SERVER_RANGE_TYPE, type, true);
      u.setBigUint64(L.DM_OP_IOREQ_SERVER_RANGE_START, BigInt(start), true);
      u.setBigUint64(L.DM_OP_IOREQ_SERVER_RANGE_END, BigInt(end), true);
    }).rc;
  }

  /** Claims the inclusive range [start, end] of `type` (XEN_DMOP_IO_RANGE_*). */
  mapIoRange(target: number, id: number, type: number, start: bigint | number, end: bigint | number): number {
    return this.range(target, L.XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER, id, type, start, end);
  }

  unmapIoRange(target: number, id: number, type: number, start: bigint | number, end: bigint | number): number {
    return this.range(target, L.XEN_DMOP_UNMAP_IO_RANGE_FROM_IOREQ_SERVER, id, type, start, end);
  }

  setIoreqServerState(target: number, id: number, enabled: boolean): number {
    return this.dmOp(target, L.XEN_DMOP_SET_IOREQ_SERVER_STATE, (u) => {
      u.setUint16(L.DM_OP_SET_IOREQ_SERVER_STATE_ID, id, true);
      u.setUint8(L.DM_OP_SET_IOREQ_SERVER_STATE_ENABLED, enabled ? 1 : 0);
    }).rc;
  }

  destroyIoreqServer(target: number, id: number): number {
    return this.dmOp(target, L.XEN_DMOP_DESTROY_IOREQ_SERVER, (u) => u.setUint16(L.DM_OP_DESTROY_IOREQ_SERVER_ID, id, true)).rc;
  }

  /** Arm (and the riscv64 model): drives SPI / wired interrupt `irq` to `level` (0/1). */
  setIrqLevel(target: number, irq: number, level: number): number {
    return this.dmOp(target, L.XEN_DMOP_SET_IRQ_LEVEL, (u) => {
      u.setUint32(L.DM_OP_SET_IRQ_LEVEL_IRQ, irq, true);
      u.setUint8(L.DM_OP_SET_IRQ_LEVEL_LEVEL, level);
    }).rc;
  }

  /** x86: drives ISA IRQ line `isaIrq` (0..15) to `level` (0/1). */
  setIsaIrqLevel(target: number, isaIrq: number, level: number): number {
    return this.dmOp(target, L.XEN_DMOP_SET_ISA_IRQ_LEVEL, (u) => {
      u.setUint8(L.DM_OP_SET_ISA_IRQ_LEVEL_ISA_IRQ, isaIrq);
      u.setUint8(L.DM_OP_SET_ISA_IRQ_LEVEL_LEVEL, level);
    }).rc;
  }

  nrVcpus(target: number): number {
    const { rc, u } = this.dmOp(target, L.XEN_DMOP_NR_VCPUS);
    return rc < 0 ? rc : u.getUint32(L.DM_OP_NR_VCPUS_VCPUS, true);
  }

  // ---- XENMEM_acquire_resource ---------------------------------------------------------

  /** Maps `gfns.length` frames of server `id`'s pages, from resource frame `frame` (0 the
   *  buffered page, 1 the ioreq page), at `gfns` of this domain. Returns 0 or -errno. */
  acquireIoreqPages(target: number, id: number, frame: number, gfns: number[]): number {
    const a = new DataView(new ArrayBuffer(L.MEM_ACQUIRE_RESOURCE_SIZE));
    a.setUint16(L.MEM_ACQUIRE_RESOURCE_DOMID, target, true);
    a.setUint16(L.MEM_ACQUIRE_RESOURCE_TYPE, L.XENMEM_RESOURCE_IOREQ_SERVER, true);
    a.setUint32(L.MEM_ACQUIRE_RESOURCE_ID, id, true);
    a.setUint32(L.MEM_ACQUIRE_RESOURCE_NR_FRAMES, gfns.length, true);
    a.setBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME, BigInt(frame), true);
    a.setBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME_LIST, BigInt(this.scratch + ARRAYS), true);
    this.put(0, a);
    const list = new DataView(new ArrayBuffer(gfns.length * L.PFN_SIZE));
    gfns.forEach((g, i) => list.setBigUint64(i * L.PFN_SIZE, BigInt(g), true));
    if (gfns.length) this.put(ARRAYS, list);
    return this.ioreq.acquireResource(this.domid, this.scratch);
  }

  // ---- foreign memory ------------------------------------------------------------------

  private mustForeign(): ForeignMapping {
    if (!this.foreign) throw new XenConfigError("Privcmd: no ForeignMapping subsystem given");
    return this.foreign;
  }

  /** Maps any number of frames in calls of at most `perCall` entries (one scratch page of
   *  arguments each), as a device model does for a long request. Returns every entry's error
   *  (0 = mapped; a failed call's -errno for each of its entries) and the calls made. */
  mapForeignBatched(owner: number, ownerGfns: number[], atGfns: number[], perCall = FOREIGN_MAP_BATCH): { errs: number[]; calls: number } {
    const errs: number[] = [];
    let calls = 0;
    for (let i = 0; i < ownerGfns.length; i += perCall) {
      const part = ownerGfns.slice(i, i + perCall);
      const r = this.mapForeign(owner, part, atGfns.slice(i, i + perCall));
      calls++;
      errs.push(...(typeof r === "number" ? part.map(() => r) : r));
    }
    return { errs, calls };
  }

  /** xenforeignmemory_map(): maps guest `owner`'s frames `ownerGfns` at `atGfns` of this
   *  domain. Returns the per-entry errors (0 = mapped) or the call's -errno. */
  mapForeign(owner: number, ownerGfns: number[], atGfns: number[]): number[] | number {
    const f = this.mustForeign();
    const n = ownerGfns.length;
    if (atGfns.length !== n) throw new XenConfigError("mapForeign: ownerGfns and atGfns differ in length");
    const per = L.ULONG_SIZE + L.PFN_SIZE + ERR_SIZE; // idxs[i], gpfns[i], errs[i]
    if (ARRAYS + n * per > PAGE_SIZE) throw new XenConfigError(`mapForeign: at most ${Math.floor((PAGE_SIZE - ARRAYS) / per)} frames per call`);
    const idxs = ARRAYS;
    const gpfns = idxs + n * L.ULONG_SIZE;
    const errs = gpfns + n * L.PFN_SIZE;
    const a = new DataView(new ArrayBuffer(L.ADD_TO_PHYSMAP_BATCH_SIZE));
    a.setUint16(L.ADD_TO_PHYSMAP_BATCH_DOMID, DOMID_SELF, true);
    a.setUint16(L.ADD_TO_PHYSMAP_BATCH_SPACE, L.XENMAPSPACE_GMFN_FOREIGN, true);
    a.setUint16(L.ADD_TO_PHYSMAP_BATCH_SIZE_OFF, n, true);
    a.setUint16(L.ADD_TO_PHYSMAP_BATCH_FOREIGN_DOMID, owner, true);
    a.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_IDXS, BigInt(this.scratch + idxs), true);
    a.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_GPFNS, BigInt(this.scratch + gpfns), true);
    a.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_ERRS, BigInt(this.scratch + errs), true);
    this.put(0, a);
    if (n > 0) {
      const arr = new DataView(new ArrayBuffer(n * per));
      for (let i = 0; i < n; i++) {
        arr.setBigUint64(i * L.ULONG_SIZE, BigInt(ownerGfns[i]!), true);
        arr.setBigUint64(gpfns - idxs + i * L.PFN_SIZE, BigInt(atGfns[i]!), true);
        arr.setInt32(errs - idxs + i * ERR_SIZE, 0x7fffffff, true); // Xen overwrites every slot it reaches
      }
      this.put(idxs, arr);
    }
    const rc = f.addToPhysmapBatch(this.domid, this.scratch);
    if (rc < 0) return rc;
    const e = n > 0 ? this.get(errs, n * ERR_SIZE) : new DataView(new ArrayBuffer(0));
    return Array.from({ length: n }, (_, i) => e.getInt32(i * ERR_SIZE, true));
  }

  /** XENMEM_remove_from_physmap of one of this domain's gfns. */
  unmapGfn(gfn: number): number {
    const a = new DataView(new ArrayBuffer(L.REMOVE_FROM_PHYSMAP_SIZE));
    a.setUint16(L.REMOVE_FROM_PHYSMAP_DOMID, DOMID_SELF, true);
    a.setBigUint64(L.REMOVE_FROM_PHYSMAP_GPFN, BigInt(gfn), true);
    this.put(0, a);
    return this.mustForeign().removeFromPhysmap(this.domid, this.scratch);
  }
}
