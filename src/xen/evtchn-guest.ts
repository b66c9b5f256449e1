// The guest side of event channels: what a guest kernel (Linux drivers/xen/events) does. It
// builds the real argument structs in a scratch area of its own RAM, makes the hypercall, reads
// the results back, and runs the upcall handler's scan over its own mapping of shared_info.
import type { Hypervisor } from "./hypervisor.ts";
import { XenConfigError } from "./hypervisor.ts";
import type { EventChannels, EvtchnStatus } from "./evtchn.ts";
import { CPU_MASK_WORDS, evtchn2lScan } from "../wasm/evtchn.ts";
import { evtchn2lScanRef } from "../wasm/evtchn-scan-ref.ts";
import { errnoName } from "./errno.ts";
import { DOMID_SELF, PAGE_SIZE } from "../wasm/layout.ts";
import * as L from "../wasm/layout.ts";

/** An error return a caller chose to treat as a bug (e.g. a test helper's `must`). */
export class HypercallError extends Error {
  readonly rc: number;
  constructor(op: string, rc: number) {
    super(`${op} failed: ${errnoName(rc)}`);
    this.name = "HypercallError";
    this.rc = rc;
  }
}

export class GuestEvtchn {
  readonly hv: Hypervisor;
  readonly evtchn: EventChannels;
  readonly domid: number;
  /** Guest-physical address of the guest's argument scratch area (one page of its RAM). */
  readonly scratch: number;
  /** The guest kernel's private record of which vCPU each port is bound to (Linux's
   *  cpu_evtchn_mask): the handler on a vCPU dispatches only its own ports. */
  private readonly cpuMasks: Uint32Array[];

  constructor(evtchn: EventChannels, domid: number, scratchGfn: number) {
    this.evtchn = evtchn;
    this.hv = evtchn.hv;
    this.domid = domid;
    const d = this.hv.domain(domid);
    if (!d) throw new XenConfigError(`GuestEvtchn: no domain ${domid}`);
    if (!Number.isInteger(scratchGfn) || scratchGfn < 0 || scratchGfn >= d.ramPages) {
      throw new XenConfigError(`GuestEvtchn: scratch gfn ${scratchGfn} is not in domain ${domid}'s RAM (0..${d.ramPages - 1})`);
    }
    this.scratch = scratchGfn * PAGE_SIZE;
    this.cpuMasks = Array.from({ length: d.vcpus }, () => new Uint32Array(CPU_MASK_WORDS));
  }

  /** Records that `port` is handled on `vcpu` (done by every bind this helper makes; call it
   *  for a port the guest learned another way, e.g. one dom0 allocated in its table). */
  setPortVcpu(port: number, vcpu: number | undefined): void {
    if (!Number.isInteger(port) || port < 0 || port >= CPU_MASK_WORDS * 32) throw new RangeError(`port ${port} out of range`);
    const w = port >>> 5;
    const bit = 2 ** (port & 31);
    for (const m of this.cpuMasks) m[w] = (m[w]! & ~bit) >>> 0;
    if (vcpu !== undefined) {
      const m = this.cpuMasks[vcpu];
      if (!m) throw new RangeError(`domain ${this.domid} has no vCPU ${vcpu}`);
      m[w] = (m[w]! | bit) >>> 0;
    }
  }

  private bound(rc: number, port: number, vcpu: number): number {
    if (rc < 0) return rc;
    this.setPortVcpu(port, vcpu);
    return port;
  }

  private call(cmd: number, arg: DataView): number {
    this.hv.machine.write(this.domid, this.scratch, new Uint8Array(arg.buffer));
    return this.evtchn.eventChannelOp(this.domid, cmd, this.scratch);
  }

  private out32(off: number): number {
    return new DataView(this.hv.machine.read(this.domid, this.scratch + off, 4).buffer).getUint32(0, true);
  }

  /** EVTCHNOP_alloc_unbound: a port `remoteDom` may bind. Returns the port or -errno. */
  allocUnbound(remoteDom: number, dom = DOMID_SELF): number {
    const a = new DataView(new ArrayBuffer(L.EVTCHN_ALLOC_UNBOUND_SIZE));
    a.setUint16(L.EVTCHN_ALLOC_UNBOUND_DOM, dom, true);
    a.setUint16(L.EVTCHN_ALLOC_UNBOUND_REMOTE_DOM, remoteDom, true);
    const rc = this.call(L.EVTCHNOP_ALLOC_UNBOUND, a);
    if (rc < 0) return rc;
    const port = this.out32(L.EVTCHN_ALLOC_UNBOUND_PORT);
    return dom === DOMID_SELF || dom === this.domid ? this.bound(rc, port, 0) : port;
  }

  /** EVTCHNOP_bind_interdomain: returns the local port or -errno. */
  bindInterdomain(remoteDom: number, remotePort: number): number {
    const a = new DataView(new ArrayBuffer(L.EVTCHN_BIND_INTERDOMAIN_SIZE));
    a.setUint16(L.EVTCHN_BIND_INTERDOMAIN_REMOTE_DOM, remoteDom, true);
    a.setUint32(L.EVTCHN_BIND_INTERDOMAIN_REMOTE_PORT, remotePort, true);
    const rc = this.call(L.EVTCHNOP_BIND_INTERDOMAIN, a);
    return rc < 0 ? rc : this.bound(rc, this.out32(L.EVTCHN_BIND_INTERDOMAIN_LOCAL_PORT), 0);
  }

  bindVirq(virq: number, vcpu = 0): number {
    const a = new DataView(new ArrayBuffer(L.EVTCHN_BIND_VIRQ_SIZE));
    a.setUint32(L.EVTCHN_BIND_VIRQ_VIRQ, virq, true);
    a.setUint32(L.EVTCHN_BIND_VIRQ_VCPU, vcpu, true);
    const rc = this.call(L.EVTCHNOP_BIND_VIRQ, a);
    return rc < 0 ? rc : this.bound(rc, this.out32(L.EVTCHN_BIND_VIRQ_PORT), vcpu);
  }

  bindIpi(vcpu: number): number {
    const a = new DataView(new ArrayBuffer(L.EVTCHN_BIND_IPI_SIZE));
    a.setUint32(L.EVTCHN_BIND_IPI_VCPU, vcpu, true);
    const rc = this.call(L.EVTCHNOP_BIND_IPI, a);
    return rc < 0 ? rc : this.bound(rc, this.out32(L.EVTCHN_BIND_IPI_PORT), vcpu);
  }

  bindVcpu(port: number, vcpu: number): number {
    const a = new DataView(new ArrayBuffer(L.EVTCHN_BIND_VCPU_SIZE));
    a.setUint32(L.EVTCHN_BIND_VCPU_PORT, port, true);
    a.setUint32(L.EVTCHN_BIND_VCPU_VCPU, vcpu, true);
    const rc = this.call(L.EVTCHNOP_BIND_VCPU, a);
    return rc < 0 ? rc : (this.setPortVcpu(port, vcpu), rc);
  }

  private portOp(cmd: number, port: number): number {
    const a = new DataView(new ArrayBuffer(L.EVTCHN_SEND_SIZE));
    a.setUint32(L.EVTCHN_SEND_PORT, port, true); // send, close and unmask share the layout
    return this.call(cmd, a);
  }

  send(port: number): number {
    return this.portOp(L.EVTCHNOP_SEND, port);
  }
  close(port: number): number {
    const rc = this.portOp(L.EVTCHNOP_CLOSE, port);
    if (rc === 0) this.setPortVcpu(port, undefined);
    return rc;
  }
  unmask(port: number): number {
    return this.portOp(L.EVTCHNOP_UNMASK, port);
  }

  /** EVTCHNOP_status, decoded from the struct Xen wrote back. */
  status(port: number, dom = DOMID_SELF): EvtchnStatus | number {
    const a = new DataView(new ArrayBuffer(L.EVTCHN_STATUS_SIZE));
    a.setUint16(L.EVTCHN_STATUS_DOM, dom, true);
    a.setUint32(L.EVTCHN_STATUS_PORT, port, true);
    const rc = this.call(L.EVTCHNOP_STATUS, a);
    if (rc < 0) return rc;
    const o = new DataView(this.hv.machine.read(this.domid, this.scratch, L.EVTCHN_STATUS_SIZE).buffer);
    const s: EvtchnStatus = { status: o.getUint32(L.EVTCHN_STATUS_STATUS, true), vcpu: o.getUint32(L.EVTCHN_STATUS_VCPU, true) };
    if (s.status === L.EVTCHNSTAT_UNBOUND) s.dom = o.getUint16(L.EVTCHN_STATUS_UNBOUND_DOM, true);
    if (s.status === L.EVTCHNSTAT_INTERDOMAIN) {
      s.dom = o.getUint16(L.EVTCHN_STATUS_INTERDOMAIN_DOM, true);
      s.port = o.getUint32(L.EVTCHN_STATUS_INTERDOMAIN_PORT, true);
    }
    if (s.status === L.EVTCHNSTAT_VIRQ) s.virq = o.getUint32(L.EVTCHN_STATUS_VIRQ, true);
    return s;
  }

  /** Masks or unmasks a port by writing the guest's own mask bit (no hypercall; unmasking
   *  this way does not re-deliver a pending event: use unmask() for that, as Linux HVM does). */
  setMasked(port: number, masked: boolean): void {
    const g = this.evtchn.guestGpas(this.domid, 0);
    const gpa = g.mask + (port >>> 5) * 4;
    const m = this.hv.machine;
    const w = new DataView(m.read(this.domid, gpa, 4).buffer);
    const v = w.getUint32(0, true);
    const bit = 2 ** (port & 31);
    w.setUint32(0, masked ? (v | bit) >>> 0 : (v & ~bit) >>> 0, true);
    m.write(this.domid, gpa, new Uint8Array(w.buffer));
  }

  /** The upcall handler: scans this vCPU's selector and returns the ports bound to it that
   *  were pending and unmasked (their pending bits now clear). `reference` runs the plain-TS
   *  version instead of the Wasm kernel (its counts go to a private block). */
  handleUpcall(vcpu = 0, reference = false): number[] {
    const g = this.evtchn.guestGpas(this.domid, vcpu);
    const mask = this.cpuMasks[vcpu]!;
    const r = reference ? evtchn2lScanRef(this.hv.machine, this.domid, g, mask) : evtchn2lScan(this.hv.machine, this.domid, g, mask);
    if (typeof r === "number") throw new XenConfigError(`domain ${this.domid}: cannot reach its shared_info (status ${r})`);
    return r;
  }
}

/** Throws HypercallError on a negative return: for callers that treat an error as a bug. */
export function must(op: string, rc: number): number {
  if (rc < 0) throw new HypercallError(op, rc);
  return rc;
}
