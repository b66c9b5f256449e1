// IOREQ servers (xen/common/ioreq.c) and the device-model hypercall (HYPERVISOR_dm_op,
// xen/arch/{x86,arm}/dm.c), as a hypervisor subsystem. A server belongs to a target guest and
// an emulator domain; it claims ranges of the guest's MMIO/port space. A trapped guest access
// is written into the server's shared ioreq page (one 32-byte ioreq_t per vCPU), the emulator
// is notified through a Xen-consumed event channel, and the vCPU blocks until it answers.
//   ioreq-state.ts     servers, slots, limits, and the shared IoreqCore
//   ioreq-dmop.ts      dm_op: create/info/ranges/state/destroy/irq levels/nr_vcpus
//   ioreq-access.ts    the trapped access and its completion (wait_for_io)
//   ioreq-resource.ts  XENMEM_acquire_resource of a server's pages
// This file: lifecycle, entry points and queries.
import type { Domain } from "./domain.ts";
import { XenConfigError, type HypercallHandler, type Hypervisor, type Subsystem } from "./hypervisor.ts";
import type { EventChannels } from "./evtchn.ts";
import type { IoDir, MmioDone, MmioHandler, MmioResult } from "./mmio.ts";
import { E2BIG, EFAULT, EOPNOTSUPP } from "./errno.ts";
import { copyFromGuest } from "./guest-copy.ts";
import { readAcquireResource, type MemoryOpTable } from "./memory-op.ts";
import * as L from "../wasm/layout.ts";
import { IoreqCore, MAX_NR_IOREQ_SERVERS, type IsaIrqLine, type Server, type SpiLine } from "./ioreq-state.ts";
import { dmOpFromGuest } from "./ioreq-dmop.ts";
import { ioAccess } from "./ioreq-access.ts";
import { acquireIoreqFrames } from "./ioreq-resource.ts";

/** Buffers one dm_op may name (ARRAY_SIZE(struct dmop_args.buf) in dm.c). */
const DMOP_MAX_BUFS = 2;

export interface IoreqOptions {
  /** SPIs the guest's vGIC has (Arm nr_spis): set_irq_level accepts 32..32+nrSpis-1. Default 64. */
  nrSpis?: number;
}

export interface IoreqServerInfo {
  id: number;
  emulator: number;
  enabled: boolean;
  bufioreq: number;
  ioreqMfn: number;
  bufMfn: number;
  bufPort: number;
  /** vp_eport of each vCPU (ports in the target's table). */
  ports: number[];
  ranges: { port: (readonly [bigint, bigint])[]; memory: (readonly [bigint, bigint])[]; pci: (readonly [bigint, bigint])[] };
}

export class IoreqServers implements Subsystem, MmioHandler {
  readonly name = "ioreq";
  readonly hv: Hypervisor;
  readonly evtchn: EventChannels;
  private readonly core: IoreqCore;

  constructor(hv: Hypervisor, evtchn: EventChannels, opts: IoreqOptions = {}) {
    if (evtchn.hv !== hv) throw new XenConfigError("IoreqServers: the event channels belong to another hypervisor");
    const nrSpis = opts.nrSpis ?? 64;
    if (!Number.isInteger(nrSpis) || nrSpis < 0 || nrSpis > 988) {
      throw new XenConfigError(`nrSpis must be an integer in 0..988, got ${opts.nrSpis}`);
    }
    this.hv = hv;
    this.evtchn = evtchn;
    this.core = new IoreqCore(hv, evtchn, nrSpis);
    hv.register(this);
    hv.setMmioHandler(this);
  }

  /** HYPERVISOR_dm_op (hv.hypercall). */
  hypercalls(): Record<number, HypercallHandler> {
    return { [L.HYPERVISOR_DM_OP]: (c, domid, nrBufs, bufs) => this.dmOpBufs(c, domid, nrBufs, bufs) };
  }

  /** XENMEM_acquire_resource(XENMEM_resource_ioreq_server) for hv.memoryOp. */
  memoryOps(): MemoryOpTable {
    return { resources: { [L.XENMEM_RESOURCE_IOREQ_SERVER]: (c, d, a, gpa) => acquireIoreqFrames(this.core, c, d, a, gpa) } };
  }

  // ---- lifecycle -----------------------------------------------------------------------

  domainCreated(d: Domain): void {
    this.core.targets.set(d.domid, {
      d,
      servers: new Array<Server | undefined>(MAX_NR_IOREQ_SERVERS).fill(undefined),
      blocked: new Uint8Array(d.vcpus),
      spis: new Map(),
      isaIrqs: new Map(),
    });
  }

  /** The dying domain's own servers go (ioreq_server_destroy_all). Servers it emulates for
   *  other guests stay, as in Xen (they hold a reference on the emulator): their channels are
   *  closed by the event-channel teardown, so a guest access to them blocks for ever. */
  domainDestroyed(d: Domain): void {
    const core = this.core;
    const t = core.targets.get(d.domid);
    if (t && t.d === d) {
      for (const s of t.servers) if (s) core.destroyServer(t, s);
      core.targets.delete(d.domid);
    }
    for (const other of core.targets.values()) {
      for (const s of other.servers) {
        if (!s) continue;
        for (let i = s.mapped.length - 1; i >= 0; i--) if (s.mapped[i]!.domid === d.domid) s.mapped.splice(i, 1);
      }
    }
    for (const k of [...core.completions.keys()]) if (k.startsWith(`${d.domid}:`)) core.completions.delete(k);
  }

  // ---- queries -------------------------------------------------------------------------

  isBlocked(domid: number, vcpu: number): boolean {
    return this.core.targets.get(domid)?.blocked[vcpu] === 1;
  }

  /** The value of the last access completed on this vCPU (undefined before the first). */
  lastCompletion(domid: number, vcpu: number): bigint | undefined {
    return this.core.completions.get(`${domid}:${vcpu}`);
  }

  servers(domid: number): IoreqServerInfo[] {
    const t = this.core.targets.get(domid);
    if (!t) return [];
    return t.servers.filter((s): s is Server => !!s).map((s) => ({
      id: s.id,
      emulator: s.emulator.domid,
      enabled: s.enabled,
      bufioreq: s.bufioreq,
      ioreqMfn: s.ioreqMfn,
      bufMfn: s.bufMfn,
      bufPort: s.bufPort,
      ports: s.vcpus.map((v) => v.port),
      ranges: { port: [...s.ranges[0]!.ranges()], memory: [...s.ranges[1]!.ranges()], pci: [...s.ranges[2]!.ranges()] },
    }));
  }

  /** The line level and how many times set_irq_level asserted an SPI. */
  spi(domid: number, irq: number): SpiLine {
    const l = this.core.targets.get(domid)?.spis.get(irq);
    return { level: l?.level ?? 0, assertions: l?.assertions ?? 0 };
  }

  /** x86: the ISA IRQ line's level and how many times set_isa_irq_level asserted it. */
  isaIrq(domid: number, isaIrq: number): IsaIrqLine {
    const l = this.core.targets.get(domid)?.isaIrqs.get(isaIrq);
    return { level: l?.level ?? 0, assertions: l?.assertions ?? 0 };
  }

  // ---- HYPERVISOR_dm_op ----------------------------------------------------------------

  /** HYPERVISOR_dm_op(domid, 1, {buf}) made by `caller`: one buffer of `bufSize` bytes at the
   *  caller's guest-physical `bufGpa` holding a struct xen_dm_op. Returns 0 or -errno. */
  dmOp(caller: number, domid: number, bufGpa: number, bufSize: number): number {
    this.hv.countHypercall();
    this.core.bump(L.CNT_IOREQ_DM_OPS);
    const c = this.hv.live(caller);
    if (!c) throw new XenConfigError(`dm_op: caller ${caller} is not a live domain`);
    const rc = dmOpFromGuest(this.core, c, domid, bufGpa, bufSize);
    if (rc < 0) this.core.bump(L.CNT_IOREQ_DM_OP_ERRORS);
    return rc;
  }

  /** HYPERVISOR_dm_op(domid, nr_bufs, bufs) as the ABI has it: `bufs` is the guest address
   *  of nr_bufs struct xen_dm_op_buf {handle, size}; the first holds the struct xen_dm_op. */
  dmOpBufs(caller: number, domid: number, nrBufs: number, bufsGpa: number): number {
    this.hv.countHypercall();
    this.core.bump(L.CNT_IOREQ_DM_OPS);
    const c = this.hv.liveCaller(caller, "dm_op");
    const rc = this.dmOpBufsInner(c, domid, nrBufs, bufsGpa);
    if (rc < 0) this.core.bump(L.CNT_IOREQ_DM_OP_ERRORS);
    return rc;
  }

  private dmOpBufsInner(c: Domain, domid: number, nrBufs: number, bufsGpa: number): number {
    if (!Number.isInteger(nrBufs) || nrBufs < 0 || nrBufs > DMOP_MAX_BUFS) return -E2BIG;
    let gpa = 0;
    let size = 0; // no buffer: a zero-sized first buffer, which dm_op refuses with -EFAULT
    if (nrBufs > 0) {
      const b = copyFromGuest(this.hv.machine, c.domid, bufsGpa, nrBufs * L.DM_OP_BUF_SIZE);
      if (!b) return -EFAULT;
      const h = b.getBigUint64(L.DM_OP_BUF_H, true);
      const sz = b.getBigUint64(L.DM_OP_BUF_SIZE_OFF, true);
      gpa = h < 2n ** 53n ? Number(h) : -1;
      size = sz < 2n ** 32n ? Number(sz) : 2 ** 32;
    }
    return dmOpFromGuest(this.core, c, domid, gpa, size);
  }

  // ---- XENMEM_acquire_resource (ioreq_server pages) -------------------------------------

  /** XENMEM_acquire_resource for XENMEM_resource_ioreq_server made by `caller` (a translated
   *  domain: frame_list holds the gfns where the pages go in its p2m). Returns 0 or -errno. */
  acquireResource(caller: number, argGpa: number): number {
    this.hv.countHypercall();
    const c = this.hv.live(caller);
    if (!c) throw new XenConfigError(`acquire_resource: caller ${caller} is not a live domain`);
    const r = readAcquireResource(this.hv, c, argGpa);
    if (typeof r === "number") return r;
    if (r.a.getUint16(L.MEM_ACQUIRE_RESOURCE_TYPE, true) !== L.XENMEM_RESOURCE_IOREQ_SERVER) return -EOPNOTSUPP;
    return acquireIoreqFrames(this.core, c, r.d, r.a, argGpa);
  }

  // ---- guest accesses ------------------------------------------------------------------

  ioAccess(space: "mmio" | "pio", domid: number, vcpu: number, addr: number, size: number, dir: IoDir, data: bigint | number, done?: MmioDone): MmioResult {
    return ioAccess(this.core, space, domid, vcpu, addr, size, dir, data, done);
  }
}
