// Domain lifecycle of the Xen model (src/xen/hypervisor.ts) and what each subsystem releases.
import { describe, expect, it } from "vitest";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { Hypervisor, XenConfigError, type Subsystem } from "../src/xen/hypervisor.ts";
import type { Domain } from "../src/xen/domain.ts";
import { EventChannels } from "../src/xen/evtchn.ts";
import { IoreqServers } from "../src/xen/ioreq.ts";
import { ForeignMapping } from "../src/xen/foreign.ts";
import { IoreqEmulator } from "../src/xen/ioreq-emulator.ts";
import { GuestEvtchn } from "../src/xen/evtchn-guest.ts";
import * as E from "../src/xen/errno.ts";

class Probe implements Subsystem {
  readonly name: string;
  readonly log: string[];
  constructor(name: string, log: string[]) {
    this.name = name;
    this.log = log;
  }
  domainCreated(d: Domain): void {
    this.log.push(`${this.name}+${d.domid}:${d.state}`);
  }
  domainDestroyed(d: Domain): void {
    this.log.push(`${this.name}-${d.domid}:${d.state}`);
  }
}

function full(build: "release" | "debug") {
  const m = new Machine({ build });
  const hv = new Hypervisor({ machine: m, arch: "arm64" });
  const ev = new EventChannels(hv);
  const io = new IoreqServers(hv, ev);
  const fm = new ForeignMapping(hv);
  hv.createDomain({ name: "dom0", ramPages: 64, control: true });
  return { m, hv, ev, io, fm };
}

describe.each(["release", "debug"] as const)("domain lifecycle (%s)", (build) => {
  it("creates domains with the first free or a fixed domid, and rejects bad configurations", () => {
    const hv = new Hypervisor({ machine: new Machine({ build }) });
    expect(hv.createDomain({ name: "dom0", ramPages: 16, control: true }).domid).toBe(0);
    expect(hv.createDomain({ domid: 5, name: "five", ramPages: 16 }).domid).toBe(5);
    expect(hv.createDomain({ name: "next", ramPages: 16 }).domid).toBe(1);
    expect(() => hv.createDomain({ domid: 5, name: "dup", ramPages: 16 })).toThrow(/in use/);
    expect(() => hv.createDomain({ domid: L.MAX_DOMAINS, name: "far", ramPages: 16 })).toThrow(/out of range/);
    expect(() => hv.createDomain({ name: "none", ramPages: 0 })).toThrow(/ramPages/);
    expect(() => hv.createDomain({ name: "dm", ramPages: 4, target: 77 })).toThrow(/target domain 77/);
    expect(hv.domain(5)!.label).toBe("domU_t");
    expect(hv.domain(0)!.label).toBe("dom0_t");
    expect(hv.allDomains.map((d) => d.domid)).toEqual([0, 5, 1]);
  });

  it("pause and unpause nest; unpausing a running domain is an error", () => {
    const hv = new Hypervisor({ machine: new Machine({ build }) });
    const d = hv.createDomain({ name: "g", ramPages: 8 });
    hv.pause(d.domid);
    hv.pause(d.domid);
    expect(d.state).toBe("paused");
    expect(d.pauseCount).toBe(2);
    expect(hv.live(d.domid)).toBe(d); // paused domains still take part in hypercalls
    hv.unpause(d.domid);
    expect(d.state).toBe("paused");
    hv.unpause(d.domid);
    expect(d.state).toBe("running");
    expect(() => hv.unpause(d.domid)).toThrow(XenConfigError);
    expect(() => hv.pause(99)).toThrow(/no domain 99/);
  });

  it("destroy runs subsystems in reverse order while the domain is dying, then frees it", () => {
    const log: string[] = [];
    const hv = new Hypervisor({ machine: new Machine({ build }) });
    hv.createDomain({ name: "dom0", ramPages: 8, control: true });
    hv.register(new Probe("a", log)); // sees the existing domain at registration
    hv.register(new Probe("b", log));
    const g = hv.createDomain({ name: "g", ramPages: 8 });
    const dm = hv.createDomain({ name: "dm", ramPages: 8, target: g.domid });
    hv.destroyDomain(g.domid);
    expect(log).toEqual(["a+0:running", "b+0:running", "a+1:running", "b+1:running", "a+2:running", "b+2:running", "b-1:dying", "a-1:dying"]);
    expect(g.state).toBe("destroyed");
    expect(hv.domain(g.domid)).toBeUndefined();
    expect(hv.machine.domainExists(g.domid)).toBe(false);
    expect(dm.target).toBeUndefined(); // a device model of a dead guest is privileged over nothing
    expect(() => hv.destroyDomain(g.domid)).toThrow(/no domain/);
  });

  it("restart re-creates the same configuration as a new domain with fresh subsystem state", () => {
    const { hv, ev, m } = full(build);
    hv.createDomain({ domid: 1, name: "g", ramPages: 32, vcpus: 2 });
    const g = new GuestEvtchn(ev, 1, 0);
    const d0 = new GuestEvtchn(ev, 0, 0);
    const p = d0.allocUnbound(1);
    const q = g.bindInterdomain(0, p);
    const oldSi = ev.sharedInfo(1);
    m.write(1, 0, Uint8Array.of(1, 2, 3));
    const old = hv.domain(1)!;
    hv.pause(1);
    const fresh = hv.restartDomain(1);
    expect(fresh).not.toBe(old);
    expect(fresh.config).toEqual(old.config);
    expect(fresh.state).toBe("running");
    expect(fresh.pauseCount).toBe(0);
    expect(m.read(1, 0, 3)).toEqual(new Uint8Array(3)); // new, empty RAM
    expect(d0.status(p)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND, dom: 1 }); // peer back to unbound
    expect(ev.portStatus(1, q)).toEqual({ status: L.EVTCHNSTAT_CLOSED, vcpu: 0 });
    expect(ev.sharedInfo(1).gfn).toBe(oldSi.gfn);
    // The new incarnation can bind the port the old one was offered (same domid).
    expect(new GuestEvtchn(ev, 1, 0).bindInterdomain(0, p)).toBe(1);
  });

  it("destroying a domain closes its channels: peers go back to unbound, queued upcalls go", () => {
    const { hv, ev } = full(build);
    hv.createDomain({ domid: 1, name: "a", ramPages: 16 });
    hv.createDomain({ domid: 2, name: "b", ramPages: 16 });
    const ga = new GuestEvtchn(ev, 1, 0);
    const gb = new GuestEvtchn(ev, 2, 0);
    const pa = ga.allocUnbound(2);
    const pb = gb.bindInterdomain(1, pa);
    ga.bindVirq(L.VIRQ_ARGO);
    gb.send(pb);
    expect(ev.takeUpcalls().map((u) => u.domid)).toEqual([2, 1]);
    expect(ga.handleUpcall()).toEqual([pa]);
    gb.send(pb); // queues an upcall for a
    const mfn = ev.sharedInfo(1).mfn;
    hv.destroyDomain(1);
    expect(ev.takeUpcalls()).toEqual([]); // the dying domain's queued upcall went with it
    expect(gb.status(pb)).toEqual({ status: L.EVTCHNSTAT_UNBOUND, vcpu: 0, dom: 1 });
    expect(gb.send(pb)).toBe(0); // now dropped
    expect(ev.raiseVirq(1, L.VIRQ_ARGO)).toBe(false);
    expect(hv.machine.frameKind(mfn)).toBe(L.FRAME_FREE);
    expect(() => ev.sharedInfo(1)).toThrow(XenConfigError);
    expect(gb.bindInterdomain(1, pa)).toBe(-E.ESRCH);
  });

  it("a full backend setup leaks nothing: every frame is back after both domains go", () => {
    const { hv, ev, io, fm, m } = full(build);
    const baseline = m.framesUsed();
    hv.createDomain({ domid: 1, name: "guest", ramPages: 128, vcpus: 2 });
    hv.createDomain({ domid: 2, name: "be", ramPages: 64, target: 1 });
    const emu = new IoreqEmulator({ evtchn: ev, ioreq: io, foreign: fm, domid: 2, target: 1, scratchGfn: 1, pageGfn: 64, handler: () => 7n });
    expect(emu.start()).toBe(0);
    expect(emu.mapRange(0x0200_0000, 0x0200_01ff)).toBe(0);
    m.write(1, 10 * 4096, Uint8Array.of(9));
    expect(emu.privcmd.mapForeign(1, [10, 11], [70, 71])).toEqual([0, 0]);
    const got: bigint[] = [];
    hv.mmioAccess(1, 1, 0x0200_0004, 4, "read", 0n, (v) => got.push(v));
    emu.poll();
    expect(got).toEqual([7n]);
    hv.mmioAccess(1, 0, 0x0200_0008, 4, "read"); // left waiting
    expect(io.isBlocked(1, 0)).toBe(true);
    hv.destroyDomain(1);
    expect(m.framesUsed()).toBeGreaterThan(baseline); // the backend still maps 2 guest frames
    expect(fm.exposure(2, 1)).toEqual({ reachable: 0, mapped: 2 });
    hv.destroyDomain(2);
    expect(m.framesUsed()).toBe(baseline);
    expect(m.counter(L.CNT_FOREIGN_TEARDOWN)).toBe(2);
    expect(m.counter(L.CNT_IOREQ_SERVERS_DESTROYED)).toBe(1);
  });

  it("restarting the device-model domain leaves the old server's ports unbound until the guest rebinds", () => {
    const { hv, ev, io } = full(build);
    hv.createDomain({ domid: 1, name: "guest", ramPages: 64 });
    hv.createDomain({ domid: 2, name: "be", ramPages: 64, target: 1 });
    const emu = new IoreqEmulator({ evtchn: ev, ioreq: io, domid: 2, target: 1, scratchGfn: 1, pageGfn: 64, handler: () => 0n });
    expect(emu.start()).toBe(0);
    const port = io.servers(1)[0]!.ports[0]!;
    hv.restartDomain(2);
    expect(ev.portStatus(1, port)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND, dom: 2 });
    // The new backend is a new emulator: it starts its own server next to the stale one.
    const again = new IoreqEmulator({ evtchn: ev, ioreq: io, domid: 2, target: 1, scratchGfn: 1, pageGfn: 64, handler: () => 0n });
    expect(again.start()).toBe(0);
    expect(again.id).toBe(1);
    expect(io.servers(1).map((s) => s.emulator)).toEqual([2, 2]);
  });
});
