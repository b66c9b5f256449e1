import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import * as A from "../src/xen/grant-abi.ts";
import { EEXIST, EFAULT, EINVAL, ENOSYS, EPERM, ESRCH } from "../src/xen/errno.ts";
import { XenConfigError } from "../src/xen/hypervisor.ts";
import { GrantTables } from "../src/xen/grant-table.ts";
import { RAM, SCRATCH_GPA, TABLE_GFN, WINDOW_GFN, world, type World } from "./grant-helpers.ts";

const LIST_GPA = SCRATCH_GPA + 1024;

function setupArgs(w: World, caller: number, dom: number, nr: number, list = LIST_GPA): DataView {
  const a = new DataView(new ArrayBuffer(L.GNTTAB_SETUP_TABLE_SIZE));
  a.setUint16(L.GNTTAB_SETUP_TABLE_DOM, dom, true);
  a.setUint32(L.GNTTAB_SETUP_TABLE_NR_FRAMES, nr, true);
  a.setInt16(L.GNTTAB_SETUP_TABLE_STATUS, 0x7777, true);
  a.setBigUint64(L.GNTTAB_SETUP_TABLE_FRAME_LIST, BigInt(list), true);
  w.m.write(caller, SCRATCH_GPA, new Uint8Array(a.buffer));
  return a;
}
const setupStatus = (w: World, caller: number) => new DataView(w.m.read(caller, SCRATCH_GPA, L.GNTTAB_SETUP_TABLE_SIZE).buffer).getInt16(L.GNTTAB_SETUP_TABLE_STATUS, true);

function atp(w: World, caller: number, dom: number, idx: number, gpfn: number, space = L.XENMAPSPACE_GRANT_TABLE): number {
  const a = new DataView(new ArrayBuffer(L.ADD_TO_PHYSMAP_SIZE));
  a.setUint16(L.ADD_TO_PHYSMAP_DOMID, dom, true);
  a.setUint32(L.ADD_TO_PHYSMAP_SPACE, space, true);
  a.setBigUint64(L.ADD_TO_PHYSMAP_IDX, BigInt(idx), true);
  a.setBigUint64(L.ADD_TO_PHYSMAP_GPFN, BigInt(gpfn), true);
  w.m.write(caller, SCRATCH_GPA, new Uint8Array(a.buffer));
  return w.gt.addToPhysmap(caller, SCRATCH_GPA);
}

describe.each(["release", "debug"] as const)("grant table setup (%s)", (build) => {
  it("starts each table with one frame in a Xen frame, placed where the guest asked", () => {
    const w = world(build);
    expect(w.g[1]!.querySize()).toEqual({ rc: 0, status: L.GNTST_OKAY, nrFrames: 1, maxFrames: 64 });
    const info = w.gt.info(1);
    expect(info.frameGfns).toEqual([TABLE_GFN]);
    expect(w.m.frameKind(info.frameMfns[0]!)).toBe(L.FRAME_XEN);
    expect(w.m.p2mLookup(1, TABLE_GFN)).toBe(info.frameMfns[0]! * 256 + L.P2M_XEN);
    expect(w.m.counter(L.CNT_GNT_TABLE_FRAMES)).toBe(3);
    expect(w.m.counter(L.CNT_GNT_TABLE_MAPS)).toBe(3);
    // What the guest writes through its mapping is what Xen reads.
    w.g[1]!.grantAccess(8, 0, 0x1234, true);
    expect(w.gt.entry(1, 8)).toEqual({ flags: L.GTF_PERMIT_ACCESS | L.GTF_READONLY, domid: 0, frame: 0x1234 });
  });

  it("setup_table grows the table and reports each frame's gfn (INVALID_GFN until placed)", () => {
    const w = world(build);
    setupArgs(w, 1, L.DOMID_SELF, 4);
    expect(w.gt.grantTableOp(1, L.GNTTABOP_SETUP_TABLE, SCRATCH_GPA, 1)).toBe(0);
    expect(setupStatus(w, 1)).toBe(L.GNTST_OKAY);
    const list = new DataView(w.m.read(1, LIST_GPA, 32).buffer);
    expect([0, 1, 2, 3].map((i) => list.getBigUint64(i * 8, true))).toEqual([BigInt(TABLE_GFN), A.INVALID_GFN, A.INVALID_GFN, A.INVALID_GFN]);
    expect(w.g[1]!.querySize().nrFrames).toBe(4);
    expect(w.m.counter(L.CNT_GNT_TABLE_FRAMES)).toBe(6);
    // The guest places the new frames and uses refs in them.
    expect(w.g[1]!.setup(4)).toBe(0);
    w.g[1]!.grantAccess(2047, 0, 9);
    expect(w.gt.entry(1, 2047).frame).toBe(9);
    expect(w.g[0]!.map([{ dom: 1, ref: 2047, hostAddr: WINDOW_GFN * 4096 }]).results[0]!.status).toBe(L.GNTST_OKAY);
    expect(w.m.counter(L.CNT_GNT_OP_SETUP_TABLE)).toBe(1);
  });

  it("setup_table statuses: general_error past the limit, bad_domain, permission_denied, bad_virt_addr", () => {
    const w = world(build, { maxFrames: 8 });
    const cases: [number, number, number, number, number][] = [
      // caller, dom, nr, frame list gpa, status
      [1, L.DOMID_SELF, 9, LIST_GPA, L.GNTST_GENERAL_ERROR],
      [1, L.DOMID_SELF, 8, LIST_GPA, L.GNTST_OKAY],
      [1, 9, 1, LIST_GPA, L.GNTST_BAD_DOMAIN],
      [1, 2, 1, LIST_GPA, L.GNTST_PERMISSION_DENIED], // dummy XSM: only for itself or from dom0
      [0, 2, 2, LIST_GPA, L.GNTST_OKAY],
      [1, L.DOMID_SELF, 2, RAM * 4096, L.GNTST_BAD_VIRT_ADDR], // frame list above RAM
    ];
    for (const [caller, dom, nr, list, want] of cases) {
      setupArgs(w, caller, dom, nr, list);
      expect(w.gt.grantTableOp(caller, L.GNTTABOP_SETUP_TABLE, SCRATCH_GPA, 1)).toBe(0);
      expect(setupStatus(w, caller), `d${caller} dom ${dom} nr ${nr}`).toBe(want);
    }
    expect(w.gt.info(2).nrFrames).toBe(2);
    expect(w.m.counter(L.CNT_GNT_FAILED)).toBe(4);
    expect(w.m.counter(L.CNT_GNT_ST_BAD_VIRT_ADDR)).toBe(1);
    expect(w.m.counter(L.CNT_XSM_DENIED)).toBe(1);
  });

  it("setup_table and query_size take exactly one struct and fault on unreadable or unwritable arguments", () => {
    const w = world(build);
    setupArgs(w, 1, L.DOMID_SELF, 1);
    for (const cmd of [L.GNTTABOP_SETUP_TABLE, L.GNTTABOP_QUERY_SIZE]) {
      expect(w.gt.grantTableOp(1, cmd, SCRATCH_GPA, 0)).toBe(-EINVAL);
      expect(w.gt.grantTableOp(1, cmd, SCRATCH_GPA, 2)).toBe(-EINVAL);
      expect(w.gt.grantTableOp(1, cmd, RAM * 4096, 1)).toBe(-EFAULT);
    }
    // Arguments in a page dom0 maps read-only: read, processed, status not writable.
    w.g[1]!.grantAccess(8, 0, 30, true);
    const q = new DataView(new ArrayBuffer(L.GNTTAB_QUERY_SIZE_SIZE));
    q.setUint16(L.GNTTAB_QUERY_SIZE_DOM, L.DOMID_SELF, true);
    w.m.write(1, 30 * 4096, new Uint8Array(q.buffer));
    expect(w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: WINDOW_GFN * 4096, readonly: true }]).results[0]!.status).toBe(0);
    expect(w.gt.grantTableOp(0, L.GNTTABOP_QUERY_SIZE, WINDOW_GFN * 4096, 1)).toBe(-EFAULT);
    expect(w.m.counter(L.CNT_GNT_OP_QUERY_SIZE)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_HC_ERRORS)).toBe(7);
  });

  it("query_size statuses: okay for itself and from dom0, bad_domain, permission_denied", () => {
    const w = world(build);
    expect(w.g[0]!.querySize(2)).toMatchObject({ rc: 0, status: L.GNTST_OKAY, nrFrames: 1 });
    expect(w.g[1]!.querySize(1)).toMatchObject({ rc: 0, status: L.GNTST_OKAY });
    expect(w.g[1]!.querySize(2)).toMatchObject({ rc: 0, status: L.GNTST_PERMISSION_DENIED });
    expect(w.g[1]!.querySize(77)).toMatchObject({ rc: 0, status: L.GNTST_BAD_DOMAIN });
    expect(w.m.counter(L.CNT_GNT_OP_QUERY_SIZE)).toBe(4);
    expect(w.m.counter(L.CNT_GNT_FAILED)).toBe(2);
  });

  it("returns -ENOSYS for commands the model lacks and -EINVAL for a negative count", () => {
    const w = world(build);
    for (const cmd of [L.GNTTABOP_DUMP_TABLE, L.GNTTABOP_TRANSFER, L.GNTTABOP_SET_VERSION, L.GNTTABOP_CACHE_FLUSH, 99]) {
      expect(w.gt.grantTableOp(1, cmd, SCRATCH_GPA, 1)).toBe(-ENOSYS);
    }
    expect(w.m.counter(L.CNT_GNT_OP_UNSUPPORTED)).toBe(5);
    expect(w.gt.grantTableOp(1, L.GNTTABOP_MAP_GRANT_REF, SCRATCH_GPA, -1)).toBe(-EINVAL);
    expect(w.gt.grantTableOp(1, L.GNTTABOP_COPY, SCRATCH_GPA, 2 ** 31)).toBe(-EINVAL);
    expect(w.gt.grantTableOp(1, L.GNTTABOP_MAP_GRANT_REF, SCRATCH_GPA, 0)).toBe(0);
    const before = w.m.counter(L.CNT_HYPERCALLS);
    w.gt.grantTableOp(1, L.GNTTABOP_UNMAP_GRANT_REF, SCRATCH_GPA, 0);
    expect(w.m.counter(L.CNT_HYPERCALLS)).toBe(before + 1);
    expect(() => w.gt.grantTableOp(9, L.GNTTABOP_COPY, 0, 0)).toThrow(XenConfigError);
  });

  it("add_to_physmap(grant_table): grows on demand, moves a placed frame, and refuses bad requests", () => {
    const w = world(build, { maxFrames: 4 });
    expect(atp(w, 1, L.DOMID_SELF, 2, TABLE_GFN + 2)).toBe(0); // grows to 3 frames
    expect(w.gt.info(1).frameGfns).toEqual([TABLE_GFN, -1, TABLE_GFN + 2]);
    expect(atp(w, 1, L.DOMID_SELF, 0, TABLE_GFN + 5)).toBe(0); // moves frame 0
    expect(w.m.p2mLookup(1, TABLE_GFN)).toBe(0);
    expect(w.gt.info(1).frameGfns[0]).toBe(TABLE_GFN + 5);
    expect(atp(w, 1, L.DOMID_SELF, 0, TABLE_GFN + 5)).toBe(0); // already there
    expect(atp(w, 1, L.DOMID_SELF, 4, TABLE_GFN + 9)).toBe(-EINVAL); // past max frames
    expect(atp(w, 1, L.DOMID_SELF, L.XENMAPIDX_GRANT_TABLE_STATUS, TABLE_GFN + 9)).toBe(-EINVAL); // v2 only
    expect(atp(w, 1, L.DOMID_SELF, 1, 7)).toBe(-EINVAL); // RAM
    expect(atp(w, 1, L.DOMID_SELF, 1, 2 ** 40)).toBe(-EINVAL); // beyond the p2m
    expect(atp(w, 1, L.DOMID_SELF, 1, TABLE_GFN + 2)).toBe(-EEXIST); // frame 2 sits there
    expect(atp(w, 1, L.DOMID_SELF, 1, TABLE_GFN + 9, 2)).toBe(-EINVAL); // another space
    expect(atp(w, 1, 2, 1, TABLE_GFN + 9)).toBe(-EPERM);
    expect(atp(w, 1, 55, 1, TABLE_GFN + 9)).toBe(-ESRCH);
    expect(atp(w, 0, 2, 1, TABLE_GFN + 9)).toBe(0); // dom0 may place another domain's frames
    expect(w.gt.info(2).frameGfns).toEqual([TABLE_GFN, TABLE_GFN + 9]);
    expect(w.gt.addToPhysmap(1, RAM * 4096)).toBe(-EFAULT);
  });

  it("hands out consecutive free refs above the reserved ones (gnttab_alloc_grant_reference_seq)", () => {
    const w = world(build);
    const g = w.g[1]!;
    expect(g.allocRefs(4)).toBe(L.GNTTAB_NR_RESERVED_ENTRIES);
    expect(g.allocRefs(2)).toBe(12);
    g.freeRefs(9, 2);
    expect(g.allocRefs(3)).toBe(14);
    expect(g.allocRefs(2)).toBe(9);
    expect(g.allocRefs(512)).toBe(-1);
    g.setup(2);
    expect(g.allocRefs(512)).toBe(17);
    expect(g.entryGpa(513)).toBe((TABLE_GFN + 1) * 4096 + 8);
  });

  it("rejects bad limits with a named error", () => {
    const w = world(build);
    expect(() => new GrantTables(w.hv, { maxFrames: 0 })).toThrow(/maxFrames/);
    expect(() => new GrantTables(w.hv, { maxMaptrackFrames: -1 })).toThrow(/maxMaptrackFrames/);
    w.g[1]!.setup(3);
    expect(() => w.gt.setLimits(1, { maxFrames: 2 })).toThrow(/below the 3 frames/);
    expect(() => w.gt.setLimits(9, { maxFrames: 2 })).toThrow(/no grant table for d9/);
    expect(() => w.g[1]!.grantAccess(3 * 512, 0, 1)).toThrow(/outside the 1536 entries/);
  });
});
