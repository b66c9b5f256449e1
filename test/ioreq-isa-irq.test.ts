// dm_op set_isa_irq_level (x86) and set_irq_level on the riscv64 model: the device model's
// interrupt lines, their success paths and every refusal Xen makes.
import { describe, expect, it } from "vitest";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { Hypervisor, type XenArch } from "../src/xen/hypervisor.ts";
import { EventChannels } from "../src/xen/evtchn.ts";
import { IoreqServers } from "../src/xen/ioreq.ts";
import { Privcmd } from "../src/xen/privcmd.ts";
import type { XsmOp, XsmPolicy } from "../src/xen/xsm.ts";
import * as E from "../src/xen/errno.ts";

const GUEST = 1;
const BE = 2; // device-model target of the guest
const DRV = 3; // a driver domain with no privilege over the guest
const SCRATCH = 2 * L.PAGE_SIZE;

function setup(arch: XenArch, build: "release" | "debug") {
  const m = new Machine({ build });
  const hv = new Hypervisor({ machine: m, arch });
  const io = new IoreqServers(hv, new EventChannels(hv), { nrSpis: 32 });
  hv.createDomain({ name: "dom0", ramPages: 64, control: true });
  hv.createDomain({ domid: GUEST, name: "guest", ramPages: 64 });
  hv.createDomain({ domid: BE, name: "backend", ramPages: 64, target: GUEST });
  hv.createDomain({ domid: DRV, name: "drv", ramPages: 64, driverDomain: true });
  const pc = (domid: number) => new Privcmd({ ioreq: io, domid, scratchGfn: 2 });
  /** A struct xen_dm_op for set_isa_irq_level written byte by byte, with the pad word chosen. */
  const raw = (caller: number, isaIrq: number, level: number, pad: number, size = L.DM_OP_U + L.DM_OP_SET_ISA_IRQ_LEVEL_SIZE) => {
    const b = new DataView(new ArrayBuffer(L.DM_OP_SIZE));
    b.setUint32(L.DM_OP_OP, L.XEN_DMOP_SET_ISA_IRQ_LEVEL, true);
    b.setUint32(L.DM_OP_PAD, pad, true);
    b.setUint8(L.DM_OP_U + L.DM_OP_SET_ISA_IRQ_LEVEL_ISA_IRQ, isaIrq);
    b.setUint8(L.DM_OP_U + L.DM_OP_SET_ISA_IRQ_LEVEL_LEVEL, level);
    m.write(caller, SCRATCH, new Uint8Array(b.buffer));
    return io.dmOp(caller, GUEST, SCRATCH, size);
  };
  return { m, hv, io, pc, raw };
}

class DenyDmOp implements XsmPolicy {
  readonly name = "flask-test";
  readonly denyErrno = E.EACCES;
  check(op: XsmOp): boolean {
    return op !== "dm_op";
  }
}

describe.each(["release", "debug"] as const)("device-model interrupt lines (%s)", (build) => {
  it("x86 set_isa_irq_level: a level line per ISA IRQ; re-asserting a high line is no new interrupt", () => {
    const s = setup("x86-64", build);
    const be = s.pc(BE);
    expect(be.setIsaIrqLevel(GUEST, 10, 1)).toBe(0);
    expect(s.io.isaIrq(GUEST, 10)).toEqual({ level: 1, assertions: 1 });
    expect(be.setIsaIrqLevel(GUEST, 10, 1)).toBe(0);
    expect(be.setIsaIrqLevel(GUEST, 10, 0)).toBe(0);
    expect(s.io.isaIrq(GUEST, 10)).toEqual({ level: 0, assertions: 2 });
    expect(be.setIsaIrqLevel(GUEST, 10, 1)).toBe(0);
    expect(be.setIsaIrqLevel(GUEST, 15, 1)).toBe(0); // the highest line
    expect(be.setIsaIrqLevel(GUEST, 0, 0)).toBe(0); // lowering a line never raised
    expect(s.io.isaIrq(GUEST, 10)).toEqual({ level: 1, assertions: 3 });
    expect(s.io.isaIrq(GUEST, 15)).toEqual({ level: 1, assertions: 1 });
    expect(s.io.isaIrq(GUEST, 0)).toEqual({ level: 0, assertions: 0 });
    expect(s.io.spi(GUEST, 10)).toEqual({ level: 0, assertions: 0 }); // ISA lines are not SPIs
    expect(s.m.counter(L.CNT_IOREQ_ISA_IRQ_ASSERTIONS)).toBe(4);
    expect(s.m.counter(L.CNT_IOREQ_ISA_IRQ_RAISED)).toBe(3);
    expect(s.m.counter(L.CNT_IOREQ_DM_OPS)).toBe(6);
    expect(s.m.counter(L.CNT_IOREQ_DM_OP_ERRORS)).toBe(0);
    expect(s.m.counter(L.CNT_IOREQ_IRQ_ASSERTIONS)).toBe(0);
    // Dom0 may drive the line too (it is privileged over every guest).
    expect(s.pc(0).setIsaIrqLevel(GUEST, 5, 1)).toBe(0);
    expect(s.io.isaIrq(GUEST, 5).level).toBe(1);
  });

  it("x86 set_isa_irq_level refuses what Xen refuses and leaves the line alone", () => {
    const s = setup("x86-64", build);
    const be = s.pc(BE);
    expect(be.setIsaIrqLevel(GUEST, 16, 1)).toBe(-E.EINVAL); // isa_irq > 15
    expect(be.setIsaIrqLevel(GUEST, 255, 1)).toBe(-E.EINVAL);
    expect(be.setIsaIrqLevel(GUEST, 16, 7)).toBe(-E.EINVAL); // the line is checked first, same errno
    expect(be.setIsaIrqLevel(GUEST, 10, 2)).toBe(-E.EINVAL); // level neither 0 nor 1
    expect(s.raw(BE, 10, 1, 1)).toBe(-E.EINVAL); // xen_dm_op.pad not zero
    expect(s.raw(BE, 10, 1, 0, L.DM_OP_U + 1)).toBe(-E.EFAULT); // buffer shorter than the op's struct
    expect(s.raw(BE, 10, 1, 0, L.DM_OP_U - 1)).toBe(-E.EFAULT); // shorter than the header
    expect(s.pc(DRV).setIsaIrqLevel(GUEST, 10, 1)).toBe(-E.EPERM); // not the guest's device model (dummy XSM)
    expect(s.pc(GUEST).setIsaIrqLevel(GUEST, 10, 1)).toBe(-E.EPERM); // a domain on itself (rcu_lock_remote_domain_by_id)
    expect(be.setIsaIrqLevel(9, 10, 1)).toBe(-E.ESRCH); // no such domain
    expect(s.io.isaIrq(GUEST, 10)).toEqual({ level: 0, assertions: 0 });
    expect(s.m.counter(L.CNT_IOREQ_DM_OP_ERRORS)).toBe(10);
    expect(s.m.counter(L.CNT_IOREQ_DM_OP_DENIED)).toBe(1);
    expect(s.m.counter(L.CNT_IOREQ_ISA_IRQ_ASSERTIONS)).toBe(0);
    // The same call goes through once the bytes are right.
    expect(s.raw(BE, 10, 1, 0)).toBe(0);
    expect(s.io.isaIrq(GUEST, 10)).toEqual({ level: 1, assertions: 1 });
    // A Flask-style policy denies dm_op with its own errno, even to the device model.
    s.hv.xsm = new DenyDmOp();
    expect(be.setIsaIrqLevel(GUEST, 10, 0)).toBe(-E.EACCES);
    expect(s.io.isaIrq(GUEST, 10).level).toBe(1);
  });

  it("each architecture has its own op: ISA lines on x86 only, set_irq_level on arm64 and the riscv64 model", () => {
    const x86 = setup("x86-64", build);
    expect(x86.pc(BE).setIrqLevel(GUEST, 40, 1)).toBe(-E.EOPNOTSUPP);
    for (const arch of ["arm64", "riscv64"] as const) {
      const s = setup(arch, build);
      const be = s.pc(BE);
      expect(be.setIsaIrqLevel(GUEST, 10, 1)).toBe(-E.EOPNOTSUPP);
      expect(s.raw(BE, 10, 1, 1)).toBe(-E.EINVAL); // the header's pad is checked before the op
      expect(be.setIrqLevel(GUEST, 33, 1)).toBe(0);
      expect(be.setIrqLevel(GUEST, 33, 0)).toBe(0);
      expect(be.setIrqLevel(GUEST, 33, 1)).toBe(0);
      expect(s.io.spi(GUEST, 33)).toEqual({ level: 1, assertions: 2 });
      expect(be.setIrqLevel(GUEST, 31, 1)).toBe(-E.EINVAL); // numbered as Arm: below 32 is not a device line
      expect(be.setIrqLevel(GUEST, 64, 1)).toBe(-E.EINVAL); // beyond the 32 lines configured
      expect(be.setIrqLevel(GUEST, 40, 2)).toBe(-E.EINVAL);
      expect(s.pc(DRV).setIrqLevel(GUEST, 40, 1)).toBe(-E.EPERM);
      expect(s.m.counter(L.CNT_IOREQ_IRQ_RAISED)).toBe(2);
      expect(s.m.counter(L.CNT_IOREQ_ISA_IRQ_ASSERTIONS)).toBe(0);
    }
  });
});
