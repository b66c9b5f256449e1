// IOREQ servers (xen/common/ioreq.c) and the device-model hypercall (HYPERVISOR_dm_op,
// xen/arch/{x86,arm}/dm.c). A server belongs to a target guest and an emulator domain; it
// claims ranges of the guest's MMIO/port space. A trapped guest access is written into the
// server's shared ioreq page (one 32-byte ioreq_t per vCPU), the emulator is notified through
// a Xen-consumed event channel, and the vCPU blocks until the emulator answers.
import type { Domain } from "./domain.ts";
import { XenConfigError, type Hypervisor, type Subsystem } from "./hypervisor.ts";
import type { EventChannels } from "./evtchn.ts";
import type { IoDir, MmioDone, MmioHandler, MmioResult } from "./mmio.ts";
import { Rangeset } from "./rangeset.ts";
import { EBUSY, EEXIST, EFAULT, EINVAL, EIO, ENOENT, ENOSPC, EOPNOTSUPP, EPERM, ESRCH } from "./errno.ts";
import { xsmDenialErrno } from "./xsm-errno.ts";
import { copyFromGuest, copyToGuest } from "./guest-copy.ts";
import * as L from "../wasm/layout.ts";
import { ioreqState, withIoreqState, IOREQS_PER_PAGE, MAX_NR_IOREQ_SERVERS, MAX_NR_IO_RANGES, NR_LOCAL_IRQS, XEN_DMOP_NR_OPS } from "./ioreq-state.ts";

/** Bytes of the union each dm_op copies in and out (op_size[] in dm.c), for the modelled ops. */
const OP_SIZE: Record<number, number> = {
  [L.XEN_DMOP_CREATE_IOREQ_SERVER]: L.DM_OP_CREATE_IOREQ_SERVER_SIZE,
  [L.XEN_DMOP_GET_IOREQ_SERVER_INFO]: L.DM_OP_GET_IOREQ_SERVER_INFO_SIZE,
  [L.XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER]: L.DM_OP_IOREQ_SERVER_RANGE_SIZE,
  [L.XEN_DMOP_UNMAP_IO_RANGE_FROM_IOREQ_SERVER]: L.DM_OP_IOREQ_SERVER_RANGE_SIZE,
  [L.XEN_DMOP_SET_IOREQ_SERVER_STATE]: L.DM_OP_SET_IOREQ_SERVER_STATE_SIZE,
  [L.XEN_DMOP_DESTROY_IOREQ_SERVER]: L.DM_OP_DESTROY_IOREQ_SERVER_SIZE,
  [L.XEN_DMOP_SET_IRQ_LEVEL]: L.DM_OP_SET_IRQ_LEVEL_SIZE,
  [L.XEN_DMOP_NR_VCPUS]: L.DM_OP_NR_VCPUS_SIZE,
};

const U64_MAX = (1n << 64n) - 1n;
const HVM_MAX_VCPUS = IOREQS_PER_PAGE; // one ioreq page holds every vCPU's slot

interface IoreqVcpu {
  /** The Xen-consumed port in the target's table (vp_eport). */
  readonly port: number;
  /** A request is outstanding (sv->pending): the vCPU waits in wait_for_io(). */
  pending: boolean;
  /** The slot state seen last; a smaller one later is a backwards transition. */
  prevState: number;
  dir: IoDir;
  size: number;
  data: bigint;
  done: MmioDone | undefined;
}

interface Server {
  readonly id: number;
  readonly target: Domain;
  readonly emulator: Domain;
  readonly bufioreq: number;
  enabled: boolean;
  readonly ioreqMfn: number;
  readonly bufMfn: number; // 0 without buffered ioreqs
  readonly bufPort: number; // 0 without buffered ioreqs
  readonly ranges: Rangeset[]; // by XEN_DMOP_IO_RANGE_*
  readonly vcpus: IoreqVcpu[];
  /** Where XENMEM_acquire_resource mapped the pages (removed when the server goes). */
  readonly mapped: { domid: number; gfn: number; mfn: number }[];
}

interface SpiLine {
  level: number;
  assertions: number;
}

interface TargetState {
  readonly d: Domain;
  readonly servers: (Server | undefined)[];
  readonly blocked: Uint8Array;
  readonly spis: Map<number, SpiLine>;
}

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

const ones = (size: number) => (1n << BigInt(size * 8)) - 1n;

export class IoreqServers implements Subsystem, MmioHandler {
  readonly name = "ioreq";
  readonly hv: Hypervisor;
  readonly evtchn: EventChannels;
  private readonly nrSpis: number;
  private readonly targets = new Map<number, TargetState>();
  /** Last completed value per "domid:vcpu" (for callers that poll rather than pass `done`). */
  private readonly completions = new Map<string, bigint>();

  constructor(hv: Hypervisor, evtchn: EventChannels, opts: IoreqOptions = {}) {
    if (evtchn.hv !== hv) throw new XenConfigError("IoreqServers: the event channels belong to another hypervisor");
    this.hv = hv;
    this.evtchn = evtchn;
    this.nrSpis = opts.nrSpis ?? 64;
    if (!Number.isInteger(this.nrSpis) || this.nrSpis < 0 || this.nrSpis > 988) {
      throw new XenConfigError(`nrSpis must be an integer in 0..988, got ${opts.nrSpis}`);
    }
    hv.register(this);
    hv.setMmioHandler(this);
  }

  // ---- lifecycle -----------------------------------------------------------------------

  domainCreated(d: Domain): void {
    this.targets.set(d.domid, {
      d,
      servers: new Array<Server | undefined>(MAX_NR_IOREQ_SERVERS).fill(undefined),
      blocked: new Uint8Array(d.vcpus),
      spis: new Map(),
    });
  }

  /** The dying domain's own servers go (ioreq_server_destroy_all). Servers it emulates for
   *  other guests stay, as in Xen (they hold a reference on the emulator): their channels are
   *  closed by the event-channel teardown, so a guest access to them blocks for ever. */
  domainDestroyed(d: Domain): void {
    const t = this.targets.get(d.domid);
    if (t && t.d === d) {
      for (const s of t.servers) if (s) this.destroyServer(t, s);
      this.targets.delete(d.domid);
    }
    for (const other of this.targets.values()) {
      for (const s of other.servers) {
        if (!s) continue;
        for (let i = s.mapped.length - 1; i >= 0; i--) if (s.mapped[i]!.domid === d.domid) s.mapped.splice(i, 1);
      }
    }
    for (const k of [...this.completions.keys()]) if (k.startsWith(`${d.domid}:`)) this.completions.delete(k);
  }

  // ---- queries -------------------------------------------------------------------------

  isBlocked(domid: number, vcpu: number): boolean {
    return this.targets.get(domid)?.blocked[vcpu] === 1;
  }

  /** The value of the last access completed on this vCPU (undefined before the first). */
  lastCompletion(domid: number, vcpu: number): bigint | undefined {
    return this.completions.get(`${domid}:${vcpu}`);
  }

  servers(domid: number): IoreqServerInfo[] {
    const t = this.targets.get(domid);
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
    const l = this.targets.get(domid)?.spis.get(irq);
    return { level: l?.level ?? 0, assertions: l?.assertions ?? 0 };
  }

  // ---- HYPERVISOR_dm_op ----------------------------------------------------------------

  /** HYPERVISOR_dm_op(domid, 1, {buf}) made by `caller`: one buffer of `bufSize` bytes at the
   *  caller's guest-physical `bufGpa` holding a struct xen_dm_op. Returns 0 or -errno. */
  dmOp(caller: number, domid: number, bufGpa: number, bufSize: number): number {
    this.hv.hypercall();
    this.bump(L.CNT_IOREQ_DM_OPS);
    const c = this.hv.live(caller);
    if (!c) throw new XenConfigError(`dm_op: caller ${caller} is not a live domain`);
    const rc = this.dmOpInner(c, domid, bufGpa, bufSize);
    if (rc < 0) this.bump(L.CNT_IOREQ_DM_OP_ERRORS);
    return rc;
  }

  private dmOpInner(c: Domain, domid: number, gpa: number, size: number): number {
    // rcu_lock_remote_domain_by_id(): no such domain, or the caller itself.
    const d = this.hv.live(domid);
    if (!d) return -ESRCH;
    if (d === c) return -EPERM;
    if (!this.hv.xsmCheck("dm_op", c, d)) {
      this.bump(L.CNT_IOREQ_DM_OP_DENIED);
      return xsmDenialErrno(this.hv.xsm);
    }
    const m = this.hv.machine;
    if (size < L.DM_OP_U) return -EFAULT;
    const h = copyFromGuest(m, c.domid, gpa, L.DM_OP_U);
    if (!h) return -EFAULT;
    const op = h.getUint32(L.DM_OP_OP, true);
    if (op >= XEN_DMOP_NR_OPS) return -EOPNOTSUPP;
    const usize = OP_SIZE[op];
    if (usize === undefined) return -EOPNOTSUPP; // a real op this model does not implement
    if (size < L.DM_OP_U + usize) return -EFAULT;
    const u = copyFromGuest(m, c.domid, gpa + L.DM_OP_U, usize);
    if (!u) return -EFAULT;
    if (h.getUint32(L.DM_OP_PAD, true) !== 0) return -EINVAL;
    const t = this.targets.get(d.domid)!;
    let constOp = true;
    let rc: number;
    switch (op) {
      case L.XEN_DMOP_CREATE_IOREQ_SERVER:
        constOp = false;
        rc = this.opCreate(t, c, u);
        break;
      case L.XEN_DMOP_GET_IOREQ_SERVER_INFO:
        constOp = false;
        rc = this.opGetInfo(t, c, u);
        break;
      case L.XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER:
      case L.XEN_DMOP_UNMAP_IO_RANGE_FROM_IOREQ_SERVER:
        rc = this.opRange(t, c, u, op === L.XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER);
        break;
      case L.XEN_DMOP_SET_IOREQ_SERVER_STATE:
        rc = this.opSetState(t, c, u);
        break;
      case L.XEN_DMOP_DESTROY_IOREQ_SERVER:
        rc = this.opDestroy(t, c, u);
        break;
      case L.XEN_DMOP_SET_IRQ_LEVEL:
        rc = this.opSetIrqLevel(t, u);
        break;
      default: // XEN_DMOP_NR_VCPUS
        constOp = false;
        u.setUint32(L.DM_OP_NR_VCPUS_VCPUS, d.vcpus, true);
        rc = 0;
    }
    if (rc === 0 && !constOp && !copyToGuest(m, c.domid, gpa + L.DM_OP_U, u)) rc = -EFAULT;
    return rc;
  }

  private opCreate(t: TargetState, c: Domain, u: DataView): number {
    for (let i = 0; i < 3; i++) if (u.getUint8(L.DM_OP_CREATE_IOREQ_SERVER_PAD + i) !== 0) return -EINVAL;
    const bufioreq = u.getUint8(L.DM_OP_CREATE_IOREQ_SERVER_HANDLE_BUFIOREQ);
    if (bufioreq > L.HVM_IOREQSRV_BUFIOREQ_ATOMIC) return -EINVAL;
    if (t.d.vcpus > HVM_MAX_VCPUS) return -EINVAL;
    const id = t.servers.findIndex((s) => s === undefined);
    if (id < 0) return -ENOSPC;
    // One Xen-consumed port per vCPU (plus the buffered one on vCPU0) that the emulator binds.
    const ports: number[] = [];
    const undo = (rc: number) => {
      for (const p of ports) this.evtchn.freeXenChannel(t.d.domid, p);
      return rc;
    };
    const vcpus: IoreqVcpu[] = [];
    for (let v = 0; v < t.d.vcpus; v++) {
      const port = this.evtchn.allocXenUnbound(t.d.domid, v, c.domid, (vcpu) => this.wake(t, id, vcpu));
      if (port < 0) return undo(port);
      ports.push(port);
      vcpus.push({ port, pending: false, prevState: 0, dir: "read", size: 0, data: 0n, done: undefined });
    }
    let bufPort = 0;
    if (bufioreq !== L.HVM_IOREQSRV_BUFIOREQ_OFF) {
      bufPort = this.evtchn.allocXenUnbound(t.d.domid, 0, c.domid, () => {});
      if (bufPort < 0) return undo(bufPort);
      ports.push(bufPort);
    }
    const m = this.hv.machine;
    const s: Server = {
      id,
      target: t.d,
      emulator: c,
      bufioreq,
      enabled: false,
      ioreqMfn: m.allocXenFrame(),
      bufMfn: bufioreq !== L.HVM_IOREQSRV_BUFIOREQ_OFF ? m.allocXenFrame() : 0,
      bufPort,
      ranges: [0, 1, 2].map(() => new Rangeset(MAX_NR_IO_RANGES)),
      vcpus,
      mapped: [],
    };
    t.servers[id] = s;
    u.setUint16(L.DM_OP_CREATE_IOREQ_SERVER_ID, id, true);
    this.bump(L.CNT_IOREQ_SERVERS_CREATED);
    return 0;
  }

  /** get_ioreq_server() plus the emulator check every server op makes. */
  private server(t: TargetState, c: Domain, id: number): Server | number {
    const s = id < MAX_NR_IOREQ_SERVERS ? t.servers[id] : undefined;
    if (!s) return -ENOENT;
    if (s.emulator !== c) return -EPERM;
    return s;
  }

  private opGetInfo(t: TargetState, c: Domain, u: DataView): number {
    const flags = u.getUint16(L.DM_OP_GET_IOREQ_SERVER_INFO_FLAGS, true);
    if ((flags & ~L.XEN_DMOP_NO_GFNS) !== 0) return -EINVAL;
    const s = this.server(t, c, u.getUint16(L.DM_OP_GET_IOREQ_SERVER_INFO_ID, true));
    if (typeof s === "number") return s;
    // The legacy mode that places the pages in the guest's own p2m is not modelled (Arm has
    // none either): emulators map them with XENMEM_acquire_resource.
    if ((flags & L.XEN_DMOP_NO_GFNS) === 0) return -EOPNOTSUPP;
    if (s.bufioreq !== L.HVM_IOREQSRV_BUFIOREQ_OFF) u.setUint32(L.DM_OP_GET_IOREQ_SERVER_INFO_BUFIOREQ_PORT, s.bufPort, true);
    return 0;
  }

  private opRange(t: TargetState, c: Domain, u: DataView, map: boolean): number {
    if (u.getUint16(L.DM_OP_IOREQ_SERVER_RANGE_PAD, true) !== 0) return -EINVAL;
    const start = u.getBigUint64(L.DM_OP_IOREQ_SERVER_RANGE_START, true);
    const end = u.getBigUint64(L.DM_OP_IOREQ_SERVER_RANGE_END, true);
    if (start > end) return -EINVAL;
    const s = this.server(t, c, u.getUint16(L.DM_OP_IOREQ_SERVER_RANGE_ID, true));
    if (typeof s === "number") return s;
    const r = s.ranges[u.getUint32(L.DM_OP_IOREQ_SERVER_RANGE_TYPE, true)];
    if (!r) return -EINVAL;
    if (map) {
      if (r.overlaps(start, end)) return -EEXIST;
      return r.add(start, end);
    }
    if (!r.containsRange(start, end)) return -ENOENT;
    return r.remove(start, end);
  }

  private opSetState(t: TargetState, c: Domain, u: DataView): number {
    if (u.getUint8(L.DM_OP_SET_IOREQ_SERVER_STATE_PAD) !== 0) return -EINVAL;
    const s = this.server(t, c, u.getUint16(L.DM_OP_SET_IOREQ_SERVER_STATE_ID, true));
    if (typeof s === "number") return s;
    const enable = u.getUint8(L.DM_OP_SET_IOREQ_SERVER_STATE_ENABLED) !== 0;
    if (enable && !s.enabled) {
      // ioreq_update_evtchn(): publish each vCPU's port in its slot.
      for (let v = 0; v < s.vcpus.length; v++) this.writeSlot32(s, v, L.IOREQ_VP_EPORT, s.vcpus[v]!.port);
    }
    s.enabled = enable;
    return 0;
  }

  private opDestroy(t: TargetState, c: Domain, u: DataView): number {
    if (u.getUint16(L.DM_OP_DESTROY_IOREQ_SERVER_PAD, true) !== 0) return -EINVAL;
    const s = this.server(t, c, u.getUint16(L.DM_OP_DESTROY_IOREQ_SERVER_ID, true));
    if (typeof s === "number") return s;
    this.destroyServer(t, s);
    return 0;
  }

  private opSetIrqLevel(t: TargetState, u: DataView): number {
    if (this.hv.arch !== "arm64") return -EOPNOTSUPP; // x86 drives ISA/PCI INTx lines instead
    const irq = u.getUint32(L.DM_OP_SET_IRQ_LEVEL_IRQ, true);
    const level = u.getUint8(L.DM_OP_SET_IRQ_LEVEL_LEVEL);
    if (irq < NR_LOCAL_IRQS || irq >= NR_LOCAL_IRQS + this.nrSpis) return -EINVAL;
    if (level > 1) return -EINVAL;
    for (let i = 0; i < 3; i++) if (u.getUint8(L.DM_OP_SET_IRQ_LEVEL_PAD + i) !== 0) return -EINVAL;
    let line = t.spis.get(irq);
    if (!line) t.spis.set(irq, (line = { level: 0, assertions: 0 }));
    if (level === 1) {
      line.assertions++;
      this.bump(L.CNT_IOREQ_IRQ_ASSERTIONS);
      if (line.level === 0) this.bump(L.CNT_IOREQ_IRQ_RAISED);
    }
    line.level = level;
    return 0;
  }

  /** ioreq_server_deinit(): the channels are freed, the pages leave every p2m that mapped
   *  them and go back to Xen. A vCPU still waiting resumes with the access unanswered (its
   *  destination register keeps what it held: here, the data the access carried). */
  private destroyServer(t: TargetState, s: Server): void {
    const m = this.hv.machine;
    t.servers[s.id] = undefined;
    s.enabled = false;
    for (let v = 0; v < s.vcpus.length; v++) {
      const sv = s.vcpus[v]!;
      this.evtchn.freeXenChannel(t.d.domid, sv.port);
      if (sv.pending) this.finish(t, v, sv, sv.dir === "read" ? sv.data : 0n);
    }
    if (s.bufPort) this.evtchn.freeXenChannel(t.d.domid, s.bufPort);
    for (const mp of s.mapped) {
      const ent = m.p2mLookup(mp.domid, mp.gfn);
      if (ent > 0 && ent >>> L.P2M_MFN_SHIFT === mp.mfn) m.p2mUnmap(mp.domid, mp.gfn);
    }
    m.freeXenFrame(s.ioreqMfn);
    if (s.bufMfn) m.freeXenFrame(s.bufMfn);
    this.bump(L.CNT_IOREQ_SERVERS_DESTROYED);
  }

  // ---- XENMEM_acquire_resource (ioreq_server pages) -------------------------------------

  /** XENMEM_acquire_resource for XENMEM_resource_ioreq_server made by `caller` (a translated
   *  domain: frame_list holds the gfns where the pages go in its p2m). Returns 0 or -errno. */
  acquireResource(caller: number, argGpa: number): number {
    this.hv.hypercall();
    const c = this.hv.live(caller);
    if (!c) throw new XenConfigError(`acquire_resource: caller ${caller} is not a live domain`);
    const m = this.hv.machine;
    const a = copyFromGuest(m, caller, argGpa, L.MEM_ACQUIRE_RESOURCE_SIZE);
    if (!a) return -EFAULT;
    if (a.getUint32(L.MEM_ACQUIRE_RESOURCE_PAD, true) !== 0) return -EINVAL;
    const d = this.hv.live(a.getUint16(L.MEM_ACQUIRE_RESOURCE_DOMID, true));
    if (!d) return -ESRCH;
    if (d === c) return -EPERM;
    if (!this.hv.xsmCheck("dm_op", c, d)) return xsmDenialErrno(this.hv.xsm);
    if (a.getUint16(L.MEM_ACQUIRE_RESOURCE_TYPE, true) !== L.XENMEM_RESOURCE_IOREQ_SERVER) return -EOPNOTSUPP;
    const nr = a.getUint32(L.MEM_ACQUIRE_RESOURCE_NR_FRAMES, true);
    const list = a.getBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME_LIST, true);
    if (nr === 0) {
      // A size query: the buffered page plus one ioreq page.
      if (list !== 0n) return -EINVAL;
      a.setUint32(L.MEM_ACQUIRE_RESOURCE_NR_FRAMES, 2, true);
      return copyToGuest(m, caller, argGpa, a) ? 0 : -EFAULT;
    }
    const frame = a.getBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME, true);
    if (nr > 2 || frame + BigInt(nr) > 2n) return -EINVAL;
    const s = this.server(this.targets.get(d.domid)!, c, a.getUint32(L.MEM_ACQUIRE_RESOURCE_ID, true));
    if (typeof s === "number") return s;
    const mfns: number[] = [];
    for (let i = 0; i < nr; i++) {
      const f = Number(frame) + i;
      if (f === L.XENMEM_RESOURCE_IOREQ_SERVER_FRAME_BUFIOREQ && !s.bufMfn) return -ENOENT;
      mfns.push(f === 0 ? s.bufMfn : s.ioreqMfn);
    }
    const gfns = copyFromGuest(m, caller, list, nr * L.PFN_SIZE);
    if (!gfns) return -EFAULT;
    for (let i = 0; i < nr; i++) {
      const g = gfns.getBigUint64(i * L.PFN_SIZE, true);
      let rc = 0;
      const info = m.domainInfo(caller);
      if (g < BigInt(info.ramPages) || g >= BigInt(info.maxGfn)) rc = -EINVAL;
      else if (m.p2mMap(caller, Number(g), mfns[i]!, L.P2M_XEN) !== L.MST_OK) rc = -EBUSY;
      // Xen reports a failure after the first frame as -EIO (some frames are mapped).
      if (rc) return i === 0 ? rc : -EIO;
      s.mapped.push({ domid: caller, gfn: Number(g), mfn: mfns[i]! });
    }
    return 0;
  }

  // ---- guest accesses ------------------------------------------------------------------

  ioAccess(space: "mmio" | "pio", domid: number, vcpu: number, addr: number, size: number, dir: IoDir, data: bigint | number, done?: MmioDone): MmioResult {
    const t = this.targets.get(domid);
    const d = this.hv.domain(domid);
    if (!t || !d || d.state !== "running") throw new XenConfigError(`${space} access: domain ${domid} is not running`);
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= d.vcpus) throw new XenConfigError(`${space} access: domain ${domid} has no vCPU ${vcpu}`);
    if (t.blocked[vcpu]) throw new XenConfigError(`${space} access: vCPU ${vcpu} of domain ${domid} is blocked on an earlier access`);
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new XenConfigError(`${space} access: size must be 1, 2, 4 or 8, got ${size}`);
    if (!Number.isSafeInteger(addr) || addr < 0) throw new XenConfigError(`${space} access: bad address ${addr}`);
    if (dir !== "read" && dir !== "write") throw new XenConfigError(`${space} access: dir must be "read" or "write"`);
    if (space === "pio" && this.hv.arch !== "x86-64") throw new XenConfigError(`port I/O does not exist on ${this.hv.arch}`);
    const value = BigInt.asUintN(size * 8, BigInt(data));
    this.bump(L.CNT_IOREQ_MMIO_TRAPS);

    const type = space === "pio" ? L.XEN_DMOP_IO_RANGE_PORT : L.XEN_DMOP_IO_RANGE_MEMORY;
    const first = BigInt(addr);
    const last = first + BigInt(size) - 1n;
    let s: Server | undefined;
    for (let id = MAX_NR_IOREQ_SERVERS - 1; id >= 0 && !s; id--) {
      const c = t.servers[id];
      if (c && c.enabled && c.ranges[type]!.containsRange(first, last)) s = c;
    }
    if (!s) {
      this.bump(L.CNT_IOREQ_UNCLAIMED);
      if (this.hv.arch === "x86-64") return { kind: "done", value: dir === "read" ? ones(size) : 0n };
      this.bump(L.CNT_IOREQ_FAULTS); // Arm: the data abort is injected into the guest
      return { kind: "fault" };
    }
    // ioreq_send(): the slot must be free and carry the right port, else Xen will not use it
    // and the access is unhandled (Arm: data abort; x86: #GP).
    const sv = s.vcpus[vcpu]!;
    const slot = vcpu * L.IOREQ_SIZE;
    const m = this.hv.machine;
    const cur = m.readMfn(s.ioreqMfn, slot, L.IOREQ_SIZE);
    const cdv = new DataView(cur.buffer);
    if (ioreqState(cur[L.IOREQ_STATE_BYTE]!) !== L.STATE_IOREQ_NONE || cdv.getUint32(L.IOREQ_VP_EPORT, true) !== sv.port) {
      this.bump(L.CNT_IOREQ_FAULTS);
      return { kind: "fault" };
    }
    const req = new DataView(new ArrayBuffer(L.IOREQ_SIZE));
    req.setBigUint64(L.IOREQ_ADDR, first, true);
    req.setBigUint64(L.IOREQ_DATA, dir === "write" ? value : 0n, true);
    req.setUint32(L.IOREQ_COUNT, 1, true);
    req.setUint32(L.IOREQ_SIZE_OFF, size, true);
    req.setUint32(L.IOREQ_VP_EPORT, sv.port, true);
    const dirBit = dir === "read" ? L.IOREQ_READ : L.IOREQ_WRITE;
    const dirByte = dirBit << L.IOREQ_DIR_SHIFT;
    req.setUint8(L.IOREQ_STATE_BYTE, withIoreqState(dirByte, L.STATE_IOREQ_NONE));
    req.setUint8(L.IOREQ_TYPE, space === "pio" ? L.IOREQ_TYPE_PIO : L.IOREQ_TYPE_COPY);
    m.writeMfn(s.ioreqMfn, slot, new Uint8Array(req.buffer));
    // The request is complete before the state says READY (the emulator may look any time).
    m.writeMfn(s.ioreqMfn, slot + L.IOREQ_STATE_BYTE, Uint8Array.of(withIoreqState(dirByte, L.STATE_IOREQ_READY)));
    Object.assign(sv, { pending: true, prevState: L.STATE_IOREQ_READY, dir, size, data: value, done });
    t.blocked[vcpu] = 1;
    this.bump(L.CNT_IOREQ_SENT);
    this.bump(dir === "read" ? L.CNT_IOREQ_READS : L.CNT_IOREQ_WRITES);
    this.bump(L.CNT_IOREQ_VCPU_BLOCKED);
    this.evtchn.notifyXen(domid, sv.port);
    return { kind: "pending", server: s.id };
  }

  /** The Xen-consumed channel of (server, vCPU) was notified: the waiting vCPU looks at its
   *  slot again (wait_for_io). */
  private wake(t: TargetState, id: number, vcpu: number): void {
    const s = t.servers[id];
    const sv = s?.vcpus[vcpu];
    if (!s || !sv || !sv.pending) return;
    const m = this.hv.machine;
    const slot = vcpu * L.IOREQ_SIZE;
    let state = ioreqState(m.readMfn(s.ioreqMfn, slot + L.IOREQ_STATE_BYTE, 1)[0]!);
    let data = U64_MAX; // what a vCPU gets when the emulator resets the slot to NONE
    while (state !== L.STATE_IOREQ_NONE) {
      if (state < sv.prevState || state > L.STATE_IORESP_READY) {
        // Xen: "Weird HVM ioreq state transition" -> domain_crash().
        sv.pending = false;
        t.blocked[vcpu] = 0;
        this.bump(L.CNT_IOREQ_BAD_STATE);
        this.hv.crashDomain(t.d.domid, `ioreq: state ${sv.prevState} -> ${state} on vCPU ${vcpu}`);
        return;
      }
      sv.prevState = state;
      if (state !== L.STATE_IORESP_READY) return; // READY/INPROCESS: keep waiting
      const b = m.readMfn(s.ioreqMfn, slot, L.IOREQ_SIZE);
      data = new DataView(b.buffer).getBigUint64(L.IOREQ_DATA, true);
      m.writeMfn(s.ioreqMfn, slot + L.IOREQ_STATE_BYTE, Uint8Array.of(withIoreqState(b[L.IOREQ_STATE_BYTE]!, L.STATE_IOREQ_NONE)));
      state = L.STATE_IOREQ_NONE;
    }
    this.bump(L.CNT_IOREQ_COMPLETIONS);
    this.finish(t, vcpu, sv, sv.dir === "read" ? data & ones(sv.size) : 0n);
  }

  private finish(t: TargetState, vcpu: number, sv: IoreqVcpu, value: bigint): void {
    sv.pending = false;
    t.blocked[vcpu] = 0;
    this.completions.set(`${t.d.domid}:${vcpu}`, value);
    const done = sv.done;
    sv.done = undefined;
    done?.(value);
  }

  private writeSlot32(s: Server, vcpu: number, off: number, v: number): void {
    const b = new DataView(new ArrayBuffer(4));
    b.setUint32(0, v, true);
    this.hv.machine.writeMfn(s.ioreqMfn, vcpu * L.IOREQ_SIZE + off, new Uint8Array(b.buffer));
  }

  private bump(id: number, n = 1): void {
    this.hv.machine.bump(id, n);
  }
}
