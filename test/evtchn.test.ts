import { describe, expect, it } from "vitest";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { Hypervisor, XenConfigError } from "../src/xen/hypervisor.ts";
import { EventChannels, type EventChannelsOptions } from "../src/xen/evtchn.ts";
import { GuestEvtchn, must } from "../src/xen/evtchn-guest.ts";
import { SiloPolicy, type XsmOp, type XsmPolicy } from "../src/xen/xsm.ts";
import type { Domain } from "../src/xen/domain.ts";
import { X86GuestAtomics } from "../src/xen/atomics.ts";
import * as E from "../src/xen/errno.ts";

/** A Flask-like policy that denies the listed operations (denials are -EACCES). */
class DenyPolicy implements XsmPolicy {
  readonly name = "flask-test";
  readonly denyErrno = E.EACCES;
  private readonly deny: XsmOp[];
  constructor(deny: XsmOp[]) {
    this.deny = deny;
  }
  check(op: XsmOp): boolean {
    return !this.deny.includes(op);
  }
}

function setup(o: { xsm?: XsmPolicy; ev?: EventChannelsOptions; build?: "release" | "debug" } = {}) {
  const machine = new Machine({ build: o.build ?? "release" });
  const hv = new Hypervisor({ machine, xsm: o.xsm });
  const ev = new EventChannels(hv, o.ev);
  hv.createDomain({ name: "dom0", ramPages: 64, control: true });
  hv.createDomain({ domid: 1, name: "a", ramPages: 64, vcpus: 2 });
  hv.createDomain({ domid: 2, name: "b", ramPages: 64, vcpus: 2 });
  const g = (domid: number) => new GuestEvtchn(ev, domid, 1);
  return { hv, ev, m: machine, g0: g(0), ga: g(1), gb: g(2) };
}

/** a allocates an unbound port for b, b binds it: returns [aPort, bPort]. */
function connect(ga: GuestEvtchn, gb: GuestEvtchn): [number, number] {
  const pa = must("alloc", ga.allocUnbound(gb.domid));
  const pb = must("bind", gb.bindInterdomain(ga.domid, pa));
  return [pa, pb];
}

describe.each(["release", "debug"] as const)("event channels, 2-level (%s)", (build) => {
  it("maps shared_info above RAM as a Xen frame the guest can read and write", () => {
    const { ev, m } = setup({ build });
    const si = ev.sharedInfo(1);
    expect(si.gfn).toBe(m.domainInfo(1).maxGfn - 1);
    expect(si.gfn).toBeGreaterThanOrEqual(64);
    expect(m.p2mLookup(1, si.gfn) & L.P2M_TYPE_MASK).toBe(L.P2M_XEN);
    expect(m.frameKind(si.mfn)).toBe(L.FRAME_XEN);
    m.write(1, si.gfn * 4096 + L.SHARED_INFO_WC_VERSION, Uint8Array.of(7));
    expect(m.readMfn(si.mfn, L.SHARED_INFO_WC_VERSION, 1)[0]).toBe(7);
  });

  it("alloc_unbound + bind_interdomain: the bound port is marked pending once and raises an upcall", () => {
    const { ev, m, ga, gb } = setup({ build });
    const pa = ga.allocUnbound(2);
    expect(pa).toBe(1); // port 0 is reserved
    expect(ga.status(pa)).toEqual({ status: L.EVTCHNSTAT_UNBOUND, vcpu: 0, dom: 2 });
    const pb = gb.bindInterdomain(1, pa);
    expect(pb).toBe(1);
    expect(ga.status(pa)).toEqual({ status: L.EVTCHNSTAT_INTERDOMAIN, vcpu: 0, dom: 2, port: pb });
    expect(gb.status(pb)).toEqual({ status: L.EVTCHNSTAT_INTERDOMAIN, vcpu: 0, dom: 1, port: pa });
    expect(ev.isPending(2, pb)).toBe(true);
    expect(ev.isPending(1, pa)).toBe(false);
    expect(ev.takeUpcalls()).toEqual([{ domid: 2, vcpu: 0 }]);
    expect(gb.handleUpcall()).toEqual([pb]);
    expect(ev.isPending(2, pb)).toBe(false);
    expect(m.counter(L.CNT_EVTCHN_BOUND)).toBe(2);
    expect(m.counter(L.CNT_EVTCHN_UPCALLS)).toBe(1);
  });

  it("alloc_unbound with remote DOMID_SELF allows the caller itself (loopback)", () => {
    const { ga } = setup({ build });
    const p = ga.allocUnbound(L.DOMID_SELF);
    expect(ga.status(p)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND, dom: 1 });
    const q = ga.bindInterdomain(L.DOMID_SELF, p);
    expect(ga.send(q)).toBe(0);
    expect(ga.handleUpcall().sort()).toEqual([p, q]); // q from the bind, p from the send
  });

  it("alloc_unbound errors: -ESRCH, -EPERM for another domain unless privileged, -ENOSPC, -EFAULT", () => {
    const { hv, ev, m, g0, ga } = setup({ build });
    expect(ga.allocUnbound(2, 77)).toBe(-E.ESRCH);
    expect(ga.allocUnbound(0, 2)).toBe(-E.EPERM); // a domU may only allocate in its own table
    expect(m.counter(L.CNT_XSM_DENIED)).toBe(1);
    const p = g0.allocUnbound(0, 2); // dom0 allocates in b's table for a
    expect(p).toBe(1);
    expect(ev.portStatus(2, p)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND, dom: 0 });
    hv.createDomain({ domid: 3, name: "dm", ramPages: 16, target: 2 });
    expect(new GuestEvtchn(ev, 3, 0).allocUnbound(3, 2)).toBe(2); // the device model of b may too
    expect(ev.eventChannelOp(1, L.EVTCHNOP_ALLOC_UNBOUND, 64 * 4096 + 8)).toBe(-E.EFAULT); // not mapped
    expect(m.counter(L.CNT_EVTCHN_OP_ERRORS)).toBe(3);
  });

  it("runs out of ports at max_evtchn_port (-ENOSPC) and grows valid ports one bucket at a time", () => {
    const { ev, ga, gb } = setup({ build, ev: { maxPort: (d: Domain) => (d.domid === 1 ? 100 : 4095) } });
    expect(ga.status(64)).toBe(-E.EINVAL); // not yet a valid port
    expect(ga.unmask(64)).toBe(-E.EINVAL);
    for (let i = 1; i <= 100; i++) expect(ga.allocUnbound(2)).toBe(i);
    expect(ga.status(64)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND });
    expect(ga.status(127)).toEqual({ status: L.EVTCHNSTAT_CLOSED, vcpu: 0 }); // valid, free
    expect(ga.unmask(127)).toBe(0);
    expect(ga.allocUnbound(2)).toBe(-E.ENOSPC);
    expect(ga.bindVirq(L.VIRQ_ARGO)).toBe(-E.ENOSPC);
    expect(ga.bindIpi(0)).toBe(-E.ENOSPC);
    expect(gb.bindInterdomain(1, 1)).toBeGreaterThan(0);
    expect(ga.bindInterdomain(2, 1)).toBe(-E.ENOSPC); // local port first, then the remote checks
    expect(ga.close(5)).toBe(0);
    expect(ga.allocUnbound(2)).toBe(5); // lowest free port is reused
    expect(() => setup({ ev: { maxPort: 4096 } })).toThrow(XenConfigError);
    void ev;
  });

  it("bind_interdomain errors in Xen's order: -ESRCH, -EINVAL (port, state, remote), XSM", () => {
    const { hv, ev, ga, gb, g0 } = setup({ build });
    const pa = ga.allocUnbound(2);
    expect(gb.bindInterdomain(9, pa)).toBe(-E.ESRCH);
    expect(gb.bindInterdomain(1, 4000)).toBe(-E.EINVAL); // beyond the valid ports
    expect(gb.bindInterdomain(1, 0)).toBe(-E.EINVAL); // reserved
    expect(gb.bindInterdomain(1, 5)).toBe(-E.EINVAL); // free
    expect(g0.bindInterdomain(1, pa)).toBe(-E.EINVAL); // unbound for b, not dom0
    expect(gb.bindInterdomain(1, pa)).toBeGreaterThan(0);
    expect(gb.bindInterdomain(1, pa)).toBe(-E.EINVAL); // already bound
    const p2 = g0.allocUnbound(2);
    hv.xsm = new DenyPolicy(["evtchn_interdomain"]);
    expect(gb.bindInterdomain(0, p2)).toBe(-E.EACCES);
    expect(g0.allocUnbound(2)).toBe(-E.EACCES); // the port is taken first, then XSM refuses
    expect(ev.portStatus(0, p2)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND });
  });

  it("SILO refuses domU-to-domU channels and sends with -EPERM but allows a channel with dom0", () => {
    const { hv, m, ga, gb, g0 } = setup({ build });
    const [pa] = connect(ga, gb); // set up under the dummy policy
    hv.xsm = new SiloPolicy();
    expect(ga.allocUnbound(2)).toBe(-E.EPERM);
    expect(ga.send(pa)).toBe(-E.EPERM);
    expect(m.counter(L.CNT_XSM_DENIED)).toBe(2);
    const p0 = g0.allocUnbound(1);
    const p1 = ga.bindInterdomain(0, p0);
    expect(p1).toBeGreaterThan(0);
    expect(ga.send(p1)).toBe(0);
    void gb;
  });

  it("send hook: a Flask denial of evtchn_send is -EACCES and nothing is marked", () => {
    const { hv, ev, ga, gb } = setup({ build });
    const [pa, pb] = connect(ga, gb);
    gb.handleUpcall();
    hv.xsm = new DenyPolicy(["evtchn_send"]);
    expect(ga.send(pa)).toBe(-E.EACCES);
    expect(ev.isPending(2, pb)).toBe(false);
  });

  it("send marks the peer pending; repeated sends merge; a masked port stays silent until unmask", () => {
    const { ev, m, ga, gb } = setup({ build });
    const [pa, pb] = connect(ga, gb);
    expect(gb.handleUpcall()).toEqual([pb]);
    ev.takeUpcalls();
    expect(ga.send(pa)).toBe(0);
    expect(ga.send(pa)).toBe(0); // pending already set: merged
    expect(m.counter(L.CNT_EVTCHN_PENDING_MERGED)).toBe(1);
    expect(ev.takeUpcalls()).toEqual([{ domid: 2, vcpu: 0 }]);
    expect(gb.handleUpcall()).toEqual([pb]);

    gb.setMasked(pb, true);
    expect(ev.isMasked(2, pb)).toBe(true);
    expect(ga.send(pa)).toBe(0);
    expect(ev.isPending(2, pb)).toBe(true);
    expect(m.counter(L.CNT_EVTCHN_MASKED)).toBe(1);
    expect(ev.takeUpcalls()).toEqual([]);
    expect(gb.handleUpcall()).toEqual([]); // masked and no selector bit
    expect(gb.unmask(pb)).toBe(0); // re-evaluates: pending and was masked -> upcall
    expect(m.counter(L.CNT_EVTCHN_UNMASK_RAISED)).toBe(1);
    expect(ev.takeUpcalls()).toEqual([{ domid: 2, vcpu: 0 }]);
    expect(gb.handleUpcall()).toEqual([pb]);
    expect(gb.unmask(pb)).toBe(0); // not masked: nothing to do
    expect(m.counter(L.CNT_EVTCHN_UNMASK_RAISED)).toBe(1);
    expect(m.counter(L.CNT_EVTCHN_SENDS)).toBe(3);
  });

  it("a second port in a flagged word merges on the selector; a flagged upcall merges too", () => {
    const { ev, m, ga, gb } = setup({ build });
    const [pa1, pb1] = connect(ga, gb);
    const [pa2, pb2] = connect(ga, gb);
    gb.handleUpcall();
    ev.takeUpcalls();
    ga.send(pa1);
    ga.send(pa2); // same pending word 0: selector bit already set
    expect(m.counter(L.CNT_EVTCHN_SEL_MERGED)).toBe(2); // one from the second bind as well
    // A port in another word while the upcall is still pending.
    for (let i = 0; i < 64; i++) gb.allocUnbound(1);
    const pa3 = ga.allocUnbound(2);
    const pb3 = gb.bindInterdomain(1, pa3);
    expect(pb3).toBe(67);
    expect(m.counter(L.CNT_EVTCHN_UPCALL_MERGED)).toBe(1);
    expect(ev.takeUpcalls()).toEqual([{ domid: 2, vcpu: 0 }]);
    expect(gb.handleUpcall()).toEqual([pb1, pb2, pb3]);
  });

  it("send on an unbound port is dropped silently; send errors are -EINVAL", () => {
    const { m, ga } = setup({ build });
    const p = ga.allocUnbound(2);
    expect(ga.send(p)).toBe(0);
    expect(m.counter(L.CNT_EVTCHN_SEND_DROPPED)).toBe(1);
    expect(ga.send(4095)).toBe(-E.EINVAL); // invalid
    expect(ga.send(9)).toBe(-E.EINVAL); // free
    expect(ga.send(0)).toBe(-E.EINVAL); // reserved
    const v = ga.bindVirq(L.VIRQ_ARGO);
    expect(ga.send(v)).toBe(-E.EINVAL); // a VIRQ port cannot be sent on
  });

  it("close: the peer goes back to unbound (for the closer), pending is cleared, and can be rebound", () => {
    const { ev, ga, gb } = setup({ build });
    const [pa, pb] = connect(ga, gb);
    expect(ev.isPending(2, pb)).toBe(true);
    expect(gb.close(pb)).toBe(0);
    expect(ev.isPending(2, pb)).toBe(false);
    expect(gb.status(pb)).toEqual({ status: L.EVTCHNSTAT_CLOSED, vcpu: 0 });
    expect(ga.status(pa)).toEqual({ status: L.EVTCHNSTAT_UNBOUND, vcpu: 0, dom: 2 });
    expect(gb.bindInterdomain(1, pa)).toBe(pb);
    expect(gb.close(pb)).toBe(0);
    expect(gb.close(pb)).toBe(-E.EINVAL); // free now
    expect(gb.close(0)).toBe(-E.EINVAL);
    expect(gb.close(5000)).toBe(-E.EINVAL);
    expect(ga.close(pa)).toBe(0); // closing an unbound port
  });

  it("bind_virq: global VIRQs on vCPU0, per-vCPU VIRQs anywhere, and every error", () => {
    const { ev, ga } = setup({ build });
    const p = ga.bindVirq(L.VIRQ_ARGO, 0);
    expect(ga.status(p)).toEqual({ status: L.EVTCHNSTAT_VIRQ, vcpu: 0, virq: L.VIRQ_ARGO });
    expect(ga.bindVirq(L.VIRQ_ARGO, 0)).toBe(-E.EEXIST);
    expect(ga.bindVirq(L.VIRQ_ARGO, 1)).toBe(-E.EINVAL); // global: vCPU0 only
    expect(ga.bindVirq(L.VIRQ_ARCH_0 + 2, 1)).toBe(-E.EINVAL);
    expect(ga.bindVirq(L.NR_VIRQS, 0)).toBe(-E.EINVAL);
    expect(ga.bindVirq(L.VIRQ_TIMER, 2)).toBe(-E.ENOENT); // vCPU 2 does not exist
    const t1 = ga.bindVirq(L.VIRQ_TIMER, 1);
    expect(ga.status(t1)).toMatchObject({ status: L.EVTCHNSTAT_VIRQ, vcpu: 1, virq: L.VIRQ_TIMER });
    expect(ga.bindVirq(L.VIRQ_TIMER, 0)).toBeGreaterThan(0); // per vCPU: a second binding
    expect(ev.raiseVirq(1, L.VIRQ_ARGO)).toBe(true);
    expect(ev.raiseVirq(1, L.VIRQ_TIMER, 1)).toBe(true);
    expect(ev.raiseVirq(2, L.VIRQ_ARGO)).toBe(false); // b did not bind it
    expect(ev.takeUpcalls()).toEqual([{ domid: 1, vcpu: 0 }, { domid: 1, vcpu: 1 }]);
    expect(ga.handleUpcall(0)).toEqual([p]);
    expect(ga.handleUpcall(1)).toEqual([t1]);
    expect(ga.close(p)).toBe(0);
    expect(ev.raiseVirq(1, L.VIRQ_ARGO)).toBe(false);
    expect(ga.bindVirq(L.VIRQ_ARGO, 0)).toBe(p); // free again
  });

  it("bind_vcpu moves a global VIRQ or an interdomain port to another vCPU; errors", () => {
    const { ev, ga, gb } = setup({ build });
    const v = ga.bindVirq(L.VIRQ_ARGO);
    expect(ga.bindVcpu(v, 1)).toBe(0);
    expect(ev.raiseVirq(1, L.VIRQ_ARGO)).toBe(true);
    expect(ev.takeUpcalls()).toEqual([{ domid: 1, vcpu: 1 }]);
    const t = ga.bindVirq(L.VIRQ_TIMER, 0);
    expect(ga.bindVcpu(t, 1)).toBe(-E.EINVAL); // per-vCPU VIRQ
    expect(ga.bindVcpu(v, 2)).toBe(-E.ENOENT);
    expect(ga.bindVcpu(4000, 0)).toBe(-E.EINVAL);
    expect(ga.bindVcpu(20, 0)).toBe(-E.EINVAL); // free
    const ipi = ga.bindIpi(0);
    expect(ga.bindVcpu(ipi, 1)).toBe(-E.EINVAL);
    const [pa, pb] = connect(ga, gb);
    gb.handleUpcall();
    expect(gb.bindVcpu(pb, 1)).toBe(0);
    ev.takeUpcalls();
    ga.send(pa);
    expect(ev.takeUpcalls()).toEqual([{ domid: 2, vcpu: 1 }]);
    expect(gb.handleUpcall(1)).toEqual([pb]);
  });

  it("bind_ipi: send marks the port pending on the bound vCPU; -ENOENT for a missing vCPU", () => {
    const { ev, ga } = setup({ build });
    const p = ga.bindIpi(1);
    expect(ga.status(p)).toEqual({ status: L.EVTCHNSTAT_IPI, vcpu: 1 });
    expect(ga.send(p)).toBe(0);
    expect(ev.takeUpcalls()).toEqual([{ domid: 1, vcpu: 1 }]);
    expect(ga.handleUpcall(1)).toEqual([p]);
    expect(ga.bindIpi(2)).toBe(-E.ENOENT);
  });

  it("status: -ESRCH, -EINVAL, -EPERM for another domain unless privileged", () => {
    const { hv, ev, ga, g0 } = setup({ build });
    const p = ga.allocUnbound(2);
    expect(ga.status(p, 9)).toBe(-E.ESRCH);
    expect(ga.status(4095)).toBe(-E.EINVAL);
    expect(ga.status(p, 2)).toBe(-E.EPERM);
    expect(g0.status(p, 1)).toEqual({ status: L.EVTCHNSTAT_UNBOUND, vcpu: 0, dom: 2 });
    expect(ga.status(0)).toEqual({ status: L.EVTCHNSTAT_CLOSED, vcpu: 0 }); // reserved reads as closed
    hv.createDomain({ domid: 5, name: "dm", ramPages: 8, target: 1 });
    expect(new GuestEvtchn(ev, 5, 0).status(p, 1)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND });
  });

  it("unknown and unmodelled commands are -ENOSYS; a struct the caller cannot write back is -EFAULT", () => {
    const { ev, m } = setup({ build });
    for (const cmd of [L.EVTCHNOP_BIND_PIRQ, L.EVTCHNOP_RESET, L.EVTCHNOP_INIT_CONTROL, 99]) {
      expect(ev.eventChannelOp(1, cmd, 0)).toBe(-E.ENOSYS);
    }
    // alloc_unbound whose argument sits in a read-only page: the port is allocated, the
    // write-back fails (Xen: "cleaning up here would be a mess").
    const mfn = m.populate(2, 3);
    expect(m.p2mMap(1, 100, mfn, L.P2M_GRANT | L.P2MF_RO)).toBe(L.MST_OK);
    m.write(2, 3 * 4096, Uint8Array.of(0xf0, 0x7f, 2, 0)); // dom = SELF, remote = 2
    expect(ev.eventChannelOp(1, L.EVTCHNOP_ALLOC_UNBOUND, 100 * 4096)).toBe(-E.EFAULT);
    expect(ev.portStatus(1, 1)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND, dom: 2 });
  });

  it("every command reads its struct from the caller: an unmapped argument is -EFAULT", () => {
    const { ev } = setup({ build });
    const cmds = [L.EVTCHNOP_ALLOC_UNBOUND, L.EVTCHNOP_BIND_INTERDOMAIN, L.EVTCHNOP_BIND_VIRQ, L.EVTCHNOP_BIND_IPI,
      L.EVTCHNOP_BIND_VCPU, L.EVTCHNOP_SEND, L.EVTCHNOP_CLOSE, L.EVTCHNOP_UNMASK, L.EVTCHNOP_STATUS];
    for (const cmd of cmds) expect(ev.eventChannelOp(1, cmd, 100 * 4096), `cmd ${cmd}`).toBe(-E.EFAULT);
    expect(ev.eventChannelOp(1, L.EVTCHNOP_SEND, 2 ** 53)).toBe(-E.EFAULT);
  });

  it("counts every hypercall and refuses callers that are not live domains", () => {
    const { hv, ev, m, ga } = setup({ build });
    const before = m.counter(L.CNT_HYPERCALLS);
    ga.allocUnbound(2);
    ga.status(1);
    expect(m.counter(L.CNT_HYPERCALLS) - before).toBe(2);
    expect(m.counter(L.CNT_EVTCHN_OPS)).toBe(2);
    expect(() => ev.eventChannelOp(42, L.EVTCHNOP_SEND, 0)).toThrow(XenConfigError);
    hv.destroyDomain(2);
    expect(() => ev.eventChannelOp(2, L.EVTCHNOP_SEND, 0)).toThrow(XenConfigError);
  });

  it("vCPUs beyond the legacy vcpu_info array get the pending bit only", () => {
    const { hv, ev } = setup({ build });
    hv.createDomain({ domid: 7, name: "big", ramPages: 16, vcpus: 33 });
    const g = new GuestEvtchn(ev, 7, 0);
    const p = g.bindIpi(32);
    expect(g.send(p)).toBe(0);
    expect(ev.isPending(7, p)).toBe(true);
    expect(ev.takeUpcalls()).toEqual([]);
    expect(() => ev.guestGpas(7, 32)).toThrow(XenConfigError);
  });

  it("every Xen-side bit operation on shared_info goes through hv.atomics", () => {
    const machine = new Machine({ build });
    const inner = new X86GuestAtomics(machine);
    const seen: string[] = [];
    inner.interferer = (mfn, off) => seen.push(`${mfn}:${off}`);
    const hv = new Hypervisor({ machine, atomics: inner });
    const ev = new EventChannels(hv);
    hv.createDomain({ domid: 1, name: "a", ramPages: 8 });
    hv.createDomain({ domid: 2, name: "b", ramPages: 8 });
    const ga = new GuestEvtchn(ev, 1, 0);
    const gb = new GuestEvtchn(ev, 2, 0);
    const atomicsBefore = machine.counter(L.CNT_ATOMIC_OPS);
    const [, pb] = connect(ga, gb);
    const mfn = ev.sharedInfo(2).mfn;
    // bind: test_and_set pending, test_and_set selector, test_and_set upcall_pending.
    expect(seen).toEqual([`${mfn}:${L.SHARED_INFO_EVTCHN_PENDING}`, `${mfn}:${L.VCPU_INFO_EVTCHN_PENDING_SEL}`, `${mfn}:0`]);
    expect(machine.counter(L.CNT_ATOMIC_OPS) - atomicsBefore).toBe(3);
    seen.length = 0;
    gb.close(pb); // evtchn_free clears the pending bit
    expect(seen).toEqual([`${mfn}:${L.SHARED_INFO_EVTCHN_PENDING}`]);
  });
});
