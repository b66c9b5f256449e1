// HYPERVISOR_dm_op (xen/arch/{x86,arm}/dm.c): the device-model operations on a guest's IOREQ
// servers. The struct xen_dm_op is read from the caller's memory; the union goes back only for
// ops that produce output, and only on success.
import type { Domain } from "./domain.ts";
import { Rangeset } from "./rangeset.ts";
import { EEXIST, EFAULT, EINVAL, ENOENT, ENOSPC, EOPNOTSUPP, EPERM, ESRCH } from "./errno.ts";
import { xsmDenialErrno } from "./xsm-errno.ts";
import { copyFromGuest, copyToGuest } from "./guest-copy.ts";
import * as L from "../wasm/layout.ts";
import {
  IOREQS_PER_PAGE, MAX_NR_IO_RANGES, NR_ISA_IRQS, NR_LOCAL_IRQS, XEN_DMOP_NR_OPS, type IoreqCore, type IoreqVcpu, type Server,
  type SpiLine, type TargetState,
} from "./ioreq-state.ts";
import { wakeVcpu } from "./ioreq-access.ts";

/** Bytes of the union each dm_op copies in and out (op_size[] in dm.c), for the modelled ops. */
const OP_SIZE: Record<number, number> = {
  [L.XEN_DMOP_CREATE_IOREQ_SERVER]: L.DM_OP_CREATE_IOREQ_SERVER_SIZE,
  [L.XEN_DMOP_GET_IOREQ_SERVER_INFO]: L.DM_OP_GET_IOREQ_SERVER_INFO_SIZE,
  [L.XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER]: L.DM_OP_IOREQ_SERVER_RANGE_SIZE,
  [L.XEN_DMOP_UNMAP_IO_RANGE_FROM_IOREQ_SERVER]: L.DM_OP_IOREQ_SERVER_RANGE_SIZE,
  [L.XEN_DMOP_SET_IOREQ_SERVER_STATE]: L.DM_OP_SET_IOREQ_SERVER_STATE_SIZE,
  [L.XEN_DMOP_DESTROY_IOREQ_SERVER]: L.DM_OP_DESTROY_IOREQ_SERVER_SIZE,
  [L.XEN_DMOP_SET_IRQ_LEVEL]: L.DM_OP_SET_IRQ_LEVEL_SIZE,
  [L.XEN_DMOP_SET_ISA_IRQ_LEVEL]: L.DM_OP_SET_ISA_IRQ_LEVEL_SIZE,
  [L.XEN_DMOP_NR_VCPUS]: L.DM_OP_NR_VCPUS_SIZE,
};

const HVM_MAX_VCPUS = IOREQS_PER_PAGE; // one ioreq page holds every vCPU's slot

/** dm_op on guest `domid` by `c`, one buffer of `size` bytes at `gpa`. Returns 0 or -errno. */
export function dmOpFromGuest(core: IoreqCore, c: Domain, domid: number, gpa: number, size: number): number {
  const hv = core.hv;
  // rcu_lock_remote_domain_by_id(): no such domain, or the caller itself.
  const d = hv.live(domid);
  if (!d) return -ESRCH;
  if (d === c) return -EPERM;
  if (!hv.xsmCheck("dm_op", c, d)) {
    core.bump(L.CNT_IOREQ_DM_OP_DENIED);
    return xsmDenialErrno(hv.xsm);
  }
  const m = hv.machine;
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
  const t = core.targets.get(d.domid)!;
  let constOp = true;
  let rc: number;
  switch (op) {
    case L.XEN_DMOP_CREATE_IOREQ_SERVER:
      constOp = false;
      rc = opCreate(core, t, c, u);
      break;
    case L.XEN_DMOP_GET_IOREQ_SERVER_INFO:
      constOp = false;
      rc = opGetInfo(core, t, c, u);
      break;
    case L.XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER:
    case L.XEN_DMOP_UNMAP_IO_RANGE_FROM_IOREQ_SERVER:
      rc = opRange(core, t, c, u, op === L.XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER);
      break;
    case L.XEN_DMOP_SET_IOREQ_SERVER_STATE:
      rc = opSetState(core, t, c, u);
      break;
    case L.XEN_DMOP_DESTROY_IOREQ_SERVER:
      rc = opDestroy(core, t, c, u);
      break;
    case L.XEN_DMOP_SET_IRQ_LEVEL:
      rc = opSetIrqLevel(core, t, u);
      break;
    case L.XEN_DMOP_SET_ISA_IRQ_LEVEL:
      rc = opSetIsaIrqLevel(core, t, u);
      break;
    default: // XEN_DMOP_NR_VCPUS
      constOp = false;
      u.setUint32(L.DM_OP_NR_VCPUS_VCPUS, d.vcpus, true);
      rc = 0;
  }
  if (rc === 0 && !constOp && !copyToGuest(m, c.domid, gpa + L.DM_OP_U, u)) rc = -EFAULT;
  return rc;
}

function opCreate(core: IoreqCore, t: TargetState, c: Domain, u: DataView): number {
  for (let i = 0; i < 3; i++) if (u.getUint8(L.DM_OP_CREATE_IOREQ_SERVER_PAD + i) !== 0) return -EINVAL;
  const bufioreq = u.getUint8(L.DM_OP_CREATE_IOREQ_SERVER_HANDLE_BUFIOREQ);
  if (bufioreq > L.HVM_IOREQSRV_BUFIOREQ_ATOMIC) return -EINVAL;
  if (t.d.vcpus > HVM_MAX_VCPUS) return -EINVAL;
  const id = t.servers.findIndex((s) => s === undefined);
  if (id < 0) return -ENOSPC;
  // One Xen-consumed port per vCPU (plus the buffered one on vCPU0) that the emulator binds.
  const ev = core.evtchn;
  const ports: number[] = [];
  const undo = (rc: number) => {
    for (const p of ports) ev.freeXenChannel(t.d.domid, p);
    return rc;
  };
  const vcpus: IoreqVcpu[] = [];
  for (let v = 0; v < t.d.vcpus; v++) {
    const port = ev.allocXenUnbound(t.d.domid, v, c.domid, (vcpu) => wakeVcpu(core, t, id, vcpu));
    if (port < 0) return undo(port);
    ports.push(port);
    vcpus.push({ port, pending: false, prevState: 0, dir: "read", size: 0, data: 0n, done: undefined });
  }
  let bufPort = 0;
  if (bufioreq !== L.HVM_IOREQSRV_BUFIOREQ_OFF) {
    bufPort = ev.allocXenUnbound(t.d.domid, 0, c.domid, () => {});
    if (bufPort < 0) return undo(bufPort);
    ports.push(bufPort);
  }
  const m = core.hv.machine;
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
  core.bump(L.CNT_IOREQ_SERVERS_CREATED);
  return 0;
}

function opGetInfo(core: IoreqCore, t: TargetState, c: Domain, u: DataView): number {
  const flags = u.getUint16(L.DM_OP_GET_IOREQ_SERVER_INFO_FLAGS, true);
  if ((flags & ~L.XEN_DMOP_NO_GFNS) !== 0) return -EINVAL;
  const s = core.server(t, c, u.getUint16(L.DM_OP_GET_IOREQ_SERVER_INFO_ID, true));
  if (typeof s === "number") return s;
  // The legacy mode that places the pages in the guest's own p2m is not modelled (Arm has
  // none either): emulators map them with XENMEM_acquire_resource.
  if ((flags & L.XEN_DMOP_NO_GFNS) === 0) return -EOPNOTSUPP;
  if (s.bufioreq !== L.HVM_IOREQSRV_BUFIOREQ_OFF) u.setUint32(L.DM_OP_GET_IOREQ_SERVER_INFO_BUFIOREQ_PORT, s.bufPort, true);
  return 0;
}

function opRange(core: IoreqCore, t: TargetState, c: Domain, u: DataView, map: boolean): number {
  if (u.getUint16(L.DM_OP_IOREQ_SERVER_RANGE_PAD, true) !== 0) return -EINVAL;
  const start = u.getBigUint64(L.DM_OP_IOREQ_SERVER_RANGE_START, true);
  const end = u.getBigUint64(L.DM_OP_IOREQ_SERVER_RANGE_END, true);
  if (start > end) return -EINVAL;
  const s = core.server(t, c, u.getUint16(L.DM_OP_IOREQ_SERVER_RANGE_ID, true));
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

function opSetState(core: IoreqCore, t: TargetState, c: Domain, u: DataView): number {
  if (u.getUint8(L.DM_OP_SET_IOREQ_SERVER_STATE_PAD) !== 0) return -EINVAL;
  const s = core.server(t, c, u.getUint16(L.DM_OP_SET_IOREQ_SERVER_STATE_ID, true));
  if (typeof s === "number") return s;
  const enable = u.getUint8(L.DM_OP_SET_IOREQ_SERVER_STATE_ENABLED) !== 0;
  if (enable && !s.enabled) {
    // ioreq_update_evtchn(): publish each vCPU's port in its slot.
    for (let v = 0; v < s.vcpus.length; v++) core.writeSlot32(s, v, L.IOREQ_VP_EPORT, s.vcpus[v]!.port);
  }
  s.enabled = enable;
  return 0;
}

function opDestroy(core: IoreqCore, t: TargetState, c: Domain, u: DataView): number {
  if (u.getUint16(L.DM_OP_DESTROY_IOREQ_SERVER_PAD, true) !== 0) return -EINVAL;
  const s = core.server(t, c, u.getUint16(L.DM_OP_DESTROY_IOREQ_SERVER_ID, true));
  if (typeof s === "number") return s;
  core.destroyServer(t, s);
  return 0;
}

/** Arm's set_irq_level (xen/arch/arm/dm.c). riscv64 takes the same path: Xen 4.17 has no
 *  IOREQ on RISC-V, and vxsim assumes a future port drives a guest's (A)PLIC wired interrupts
 *  the way Arm drives vGIC SPIs, numbered as on Arm, so riscv64 runs can be priced. */
function opSetIrqLevel(core: IoreqCore, t: TargetState, u: DataView): number {
  if (core.hv.arch === "x86-64") return -EOPNOTSUPP; // x86 drives ISA/PCI INTx lines instead
  const irq = u.getUint32(L.DM_OP_SET_IRQ_LEVEL_IRQ, true);
  const level = u.getUint8(L.DM_OP_SET_IRQ_LEVEL_LEVEL);
  if (irq < NR_LOCAL_IRQS || irq >= NR_LOCAL_IRQS + core.nrSpis) return -EINVAL;
  if (level > 1) return -EINVAL;
  for (let i = 0; i < 3; i++) if (u.getUint8(L.DM_OP_SET_IRQ_LEVEL_PAD + i) !== 0) return -EINVAL;
  driveLine(core, t.spis, irq, level, L.CNT_IOREQ_IRQ_ASSERTIONS, L.CNT_IOREQ_IRQ_RAISED);
  return 0;
}

/** x86's set_isa_irq_level (xen/arch/x86/hvm/dm.c): hvm_isa_irq_assert / _deassert of a line
 *  0..15, which reaches the guest through its vPIC and vIOAPIC pin. Arm has no such op. */
function opSetIsaIrqLevel(core: IoreqCore, t: TargetState, u: DataView): number {
  if (core.hv.arch !== "x86-64") return -EOPNOTSUPP;
  const isaIrq = u.getUint8(L.DM_OP_SET_ISA_IRQ_LEVEL_ISA_IRQ);
  const level = u.getUint8(L.DM_OP_SET_ISA_IRQ_LEVEL_LEVEL);
  if (isaIrq >= NR_ISA_IRQS) return -EINVAL;
  if (level > 1) return -EINVAL;
  driveLine(core, t.isaIrqs, isaIrq, level, L.CNT_IOREQ_ISA_IRQ_ASSERTIONS, L.CNT_IOREQ_ISA_IRQ_RAISED);
  return 0;
}

/** A level-triggered line: every assertion is counted, a 0 -> 1 edge is an interrupt. */
function driveLine(core: IoreqCore, lines: Map<number, SpiLine>, irq: number, level: number, assertions: number, raised: number): void {
  let line = lines.get(irq);
  if (!line) lines.set(irq, (line = { level: 0, assertions: 0 }));
  if (level === 1) {
    line.assertions++;
    core.bump(assertions);
    if (line.level === 0) core.bump(raised);
  }
  line.level = level;
}
