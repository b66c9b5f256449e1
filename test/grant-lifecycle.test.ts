import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { GuestGrants } from "../src/xen/grant-guest.ts";
import { RAM, SCRATCH_GPA, TABLE_GFN, WINDOW_GFN, fillPage, pattern, world } from "./grant-helpers.ts";

const at = (k: number) => (WINDOW_GFN + k) * 4096;

describe.each(["release", "debug"] as const)("grant state across domain death (%s)", (build) => {
  it("keeps a dead granter's frame readable by its grantee until unmapped, then frees it and the table", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, fillPage(w, 1, 5, 21));
    const r = w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]).results[0]!;
    const mfn = r.devBusAddr / 4096;
    const tableMfn = w.gt.info(1).frameMfns[0]!;
    w.hv.destroyDomain(1);
    expect(w.m.read(0, at(0), 4096)).toEqual(pattern(4096, 21));
    w.m.write(0, at(0), Uint8Array.of(7)); // still mapped writable, as Xen keeps the page
    expect(w.m.frameOwner(mfn)).toBe(1);
    expect(w.m.frameKind(tableMfn)).toBe(L.FRAME_XEN); // the table lives on for the release
    expect(w.m.counter(L.CNT_GNT_TABLE_FRAMES)).toBe(3);
    // Nothing new can be reached through the dead domain.
    expect(w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(1) }]).results[0]!.status).toBe(L.GNTST_BAD_DOMAIN);
    expect(w.g[0]!.copy([{ source: { domid: 1, ref: 8, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 }]).statuses).toEqual([L.GNTST_BAD_DOMAIN]);
    // A new domain may take the domid meanwhile; its table is its own.
    w.hv.createDomain({ domid: 1, name: "reborn", ramPages: RAM });
    const g1 = new GuestGrants(w.gt, 1, { baseGfn: TABLE_GFN, scratchGpa: SCRATCH_GPA });
    expect(g1.setup(1)).toBe(0);
    expect(g1.flags(8)).toBe(0);
    expect(w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(1) }]).results[0]!.status).toBe(L.GNTST_GENERAL_ERROR);
    // The old mapping unmaps normally; the orphan frame and the dead table go.
    expect(w.g[0]!.unmap([{ handle: r.handle, hostAddr: at(0) }]).statuses).toEqual([L.GNTST_OKAY]);
    expect(w.m.frameOwner(mfn)).toBe(-1);
    expect(w.m.frameKind(tableMfn)).toBe(L.FRAME_FREE);
    expect(w.m.counter(L.CNT_GNT_TABLE_FRAMES)).toBe(3); // dom0, d2 and the new d1
    expect(w.m.counter(L.CNT_GNT_PAGES_MAPPED)).toBe(0);
    expect(w.m.counter(L.CNT_GNT_MAPTRACK_IN_USE)).toBe(0);
  });

  it("frees a granter's table at once when nobody holds its grants", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, 5);
    const tableMfn = w.gt.info(1).frameMfns[0]!;
    const used = w.m.framesUsed();
    w.hv.destroyDomain(1);
    expect(w.m.frameKind(tableMfn)).toBe(L.FRAME_FREE);
    expect(w.m.counter(L.CNT_GNT_TABLE_FRAMES)).toBe(2);
    expect(w.m.framesUsed()).toBeLessThan(used);
  });

  it("releases a dying grantee's mappings: granter flags cleared, pins dropped, frame references gone", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 2, fillPage(w, 1, 5, 22));
    w.g[1]!.grantAccess(9, 2, fillPage(w, 1, 6, 23), true);
    const maps = w.g[2]!.map([
      { dom: 1, ref: 8, hostAddr: at(0) },
      { dom: 1, ref: 8, hostAddr: at(1), readonly: true },
      { dom: 1, ref: 9, hostAddr: at(2), readonly: true },
    ]).results;
    expect(maps.map((x) => x.status)).toEqual([0, 0, 0]);
    const mfn = maps[0]!.devBusAddr / 4096;
    expect(w.m.frameRefs(mfn)).toBe(2);
    expect(w.g[1]!.endAccess(8)).toBe(false);
    const clearsBefore = w.m.counter(L.CNT_GNT_FLAG_CLEARS);
    const flushesBefore = w.m.counter(L.CNT_GNT_TLB_FLUSHES);
    w.hv.destroyDomain(2);
    expect([w.g[1]!.flags(8), w.g[1]!.flags(9)]).toEqual([L.GTF_PERMIT_ACCESS, L.GTF_PERMIT_ACCESS | L.GTF_READONLY]);
    expect([w.gt.pin(1, 8), w.gt.pin(1, 9)]).toEqual([0, 0]);
    expect(w.m.frameRefs(mfn)).toBe(0);
    expect(w.m.counter(L.CNT_GNT_FLAG_CLEARS) - clearsBefore).toBe(3);
    expect(w.m.counter(L.CNT_GNT_TLB_FLUSHES)).toBe(flushesBefore); // a dead domain's TLBs need no flush
    expect(w.m.counter(L.CNT_GNT_PAGES_MAPPED)).toBe(0);
    expect(w.m.counter(L.CNT_GNT_MAPTRACK_IN_USE)).toBe(0);
    expect(w.g[1]!.endAccess(8)).toBe(true);
    expect(w.g[1]!.endAccess(9)).toBe(true);
    expect(w.m.read(1, 5 * 4096, 4096)).toEqual(pattern(4096, 22));
  });

  it("tears down a domain that maps its own grant without leaking a frame", () => {
    const w = world(build, {}, undefined, 0);
    const base = w.m.framesUsed();
    const d = w.hv.createDomain({ name: "self", ramPages: RAM });
    const g = new GuestGrants(w.gt, d.domid, { baseGfn: TABLE_GFN, scratchGpa: SCRATCH_GPA });
    g.setup(2);
    g.grantAccess(8, d.domid, fillPage(w, d.domid, 5, 24));
    expect(g.map([{ dom: d.domid, ref: 8, hostAddr: at(0) }]).results[0]!.status).toBe(0);
    expect(w.m.read(d.domid, at(0), 4096)).toEqual(pattern(4096, 24));
    w.hv.destroyDomain(d.domid);
    expect(w.m.framesUsed()).toBe(base);
    expect(w.m.counter(L.CNT_GNT_TABLE_FRAMES)).toBe(1);
  });

  it("re-syncs its gauges after a counters reset", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, 5);
    w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]);
    w.m.resetCounters();
    w.g[1]!.grantAccess(9, 0, 6);
    w.g[0]!.map([{ dom: 1, ref: 9, hostAddr: at(1) }]);
    expect(w.m.counter(L.CNT_GNT_PAGES_MAPPED)).toBe(2);
    expect(w.m.counter(L.CNT_GNT_MAPTRACK_IN_USE)).toBe(2);
  });
});
