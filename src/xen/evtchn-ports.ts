// The event-channel port state machine (xen/common/event_channel.c): allocate, bind, send,
// close, status, VIRQs and the Xen-consumed channels other subsystems use. Arguments arrive
// decoded (evtchn-args.ts reads them from guest memory); every check runs in Xen's order so
// the first failing one decides the errno.
import type { Hypervisor } from "./hypervisor.ts";
import { EEXIST, EINVAL, ENOENT, ENOSPC, EPERM, ESRCH } from "./errno.ts";
import { xsmDenialErrno } from "./xsm-errno.ts";
import * as L from "../wasm/layout.ts";
import type { Evtchn2l } from "./evtchn-2l.ts";
import {
  ECS_FREE, ECS_INTERDOMAIN, ECS_IPI, ECS_RESERVED, ECS_UNBOUND, ECS_VIRQ, describe, newBucket, newChannel,
  portValid, virqIsGlobal, type DomainEvtchn, type EvtchnStatus, type XenConsumer,
} from "./evtchn-state.ts";

export class EvtchnPorts {
  private readonly hv: Hypervisor;
  private readonly bits: Evtchn2l;
  /** Every domain's state, by domid (set up and torn down by EventChannels). */
  readonly doms = new Map<number, DomainEvtchn>();

  constructor(hv: Hypervisor, bits: Evtchn2l) {
    this.hv = hv;
    this.bits = bits;
  }

  // ---- guest operations -----------------------------------------------------------------

  allocUnbound(ds: DomainEvtchn, dom: number, remoteDom: number): number {
    const d = this.byAnyId(ds, dom);
    if (!d) return -ESRCH;
    const port = this.getFreePort(d);
    if (port < 0) return port;
    // xsm_evtchn_unbound(XSM_TARGET): only the domain itself or one privileged over it.
    if (!this.hv.targetCheck(ds.d, d.d)) return -EPERM;
    const remote = remoteDom === L.DOMID_SELF ? ds.d.domid : remoteDom;
    const rdom = this.hv.live(remote);
    // SILO sees the caller too: the control domain may set up a channel between two guests.
    if (rdom && rdom !== d.d && !this.hv.xsmCheck("evtchn_interdomain", d.d, rdom, ds.d)) return xsmDenialErrno(this.hv.xsm);
    const c = d.chans[port]!;
    c.state = ECS_UNBOUND;
    c.remoteDomid = remote;
    this.bump(L.CNT_EVTCHN_BOUND);
    return port;
  }

  bindInterdomain(ld: DomainEvtchn, remoteDom: number, rport: number): number {
    const rd = this.byAnyId(ld, remoteDom);
    if (!rd) return -ESRCH;
    const lport = this.getFreePort(ld);
    if (lport < 0) return lport;
    if (!portValid(rd, rport)) return -EINVAL;
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
    this.bits.setPending(ld, lc.notifyVcpu, lport);
    return lport;
  }

  bindVirq(ds: DomainEvtchn, virq: number, vcpu: number): number {
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

  bindIpi(ds: DomainEvtchn, vcpu: number): number {
    if (vcpu >= ds.d.vcpus) return -ENOENT;
    const port = this.getFreePort(ds);
    if (port < 0) return port;
    const c = ds.chans[port]!;
    c.state = ECS_IPI;
    c.notifyVcpu = vcpu;
    this.bump(L.CNT_EVTCHN_BOUND);
    return port;
  }

  bindVcpu(ds: DomainEvtchn, port: number, vcpu: number): number {
    if (vcpu >= ds.d.vcpus) return -ENOENT;
    if (!portValid(ds, port)) return -EINVAL;
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

  send(ds: DomainEvtchn, port: number): number {
    if (!portValid(ds, port)) return -EINVAL;
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
          this.bits.setPending(peer!, rc.notifyVcpu, c.remotePort);
        }
        return 0;
      }
      case ECS_IPI:
        this.bump(L.CNT_EVTCHN_SENDS);
        this.bits.setPending(ds, c.notifyVcpu, port);
        return 0;
      case ECS_UNBOUND:
        this.bump(L.CNT_EVTCHN_SEND_DROPPED);
        return 0;
      default:
        return -EINVAL;
    }
  }

  /** evtchn_close(): `guest` is false when Xen itself closes (teardown, Xen-consumed ports). */
  close(ds: DomainEvtchn, port: number, guest = true): number {
    if (!portValid(ds, port)) return -EINVAL;
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

  unmask(ds: DomainEvtchn, port: number): number {
    if (!portValid(ds, port)) return -EINVAL;
    this.bits.unmask(ds, ds.chans[port]!.notifyVcpu, port);
    return 0;
  }

  status(ds: DomainEvtchn, dom: number, port: number): EvtchnStatus | number {
    const d = this.byAnyId(ds, dom);
    if (!d) return -ESRCH;
    if (!portValid(d, port)) return -EINVAL;
    // xsm_evtchn_status(XSM_TARGET)
    if (!this.hv.targetCheck(ds.d, d.d)) return -EPERM;
    return describe(d.chans[port]!);
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
    this.bits.setPending(ds, ds.chans[port]!.notifyVcpu, port);
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
    if (!ds || !portValid(ds, port)) return;
    const c = ds.chans[port]!;
    if (c.state !== ECS_INTERDOMAIN) return;
    const peer = this.doms.get(c.remoteDomid);
    const rc = peer?.chans[c.remotePort];
    if (!peer || !rc) return;
    this.bits.setPending(peer, rc.notifyVcpu, c.remotePort);
  }

  /** free_xen_event_channel(). */
  freeXenChannel(domid: number, port: number): void {
    const ds = this.doms.get(domid);
    if (ds && portValid(ds, port) && ds.chans[port]!.xen) this.close(ds, port, false);
  }

  // ---- ports ---------------------------------------------------------------------------

  /** get_free_port(): the lowest free port, growing the valid range a bucket at a time. */
  private getFreePort(ds: DomainEvtchn): number {
    if (!ds.d.alive) return -EINVAL;
    let port = 0;
    for (; port < ds.chans.length; port++) {
      if (port > ds.maxPort) return -ENOSPC;
      if (ds.chans[port]!.state === ECS_FREE) return port;
    }
    if (port >= L.EVTCHN_2L_NR_CHANNELS || port > ds.maxPort) return -ENOSPC;
    ds.chans.push(...newBucket());
    return port;
  }

  /** evtchn_free(): the pending bit is cleared so a re-bound port starts quiet. */
  private freePort(ds: DomainEvtchn, port: number): void {
    this.bits.clearPending(ds, port);
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

  private bump(id: number): void {
    this.hv.machine.bump(id);
  }
}
