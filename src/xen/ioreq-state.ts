// IOREQ server state Xen keeps per target guest (struct ioreq_server and its vCPU slots), Xen's
// internal limits, and what every IOREQ module shares: the IoreqCore (targets, completions,
// server lookup and teardown). The guest-visible ABI (ioreq_t, dm_op structs) is in layout.ts.
import type { Domain } from "./domain.ts";
import type { Hypervisor } from "./hypervisor.ts";
import type { EventChannels } from "./evtchn.ts";
import type { IoDir, MmioDone } from "./mmio.ts";
import type { Rangeset } from "./rangeset.ts";
import { ENOENT, EPERM } from "./errno.ts";
import * as L from "../wasm/layout.ts";

/** Slots in one shared ioreq page (one per vCPU). */
export const IOREQS_PER_PAGE = L.PAGE_SIZE / L.IOREQ_SIZE;
/** ARRAY_SIZE(op_size) in xen/arch/x86/hvm/dm.c: op numbers at or above it are -EOPNOTSUPP. */
export const XEN_DMOP_NR_OPS = L.XEN_DMOP_NR_VCPUS + 1;
/** MAX_NR_IOREQ_SERVERS (xen/include/xen/ioreq.h): servers per target domain. */
export const MAX_NR_IOREQ_SERVERS = 8;
/** MAX_NR_IO_RANGES: ranges per type per server. */
export const MAX_NR_IO_RANGES = 256;
/** Arm: interrupts below 32 are SGIs and PPIs; set_irq_level drives SPIs only. */
export const NR_LOCAL_IRQS = 32;
/** x86: the ISA IRQ lines set_isa_irq_level drives (NR_ISA_IRQS, 0..15). */
export const NR_ISA_IRQS = 16;

/** The 4-bit state field of the byte at IOREQ_STATE_BYTE (the other bits: data_is_ptr, dir, df). */
const STATE_FIELD = ((1 << L.IOREQ_STATE_BITS) - 1) << L.IOREQ_STATE_SHIFT;
export const ioreqState = (b: number): number => (b & STATE_FIELD) >>> L.IOREQ_STATE_SHIFT;
export const withIoreqState = (b: number, state: number): number => (b & ~STATE_FIELD & 0xff) | ((state << L.IOREQ_STATE_SHIFT) & STATE_FIELD);
/** The dir bit of that byte: IOREQ_READ or IOREQ_WRITE. */
export const ioreqDir = (b: number): number => (b >>> L.IOREQ_DIR_SHIFT) & ((1 << L.IOREQ_DIR_BITS) - 1);

/** All ones in `size` bytes (what an unanswered or unclaimed read returns). */
export const ones = (size: number): bigint => (1n << BigInt(size * 8)) - 1n;

export interface IoreqVcpu {
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

export interface Server {
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

export interface SpiLine {
  level: number;
  assertions: number;
}

/** An x86 ISA IRQ line is the same two facts (hvm_irq's isa_irq bit and its assertions). */
export type IsaIrqLine = SpiLine;

export interface TargetState {
  readonly d: Domain;
  readonly servers: (Server | undefined)[];
  readonly blocked: Uint8Array;
  /** Arm SPIs (and the riscv64 model's wired interrupts) driven by set_irq_level. */
  readonly spis: Map<number, SpiLine>;
  /** x86 ISA IRQ lines driven by set_isa_irq_level. */
  readonly isaIrqs: Map<number, IsaIrqLine>;
}

export class IoreqCore {
  readonly hv: Hypervisor;
  readonly evtchn: EventChannels;
  /** SPIs the guest's vGIC has (Arm nr_spis). */
  readonly nrSpis: number;
  readonly targets = new Map<number, TargetState>();
  /** Last completed value per "domid:vcpu" (for callers that poll rather than pass `done`). */
  readonly completions = new Map<string, bigint>();

  constructor(hv: Hypervisor, evtchn: EventChannels, nrSpis: number) {
    this.hv = hv;
    this.evtchn = evtchn;
    this.nrSpis = nrSpis;
  }

  /** get_ioreq_server() plus the emulator check every server op makes. */
  server(t: TargetState, c: Domain, id: number): Server | number {
    const s = id < MAX_NR_IOREQ_SERVERS ? t.servers[id] : undefined;
    if (!s) return -ENOENT;
    if (s.emulator !== c) return -EPERM;
    return s;
  }

  /** ioreq_server_deinit(): the channels are freed, the pages leave every p2m that mapped
   *  them and go back to Xen. A vCPU still waiting resumes with the access unanswered (its
   *  destination register keeps what it held: here, the data the access carried). */
  destroyServer(t: TargetState, s: Server): void {
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

  /** The access of vCPU `vcpu` is over: it runs again, and `done` learns the value. */
  finish(t: TargetState, vcpu: number, sv: IoreqVcpu, value: bigint): void {
    sv.pending = false;
    t.blocked[vcpu] = 0;
    this.completions.set(`${t.d.domid}:${vcpu}`, value);
    const done = sv.done;
    sv.done = undefined;
    done?.(value);
  }

  writeSlot32(s: Server, vcpu: number, off: number, v: number): void {
    const b = new DataView(new ArrayBuffer(4));
    b.setUint32(0, v, true);
    this.hv.machine.writeMfn(s.ioreqMfn, vcpu * L.IOREQ_SIZE + off, new Uint8Array(b.buffer));
  }

  bump(id: number, n = 1): void {
    this.hv.machine.bump(id, n);
  }
}
