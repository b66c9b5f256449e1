import { describe, expect, it } from "vitest";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { Hypervisor, XenConfigError, type XenArch } from "../src/xen/hypervisor.ts";
import { EventChannels } from "../src/xen/evtchn.ts";
import { IoreqServers } from "../src/xen/ioreq.ts";
import { ForeignMapping } from "../src/xen/foreign.ts";
import { IoreqEmulator, type IoRequest } from "../src/xen/ioreq-emulator.ts";
import { Privcmd } from "../src/xen/privcmd.ts";
import { GuestEvtchn } from "../src/xen/evtchn-guest.ts";
import type { XsmOp, XsmPolicy } from "../src/xen/xsm.ts";
import * as E from "../src/xen/errno.ts";
import { MAX_NR_IOREQ_SERVERS, XEN_DMOP_NR_OPS } from "../src/xen/ioreq-state.ts";

const MMIO = 0x0200_0000; // GUEST_VIRTIO_MMIO_BASE
const GUEST = 1;
const BE = 2; // device-model target of the guest
const DRV = 3; // a driver domain with no privilege over the guest

class DenyAll implements XsmPolicy {
  readonly name = "flask-test";
  readonly denyErrno = E.EACCES;
  check(_op: XsmOp): boolean {
    return false;
  }
}

function setup(arch: XenArch = "arm64", build: "release" | "debug" = "release") {
  const m = new Machine({ build });
  const hv = new Hypervisor({ machine: m, arch });
  const ev = new EventChannels(hv);
  const io = new IoreqServers(hv, ev, { nrSpis: 32 });
  const fm = new ForeignMapping(hv);
  hv.createDomain({ name: "dom0", ramPages: 64, control: true });
  hv.createDomain({ domid: GUEST, name: "guest", ramPages: 256, vcpus: 2 });
  hv.createDomain({ domid: BE, name: "backend", ramPages: 64, target: GUEST });
  hv.createDomain({ domid: DRV, name: "drv", ramPages: 64, driverDomain: true });
  const regs = new Map<bigint, bigint>();
  const handler = (r: IoRequest) => {
    if (r.dir === "write") regs.set(r.addr, r.data);
    else return regs.get(r.addr) ?? 0x74726976n;
  };
  const emulator = (domid = BE, pageGfn = 64, bufioreq?: number) =>
    new IoreqEmulator({ evtchn: ev, ioreq: io, foreign: fm, domid, target: GUEST, scratchGfn: 1, pageGfn, bufioreq, handler });
  const pc = (domid: number) => new Privcmd({ ioreq: io, foreign: fm, domid, scratchGfn: 2 });
  return { m, hv, ev, io, fm, regs, emulator, pc };
}

function started(s: ReturnType<typeof setup>, range: [number, number] = [MMIO, MMIO + 0x1ff]) {
  const emu = s.emulator();
  expect(emu.start()).toBe(0);
  expect(emu.mapRange(range[0], range[1])).toBe(0);
  emu.take(); // the flags every bind_interdomain leaves
  s.ev.takeUpcalls();
  return emu;
}

describe.each(["release", "debug"] as const)("IOREQ servers (%s)", (build) => {
  it("brings a server up as demu does: pages mapped in the emulator, vp_eports bound", () => {
    const s = setup("arm64", build);
    const emu = s.emulator();
    expect(emu.start()).toBe(0);
    const [info] = s.io.servers(GUEST);
    expect(info).toMatchObject({ id: 0, emulator: BE, enabled: true, bufioreq: L.HVM_IOREQSRV_BUFIOREQ_LEGACY });
    expect(info!.ports).toHaveLength(2);
    // The emulator reads vp_eport through its own mapping of the ioreq page.
    expect(emu.ioreqGfn).toBe(65);
    expect(s.m.p2mLookup(BE, 65) >>> L.P2M_MFN_SHIFT).toBe(info!.ioreqMfn);
    expect(s.m.p2mLookup(BE, 64) >>> L.P2M_MFN_SHIFT).toBe(info!.bufMfn);
    expect(emu.slotView(1).getUint32(L.IOREQ_VP_EPORT, true)).toBe(info!.ports[1]);
    for (const p of info!.ports) {
      expect(s.ev.isXenConsumed(GUEST, p)).toBe(true);
      expect(s.ev.portStatus(GUEST, p)).toMatchObject({ status: L.EVTCHNSTAT_INTERDOMAIN, dom: BE });
    }
    expect(emu.bufioreqPort).toBe(info!.bufPort);
    // The guest can neither send on nor close nor move Xen's ports.
    const g = new GuestEvtchn(s.ev, GUEST, 0);
    expect(g.send(info!.ports[0]!)).toBe(-E.EINVAL);
    expect(g.close(info!.ports[0]!)).toBe(-E.EINVAL);
    expect(g.bindVcpu(info!.ports[0]!, 1)).toBe(-E.EINVAL);
    expect(s.m.counter(L.CNT_IOREQ_SERVERS_CREATED)).toBe(1);
  });

  it("read round trip: NONE -> READY -> INPROCESS -> IORESP_READY -> NONE, vCPU blocked until the answer", () => {
    const s = setup("arm64", build);
    const emu = started(s);
    const got: bigint[] = [];
    const r = s.hv.mmioAccess(GUEST, 1, MMIO + 0x70, 4, "read", 0n, (v) => got.push(v));
    expect(r).toEqual({ kind: "pending", server: 0 });
    expect(emu.slotState(1)).toBe(L.STATE_IOREQ_READY);
    expect(emu.slotState(0)).toBe(L.STATE_IOREQ_NONE);
    const slot = emu.slotView(1);
    expect(slot.getBigUint64(L.IOREQ_ADDR, true)).toBe(BigInt(MMIO + 0x70));
    expect(slot.getUint32(L.IOREQ_SIZE_OFF, true)).toBe(4);
    expect(slot.getUint32(L.IOREQ_COUNT, true)).toBe(1);
    expect(slot.getUint8(L.IOREQ_TYPE)).toBe(L.IOREQ_TYPE_COPY);
    expect((slot.getUint8(L.IOREQ_STATE_BYTE) >> L.IOREQ_DIR_SHIFT) & 1).toBe(L.IOREQ_READ);
    expect(s.io.isBlocked(GUEST, 1)).toBe(true);
    expect(s.io.isBlocked(GUEST, 0)).toBe(false);
    expect(s.ev.takeUpcalls()).toEqual([{ domid: BE, vcpu: 0 }]);

    const { requests } = emu.take();
    expect(requests).toEqual([{ vcpu: 1, type: L.IOREQ_TYPE_COPY, addr: BigInt(MMIO + 0x70), size: 4, count: 1, dir: "read", data: 0n }]);
    expect(emu.slotState(1)).toBe(L.STATE_IOREQ_INPROCESS);
    expect(s.io.isBlocked(GUEST, 1)).toBe(true);

    emu.respond(requests[0]!, 0x1_2345_6789n, false); // data wider than the access
    expect(emu.slotState(1)).toBe(L.STATE_IORESP_READY);
    expect(s.io.isBlocked(GUEST, 1)).toBe(true);
    expect(got).toEqual([]);
    expect(emu.notify(1)).toBe(0);
    expect(emu.slotState(1)).toBe(L.STATE_IOREQ_NONE);
    expect(s.io.isBlocked(GUEST, 1)).toBe(false);
    expect(got).toEqual([0x2345_6789n]); // truncated to 4 bytes
    expect(s.io.lastCompletion(GUEST, 1)).toBe(0x2345_6789n);
    for (const [id, n] of [[L.CNT_IOREQ_MMIO_TRAPS, 1], [L.CNT_IOREQ_SENT, 1], [L.CNT_IOREQ_READS, 1], [L.CNT_IOREQ_VCPU_BLOCKED, 1], [L.CNT_IOREQ_COMPLETIONS, 1], [L.CNT_IOREQ_EMU_HANDLED, 1], [L.CNT_EVTCHN_XEN_NOTIFY, 1]] as const) {
      expect(s.m.counter(id), `counter ${id}`).toBe(n);
    }
  });

  it("write round trip carries the value to the emulator and completes with 0n", () => {
    const s = setup("arm64", build);
    const emu = started(s);
    const got: bigint[] = [];
    expect(s.hv.mmioAccess(GUEST, 0, MMIO + 0x50, 4, "write", 0x1_0000_0003n, (v) => got.push(v)).kind).toBe("pending");
    const slot = emu.slotView(0);
    expect(slot.getBigUint64(L.IOREQ_DATA, true)).toBe(3n); // truncated to the access size
    expect((slot.getUint8(L.IOREQ_STATE_BYTE) >> L.IOREQ_DIR_SHIFT) & 1).toBe(L.IOREQ_WRITE);
    expect(emu.poll()).toEqual({ handled: 1, others: [] });
    expect(s.regs.get(BigInt(MMIO + 0x50))).toBe(3n);
    expect(got).toEqual([0n]);
    expect(s.io.isBlocked(GUEST, 0)).toBe(false);
    // Both vCPUs at once, and an 8-byte access.
    s.hv.mmioAccess(GUEST, 0, MMIO + 0x80, 8, "write", 0xdead_beef_cafe_f00dn);
    s.hv.mmioAccess(GUEST, 1, MMIO + 0x60, 4, "read");
    expect(emu.poll().handled).toBe(2);
    expect(s.regs.get(BigInt(MMIO + 0x80))).toBe(0xdead_beef_cafe_f00dn);
    expect(s.io.lastCompletion(GUEST, 1)).toBe(0x74726976n);
    expect(s.m.counter(L.CNT_IOREQ_WRITES)).toBe(2);
  });

  it("selects servers from the highest id down; only enabled servers whose range holds the whole access", () => {
    const s = setup("arm64", build);
    const dm0 = s.emulator(0, 64); // dom0 also runs a device model for the guest
    expect(dm0.start()).toBe(0);
    expect(dm0.mapRange(MMIO, MMIO + 0x1ff)).toBe(0);
    const be = s.emulator(BE, 64);
    expect(be.start()).toBe(0);
    expect(be.id).toBe(1);
    expect(be.mapRange(MMIO, MMIO + 0xff)).toBe(0); // overlaps dm0's range: separate servers may
    let emus = [dm0, be];
    const server = (addr: number, size = 4) => {
      const r = s.hv.mmioAccess(GUEST, 0, addr, size, "read");
      for (const e of emus) e.poll();
      return r.kind === "pending" ? r.server : r.kind;
    };
    expect(server(MMIO + 0x10)).toBe(1);
    expect(server(MMIO + 0x100)).toBe(0);
    expect(server(MMIO + 0xfe)).toBe(0); // straddles the end of server 1's range
    expect(server(MMIO + 0x1fe, 4)).toBe("fault"); // nobody holds all of it
    expect(be.privcmd.setIoreqServerState(GUEST, 1, false)).toBe(0);
    expect(server(MMIO + 0x10)).toBe(0); // disabled servers are skipped
    expect(be.privcmd.setIoreqServerState(GUEST, 1, true)).toBe(0);
    // A server created after a lower id was freed gets that id, and so loses priority.
    expect(dm0.stop()).toBe(0);
    const late = s.emulator(0, 70);
    expect(late.start()).toBe(0);
    expect(late.id).toBe(0);
    expect(late.mapRange(MMIO, MMIO + 0xff)).toBe(0);
    emus = [late, be];
    expect(server(MMIO + 0x10)).toBe(1);
  });

  it("adjacent ranges merge, so an access across their boundary is claimed", () => {
    const s = setup("arm64", build);
    const emu = started(s, [MMIO, MMIO + 0xff]);
    expect(emu.mapRange(MMIO + 0x100, MMIO + 0x1ff)).toBe(0);
    expect(s.io.servers(GUEST)[0]!.ranges.memory).toEqual([[BigInt(MMIO), BigInt(MMIO + 0x1ff)]]);
    expect(s.hv.mmioAccess(GUEST, 0, MMIO + 0xfc, 8, "read").kind).toBe("pending");
  });

  it("unclaimed MMIO: Arm injects a data abort; x86 reads all ones and drops writes", () => {
    const arm = setup("arm64", build);
    expect(arm.hv.mmioAccess(GUEST, 0, 0x0900_0000, 4, "read")).toEqual({ kind: "fault" });
    expect(arm.hv.mmioAccess(GUEST, 0, 0x0900_0000, 4, "write", 1)).toEqual({ kind: "fault" });
    expect(arm.m.counter(L.CNT_IOREQ_UNCLAIMED)).toBe(2);
    expect(arm.m.counter(L.CNT_IOREQ_FAULTS)).toBe(2);
    expect(arm.io.isBlocked(GUEST, 0)).toBe(false);
    expect(() => arm.hv.pioAccess(GUEST, 0, 0x3f8, 1, "read")).toThrow(XenConfigError);

    const x86 = setup("x86-64", build);
    expect(x86.hv.mmioAccess(GUEST, 0, 0xfe00_0000, 4, "read")).toEqual({ kind: "done", value: 0xffff_ffffn });
    expect(x86.hv.mmioAccess(GUEST, 0, 0xfe00_0000, 1, "read")).toEqual({ kind: "done", value: 0xffn });
    expect(x86.hv.mmioAccess(GUEST, 0, 0xfe00_0000, 8, "read")).toEqual({ kind: "done", value: 0xffff_ffff_ffff_ffffn });
    expect(x86.hv.mmioAccess(GUEST, 0, 0xfe00_0000, 2, "write", 7)).toEqual({ kind: "done", value: 0n });
    expect(x86.hv.pioAccess(GUEST, 0, 0x3f8, 1, "read")).toEqual({ kind: "done", value: 0xffn });
    expect(x86.m.counter(L.CNT_IOREQ_UNCLAIMED)).toBe(5);
    expect(x86.m.counter(L.CNT_IOREQ_FAULTS)).toBe(0);
    // x86 port I/O goes to a server that claimed the port range.
    const emu = x86.emulator();
    expect(emu.start()).toBe(0);
    expect(emu.mapRange(0x3f8, 0x3ff, L.XEN_DMOP_IO_RANGE_PORT)).toBe(0);
    emu.take();
    const r = x86.hv.pioAccess(GUEST, 0, 0x3f9, 1, "write", 0x41);
    expect(r).toEqual({ kind: "pending", server: 0 });
    const { requests } = emu.take();
    expect(requests[0]).toMatchObject({ type: L.IOREQ_TYPE_PIO, addr: 0x3f9n, size: 1, dir: "write", data: 0x41n });
    // set_irq_level is Arm's; x86 has no such op.
    expect(emu.privcmd.setIrqLevel(GUEST, 40, 1)).toBe(-E.EOPNOTSUPP);
  });

  it("bad accesses are configuration errors, not guest outcomes", () => {
    const s = setup("arm64", build);
    started(s);
    expect(() => s.hv.mmioAccess(GUEST, 2, MMIO, 4, "read")).toThrow(/no vCPU 2/);
    expect(() => s.hv.mmioAccess(GUEST, 0, MMIO, 3, "read")).toThrow(/size/);
    expect(() => s.hv.mmioAccess(GUEST, 0, -4, 4, "read")).toThrow(/address/);
    expect(() => s.hv.mmioAccess(9, 0, MMIO, 4, "read")).toThrow(/not running/);
    s.hv.mmioAccess(GUEST, 0, MMIO, 4, "read");
    expect(() => s.hv.mmioAccess(GUEST, 0, MMIO, 4, "read")).toThrow(/blocked/);
    s.hv.pause(GUEST);
    expect(() => s.hv.mmioAccess(GUEST, 1, MMIO, 4, "read")).toThrow(/not running/);
    expect(() => new IoreqServers(s.hv, s.ev)).toThrow(XenConfigError); // one MMIO handler
    expect(() => new Hypervisor({ machine: s.m, arch: "mips" as XenArch })).toThrow(/arch/);
  });

  it("a backwards slot transition crashes the guest; an unknown state too", () => {
    for (const bad of [L.STATE_IOREQ_READY, 9]) {
      const s = setup("arm64", build);
      const emu = started(s);
      let called = false;
      s.hv.mmioAccess(GUEST, 0, MMIO, 4, "read", 0n, () => (called = true));
      const [req] = emu.take().requests;
      expect(emu.slotState(0)).toBe(L.STATE_IOREQ_INPROCESS);
      emu.notify(0); // still INPROCESS: Xen keeps waiting
      expect(s.io.isBlocked(GUEST, 0)).toBe(true);
      emu.writeState(0, bad); // INPROCESS -> READY is backwards
      emu.notify(0);
      expect(s.hv.crashReason(GUEST)).toMatch(/ioreq: state 2 -> /);
      expect(s.hv.domain(GUEST)!.state).toBe("paused");
      expect(s.io.isBlocked(GUEST, 0)).toBe(false);
      expect(called).toBe(false);
      expect(s.m.counter(L.CNT_IOREQ_BAD_STATE)).toBe(1);
      expect(() => s.hv.mmioAccess(GUEST, 1, MMIO, 4, "read")).toThrow(/not running/);
      s.hv.pause(GUEST);
      s.hv.unpause(GUEST);
      expect(s.hv.domain(GUEST)!.state).toBe("paused"); // a crashed domain does not run again
      void req;
      s.hv.restartDomain(GUEST);
      expect(s.hv.crashReason(GUEST)).toBeUndefined();
      expect(s.hv.domain(GUEST)!.state).toBe("running");
    }
  });

  it("an emulator that resets the slot to NONE completes the read with all ones", () => {
    const s = setup("arm64", build);
    const emu = started(s);
    const got: bigint[] = [];
    s.hv.mmioAccess(GUEST, 0, MMIO, 2, "read", 0n, (v) => got.push(v));
    emu.take();
    emu.writeState(0, L.STATE_IOREQ_NONE);
    emu.notify(0);
    expect(got).toEqual([0xffffn]);
    expect(s.hv.crashReason(GUEST)).toBeUndefined();
  });

  it("a slot the emulator left busy, or whose vp_eport it changed, is refused: fault injected", () => {
    const s = setup("arm64", build);
    const emu = started(s);
    emu.writeState(1, L.STATE_IOREQ_INPROCESS);
    expect(s.hv.mmioAccess(GUEST, 1, MMIO, 4, "read")).toEqual({ kind: "fault" });
    emu.writeState(1, L.STATE_IOREQ_NONE);
    s.m.write(BE, emu.ioreqGfn * 4096 + L.IOREQ_SIZE + L.IOREQ_VP_EPORT, Uint8Array.of(99, 0, 0, 0));
    expect(s.hv.mmioAccess(GUEST, 1, MMIO, 4, "read")).toEqual({ kind: "fault" });
    expect(s.io.isBlocked(GUEST, 1)).toBe(false);
    expect(s.m.counter(L.CNT_IOREQ_FAULTS)).toBe(2);
    expect(s.hv.mmioAccess(GUEST, 0, MMIO, 4, "read").kind).toBe("pending");
  });

  it("destroying a server releases a waiting vCPU, its ports and its pages", () => {
    const s = setup("arm64", build);
    const emu = started(s);
    const [info] = s.io.servers(GUEST);
    const got: bigint[] = [];
    s.hv.mmioAccess(GUEST, 0, MMIO, 4, "read", 0x55n, (v) => got.push(v));
    expect(emu.stop()).toBe(0);
    expect(s.io.isBlocked(GUEST, 0)).toBe(false);
    expect(got).toEqual([0x55n]); // the register keeps what the access carried
    expect(s.io.servers(GUEST)).toEqual([]);
    for (const p of info!.ports) expect(s.ev.portStatus(GUEST, p)).toMatchObject({ status: L.EVTCHNSTAT_CLOSED });
    expect(s.m.p2mLookup(BE, emu.ioreqGfn)).toBe(0);
    expect(s.m.frameKind(info!.ioreqMfn)).toBe(L.FRAME_FREE);
    expect(s.m.frameKind(info!.bufMfn)).toBe(L.FRAME_FREE);
    expect(s.hv.mmioAccess(GUEST, 0, MMIO, 4, "read")).toEqual({ kind: "fault" });
    expect(s.m.counter(L.CNT_IOREQ_SERVERS_DESTROYED)).toBe(1);
  });

  it("the emulator's death leaves the server in place: the next access blocks for ever", () => {
    const s = setup("arm64", build);
    started(s);
    const [info] = s.io.servers(GUEST);
    s.hv.destroyDomain(BE);
    expect(s.io.servers(GUEST)).toHaveLength(1);
    for (const p of info!.ports) expect(s.ev.portStatus(GUEST, p)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND, dom: BE });
    expect(s.hv.mmioAccess(GUEST, 0, MMIO, 4, "read").kind).toBe("pending");
    expect(s.ev.takeUpcalls()).toEqual([]); // nobody is told
    expect(s.io.isBlocked(GUEST, 0)).toBe(true);
    // A new domain with the dead emulator's domid is not the emulator.
    s.hv.createDomain({ domid: BE, name: "impostor", ramPages: 64, target: GUEST });
    expect(new Privcmd({ ioreq: s.io, domid: BE, scratchGfn: 1 }).destroyIoreqServer(GUEST, 0)).toBe(-E.EPERM);
    // The guest's own death finally removes the server.
    s.hv.destroyDomain(GUEST);
    expect(s.m.frameKind(info!.ioreqMfn)).toBe(L.FRAME_FREE);
    expect(s.m.counter(L.CNT_IOREQ_SERVERS_DESTROYED)).toBe(1);
  });

  it("the guest's death destroys its servers and unmaps their pages from the emulator", () => {
    const s = setup("arm64", build);
    const emu = started(s);
    const [info] = s.io.servers(GUEST);
    s.hv.destroyDomain(GUEST);
    expect(s.m.p2mLookup(BE, emu.ioreqGfn)).toBe(0);
    expect(s.m.p2mLookup(BE, emu.ioreqGfn - 1)).toBe(0);
    expect(s.m.frameKind(info!.ioreqMfn)).toBe(L.FRAME_FREE);
    for (const p of emu.localPorts) expect(s.ev.portStatus(BE, p)).toMatchObject({ status: L.EVTCHNSTAT_UNBOUND, dom: GUEST });
  });

  it("dm_op: domain, privilege, buffer and op errors", () => {
    const s = setup("arm64", build);
    const be = s.pc(BE);
    expect(be.dmOp(9, L.XEN_DMOP_NR_VCPUS).rc).toBe(-E.ESRCH);
    expect(be.dmOp(BE, L.XEN_DMOP_NR_VCPUS).rc).toBe(-E.EPERM); // on itself
    expect(s.pc(DRV).createIoreqServer(GUEST)).toBe(-E.EPERM); // no device-model privilege
    expect(s.m.counter(L.CNT_IOREQ_DM_OP_DENIED)).toBe(1);
    expect(s.m.counter(L.CNT_XSM_DENIED)).toBe(1);
    expect(s.pc(0).nrVcpus(GUEST)).toBe(2); // dom0 may
    expect(be.nrVcpus(GUEST)).toBe(2); // the guest's device model may
    expect(be.dmOp(GUEST, L.XEN_DMOP_NR_VCPUS, undefined, 7).rc).toBe(-E.EFAULT);
    expect(be.dmOp(GUEST, L.XEN_DMOP_CREATE_IOREQ_SERVER, undefined, 8 + 5).rc).toBe(-E.EFAULT);
    expect(s.io.dmOp(BE, GUEST, 64 * 4096, 32)).toBe(-E.EFAULT); // not mapped
    expect(be.dmOp(GUEST, XEN_DMOP_NR_OPS).rc).toBe(-E.EOPNOTSUPP);
    expect(be.dmOp(GUEST, 7).rc).toBe(-E.EOPNOTSUPP); // track_dirty_vram: not modelled
    s.m.write(BE, 2 * 4096, Uint8Array.of(L.XEN_DMOP_NR_VCPUS, 0, 0, 0, 1, 0, 0, 0));
    expect(s.io.dmOp(BE, GUEST, 2 * 4096, 32)).toBe(-E.EINVAL); // pad
    s.hv.xsm = new DenyAll();
    expect(be.nrVcpus(GUEST)).toBe(-E.EACCES);
    const before = s.m.counter(L.CNT_HYPERCALLS);
    be.nrVcpus(GUEST);
    expect(s.m.counter(L.CNT_HYPERCALLS) - before).toBe(1);
    expect(() => s.io.dmOp(42, GUEST, 0, 32)).toThrow(XenConfigError);
  });

  it("create, get_info, set_state and destroy: every error", () => {
    const s = setup("arm64", build);
    const be = s.pc(BE);
    const d0 = s.pc(0);
    expect(be.dmOp(GUEST, L.XEN_DMOP_CREATE_IOREQ_SERVER, (u) => u.setUint8(0, 3)).rc).toBe(-E.EINVAL);
    expect(be.dmOp(GUEST, L.XEN_DMOP_CREATE_IOREQ_SERVER, (u) => u.setUint8(2, 1)).rc).toBe(-E.EINVAL);
    const ids = Array.from({ length: MAX_NR_IOREQ_SERVERS }, (_, i) => be.createIoreqServer(GUEST, i % 3));
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(be.createIoreqServer(GUEST)).toBe(-E.ENOSPC);
    expect(be.getIoreqServerInfo(GUEST, 1)).toEqual({ bufioreqPort: s.io.servers(GUEST)[1]!.bufPort });
    expect(be.getIoreqServerInfo(GUEST, 0)).toEqual({ bufioreqPort: 0 }); // no buffered ioreqs
    expect(be.getIoreqServerInfo(GUEST, 1, 2)).toBe(-E.EINVAL);
    expect(be.getIoreqServerInfo(GUEST, 9)).toBe(-E.ENOENT);
    expect(d0.getIoreqServerInfo(GUEST, 1)).toBe(-E.EPERM); // not its emulator
    expect(be.getIoreqServerInfo(GUEST, 1, 0)).toBe(-E.EOPNOTSUPP); // legacy gfn mode
    expect(be.setIoreqServerState(GUEST, 9, true)).toBe(-E.ENOENT);
    expect(d0.setIoreqServerState(GUEST, 0, true)).toBe(-E.EPERM);
    expect(be.dmOp(GUEST, L.XEN_DMOP_SET_IOREQ_SERVER_STATE, (u) => u.setUint8(3, 1)).rc).toBe(-E.EINVAL);
    expect(be.destroyIoreqServer(GUEST, 9)).toBe(-E.ENOENT);
    expect(d0.destroyIoreqServer(GUEST, 0)).toBe(-E.EPERM);
    expect(be.dmOp(GUEST, L.XEN_DMOP_DESTROY_IOREQ_SERVER, (u) => u.setUint16(2, 1, true)).rc).toBe(-E.EINVAL);
    expect(be.destroyIoreqServer(GUEST, 3)).toBe(0);
    expect(be.destroyIoreqServer(GUEST, 3)).toBe(-E.ENOENT);
    expect(d0.createIoreqServer(GUEST)).toBe(3); // lowest free id
    s.hv.createDomain({ domid: 9, name: "wide", ramPages: 16, vcpus: 129 });
    expect(d0.createIoreqServer(9)).toBe(-E.EINVAL); // more vCPUs than one ioreq page holds
    // Out of event-channel ports while creating: nothing is left behind.
    const t = setup("arm64", build);
    const g = new GuestEvtchn(t.ev, GUEST, 0);
    while (g.allocUnbound(BE) > 0);
    expect(t.pc(BE).createIoreqServer(GUEST)).toBe(-E.ENOSPC);
    expect(t.io.servers(GUEST)).toEqual([]);
  });

  it("map/unmap_io_range: inclusive ranges, every error, and the 256-range limit", () => {
    const s = setup("arm64", build);
    const be = s.pc(BE);
    const id = be.createIoreqServer(GUEST);
    const MEM = L.XEN_DMOP_IO_RANGE_MEMORY;
    expect(be.mapIoRange(GUEST, id, MEM, 0x2000, 0x1fff)).toBe(-E.EINVAL); // start > end
    expect(be.mapIoRange(GUEST, 5, MEM, 0, 1)).toBe(-E.ENOENT);
    expect(s.pc(0).mapIoRange(GUEST, id, MEM, 0, 1)).toBe(-E.EPERM);
    expect(be.mapIoRange(GUEST, id, 3, 0, 1)).toBe(-E.EINVAL); // type
    expect(be.dmOp(GUEST, L.XEN_DMOP_MAP_IO_RANGE_TO_IOREQ_SERVER, (u) => u.setUint16(2, 1, true)).rc).toBe(-E.EINVAL); // pad
    expect(be.mapIoRange(GUEST, id, MEM, 0x1000, 0x1fff)).toBe(0);
    expect(be.mapIoRange(GUEST, id, MEM, 0x1fff, 0x2fff)).toBe(-E.EEXIST);
    expect(be.mapIoRange(GUEST, id, L.XEN_DMOP_IO_RANGE_PORT, 0x1000, 0x1fff)).toBe(0); // another type
    expect(be.mapIoRange(GUEST, id, MEM, 0, 2n ** 64n - 1n)).toBe(-E.EEXIST);
    // 256 separate ranges fit; the 257th is -ENOMEM; an adjacent one merges and still fits.
    for (let i = 1; i < 256; i++) expect(be.mapIoRange(GUEST, id, MEM, 0x10000 * i, 0x10000 * i + 0xff)).toBe(0);
    expect(be.mapIoRange(GUEST, id, MEM, 0x1000_0000, 0x1000_00ff)).toBe(-E.ENOMEM);
    expect(be.mapIoRange(GUEST, id, MEM, 0x2000, 0x20ff)).toBe(0); // touches [0x1000, 0x1fff]
    expect(s.io.servers(GUEST)[0]!.ranges.memory).toHaveLength(256);
    expect(be.unmapIoRange(GUEST, id, MEM, 0x1800, 0x1900)).toBe(-E.ENOMEM); // a split needs a 257th
    expect(be.unmapIoRange(GUEST, id, MEM, 0x1000, 0x3000)).toBe(-E.ENOENT); // not inside one range
    expect(be.unmapIoRange(GUEST, id, MEM, 0x1000, 0x20ff)).toBe(0);
    expect(be.unmapIoRange(GUEST, id, MEM, 0x1800, 0x1900)).toBe(-E.ENOENT);
    expect(be.unmapIoRange(GUEST, id, MEM, 0x10010, 0x10020)).toBe(0); // split: 255 + 1
    expect(s.io.servers(GUEST)[0]!.ranges.memory.slice(0, 2)).toEqual([[0x10000n, 0x1000fn], [0x10021n, 0x100ffn]]);
    expect(be.unmapIoRange(GUEST, id, 9, 0, 1)).toBe(-E.EINVAL);
    expect(be.unmapIoRange(GUEST, id, MEM, 2, 1)).toBe(-E.EINVAL);
  });

  it("set_irq_level drives SPIs only, records the level and counts assertions", () => {
    const s = setup("arm64", build);
    const be = s.pc(BE);
    expect(be.setIrqLevel(GUEST, 33, 1)).toBe(0);
    expect(be.setIrqLevel(GUEST, 33, 1)).toBe(0);
    expect(s.io.spi(GUEST, 33)).toEqual({ level: 1, assertions: 2 });
    expect(be.setIrqLevel(GUEST, 33, 0)).toBe(0);
    expect(be.setIrqLevel(GUEST, 33, 1)).toBe(0);
    expect(s.io.spi(GUEST, 33)).toEqual({ level: 1, assertions: 3 });
    expect(s.m.counter(L.CNT_IOREQ_IRQ_ASSERTIONS)).toBe(3);
    expect(s.m.counter(L.CNT_IOREQ_IRQ_RAISED)).toBe(2);
    expect(be.setIrqLevel(GUEST, 31, 1)).toBe(-E.EINVAL); // a PPI
    expect(be.setIrqLevel(GUEST, 32 + 32, 1)).toBe(-E.EINVAL); // beyond nr_spis
    expect(be.setIrqLevel(GUEST, 40, 2)).toBe(-E.EINVAL);
    expect(be.dmOp(GUEST, L.XEN_DMOP_SET_IRQ_LEVEL, (u) => { u.setUint32(0, 40, true); u.setUint8(6, 1); }).rc).toBe(-E.EINVAL);
    expect(s.pc(DRV).setIrqLevel(GUEST, 40, 1)).toBe(-E.EPERM);
    expect(s.io.spi(GUEST, 40)).toEqual({ level: 0, assertions: 0 });
  });

  it("acquire_resource: every error, the size query, and -EIO after a first mapped frame", () => {
    const s = setup("arm64", build);
    const be = s.pc(BE);
    const id = be.createIoreqServer(GUEST, L.HVM_IOREQSRV_BUFIOREQ_OFF);
    const raw = (f: (a: DataView) => void) => {
      const a = new DataView(new ArrayBuffer(L.MEM_ACQUIRE_RESOURCE_SIZE));
      a.setUint16(L.MEM_ACQUIRE_RESOURCE_DOMID, GUEST, true);
      f(a);
      s.m.write(BE, 2 * 4096, new Uint8Array(a.buffer));
      return s.io.acquireResource(BE, 2 * 4096);
    };
    expect(s.io.acquireResource(BE, 70 * 4096)).toBe(-E.EFAULT);
    expect(raw((a) => a.setUint32(L.MEM_ACQUIRE_RESOURCE_PAD, 1, true))).toBe(-E.EINVAL);
    expect(raw((a) => a.setUint16(L.MEM_ACQUIRE_RESOURCE_DOMID, 9, true))).toBe(-E.ESRCH);
    expect(raw((a) => a.setUint16(L.MEM_ACQUIRE_RESOURCE_DOMID, BE, true))).toBe(-E.EPERM);
    expect(raw((a) => a.setUint16(L.MEM_ACQUIRE_RESOURCE_TYPE, L.XENMEM_RESOURCE_GRANT_TABLE, true))).toBe(-E.EOPNOTSUPP);
    expect(raw(() => {})).toBe(0); // nr_frames 0: a size query
    expect(new DataView(s.m.read(BE, 2 * 4096 + L.MEM_ACQUIRE_RESOURCE_NR_FRAMES, 4).buffer).getUint32(0, true)).toBe(2);
    expect(raw((a) => a.setBigUint64(L.MEM_ACQUIRE_RESOURCE_FRAME_LIST, 4096n, true))).toBe(-E.EINVAL);
    expect(be.acquireIoreqPages(GUEST, id, 0, [64, 65, 66])).toBe(-E.EINVAL);
    expect(be.acquireIoreqPages(GUEST, id, 2, [64])).toBe(-E.EINVAL);
    expect(be.acquireIoreqPages(GUEST, 6, 1, [64])).toBe(-E.ENOENT);
    expect(s.pc(0).acquireIoreqPages(GUEST, id, 1, [64])).toBe(-E.EPERM); // not its emulator
    expect(s.pc(DRV).acquireIoreqPages(GUEST, id, 1, [64])).toBe(-E.EPERM); // XSM
    expect(be.acquireIoreqPages(GUEST, id, 0, [64])).toBe(-E.ENOENT); // no buffered page
    expect(be.acquireIoreqPages(GUEST, id, 1, [5])).toBe(-E.EINVAL); // in RAM
    expect(be.acquireIoreqPages(GUEST, id, 1, [64])).toBe(0);
    expect(be.acquireIoreqPages(GUEST, id, 1, [64])).toBe(-E.EBUSY);
    const id2 = be.createIoreqServer(GUEST, L.HVM_IOREQSRV_BUFIOREQ_LEGACY);
    expect(be.acquireIoreqPages(GUEST, id2, 0, [70, 64])).toBe(-E.EIO); // 70 mapped, 64 busy
    expect(s.m.p2mLookup(BE, 70) >>> L.P2M_MFN_SHIFT).toBe(s.io.servers(GUEST)[1]!.bufMfn);
  });
});
