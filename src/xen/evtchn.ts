// Event channels, 2-level ABI (xen/common/event_channel.c, event_2l.c), as a hypervisor
// subsystem. Each domain has a hypervisor-owned shared_info frame mapped into its p2m
// (P2M_XEN) so the guest reads and writes the bitmaps as memory. The pieces:
//   evtchn-state.ts  per-domain port table and channel states
//   evtchn-ports.ts  the port state machine (Xen's checks, in Xen's order)
//   evtchn-2l.ts     set-pending / unmask / upcall on the shared_info bitmaps (via hv.atomics)
//   evtchn-args.ts   the hypercall's argument structs in guest memory
// This file: lifecycle, the hypercall entry points, and queries.
import type { Domain } from "./domain.ts";
import { XenConfigError, type HypercallHandler, type Hypervisor, type Subsystem } from "./hypervisor.ts";
import type { Evtchn2lGpas } from "../wasm/evtchn.ts";
import * as L from "../wasm/layout.ts";
import { Evtchn2l } from "./evtchn-2l.ts";
import { EvtchnPorts } from "./evtchn-ports.ts";
import { evtchnOpFromGuest } from "./evtchn-args.ts";
import {
  ECS_FREE, ECS_RESERVED, describe, newBucket, portValid, type DomainEvtchn, type EvtchnStatus, type Upcall, type XenConsumer,
} from "./evtchn-state.ts";

export { virqIsGlobal, type EvtchnStatus, type Upcall, type XenConsumer } from "./evtchn-state.ts";

export interface EventChannelsOptions {
  /** Highest port a domain may use (Xen's max_evtchn_port); default 4095, the 2-level limit. */
  maxPort?: number | ((d: Domain) => number);
  /** Where shared_info goes in a guest's p2m; default the last gfn of its p2m (above RAM). */
  sharedInfoGfn?: (d: Domain, maxGfn: number) => number;
}

export class EventChannels implements Subsystem {
  readonly name = "evtchn";
  readonly hv: Hypervisor;
  private readonly opts: EventChannelsOptions;
  private readonly bits: Evtchn2l;
  private readonly ports: EvtchnPorts;

  constructor(hv: Hypervisor, opts: EventChannelsOptions = {}) {
    this.hv = hv;
    this.opts = opts;
    this.bits = new Evtchn2l(hv);
    this.ports = new EvtchnPorts(hv, this.bits);
    hv.register(this);
  }

  /** HYPERVISOR_event_channel_op (hv.hypercall). */
  hypercalls(): Record<number, HypercallHandler> {
    return { [L.HYPERVISOR_EVENT_CHANNEL_OP]: (c, cmd, gpa) => this.eventChannelOp(c, cmd, gpa) };
  }

  /** Called when an upcall is raised (after it is queued); a scheduler hooks in here. */
  get onUpcall(): ((domid: number, vcpu: number) => void) | undefined {
    return this.bits.onUpcall;
  }
  set onUpcall(f: ((domid: number, vcpu: number) => void) | undefined) {
    this.bits.onUpcall = f;
  }

  // ---- lifecycle -----------------------------------------------------------------------

  domainCreated(d: Domain): void {
    const m = this.hv.machine;
    const maxGfn = m.domainInfo(d.domid).maxGfn;
    const gfn = this.opts.sharedInfoGfn ? this.opts.sharedInfoGfn(d, maxGfn) : maxGfn - 1;
    const maxPort = typeof this.opts.maxPort === "function" ? this.opts.maxPort(d) : (this.opts.maxPort ?? L.EVTCHN_2L_NR_CHANNELS - 1);
    if (!Number.isInteger(maxPort) || maxPort < 1 || maxPort >= L.EVTCHN_2L_NR_CHANNELS) {
      throw new XenConfigError(`domain ${d.name}: max event-channel port must be in 1..${L.EVTCHN_2L_NR_CHANNELS - 1}, got ${maxPort}`);
    }
    const mfn = m.allocXenFrame();
    const st = m.p2mMap(d.domid, gfn, mfn, L.P2M_XEN);
    if (st !== L.MST_OK) {
      m.freeXenFrame(mfn);
      throw new XenConfigError(`domain ${d.name}: cannot map shared_info at gfn ${gfn} (status ${st})`);
    }
    const chans = newBucket();
    chans[0]!.state = ECS_RESERVED;
    const virqToPort = Array.from({ length: d.vcpus }, () => new Int32Array(L.NR_VIRQS));
    this.ports.doms.set(d.domid, { d, siMfn: mfn, siGfn: gfn, maxPort, chans, virqToPort });
  }

  /** evtchn_destroy(): every port of the dying domain is closed (peers go back to unbound),
   *  then its shared_info leaves the p2m and the frame is freed. */
  domainDestroyed(d: Domain): void {
    const ds = this.ports.doms.get(d.domid);
    if (!ds || ds.d !== d) return;
    for (let p = 1; p < ds.chans.length; p++) {
      const c = ds.chans[p]!;
      if (c.state !== ECS_FREE && c.state !== ECS_RESERVED) this.ports.close(ds, p, false);
    }
    this.bits.forget(d.domid);
    const m = this.hv.machine;
    // The guest may have moved or removed the page (remove_from_physmap): unmap only our frame.
    const ent = m.p2mLookup(d.domid, ds.siGfn);
    if (ent > 0 && ent >>> L.P2M_MFN_SHIFT === ds.siMfn) m.p2mUnmap(d.domid, ds.siGfn);
    m.freeXenFrame(ds.siMfn);
    this.ports.doms.delete(d.domid);
  }

  // ---- queries -------------------------------------------------------------------------

  /** The gfn at which the domain sees its shared_info, and the backing Xen frame. */
  sharedInfo(domid: number): { gfn: number; mfn: number } {
    const ds = this.mustState(domid);
    return { gfn: ds.siGfn, mfn: ds.siMfn };
  }

  /** Guest-physical addresses of a vCPU's 2-level bitmaps (for the guest handler). */
  guestGpas(domid: number, vcpu: number): Evtchn2lGpas {
    const ds = this.mustState(domid);
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= Math.min(ds.d.vcpus, L.XEN_LEGACY_MAX_VCPUS)) {
      throw new XenConfigError(`domain ${domid}: vCPU ${vcpu} has no vcpu_info in shared_info`);
    }
    const base = ds.siGfn * L.PAGE_SIZE;
    return {
      vcpuInfo: base + L.SHARED_INFO_VCPU_INFO + vcpu * L.VCPU_INFO_SIZE,
      pending: base + L.SHARED_INFO_EVTCHN_PENDING,
      mask: base + L.SHARED_INFO_EVTCHN_MASK,
    };
  }

  /** Drains the queue of upcalls raised since the last call, oldest first. */
  takeUpcalls(): Upcall[] {
    return this.bits.takeUpcalls();
  }

  isPending(domid: number, port: number): boolean {
    return this.bits.isPending(this.mustState(domid), port);
  }

  isMasked(domid: number, port: number): boolean {
    return this.bits.isMasked(this.mustState(domid), port);
  }

  /** The Xen-side state of a port (as EVTCHNOP_status would report it to a privileged caller),
   *  or undefined for a port outside the valid range. */
  portStatus(domid: number, port: number): EvtchnStatus | undefined {
    const ds = this.mustState(domid);
    if (!portValid(ds, port)) return undefined;
    return describe(ds.chans[port]!);
  }

  isXenConsumed(domid: number, port: number): boolean {
    const ds = this.ports.doms.get(domid);
    return !!ds && portValid(ds, port) && ds.chans[port]!.xen !== undefined;
  }

  // ---- the hypercall -------------------------------------------------------------------

  /** HYPERVISOR_event_channel_op(cmd, arg) made by domain `caller`, with the argument struct
   *  at guest-physical `argGpa` of the caller. Returns 0 or a port, or -errno. */
  eventChannelOp(caller: number, cmd: number, argGpa: number): number {
    return this.call(caller, (ds) => evtchnOpFromGuest(this.hv.machine, this.ports, ds, cmd, argGpa));
  }

  // The same operations with their arguments already decoded, for callers whose argument
  // memory is not modelled (xenstored and the toolstack through /dev/xen/evtchn and libxc, a
  // guest kernel's xenbus driver). Each is one hypercall, counted and checked like the above.

  /** EVTCHNOP_alloc_unbound: a port of `dom` (DOMID_SELF: the caller) that `remoteDom` may bind. */
  allocUnbound(caller: number, dom: number, remoteDom: number): number {
    return this.call(caller, (ds) => this.ports.allocUnbound(ds, dom, remoteDom));
  }

  /** EVTCHNOP_bind_interdomain: returns the caller's new local port. */
  bindInterdomain(caller: number, remoteDom: number, remotePort: number): number {
    return this.call(caller, (ds) => this.ports.bindInterdomain(ds, remoteDom, remotePort));
  }

  send(caller: number, port: number): number {
    return this.call(caller, (ds) => this.ports.send(ds, port));
  }

  close(caller: number, port: number): number {
    return this.call(caller, (ds) => this.ports.close(ds, port));
  }

  /** What the domain's own kernel does when it takes an event (its upcall handler, or
   *  /dev/xen/evtchn for a user-space consumer): test-and-clear the pending bit through its
   *  mapping of shared_info. Not a hypercall. Returns whether the port was pending. */
  ackPending(domid: number, port: number): boolean {
    const ds = this.mustState(domid);
    return portValid(ds, port) && this.bits.clearPending(ds, port);
  }

  private call(caller: number, op: (ds: DomainEvtchn) => number): number {
    this.hv.countHypercall();
    this.bump(L.CNT_EVTCHN_OPS);
    const rc = op(this.callerState(caller));
    if (rc < 0) this.bump(L.CNT_EVTCHN_OP_ERRORS);
    return rc;
  }

  // ---- Xen-side entry points (other subsystems) ----------------------------------------

  /** send_guest_{vcpu,global}_virq(): marks the VIRQ's port pending if the domain bound it.
   *  Returns whether a port was bound. */
  raiseVirq(domid: number, virq: number, vcpu = 0): boolean {
    return this.ports.raiseVirq(domid, virq, vcpu);
  }

  /** alloc_unbound_xen_event_channel(): an unbound port of `domid`, consumed by Xen, that
   *  `remoteDomid` may bind. Returns the port or -errno. */
  allocXenUnbound(domid: number, vcpu: number, remoteDomid: number, consumer: XenConsumer): number {
    return this.ports.allocXenUnbound(domid, vcpu, remoteDomid, consumer);
  }

  /** notify_via_xen_event_channel(). */
  notifyXen(domid: number, port: number): void {
    this.ports.notifyXen(domid, port);
  }

  /** free_xen_event_channel(). */
  freeXenChannel(domid: number, port: number): void {
    this.ports.freeXenChannel(domid, port);
  }

  // ---- helpers -------------------------------------------------------------------------

  private callerState(domid: number): DomainEvtchn {
    const d = this.hv.live(domid);
    const ds = d && this.ports.doms.get(domid);
    if (!ds) throw new XenConfigError(`event_channel_op: caller ${domid} is not a live domain`);
    return ds;
  }

  private mustState(domid: number): DomainEvtchn {
    const ds = this.ports.doms.get(domid);
    if (!ds) throw new XenConfigError(`no event-channel state for domain ${domid}`);
    return ds;
  }

  private bump(id: number): void {
    this.hv.machine.bump(id);
  }
}
