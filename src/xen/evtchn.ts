// Event channels, 2-level ABI (xen/common/event_channel.c, event_2l.c). Each domain has a
// hypervisor-owned shared_info frame mapped into its p2m (P2M_XEN) so the guest reads and
// writes the bitmaps as memory; every read-modify-write Xen does on it goes through
// hv.atomics, because the guest can write the same words at the same time (XSA-295).
import type { Domain } from "./domain.ts";
import { XenConfigError, type Hypervisor, type Subsystem } from "./hypervisor.ts";
import { EEXIST, EFAULT, EINVAL, ENOENT, ENOSPC, ENOSYS, EPERM, ESRCH } from "./errno.ts";
import { xsmDenialErrno } from "./xsm-errno.ts";
import { copyFromGuest, copyToGuest } from "./guest-copy.ts";
import { loadFrame32, type Evtchn2lGpas } from "../wasm/evtchn.ts";
import * as L from "../wasm/layout.ts";
import { BITS_PER_EVTCHN_WORD, EVTCHNS_PER_BUCKET } from "./evtchn-state.ts";

// Channel states (struct evtchn.state).
const ECS_FREE = 0;
const ECS_RESERVED = 1;
const ECS_UNBOUND = 2;
const ECS_INTERDOMAIN = 3;
const ECS_VIRQ = 5;
const ECS_IPI = 6;

/** A Xen-side consumer of a channel (xen_event_channel_notification_t): called when the
 *  remote end sends, instead of marking the port pending for the guest. */
export type XenConsumer = (vcpu: number, port: number) => void;

interface Channel {
  state: number;
  notifyVcpu: number;
  /** Unbound: the domain allowed to bind. Interdomain: the peer. */
  remoteDomid: number;
  remotePort: number;
  virq: number;
  xen: XenConsumer | undefined;
}

interface DomainEvtchn {
  readonly d: Domain;
  readonly siMfn: number;
  readonly siGfn: number;
  readonly maxPort: number;
  /** Valid ports (port_is_valid): grown one bucket at a time. */
  readonly chans: Channel[];
  /** virq_to_evtchn per vCPU (0 = not bound; port 0 is never a VIRQ port). */
  readonly virqToPort: Int32Array[];
}

export interface EvtchnStatus {
  status: number; // EVTCHNSTAT_*
  vcpu: number;
  /** Unbound: the allowed remote domain; interdomain: the peer. */
  dom?: number;
  port?: number;
  virq?: number;
}

export interface EventChannelsOptions {
  /** Highest port a domain may use (Xen's max_evtchn_port); default 4095, the 2-level limit. */
  maxPort?: number | ((d: Domain) => number);
  /** Where shared_info goes in a guest's p2m; default the last gfn of its p2m (above RAM). */
  sharedInfoGfn?: (d: Domain, maxGfn: number) => number;
}

export interface Upcall {
  domid: number;
  vcpu: number;
}

function newChannel(state = ECS_FREE): Channel {
  return { state, notifyVcpu: 0, remoteDomid: 0, remotePort: 0, virq: 0, xen: undefined };
}

/** virq_is_global(): per-vCPU VIRQs are TIMER, DEBUG, XENOPROF and XENPMU; the rest,
 *  architecture VIRQs included, are global and bind on vCPU0. */
export function virqIsGlobal(virq: number): boolean {
  return virq !== L.VIRQ_TIMER && virq !== L.VIRQ_DEBUG && virq !== L.VIRQ_XENOPROF && virq !== L.VIRQ_XENPMU;
}

export class EventChannels implements Subsystem {
  readonly name = "evtchn";
  readonly hv: Hypervisor;
  private readonly doms = new Map<number, DomainEvtchn>();
  private readonly opts: EventChannelsOptions;
  private upcalls: Upcall[] = [];
  /** Called when an upcall is raised (after it is queued); a scheduler hooks in here. */
  onUpcall: ((domid: number, vcpu: number) => void) | undefined;

  constructor(hv: Hypervisor, opts: EventChannelsOptions = {}) {
    this.hv = hv;
    this.opts = opts;
    hv.register(this);
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
    const chans: Channel[] = [];
    for (let i = 0; i < EVTCHNS_PER_BUCKET; i++) chans.push(newChannel());
    chans[0]!.state = ECS_RESERVED;
    const virqToPort = Array.from({ length: d.vcpus }, () => new Int32Array(L.NR_VIRQS));
    this.doms.set(d.domid, { d, siMfn: mfn, siGfn: gfn, maxPort, chans, virqToPort });
  }

  /** evtchn_destroy(): every port of the dying domain is closed (peers go back to unbound),
   *  then its shared_info leaves the p2m and the frame is freed. */
  domainDestroyed(d: Domain): void {
    const ds = this.doms.get(d.domid);
    if (!ds || ds.d !== d) return;
    for (let p = 1; p < ds.chans.length; p++) {
      const c = ds.chans[p]!;
      if (c.state !== ECS_FREE && c.state !== ECS_RESERVED) this.closePort(ds, p, false);
    }
    this.upcalls = this.upcalls.filter((u) => u.domid !== d.domid);
    const m = this.hv.machine;
    m.p2mUnmap(d.domid, ds.siGfn);
    m.freeXenFrame(ds.siMfn);
    this.doms.delete(d.domid);
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
    const u = this.upcalls;
    this.upcalls = [];
    return u;
  }

  isPending(domid: number, port: number): boolean {
    return this.testBit(this.mustState(domid), L.SHARED_INFO_EVTCHN_PENDING, port);
  }

  isMasked(domid: number, port: number): boolean {
    return this.testBit(this.mustState(domid), L.SHARED_INFO_EVTCHN_MASK, port);
  }

  /** The Xen-side state of a port (as EVTCHNOP_status would report it to a privileged caller),
   *  or undefined for a port outside the valid range. */
  portStatus(domid: number, port: number): EvtchnStatus | undefined {
    const ds = this.mustState(domid);
    if (!this.portValid(ds, port)) return undefined;
    return this.describe(ds.chans[port]!);
  }

  isXenConsumed(domid: number, port: number): boolean {
    const ds = this.doms.get(domid);
    return !!ds && this.portValid(ds, port) && ds.chans[port]!.xen !== undefined;
  }

  // ---- the hypercall -------------------------------------------------------------------

  /** HYPERVISOR_event_channel_op(cmd, arg) made by domain `caller`, with the argument struct
   *  at guest-physical `argGpa` of the caller. Returns 0 or a port, or -errno. */
  eventChannelOp(caller: number, cmd: number, argGpa: number): number {
    this.hv.hypercall();
    this.bump(L.CNT_EVTCHN_OPS);
    const ds = this.callerState(caller);
    const rc = this.dispatch(ds, cmd, argGpa);
    if (rc < 0) this.bump(L.CNT_EVTCHN_OP_ERRORS);
    return rc;
  }

  private dispatch(ds: DomainEvtchn, cmd: number, gpa: number): number {
    const m = this.hv.machine;
    const caller = ds.d.domid;
    const rd = (size: number) => copyFromGuest(m, caller, gpa, size);
    switch (cmd) {
      case L.EVTCHNOP_ALLOC_UNBOUND: {
        const a = rd(L.EVTCHN_ALLOC_UNBOUND_SIZE);
        if (!a) return -EFAULT;
        const port = this.allocUnbound(ds, a.getUint16(L.EVTCHN_ALLOC_UNBOUND_DOM, true), a.getUint16(L.EVTCHN_ALLOC_UNBOUND_REMOTE_DOM, true));
        if (port < 0) return port;
        a.setUint32(L.EVTCHN_ALLOC_UNBOUND_PORT, port, true);
        return copyToGuest(m, caller, gpa, a) ? 0 : -EFAULT;
      }
      case L.EVTCHNOP_BIND_INTERDOMAIN: {
        const a = rd(L.EVTCHN_BIND_INTERDOMAIN_SIZE);
        if (!a) return -EFAULT;
        const port = this.bindInterdomain(ds, a.getUint16(L.EVTCHN_BIND_INTERDOMAIN_REMOTE_DOM, true), a.getUint32(L.EVTCHN_BIND_INTERDOMAIN_REMOTE_PORT, true));
        if (port < 0) return port;
        a.setUint32(L.EVTCHN_BIND_INTERDOMAIN_LOCAL_PORT, port, true);
        return copyToGuest(m, caller, gpa, a) ? 0 : -EFAULT;
      }
      case L.EVTCHNOP_BIND_VIRQ: {
        const a = rd(L.EVTCHN_BIND_VIRQ_SIZE);
        if (!a) return -EFAULT;
        const port = this.bindVirq(ds, a.getUint32(L.EVTCHN_BIND_VIRQ_VIRQ, true), a.getUint32(L.EVTCHN_BIND_VIRQ_VCPU, true));
        if (port < 0) return port;
        a.setUint32(L.EVTCHN_BIND_VIRQ_PORT, port, true);
        return copyToGuest(m, caller, gpa, a) ? 0 : -EFAULT;
      }
      case L.EVTCHNOP_BIND_IPI: {
        const a = rd(L.EVTCHN_BIND_IPI_SIZE);
        if (!a) return -EFAULT;
        const port = this.bindIpi(ds, a.getUint32(L.EVTCHN_BIND_IPI_VCPU, true));
        if (port < 0) return port;
        a.setUint32(L.EVTCHN_BIND_IPI_PORT, port, true);
        return copyToGuest(m, caller, gpa, a) ? 0 : -EFAULT;
      }
      case L.EVTCHNOP_BIND_VCPU: {
        const a = rd(L.EVTCHN_BIND_VCPU_SIZE);
        if (!a) return -EFAULT;
        return this.bindVcpu(ds, a.getUint32(L.EVTCHN_BIND_VCPU_PORT, true), a.getUint32(L.EVTCHN_BIND_VCPU_VCPU, true));
      }
      case L.EVTCHNOP_SEND:
      case L.EVTCHNOP_CLOSE:
      case L.EVTCHNOP_UNMASK: {
        const a = rd(L.EVTCHN_SEND_SIZE);
        if (!a) return -EFAULT;
        const port = a.getUint32(L.EVTCHN_SEND_PORT, true); // evtchn_close/unmask: the same u32
        if (cmd === L.EVTCHNOP_SEND) return this.send(ds, port);
        if (cmd === L.EVTCHNOP_CLOSE) return this.close(ds, port);
        return this.unmask(ds, port);
      }
      case L.EVTCHNOP_STATUS: {
        const a = rd(L.EVTCHN_STATUS_SIZE);
        if (!a) return -EFAULT;
        const s = this.status(ds, a.getUint16(L.EVTCHN_STATUS_DOM, true), a.getUint32(L.EVTCHN_STATUS_PORT, true));
        if (typeof s === "number") return s;
        a.setUint32(L.EVTCHN_STATUS_STATUS, s.status, true);
        a.setUint32(L.EVTCHN_STATUS_VCPU, s.vcpu, true);
        for (let o = L.EVTCHN_STATUS_UNBOUND; o < L.EVTCHN_STATUS_SIZE; o++) a.setUint8(o, 0); // the union
        if (s.status === L.EVTCHNSTAT_UNBOUND) a.setUint16(L.EVTCHN_STATUS_UNBOUND_DOM, s.dom!, true);
        if (s.status === L.EVTCHNSTAT_INTERDOMAIN) {
          a.setUint16(L.EVTCHN_STATUS_INTERDOMAIN_DOM, s.dom!, true);
          a.setUint32(L.EVTCHN_STATUS_INTERDOMAIN_PORT, s.port!, true);
        }
        if (s.status === L.EVTCHNSTAT_VIRQ) a.setUint32(L.EVTCHN_STATUS_VIRQ, s.virq!, true);
        return copyToGuest(m, caller, gpa, a) ? 0 : -EFAULT;
      }
      default:
        // bind_pirq (no physical IRQs here), reset and the FIFO ABI are not modelled.
        return -ENOSYS;
    }
  }

  // ---- operations (Xen's checks, in Xen's order) ----------------------------------------

  private allocUnbound(ds: DomainEvtchn, dom: number, remoteDom: number): number {
    const d = this.byAnyId(ds, dom);
    if (!d) return -ESRCH;
    const port = this.getFreePort(d);
    if (port < 0) return port;
    // xsm_evtchn_unbound(XSM_TARGET): only the domain itself or one privileged over it.
    if (!this.targetCheck(ds.d, d.d)) return -EPERM;
    const remote = remoteDom === L.DOMID_SELF ? ds.d.domid : remoteDom;
    const rdom = this.hv.live(remote);
    if (rdom && rdom !== d.d && !this.hv.xsmCheck("evtchn_interdomain", d.d, rdom)) return xsmDenialErrno(this.hv.xsm);
    const c = d.chans[port]!;
    c.state = ECS_UNBOUND;
    c.remoteDomid = remote;
    this.bump(L.CNT_EVTCHN_BOUND);
    return port;
  }

  private bindInterdomain(ld: DomainEvtchn, remoteDom: number, rport: number): number {
    const rd = this.byAnyId(ld, remoteDom);
    if (!rd) return -ESRCH;
    const lport = this.getFreePort(ld);
    if (lport < 0) return lport;
    if (!this.portValid(rd, rport)) return -EINVAL;
    const rc = rd.chans[rport]!;
    if (rc.state !== ECS_UNBOUND || rc.remoteDomid !== ld.d.domid) return -EINVAL;
    if (!this.hv.xsmCheck("evtchn_interdomain", ld.d, rd.d)) return xsmDenialErrno(this.hv.xsm);
    const lc = ld.chans[lport]!;
    lc.state = ECS_INTERDOMAIN;
    lc.remoteDomid = rd.d.domid;
    lc.remotePort = rport;
    rc.state = ECS_INTERDOMAIN;
    rc.remoteDomid = ld.d.domid;
    rc.remotePort = lport;
    this.bump(L.CNT_EVTCHN_BOUND);
    // A send on the remote end while it was unbound was dropped: always flag the new port once.
    this.setPending(ld, lc.notifyVcpu, lport);
    return lport;
  }

  private bindVirq(ds: DomainEvtchn, virq: number, vcpu: number): number {
    if (virq >= L.NR_VIRQS) return -EINVAL;
    if (virqIsGlobal(virq) && vcpu !== 0) return -EINVAL;
    if (vcpu >= ds.d.vcpus) return -ENOENT;
    if (ds.virqToPort[vcpu]![virq] !== 0) return -EEXIST;
    const port = this.getFreePort(ds);
    if (port < 0) return port;
    const c = ds.chans[port]!;
    c.state = ECS_VIRQ;
    c.notifyVcpu = vcpu;
    c.virq = virq;
    ds.virqToPort[vcpu]![virq] = port;
    this.bump(L.CNT_EVTCHN_BOUND);
    return port;
  }

  private bindIpi(ds: DomainEvtchn, vcpu: number): number {
    if (vcpu >= ds.d.vcpus) return -ENOENT;
    const port = this.getFreePort(ds);
    if (port < 0) return port;
    const c = ds.chans[port]!;
    c.state = ECS_IPI;
    c.notifyVcpu = vcpu;
    this.bump(L.CNT_EVTCHN_BOUND);
    return port;
  }

  private bindVcpu(ds: DomainEvtchn, port: number, vcpu: number): number {
    if (vcpu >= ds.d.vcpus) return -ENOENT;
    if (!this.portValid(ds, port)) return -EINVAL;
    const c = ds.chans[port]!;
    if (c.xen) return -EINVAL;
    if (c.state === ECS_VIRQ) {
      if (!virqIsGlobal(c.virq)) return -EINVAL;
    } else if (c.state !== ECS_UNBOUND && c.state !== ECS_INTERDOMAIN) {
      return -EINVAL;
    }
    c.notifyVcpu = vcpu;
    return 0;
  }

  private send(ds: DomainEvtchn, port: number): number {
    if (!this.portValid(ds, port)) return -EINVAL;
    const c = ds.chans[port]!;
    if (c.xen) return -EINVAL; // a guest cannot send on a Xen-attached channel
    const peer = c.state === ECS_INTERDOMAIN ? this.doms.get(c.remoteDomid) : undefined;
    if (!this.hv.xsmCheck("evtchn_send", ds.d, peer?.d)) return xsmDenialErrno(this.hv.xsm);
    switch (c.state) {
      case ECS_INTERDOMAIN: {
        const rc = peer!.chans[c.remotePort]!;
        this.bump(L.CNT_EVTCHN_SENDS);
        if (rc.xen) {
          this.bump(L.CNT_EVTCHN_XEN_NOTIFY);
          rc.xen(rc.notifyVcpu, c.remotePort);
        } else {
          this.setPending(peer!, rc.notifyVcpu, c.remotePort);
        }
        return 0;
      }
      case ECS_IPI:
        this.bump(L.CNT_EVTCHN_SENDS);
        this.setPending(ds, c.notifyVcpu, port);
        return 0;
      case ECS_UNBOUND:
        this.bump(L.CNT_EVTCHN_SEND_DROPPED);
        return 0;
      default:
        return -EINVAL;
    }
  }

  private close(ds: DomainEvtchn, port: number): number {
    return this.closePort(ds, port, true);
  }

  /** evtchn_close(): `guest` is false when Xen itself closes (teardown, Xen-consumed ports). */
  private closePort(ds: DomainEvtchn, port: number, guest: boolean): number {
    if (!this.portValid(ds, port)) return -EINVAL;
    const c = ds.chans[port]!;
    if (c.state === ECS_FREE || c.state === ECS_RESERVED) return -EINVAL;
    if (c.xen && guest) return -EINVAL;
    if (c.state === ECS_VIRQ) {
      for (const table of ds.virqToPort) if (table[c.virq] === port) table[c.virq] = 0;
    } else if (c.state === ECS_INTERDOMAIN) {
      const peer = this.doms.get(c.remoteDomid);
      const pc = peer?.chans[c.remotePort];
      if (pc && pc.state === ECS_INTERDOMAIN && pc.remoteDomid === ds.d.domid && pc.remotePort === port) {
        pc.state = ECS_UNBOUND;
        pc.remoteDomid = ds.d.domid;
        pc.remotePort = 0;
      }
    }
    this.freePort(ds, port);
    return 0;
  }

  private unmask(ds: DomainEvtchn, port: number): number {
    if (!this.portValid(ds, port)) return -EINVAL;
    const vcpu = ds.chans[port]!.notifyVcpu;
    const a = this.hv.atomics;
    const [moff, bit] = this.bitPos(L.SHARED_INFO_EVTCHN_MASK, port);
    // Strict order, as evtchn_2l_unmask: clear mask; if it was masked and is pending, set the
    // selector bit and, if that was newly set, raise the upcall.
    if (!a.testAndClear(ds.d.domid, ds.siMfn, moff, bit)) return 0;
    if (!this.testBit(ds, L.SHARED_INFO_EVTCHN_PENDING, port)) return 0;
    if (vcpu >= L.XEN_LEGACY_MAX_VCPUS) return 0;
    if (this.testAndSetSel(ds, vcpu, port)) return 0;
    this.bump(L.CNT_EVTCHN_UNMASK_RAISED);
    this.markEventsPending(ds, vcpu);
    return 0;
  }

  private status(ds: DomainEvtchn, dom: number, port: number): EvtchnStatus | number {
    const d = this.byAnyId(ds, dom);
    if (!d) return -ESRCH;
    if (!this.portValid(d, port)) return -EINVAL;
    // xsm_evtchn_status(XSM_TARGET)
    if (!this.targetCheck(ds.d, d.d)) return -EPERM;
    return this.describe(d.chans[port]!);
  }

  private describe(c: Channel): EvtchnStatus {
    switch (c.state) {
      case ECS_UNBOUND:
        return { status: L.EVTCHNSTAT_UNBOUND, vcpu: c.notifyVcpu, dom: c.remoteDomid };
      case ECS_INTERDOMAIN:
        return { status: L.EVTCHNSTAT_INTERDOMAIN, vcpu: c.notifyVcpu, dom: c.remoteDomid, port: c.remotePort };
      case ECS_VIRQ:
        return { status: L.EVTCHNSTAT_VIRQ, vcpu: c.notifyVcpu, virq: c.virq };
      case ECS_IPI:
        return { status: L.EVTCHNSTAT_IPI, vcpu: c.notifyVcpu };
      default:
        return { status: L.EVTCHNSTAT_CLOSED, vcpu: c.notifyVcpu };
    }
  }

  // ---- Xen-side entry points (other subsystems) ----------------------------------------

  /** send_guest_{vcpu,global}_virq(): marks the VIRQ's port pending if the domain bound it.
   *  Global VIRQs are looked up on vCPU0 and delivered to the port's notify vCPU. Returns
   *  whether a port was bound. */
  raiseVirq(domid: number, virq: number, vcpu = 0): boolean {
    const ds = this.doms.get(domid);
    if (!ds || !ds.d.alive || virq < 0 || virq >= L.NR_VIRQS) return false;
    const v = virqIsGlobal(virq) ? 0 : vcpu;
    const port = ds.virqToPort[v]?.[virq] ?? 0;
    if (port === 0) return false;
    this.bump(L.CNT_EVTCHN_VIRQS);
    this.setPending(ds, ds.chans[port]!.notifyVcpu, port);
    return true;
  }

  /** alloc_unbound_xen_event_channel(): an unbound port of `domid`, consumed by Xen, that
   *  `remoteDomid` may bind. Returns the port or -errno. */
  allocXenUnbound(domid: number, vcpu: number, remoteDomid: number, consumer: XenConsumer): number {
    const ds = this.doms.get(domid);
    if (!ds) return -ESRCH;
    const port = this.getFreePort(ds);
    if (port < 0) return port;
    const c = ds.chans[port]!;
    c.state = ECS_UNBOUND;
    c.notifyVcpu = vcpu;
    c.remoteDomid = remoteDomid;
    c.xen = consumer;
    this.bump(L.CNT_EVTCHN_BOUND);
    return port;
  }

  /** notify_via_xen_event_channel(): Xen signals the remote end of its own channel. Nothing
   *  happens while the channel is unbound (the binder's first pending flag covers it). */
  notifyXen(domid: number, port: number): void {
    const ds = this.doms.get(domid);
    if (!ds || !this.portValid(ds, port)) return;
    const c = ds.chans[port]!;
    if (c.state !== ECS_INTERDOMAIN) return;
    const peer = this.doms.get(c.remoteDomid);
    const rc = peer?.chans[c.remotePort];
    if (!peer || !rc) return;
    this.setPending(peer, rc.notifyVcpu, c.remotePort);
  }

  /** free_xen_event_channel(). */
  freeXenChannel(domid: number, port: number): void {
    const ds = this.doms.get(domid);
    if (ds && this.portValid(ds, port) && ds.chans[port]!.xen) this.closePort(ds, port, false);
  }

  // ---- the 2-level bitmaps -------------------------------------------------------------

  /** evtchn_2l_set_pending() then vcpu_mark_events_pending(), in Xen's strict order. */
  private setPending(ds: DomainEvtchn, vcpu: number, port: number): void {
    this.bump(L.CNT_EVTCHN_SET_PENDING);
    const [poff, bit] = this.bitPos(L.SHARED_INFO_EVTCHN_PENDING, port);
    if (this.hv.atomics.testAndSet(ds.d.domid, ds.siMfn, poff, bit)) {
      this.bump(L.CNT_EVTCHN_PENDING_MERGED);
      return;
    }
    // vCPUs past the legacy array have no vcpu_info in shared_info (Xen points them at a dummy
    // until the guest registers one): the port stays pending, nobody is told.
    if (vcpu >= L.XEN_LEGACY_MAX_VCPUS) return;
    if (this.testBit(ds, L.SHARED_INFO_EVTCHN_MASK, port)) {
      this.bump(L.CNT_EVTCHN_MASKED);
      return;
    }
    if (this.testAndSetSel(ds, vcpu, port)) {
      this.bump(L.CNT_EVTCHN_SEL_MERGED);
      return;
    }
    this.markEventsPending(ds, vcpu);
  }

  private markEventsPending(ds: DomainEvtchn, vcpu: number): void {
    const off = L.SHARED_INFO_VCPU_INFO + vcpu * L.VCPU_INFO_SIZE + L.VCPU_INFO_EVTCHN_UPCALL_PENDING;
    if (this.hv.atomics.testAndSet(ds.d.domid, ds.siMfn, off, 0)) {
      this.bump(L.CNT_EVTCHN_UPCALL_MERGED);
      return;
    }
    this.bump(L.CNT_EVTCHN_UPCALLS);
    this.upcalls.push({ domid: ds.d.domid, vcpu });
    this.onUpcall?.(ds.d.domid, vcpu);
  }

  private testAndSetSel(ds: DomainEvtchn, vcpu: number, port: number): boolean {
    const word = Math.floor(port / BITS_PER_EVTCHN_WORD);
    const off = L.SHARED_INFO_VCPU_INFO + vcpu * L.VCPU_INFO_SIZE + L.VCPU_INFO_EVTCHN_PENDING_SEL + (word >>> 5) * 4;
    return this.hv.atomics.testAndSet(ds.d.domid, ds.siMfn, off, word & 31);
  }

  /** Bit `port` of a little-endian xen_ulong_t array is bit port%32 of u32 word port/32. */
  private bitPos(base: number, port: number): [number, number] {
    return [base + (port >>> 5) * 4, port & 31];
  }

  /** guest_test_bit(): a plain load. */
  private testBit(ds: DomainEvtchn, base: number, port: number): boolean {
    const [off, bit] = this.bitPos(base, port);
    return ((loadFrame32(this.hv.machine, ds.siMfn, off) >>> bit) & 1) === 1;
  }

  // ---- ports ---------------------------------------------------------------------------

  private portValid(ds: DomainEvtchn, port: number): boolean {
    return Number.isInteger(port) && port >= 0 && port < ds.chans.length;
  }

  /** get_free_port(): the lowest free port, growing the valid range a bucket at a time. */
  private getFreePort(ds: DomainEvtchn): number {
    if (!ds.d.alive) return -EINVAL;
    let port = 0;
    for (; port < ds.chans.length; port++) {
      if (port > ds.maxPort) return -ENOSPC;
      if (ds.chans[port]!.state === ECS_FREE) return port;
    }
    if (port >= L.EVTCHN_2L_NR_CHANNELS || port > ds.maxPort) return -ENOSPC;
    for (let i = 0; i < EVTCHNS_PER_BUCKET; i++) ds.chans.push(newChannel());
    return port;
  }

  /** evtchn_free(): the pending bit is cleared so a re-bound port starts quiet. */
  private freePort(ds: DomainEvtchn, port: number): void {
    const [poff, bit] = this.bitPos(L.SHARED_INFO_EVTCHN_PENDING, port);
    this.hv.atomics.testAndClear(ds.d.domid, ds.siMfn, poff, bit);
    ds.chans[port] = newChannel();
    this.bump(L.CNT_EVTCHN_CLOSED);
  }

  // ---- helpers -------------------------------------------------------------------------

  /** rcu_lock_domain_by_any_id(): DOMID_SELF is the caller; dying domains are not found. */
  private byAnyId(caller: DomainEvtchn, domid: number): DomainEvtchn | undefined {
    if (domid === L.DOMID_SELF) return caller;
    const d = this.hv.live(domid);
    return d ? this.doms.get(domid) : undefined;
  }

  /** The dummy XSM_TARGET rule: the domain itself, its device model, or the control domain. */
  private targetCheck(subject: Domain, object: Domain): boolean {
    if (subject === object || subject.isPrivilegedOver(object.domid)) return true;
    this.bump(L.CNT_XSM_DENIED);
    return false;
  }

  private callerState(domid: number): DomainEvtchn {
    const d = this.hv.live(domid);
    const ds = d && this.doms.get(domid);
    if (!ds) throw new XenConfigError(`event_channel_op: caller ${domid} is not a live domain`);
    return ds;
  }

  private mustState(domid: number): DomainEvtchn {
    const ds = this.doms.get(domid);
    if (!ds) throw new XenConfigError(`no event-channel state for domain ${domid}`);
    return ds;
  }

  private bump(id: number, n = 1): void {
    this.hv.machine.bump(id, n);
  }
}
