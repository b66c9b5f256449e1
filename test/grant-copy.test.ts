import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { GrantCopyBatch } from "../src/wasm/grant.ts";
import { newHostCounters } from "../src/wasm/ts-guest-memory.ts";
import { SiloPolicy } from "../src/xen/xsm.ts";
import { X86GuestAtomics } from "../src/xen/atomics.ts";
import { EFAULT } from "../src/xen/errno.ts";
import { RAM, WINDOW_GFN, fillPage, pattern, world } from "./grant-helpers.ts";

const SELF = L.DOMID_SELF;

/** A machine with two domains' RAM, a Xen frame, a freed frame and an orphan, built the same
 *  way every time so two instances have the same mfns. */
function copyMachine(build: "release" | "debug") {
  const m = new Machine({ build });
  for (const d of [1, 2, 3]) m.createDomain(d, 16);
  for (const d of [1, 2, 3]) for (let g = 0; g < 6; g++) m.write(d, g * 4096, pattern(4096, d * 10 + g));
  const ram = (d: number) => Array.from({ length: 6 }, (_, g) => m.populate(d, g));
  const d1 = ram(1), d2 = ram(2), d3 = ram(3);
  const xen = m.allocXenFrame();
  const freed = m.allocXenFrame();
  m.freeXenFrame(freed);
  expect(m.p2mMap(2, 20, d3[0]!, L.P2M_FOREIGN)).toBe(L.MST_OK);
  m.destroyDomain(3); // d3[0] lives on as an orphan
  return { m, d1, d2, orphan: d3[0]!, xen, freed };
}

describe.each(["release", "debug"] as const)("grant copy kernel (%s)", (build) => {
  it("matches the plain-TS reference on random batches, bad records included", () => {
    const rec = fc.record({
      s: fc.nat(15), d: fc.nat(15), sd: fc.constantFrom(1, 2, 3, 0x7ff2), dd: fc.constantFrom(1, 2, 3, 0x7ff2),
      so: fc.nat(4200), dof: fc.nat(4200), len: fc.nat(4200),
    });
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 40 }), (recs) => {
        const a = copyMachine(build);
        const b = copyMachine(build);
        const pick = (w: typeof a, i: number) => [...w.d1, ...w.d2, w.orphan, w.xen, w.freed, 0, 99999][i % 17]!;
        const ka = new GrantCopyBatch(a.m);
        const kb = new GrantCopyBatch(b.m);
        for (const r of recs) {
          ka.add(r.sd, pick(a, r.s), r.so, r.dd, pick(a, r.d), r.dof, r.len);
          kb.add(r.sd, pick(b, r.s), r.so, r.dd, pick(b, r.d), r.dof, r.len);
        }
        a.m.resetCounters();
        const host = newHostCounters();
        const sa = ka.run();
        const sb = kb.runReference(host);
        expect(Array.from(sa)).toEqual(Array.from(sb));
        for (const d of [1, 2]) expect(a.m.read(d, 0, 6 * 4096)).toEqual(b.m.read(d, 0, 6 * 4096));
        expect(a.m.read(2, 20 * 4096, 4096)).toEqual(b.m.read(2, 20 * 4096, 4096));
        for (const id of [L.CNT_GNT_COPIES, L.CNT_GNT_COPY_BYTES, L.CNT_GNT_COPY_REFUSED]) {
          expect(a.m.counter(id)).toBe(host[id]);
        }
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  it("refuses frames that are not live RAM of the named owner, and ranges past the frame", () => {
    const { m, d1, d2, orphan, xen, freed } = copyMachine(build);
    const k = new GrantCopyBatch(m);
    k.add(1, d1[0]!, 0, 2, d2[0]!, 0, 4096); // ok
    k.add(1, d1[0]!, 1, 2, d2[0]!, 0, 4096); // source range
    k.add(1, d1[0]!, 0, 2, d2[0]!, 4000, 97); // dest range
    k.add(2, d1[0]!, 0, 2, d2[0]!, 0, 1); // wrong source owner
    k.add(1, d1[0]!, 0, 2, xen, 0, 1); // a Xen frame
    k.add(1, d1[0]!, 0, 2, freed, 0, 1); // a free frame
    k.add(3, orphan, 0, 2, d2[1]!, 0, 1); // an orphan
    k.add(1, 0, 0, 2, d2[1]!, 0, 1); // the zero frame
    k.add(1, d1[1]!, 100, 1, d1[1]!, 0, 300); // overlapping, same frame
    expect(Array.from(k.run())).toEqual([
      L.MST_OK, L.MST_RANGE, L.MST_RANGE, L.MST_NOT_OWNER, L.MST_BAD_MFN, L.MST_BAD_MFN, L.MST_NOT_OWNER, L.MST_BAD_MFN, L.MST_OK,
    ]);
    expect(m.read(2, 0, 4096)).toEqual(pattern(4096, 10));
    expect(m.read(1, 4096, 300)).toEqual(pattern(4096, 11).subarray(100, 400));
    expect(m.counter(L.CNT_GNT_COPY_REFUSED)).toBe(7);
    expect(m.counter(L.CNT_GNT_COPY_BYTES)).toBe(4096 + 300);
  });
});

describe.each(["release", "debug"] as const)("GNTTABOP_copy (%s)", (build) => {
  it("copies from a grant into the caller's frame, pinning and releasing the entry", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, fillPage(w, 1, 5, 3), true);
    const { rc, statuses } = w.g[0]!.copy([{ source: { domid: 1, ref: 8, offset: 10 }, dest: { gmfn: 20, offset: 30 }, len: 100 }]);
    expect(rc).toBe(0);
    expect(statuses).toEqual([L.GNTST_OKAY]);
    expect(w.m.read(0, 20 * 4096 + 30, 100)).toEqual(pattern(4096, 3).subarray(10, 110));
    expect(w.g[1]!.flags(8)).toBe(L.GTF_PERMIT_ACCESS | L.GTF_READONLY);
    expect(w.gt.pin(1, 8)).toBe(0);
    expect(w.m.counter(L.CNT_GNT_OP_COPY)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_COPIES)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_COPY_BYTES)).toBe(100);
    expect(w.m.counter(L.CNT_GNT_CMPXCHG)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_FLAG_CLEARS)).toBe(1);
  });

  it("copies into a writable grant and between two granters' grants", () => {
    const w = world(build);
    w.g[1]!.grantAccess(9, 0, 6);
    w.g[2]!.grantAccess(9, 0, fillPage(w, 2, 7, 4), true);
    w.m.write(0, 40 * 4096, pattern(4096, 5));
    const { statuses } = w.g[0]!.copy([
      { source: { gmfn: 40, offset: 0 }, dest: { domid: 1, ref: 9, offset: 0 }, len: 4096 },
      { source: { domid: 2, ref: 9, offset: 0 }, dest: { domid: 1, ref: 9, offset: 2048 }, len: 2048 },
    ]);
    expect(statuses).toEqual([0, 0]);
    expect(w.m.read(1, 6 * 4096, 2048)).toEqual(pattern(4096, 5).subarray(0, 2048));
    expect(w.m.read(1, 6 * 4096 + 2048, 2048)).toEqual(pattern(4096, 4).subarray(0, 2048));
    expect([w.g[1]!.flags(9), w.g[2]!.flags(9)]).toEqual([L.GTF_PERMIT_ACCESS, L.GTF_PERMIT_ACCESS | L.GTF_READONLY]);
  });

  it("keeps a claimed buffer across consecutive ops on the same grant, as Xen does", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, fillPage(w, 1, 5, 6));
    w.g[1]!.grantAccess(9, 0, fillPage(w, 1, 6, 7));
    const same = Array.from({ length: 10 }, (_, i) => ({ source: { domid: 1, ref: 8, offset: i * 400 }, dest: { gmfn: 30, offset: i * 400 }, len: 400 }));
    expect(w.g[0]!.copy(same).statuses.every((s) => s === 0)).toBe(true);
    expect(w.m.counter(L.CNT_GNT_CMPXCHG)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_FLAG_CLEARS)).toBe(1);
    const alternating = Array.from({ length: 4 }, (_, i) => ({ source: { domid: 1, ref: 8 + (i % 2), offset: 0 }, dest: { gmfn: 31, offset: 0 }, len: 8 }));
    w.g[0]!.copy(alternating);
    expect(w.m.counter(L.CNT_GNT_CMPXCHG)).toBe(5);
    expect(w.m.counter(L.CNT_GNT_FLAG_CLEARS)).toBe(5);
    expect(w.m.read(0, 31 * 4096, 8)).toEqual(pattern(4096, 7).subarray(0, 8));
  });

  it("copies from a grant the caller also maps without touching the entry again", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, fillPage(w, 1, 5, 8));
    expect(w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: WINDOW_GFN * 4096 }]).results[0]!.status).toBe(0);
    expect(w.g[0]!.copy([{ source: { domid: 1, ref: 8, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 64 }]).statuses).toEqual([0]);
    expect(w.m.counter(L.CNT_GNT_CMPXCHG)).toBe(1);
    expect(w.gt.pin(1, 8)).toBe(1);
    expect(w.g[1]!.flags(8)).toBe(L.GTF_PERMIT_ACCESS | L.GTF_READING | L.GTF_WRITING);
  });

  it("returns each copy error status exactly and releases whatever the op had claimed", () => {
    const w = world(build);
    const g1 = w.g[1]!;
    g1.grantAccess(8, 0, 5, true); // read-only
    g1.grantAccess(9, 0, 6);
    g1.grantAccess(10, 2, 7); // for d2
    g1.grantAccess(11, 0, RAM + 1); // not RAM
    expect(w.g[0]!.map([{ dom: 1, ref: 9, hostAddr: WINDOW_GFN * 4096 }]).results[0]!.status).toBe(0);
    const src = { domid: 1, ref: 9, offset: 0 };
    const cases: [string, Parameters<typeof w.g[0]["copy"]>[0][0], number][] = [
      ["gmfn of another domain", { source: { domid: 1, gmfn: 5, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 }, L.GNTST_PERMISSION_DENIED],
      ["no such domain", { source: { domid: 33, ref: 8, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 }, L.GNTST_BAD_DOMAIN],
      ["ref beyond the table", { source: { domid: 1, ref: 4096, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 }, L.GNTST_BAD_GNTREF],
      ["write into a read-only grant", { source: { gmfn: 30, offset: 0 }, dest: { domid: 1, ref: 8, offset: 0 }, len: 8 }, L.GNTST_GENERAL_ERROR],
      ["grant for another domain", { source: { domid: 1, ref: 10, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 }, L.GNTST_GENERAL_ERROR],
      ["never granted", { source: { domid: 1, ref: 100, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 }, L.GNTST_GENERAL_ERROR],
      ["source past the page", { source: { domid: 1, ref: 8, offset: 4000 }, dest: { gmfn: 30, offset: 0 }, len: 97 }, L.GNTST_BAD_COPY_ARG],
      ["dest past the page", { source: src, dest: { gmfn: 30, offset: 4095 }, len: 2 }, L.GNTST_BAD_COPY_ARG],
      ["gmfn outside RAM", { source: src, dest: { gmfn: RAM + 2, offset: 0 }, len: 8 }, L.GNTST_BAD_PAGE],
      ["gmfn that is a grant mapping", { source: src, dest: { gmfn: WINDOW_GFN, offset: 0 }, len: 8 }, L.GNTST_BAD_PAGE],
      ["gmfn past 2^53", { source: src, dest: { gmfn: 2 ** 60, offset: 0 }, len: 8 }, L.GNTST_BAD_PAGE],
      ["granted frame not RAM", { source: { domid: 1, ref: 11, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 }, L.GNTST_BAD_PAGE],
    ];
    for (const [name, op, want] of cases) {
      expect(w.g[0]!.copy([op]).statuses, name).toEqual([want]);
      expect([8, 10, 11].map((r) => g1.flags(r) & (L.GTF_READING | L.GTF_WRITING)), name).toEqual([0, 0, 0]);
      expect([8, 9, 10, 11].map((r) => w.gt.pin(1, r)), name).toEqual([0, 1, 0, 0]);
    }
    // The same errors inside one batch, between good copies: each op gets its own status.
    const batch = [{ source: src, dest: { gmfn: 30, offset: 0 }, len: 8 }, ...cases.map((c) => c[1]), { source: src, dest: { gmfn: 30, offset: 8 }, len: 8 }];
    expect(w.g[0]!.copy(batch).statuses).toEqual([0, ...cases.map((c) => c[2]), 0]);
    expect(w.gt.pin(1, 9)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_FAILED)).toBe(2 * cases.length);
    expect(w.m.counter(L.CNT_GNT_ST_BAD_PAGE)).toBe(8);
    expect(w.m.counter(L.CNT_GNT_COPIES)).toBe(2);
    expect(w.m.counter(L.CNT_GNT_COPY_REFUSED)).toBe(0);
  });

  it("does not let a frame-addressed op ride on a domain locked for the previous op's grant", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, 5);
    fillPage(w, 1, 6, 12);
    const { statuses } = w.g[0]!.copy([
      { source: { domid: 1, ref: 8, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 },
      { source: { domid: 1, gmfn: 6, offset: 0 }, dest: { gmfn: 31, offset: 0 }, len: 4096 },
    ]);
    expect(statuses).toEqual([L.GNTST_OKAY, L.GNTST_PERMISSION_DENIED]);
    expect(w.m.read(0, 31 * 4096, 4096)).toEqual(new Uint8Array(4096));
  });

  it("refuses a grant pinned by another grantee", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, 5);
    expect(w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: WINDOW_GFN * 4096 }]).results[0]!.status).toBe(0);
    expect(w.g[2]!.copy([{ source: { domid: 1, ref: 8, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 }]).statuses).toEqual([L.GNTST_GENERAL_ERROR]);
  });

  it("SILO denies domU->domU copies with permission_denied (counted once per domain pair)", () => {
    const w = world(build, {}, new SiloPolicy());
    w.g[1]!.grantAccess(8, 2, 5);
    w.g[1]!.grantAccess(9, 0, 5);
    const op = { source: { domid: 1, ref: 8, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 };
    expect(w.g[2]!.copy([op, op]).statuses).toEqual([L.GNTST_PERMISSION_DENIED, L.GNTST_PERMISSION_DENIED]);
    expect(w.m.counter(L.CNT_XSM_DENIED)).toBe(2);
    expect(w.g[1]!.flags(8)).toBe(L.GTF_PERMIT_ACCESS);
    expect(w.g[0]!.copy([{ ...op, source: { domid: 1, ref: 9, offset: 0 } }]).statuses).toEqual([0]);
    // The caller's own frames are always fine.
    expect(w.g[2]!.copy([{ source: { gmfn: 3, offset: 0 }, dest: { gmfn: 4, offset: 0 }, len: 8 }]).statuses).toEqual([0]);
  });

  it("gives up with general_error when the guest races all 5 cmpxchg attempts", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, 5);
    const atomics = w.hv.atomics as X86GuestAtomics;
    atomics.interferer = (mfn, off) => {
      const f = w.m.readMfn(mfn, off, 2);
      f[0]! ^= L.GTF_PWT;
      w.m.writeMfn(mfn, off, f);
    };
    const r = w.g[0]!.copy([{ source: { domid: 1, ref: 8, offset: 0 }, dest: { gmfn: 30, offset: 0 }, len: 8 }]);
    atomics.interferer = undefined;
    expect(r.statuses).toEqual([L.GNTST_GENERAL_ERROR]);
    expect(w.m.counter(L.CNT_GNT_CMPXCHG)).toBe(5);
    expect(w.m.counter(L.CNT_GNT_UNSTABLE)).toBe(1);
    expect(w.gt.pin(1, 8)).toBe(0);
  });

  it("faults at the first unreadable struct after doing the copies before it", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, fillPage(w, 1, 5, 9));
    const gpa = RAM * 4096 - L.GNTTAB_COPY_SIZE;
    const s = new DataView(new ArrayBuffer(L.GNTTAB_COPY_SIZE));
    s.setUint32(L.GNTTAB_COPY_SOURCE_REF, 8, true);
    s.setUint16(L.GNTTAB_COPY_SOURCE_DOMID, 1, true);
    s.setBigUint64(L.GNTTAB_COPY_DEST_GMFN, 30n, true);
    s.setUint16(L.GNTTAB_COPY_DEST_DOMID, SELF, true);
    s.setUint16(L.GNTTAB_COPY_LEN, 16, true);
    s.setUint16(L.GNTTAB_COPY_FLAGS, L.GNTCOPY_SOURCE_GREF, true);
    s.setInt16(L.GNTTAB_COPY_STATUS, 0x5555, true);
    w.m.write(0, gpa, new Uint8Array(s.buffer));
    expect(w.gt.grantTableOp(0, L.GNTTABOP_COPY, gpa, 3)).toBe(-EFAULT);
    expect(w.m.read(0, 30 * 4096, 16)).toEqual(pattern(4096, 9).subarray(0, 16));
    expect(new DataView(w.m.read(0, gpa, L.GNTTAB_COPY_SIZE).buffer).getInt16(L.GNTTAB_COPY_STATUS, true)).toBe(0);
    expect(w.g[1]!.flags(8)).toBe(L.GTF_PERMIT_ACCESS);
  });
});
