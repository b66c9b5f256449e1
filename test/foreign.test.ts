import { describe, expect, it } from "vitest";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { Hypervisor, XenConfigError } from "../src/xen/hypervisor.ts";
import { EventChannels } from "../src/xen/evtchn.ts";
import { IoreqServers } from "../src/xen/ioreq.ts";
import { ForeignMapping } from "../src/xen/foreign.ts";
import { Privcmd } from "../src/xen/privcmd.ts";
import type { XsmOp, XsmPolicy } from "../src/xen/xsm.ts";
import * as E from "../src/xen/errno.ts";

const GUEST = 1;
const BE = 2; // device-model target of the guest
const DRV = 3; // driver domain, no privilege over the guest
const W = 64; // first gfn above the backends' 64 pages of RAM

class DenyForeign implements XsmPolicy {
  readonly name = "flask-test";
  readonly denyErrno = E.EACCES;
  check(op: XsmOp): boolean {
    return op !== "map_gmfn_foreign";
  }
}

const pattern = (gfn: number) => Uint8Array.from({ length: 4096 }, (_, i) => (gfn * 7 + i) & 0xff);

function setup(build: "release" | "debug") {
  const m = new Machine({ build });
  const hv = new Hypervisor({ machine: m, arch: "arm64" });
  const ev = new EventChannels(hv);
  const io = new IoreqServers(hv, ev);
  const fm = new ForeignMapping(hv);
  hv.createDomain({ name: "dom0", ramPages: 64, control: true });
  hv.createDomain({ domid: GUEST, name: "guest", ramPages: 256 });
  hv.createDomain({ domid: BE, name: "backend", ramPages: 64, target: GUEST });
  hv.createDomain({ domid: DRV, name: "drv", ramPages: 64, driverDomain: true });
  for (const g of [3, 4, 5]) m.write(GUEST, g * 4096, pattern(g));
  const pc = (domid: number) => new Privcmd({ ioreq: io, foreign: fm, domid, scratchGfn: 1 });
  return { m, hv, ev, io, fm, pc };
}

describe.each(["release", "debug"] as const)("foreign mapping (%s)", (build) => {
  for (const [who, domid] of [["dom0", 0], ["the guest's device-model target", BE]] as const) {
    it(`${who} maps guest frames and reads and writes them in place`, () => {
      const s = setup(build);
      const pc = s.pc(domid);
      expect(pc.mapForeign(GUEST, [3, 4, 5], [W, W + 1, W + 2])).toEqual([0, 0, 0]);
      expect(s.m.read(domid, (W + 1) * 4096, 4096)).toEqual(pattern(4));
      s.m.write(domid, W * 4096 + 10, Uint8Array.of(0xee));
      expect(s.m.read(GUEST, 3 * 4096 + 10, 1)[0]).toBe(0xee);
      expect(s.m.p2mLookup(domid, W) & L.P2M_TYPE_MASK).toBe(L.P2M_FOREIGN);
      expect(s.m.frameRefs(s.m.populate(GUEST, 4))).toBe(1);
      expect(s.m.counter(L.CNT_FOREIGN_MAPS)).toBe(3);
      expect(s.m.counter(L.CNT_FOREIGN_BATCHES)).toBe(1);
      expect(s.fm.exposure(domid, GUEST)).toEqual({ reachable: 256, mapped: 3 });
      // An unpopulated guest frame is populated by the map (get_page_from_gfn with P2M_ALLOC).
      expect(pc.mapForeign(GUEST, [200], [W + 3])).toEqual([0]);
      expect(s.m.domainInfo(GUEST).populated).toBe(4);
      expect(pc.unmapGfn(W + 1)).toBe(0);
      expect(s.m.frameRefs(s.m.populate(GUEST, 4))).toBe(0);
      expect(s.m.counter(L.CNT_FOREIGN_UNMAPS)).toBe(1);
      expect(s.fm.exposure(domid, GUEST)).toEqual({ reachable: 256, mapped: 3 });
      expect(s.fm.entries(domid).map((e) => e.ownerGfn)).toEqual([3, 5, 200]);
    });
  }

  it("a plain driver domain is refused per entry with -EPERM, each denial counted", () => {
    const s = setup(build);
    expect(s.pc(DRV).mapForeign(GUEST, [3, 4, 5], [W, W + 1, W + 2])).toEqual([-E.EPERM, -E.EPERM, -E.EPERM]);
    expect(s.m.counter(L.CNT_FOREIGN_DENIED)).toBe(3);
    expect(s.m.counter(L.CNT_XSM_DENIED)).toBe(3);
    expect(s.m.counter(L.CNT_FOREIGN_MAPS)).toBe(0);
    expect(s.m.p2mLookup(DRV, W)).toBe(0);
    expect(s.fm.exposure(DRV, GUEST)).toEqual({ reachable: 0, mapped: 0 });
    expect(s.fm.guestExposure(GUEST)).toEqual({
      backends: [{ domid: 0, reachable: 256, mapped: 0 }, { domid: BE, reachable: 256, mapped: 0 }],
      mappedPages: 0,
    });
    // The device model of the guest has no privilege over other domains.
    expect(s.pc(BE).mapForeign(DRV, [1], [W])).toEqual([-E.EPERM]);
    s.hv.xsm = new DenyForeign();
    expect(s.pc(0).mapForeign(GUEST, [3], [W])).toEqual([-E.EACCES]); // a Flask-style denial
  });

  it("per-entry errors: no such domain, itself, not RAM, bad target gfn, busy gfn; a foreign entry is replaced", () => {
    const s = setup(build);
    const pc = s.pc(0);
    expect(pc.mapForeign(9, [3], [W])).toEqual([-E.ESRCH]);
    expect(pc.mapForeign(L.DOMID_SELF, [3], [W])).toEqual([-E.EINVAL]);
    expect(pc.mapForeign(0, [3], [W])).toEqual([-E.EINVAL]);
    const si = s.ev.sharedInfo(0).gfn;
    const maxGfn = s.m.domainInfo(0).maxGfn;
    expect(pc.mapForeign(GUEST, [256, 3, 3, 3, 3], [W, 10, maxGfn, si, W])).toEqual([-E.EINVAL, -E.EINVAL, -E.EINVAL, -E.EBUSY, 0]);
    expect(s.m.counter(L.CNT_FOREIGN_ERRORS)).toBe(7);
    expect(pc.mapForeign(GUEST, [4], [W])).toEqual([0]); // replaces gfn 3's entry
    expect(s.m.read(0, W * 4096, 4096)).toEqual(pattern(4));
    expect(s.m.frameRefs(s.m.populate(GUEST, 3))).toBe(0);
    expect(s.m.counter(L.CNT_FOREIGN_UNMAPS)).toBe(1);
    expect(s.fm.exposure(0, GUEST).mapped).toBe(1);
  });

  it("call-level errors: -EFAULT, -EOPNOTSUPP spaces, -ESRCH, -EPERM on another's physmap", () => {
    const s = setup(build);
    const pc = s.pc(BE);
    const batch = (f: (a: DataView) => void) => {
      const a = new DataView(new ArrayBuffer(L.ADD_TO_PHYSMAP_BATCH_SIZE));
      a.setUint16(L.ADD_TO_PHYSMAP_BATCH_DOMID, L.DOMID_SELF, true);
      a.setUint16(L.ADD_TO_PHYSMAP_BATCH_SPACE, L.XENMAPSPACE_GMFN_FOREIGN, true);
      a.setUint16(L.ADD_TO_PHYSMAP_BATCH_SIZE_OFF, 1, true);
      a.setUint16(L.ADD_TO_PHYSMAP_BATCH_FOREIGN_DOMID, GUEST, true);
      a.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_IDXS, 4096n + 64n, true);
      a.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_GPFNS, 4096n + 72n, true);
      a.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_ERRS, 4096n + 80n, true);
      f(a);
      s.m.write(BE, 4096, new Uint8Array(a.buffer));
      s.m.write(BE, 4096 + 64, Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0, W, 0, 0, 0, 0, 0, 0, 0));
      return s.fm.addToPhysmapBatch(BE, 4096);
    };
    expect(s.fm.addToPhysmapBatch(BE, W * 4096)).toBe(-E.EFAULT);
    expect(batch((a) => a.setUint16(L.ADD_TO_PHYSMAP_BATCH_SPACE, L.XENMAPSPACE_GMFN_RANGE, true))).toBe(-E.EOPNOTSUPP);
    expect(batch((a) => a.setUint16(L.ADD_TO_PHYSMAP_BATCH_SPACE, L.XENMAPSPACE_SHARED_INFO, true))).toBe(-E.EOPNOTSUPP);
    expect(batch((a) => a.setUint16(L.ADD_TO_PHYSMAP_BATCH_DOMID, 9, true))).toBe(-E.ESRCH);
    expect(batch((a) => a.setUint16(L.ADD_TO_PHYSMAP_BATCH_DOMID, DRV, true))).toBe(-E.EPERM);
    expect(batch((a) => a.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_IDXS, BigInt(W * 4096), true))).toBe(-E.EFAULT);
    expect(batch((a) => a.setBigUint64(L.ADD_TO_PHYSMAP_BATCH_ERRS, 2n ** 60n, true))).toBe(-E.EFAULT); // mapped, then the write fails
    expect(s.fm.entries(BE)).toHaveLength(1);
    expect(batch((a) => a.setUint16(L.ADD_TO_PHYSMAP_BATCH_SIZE_OFF, 0, true))).toBe(0);
    // The guest's device model may edit the guest's physmap (XSM_TARGET).
    expect(batch((a) => a.setUint16(L.ADD_TO_PHYSMAP_BATCH_DOMID, GUEST, true))).toBe(0);
    expect(new DataView(s.m.read(BE, 4096 + 80, 4).buffer).getInt32(0, true)).toBe(-E.EINVAL); // foreign == itself
    expect(s.fm.memoryOp(BE, L.XENMEM_ACQUIRE_RESOURCE, 0)).toBe(-E.ENOSYS);
    expect(() => s.fm.memoryOp(42, L.XENMEM_ADD_TO_PHYSMAP_BATCH, 0)).toThrow(XenConfigError);
    expect(() => s.pc(BE).mapForeign(GUEST, [1], [])).toThrow(XenConfigError);
    expect(pc.mapForeign(GUEST, [], [])).toEqual([]);
  });

  it("remove_from_physmap: foreign and Xen entries go; everything else is an error", () => {
    const s = setup(build);
    const pc = s.pc(BE);
    expect(pc.mapForeign(GUEST, [3], [W])).toEqual([0]);
    expect(pc.unmapGfn(W)).toBe(0);
    expect(pc.unmapGfn(W)).toBe(-E.ENOENT);
    expect(pc.unmapGfn(s.m.domainInfo(BE).maxGfn)).toBe(-E.ENOENT);
    expect(pc.unmapGfn(5)).toBe(-E.EOPNOTSUPP); // RAM: ballooning is not modelled
    const mfn = s.m.populate(GUEST, 9);
    expect(s.m.p2mMap(BE, W + 1, mfn, L.P2M_GRANT)).toBe(L.MST_OK);
    expect(pc.unmapGfn(W + 1)).toBe(-E.ENOENT); // a grant mapping is GNTTABOP_unmap's
    // An acquired ioreq page leaves as privcmd unmaps resource mappings.
    const id = pc.createIoreqServer(GUEST);
    expect(pc.acquireIoreqPages(GUEST, id, 1, [W + 2])).toBe(0);
    expect(pc.unmapGfn(W + 2)).toBe(0);
    expect(s.m.p2mLookup(BE, W + 2)).toBe(0);
    const rm = (domid: number, gpfn: bigint) => {
      const a = new DataView(new ArrayBuffer(L.REMOVE_FROM_PHYSMAP_SIZE));
      a.setUint16(L.REMOVE_FROM_PHYSMAP_DOMID, domid, true);
      a.setBigUint64(L.REMOVE_FROM_PHYSMAP_GPFN, gpfn, true);
      s.m.write(BE, 4096, new Uint8Array(a.buffer));
      return s.fm.memoryOp(BE, L.XENMEM_REMOVE_FROM_PHYSMAP, 4096);
    };
    expect(rm(9, 64n)).toBe(-E.ESRCH);
    expect(rm(DRV, 64n)).toBe(-E.EPERM);
    expect(rm(BE, 2n ** 63n)).toBe(-E.ENOENT);
    expect(s.fm.removeFromPhysmap(BE, W * 4096)).toBe(-E.EFAULT);
  });

  it("a guest destroyed while foreign-mapped: the backend keeps the frames until it unmaps", () => {
    const s = setup(build);
    const pc = s.pc(BE);
    expect(pc.mapForeign(GUEST, [3, 4], [W, W + 1])).toEqual([0, 0]);
    const mfn = s.m.p2mLookup(BE, W) >>> L.P2M_MFN_SHIFT;
    s.hv.destroyDomain(GUEST);
    expect(s.m.read(BE, W * 4096, 4096)).toEqual(pattern(3)); // still there (orphan)
    expect(s.m.frameRefs(mfn)).toBe(1);
    expect(s.fm.exposure(BE, GUEST)).toEqual({ reachable: 0, mapped: 2 });
    // A new guest with the same domid: the old frames are not its pages.
    s.hv.createDomain({ domid: GUEST, name: "guest2", ramPages: 256 });
    expect(s.fm.guestExposure(GUEST).mappedPages).toBe(0);
    expect(pc.unmapGfn(W)).toBe(0);
    expect(s.m.frameKind(mfn)).toBe(L.FRAME_FREE); // the last reference freed the orphan
    expect(pc.unmapGfn(W + 1)).toBe(0);
    expect(s.fm.exposure(BE, GUEST).mapped).toBe(0);
  });

  it("a backend destroyed while mapping drops its entries and the guest's references", () => {
    const s = setup(build);
    expect(s.pc(BE).mapForeign(GUEST, [3, 4], [W, W + 1])).toEqual([0, 0]);
    expect(s.pc(0).mapForeign(GUEST, [4], [W])).toEqual([0]);
    expect(s.fm.guestExposure(GUEST)).toEqual({
      backends: [{ domid: 0, reachable: 256, mapped: 1 }, { domid: BE, reachable: 256, mapped: 2 }],
      mappedPages: 2,
    });
    s.hv.destroyDomain(BE);
    expect(s.m.counter(L.CNT_FOREIGN_TEARDOWN)).toBe(2);
    expect(s.m.frameRefs(s.m.populate(GUEST, 3))).toBe(0);
    expect(s.m.frameRefs(s.m.populate(GUEST, 4))).toBe(1); // dom0's entry remains
    expect(s.fm.guestExposure(GUEST)).toEqual({ backends: [{ domid: 0, reachable: 256, mapped: 1 }], mappedPages: 1 });
    expect(s.m.read(GUEST, 3 * 4096, 4096)).toEqual(pattern(3));
  });
});
