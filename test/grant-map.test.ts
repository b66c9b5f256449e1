import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { SiloPolicy } from "../src/xen/xsm.ts";
import { X86GuestAtomics } from "../src/xen/atomics.ts";
import { EFAULT } from "../src/xen/errno.ts";
import { RAM, WINDOW_GFN, fillPage, pattern, world } from "./grant-helpers.ts";

const at = (k: number) => (WINDOW_GFN + k) * 4096;

describe.each(["release", "debug"] as const)("grant map/unmap (%s)", (build) => {
  it("maps a granted frame writable: data visible both ways, flags and pins set, dev_bus_addr is the frame", () => {
    const w = world(build);
    const gfn = fillPage(w, 1, 5, 1);
    w.g[1]!.grantAccess(8, 0, gfn);
    const { rc, results } = w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]);
    expect(rc).toBe(0);
    const mfn = w.m.populate(1, gfn);
    expect(results[0]).toEqual({ status: L.GNTST_OKAY, handle: 0, devBusAddr: mfn * 4096 });
    expect(w.m.read(0, at(0), 4096)).toEqual(pattern(4096, 1));
    w.m.write(0, at(0) + 10, Uint8Array.of(0xaa));
    expect(w.m.read(1, gfn * 4096 + 10, 1)[0]).toBe(0xaa);
    expect(w.g[1]!.flags(8)).toBe(L.GTF_PERMIT_ACCESS | L.GTF_READING | L.GTF_WRITING);
    expect(w.gt.pin(1, 8)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_MAPS)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_OP_MAP)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_PAGES_MAPPED)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_MAPTRACK_IN_USE)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_CMPXCHG)).toBe(1);
    expect(w.m.counter(L.CNT_HYPERCALLS)).toBeGreaterThan(0);
  });

  it("maps read-only: only GTF_reading, host-read pin, writes through the mapping refused", () => {
    const w = world(build);
    w.g[1]!.grantAccess(9, 0, fillPage(w, 1, 6, 2), true);
    const r = w.g[0]!.map([{ dom: 1, ref: 9, hostAddr: at(1), readonly: true }]).results[0]!;
    expect(r.status).toBe(L.GNTST_OKAY);
    expect(w.g[1]!.flags(9)).toBe(L.GTF_PERMIT_ACCESS | L.GTF_READONLY | L.GTF_READING);
    expect(w.gt.pin(1, 9)).toBe(0x100);
    expect(w.m.tryWrite(0, at(1), Uint8Array.of(1))).toBe(L.MST_READ_ONLY);
    expect(w.m.read(0, at(1), 16)).toEqual(pattern(16, 2));
  });

  it("upgrades a read-only pin to writable with a second cmpxchg, and counts pins per kind", () => {
    const w = world(build);
    w.g[1]!.grantAccess(10, 0, 7);
    const r = w.g[0]!.map([
      { dom: 1, ref: 10, hostAddr: at(0), readonly: true },
      { dom: 1, ref: 10, hostAddr: at(1), readonly: true },
      { dom: 1, ref: 10, hostAddr: at(2) },
      { dom: 1, ref: 10, hostAddr: at(3) },
    ]);
    expect(r.results.map((x) => x.status)).toEqual([0, 0, 0, 0]);
    expect(r.results.map((x) => x.handle)).toEqual([0, 1, 2, 3]);
    expect(w.gt.pin(1, 10)).toBe(0x202);
    expect(w.m.counter(L.CNT_GNT_CMPXCHG)).toBe(2); // first pin, then the first writable pin
  });

  it("returns each map error status exactly and leaves the entry as it was", () => {
    const w = world(build);
    const g1 = w.g[1]!;
    g1.grantAccess(8, 0, 5);
    g1.grantAccess(9, 0, 6, true); // read-only grant
    g1.grantAccess(11, 2, 7); // granted to d2, not dom0
    g1.grantAccess(12, 0, RAM + 3); // frame outside RAM
    g1.grantAccess(13, 0, 20);
    const cases: [string, Parameters<typeof w.g[0]["map"]>[0][0], number][] = [
      ["no host_map/device_map", { dom: 1, ref: 8, hostAddr: at(0), flags: L.GNTMAP_READONLY }, L.GNTST_BAD_GNTREF],
      ["device_map by a translated grantee", { dom: 1, ref: 8, hostAddr: at(0), flags: L.GNTMAP_HOST_MAP | L.GNTMAP_DEVICE_MAP }, L.GNTST_GENERAL_ERROR],
      ["contains_pte", { dom: 1, ref: 8, hostAddr: at(0), flags: L.GNTMAP_HOST_MAP | L.GNTMAP_CONTAINS_PTE }, L.GNTST_GENERAL_ERROR],
      ["application_map", { dom: 1, ref: 8, hostAddr: at(0), flags: L.GNTMAP_HOST_MAP | L.GNTMAP_APPLICATION_MAP }, L.GNTST_GENERAL_ERROR],
      ["no such granter", { dom: 7, ref: 8, hostAddr: at(0) }, L.GNTST_BAD_DOMAIN],
      ["DOMID_SELF is not a granter id", { dom: L.DOMID_SELF, ref: 8, hostAddr: at(0) }, L.GNTST_BAD_DOMAIN],
      ["ref beyond the table", { dom: 1, ref: 512, hostAddr: at(0) }, L.GNTST_BAD_GNTREF],
      ["entry never granted", { dom: 1, ref: 100, hostAddr: at(0) }, L.GNTST_GENERAL_ERROR],
      ["granted to another domain", { dom: 1, ref: 11, hostAddr: at(0) }, L.GNTST_GENERAL_ERROR],
      ["writable map of a read-only grant", { dom: 1, ref: 9, hostAddr: at(0) }, L.GNTST_GENERAL_ERROR],
      ["frame is not the granter's RAM", { dom: 1, ref: 12, hostAddr: at(0) }, L.GNTST_BAD_PAGE],
      ["host_addr inside the grantee's RAM", { dom: 1, ref: 13, hostAddr: 3 * 4096 }, L.GNTST_GENERAL_ERROR],
      ["host_addr beyond the p2m", { dom: 1, ref: 13, hostAddr: 2 ** 40 }, L.GNTST_GENERAL_ERROR],
      ["host_addr beyond 2^53", { dom: 1, ref: 13, hostAddr: 2 ** 60 }, L.GNTST_GENERAL_ERROR],
    ];
    for (const [name, op, want] of cases) {
      const before = [8, 9, 11, 12, 13].map((r) => g1.flags(r));
      const { rc, results } = w.g[0]!.map([op]);
      expect(rc, name).toBe(0);
      expect(results[0]!.status, name).toBe(want);
      expect([8, 9, 11, 12, 13].map((r) => g1.flags(r)), name).toEqual(before);
      expect([8, 9, 11, 12, 13].map((r) => w.gt.pin(1, r)), name).toEqual([0, 0, 0, 0, 0]);
    }
    expect(w.gt.info(0).maptrackInUse).toBe(0);
    expect(w.m.counter(L.CNT_GNT_FAILED)).toBe(cases.length);
    expect(w.m.counter(L.CNT_GNT_ST_GENERAL_ERROR)).toBe(9);
    expect(w.m.counter(L.CNT_GNT_ST_BAD_GNTREF)).toBe(2);
    expect(w.m.counter(L.CNT_GNT_ST_BAD_DOMAIN)).toBe(2);
    expect(w.m.counter(L.CNT_GNT_ST_BAD_PAGE)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_MAPS)).toBe(0);
  });

  it("refuses a second grantee of a pinned entry and an occupied host_addr", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, 5);
    expect(w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]).results[0]!.status).toBe(L.GNTST_OKAY);
    // d1 grants ref 8 to dom0 only; d2 is refused, before and after the entry is rewritten.
    expect(w.g[2]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]).results[0]!.status).toBe(L.GNTST_GENERAL_ERROR);
    w.g[1]!.grantAccess(9, 0, 6);
    expect(w.g[0]!.map([{ dom: 1, ref: 9, hostAddr: at(0) }]).results[0]!.status).toBe(L.GNTST_GENERAL_ERROR);
    expect(w.g[1]!.flags(9)).toBe(L.GTF_PERMIT_ACCESS);
    expect(w.gt.pin(1, 8)).toBe(1);
  });

  it("fails the 129th pin of one counter (Xen keeps each 8-bit counter below 0x80)", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, 5, true);
    const ops = Array.from({ length: 129 }, (_, i) => ({ dom: 1, ref: 8, hostAddr: at(i), readonly: true }));
    const { results } = w.g[0]!.map(ops);
    expect(results.slice(0, 128).every((r) => r.status === 0)).toBe(true);
    expect(results[128]!.status).toBe(L.GNTST_GENERAL_ERROR);
    expect(w.gt.pin(1, 8)).toBe(128 << 8);
  });

  it("runs out of maptrack handles with GNTST_no_space at the configured limit", () => {
    const w0 = world(build, { maxMaptrackFrames: 0 });
    w0.g[1]!.grantAccess(8, 0, 5);
    expect(w0.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]).results[0]!.status).toBe(L.GNTST_NO_SPACE);
    expect(w0.g[1]!.flags(8)).toBe(L.GTF_PERMIT_ACCESS);

    const w = world(build);
    w.gt.setLimits(0, { maxMaptrackFrames: 1 }); // 256 handles
    for (let r = 8; r < 11; r++) w.g[1]!.grantAccess(r, 0, r, true);
    const ops = Array.from({ length: 257 }, (_, i) => ({ dom: 1, ref: 8 + Math.floor(i / 100), hostAddr: at(i), readonly: true }));
    const { results } = w.g[0]!.map(ops);
    expect(results.filter((r) => r.status === 0).length).toBe(256);
    expect(results[256]!.status).toBe(L.GNTST_NO_SPACE);
    expect(w.m.counter(L.CNT_GNT_ST_NO_SPACE)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_MAPTRACK_IN_USE)).toBe(256);
  });

  it("SILO denies domU->domU maps with permission_denied and counts the denial; dom0 may map", () => {
    const w = world(build, {}, new SiloPolicy());
    w.g[1]!.grantAccess(8, 2, 5);
    w.g[1]!.grantAccess(9, 0, 6);
    expect(w.g[2]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]).results[0]!.status).toBe(L.GNTST_PERMISSION_DENIED);
    expect(w.m.counter(L.CNT_XSM_DENIED)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_ST_PERMISSION_DENIED)).toBe(1);
    expect(w.g[1]!.flags(8)).toBe(L.GTF_PERMIT_ACCESS);
    expect(w.g[0]!.map([{ dom: 1, ref: 9, hostAddr: at(0) }]).results[0]!.status).toBe(L.GNTST_OKAY);
  });

  it("fails with -EFAULT when the argument array cannot be read, or after the op when it cannot be written back", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, 5);
    expect(w.gt.grantTableOp(0, L.GNTTABOP_MAP_GRANT_REF, RAM * 4096, 1)).toBe(-EFAULT);
    expect(w.m.counter(L.CNT_GNT_OP_MAP)).toBe(0);
    // dom0's arguments sit in a page d2 granted it read-only: Xen reads and maps, then cannot
    // write the status back.
    const args = new DataView(new ArrayBuffer(L.GNTTAB_MAP_SIZE));
    args.setBigUint64(L.GNTTAB_MAP_HOST_ADDR, BigInt(at(5)), true);
    args.setUint32(L.GNTTAB_MAP_FLAGS, L.GNTMAP_HOST_MAP, true);
    args.setUint32(L.GNTTAB_MAP_REF, 8, true);
    args.setUint16(L.GNTTAB_MAP_DOM, 1, true);
    w.m.write(2, 40 * 4096, new Uint8Array(args.buffer));
    w.g[2]!.grantAccess(8, 0, 40, true);
    expect(w.g[0]!.map([{ dom: 2, ref: 8, hostAddr: at(0), readonly: true }]).results[0]!.status).toBe(0);
    expect(w.gt.grantTableOp(0, L.GNTTABOP_MAP_GRANT_REF, at(0), 1)).toBe(-EFAULT);
    expect(w.gt.pin(1, 8)).toBe(1); // the map itself happened
    expect(w.m.read(0, at(5), 4)).toEqual(w.m.read(1, 5 * 4096, 4));
    expect(w.m.counter(L.CNT_GNT_HC_ERRORS)).toBe(2);
  });

  it("retries Xen's cmpxchg while the guest races it: succeeds after 4 races, general_error at 5", () => {
    for (const races of [0, 1, 2, 3, 4, 5]) {
      const w = world(build);
      w.g[1]!.grantAccess(8, 0, 5);
      const atomics = w.hv.atomics as X86GuestAtomics;
      const entryMfn = w.gt.info(1).frameMfns[0]!;
      let n = 0;
      // The guest toggles a cache-attribute bit of entry 8 between Xen's read and each cmpxchg.
      atomics.interferer = (mfn, off) => {
        if (mfn === entryMfn && off === 64 && n < races) {
          n++;
          const f = w.m.readMfn(mfn, off, 2);
          f[0]! ^= L.GTF_PAT;
          w.m.writeMfn(mfn, off, f);
        }
      };
      const r = w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]).results[0]!;
      atomics.interferer = undefined;
      const attempts = Math.min(races + 1, 5);
      expect(w.m.counter(L.CNT_GNT_CMPXCHG), `races ${races}`).toBe(attempts);
      expect(w.m.counter(L.CNT_GNT_CMPXCHG_RETRIES), `races ${races}`).toBe(attempts - 1);
      const toggled = races % 2 ? L.GTF_PAT : 0;
      if (races < 5) {
        expect(r.status).toBe(L.GNTST_OKAY);
        expect(w.g[1]!.flags(8)).toBe(L.GTF_PERMIT_ACCESS | L.GTF_READING | L.GTF_WRITING | toggled);
        expect(w.m.counter(L.CNT_GNT_UNSTABLE)).toBe(0);
      } else {
        expect(r.status).toBe(L.GNTST_GENERAL_ERROR);
        expect(w.g[1]!.flags(8)).toBe(L.GTF_PERMIT_ACCESS | toggled);
        expect(w.gt.pin(1, 8)).toBe(0);
        expect(w.gt.info(0).maptrackInUse).toBe(0);
        expect(w.m.counter(L.CNT_GNT_UNSTABLE)).toBe(1);
      }
    }
  });

  it("refuses end-access while mapped (busy), allows it after unmap", () => {
    const w = world(build);
    const g1 = w.g[1]!;
    g1.grantAccess(8, 0, 5);
    const h = w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]).results[0]!.handle;
    expect(g1.endAccess(8)).toBe(false);
    expect(g1.makeReadOnly(8)).toBe(false); // held writable
    expect(w.g[0]!.unmap([{ handle: h, hostAddr: at(0) }]).statuses).toEqual([L.GNTST_OKAY]);
    expect(g1.flags(8)).toBe(L.GTF_PERMIT_ACCESS);
    expect(g1.endAccess(8)).toBe(true);
    expect(g1.flags(8)).toBe(0);
    expect(w.m.counter(L.CNT_GNT_GUEST_END_BUSY)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_GUEST_END_OK)).toBe(1);
    // Once revoked, the grant cannot be mapped again.
    expect(w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]).results[0]!.status).toBe(L.GNTST_GENERAL_ERROR);
  });

  it("downgrades a grant to read-only while only read-mapped; writable maps then fail", () => {
    const w = world(build);
    const g1 = w.g[1]!;
    g1.grantAccess(8, 0, 5);
    expect(w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0), readonly: true }]).results[0]!.status).toBe(0);
    expect(g1.makeReadOnly(8)).toBe(true);
    expect(g1.flags(8)).toBe(L.GTF_PERMIT_ACCESS | L.GTF_READONLY | L.GTF_READING);
    expect(w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(1) }]).results[0]!.status).toBe(L.GNTST_GENERAL_ERROR);
    expect(w.gt.pin(1, 8)).toBe(0x100);
  });

  it("unmaps with every status: okay, bad_handle (range, stale), general_error (host_addr, dev_bus_addr), and host_addr 0", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, 5);
    w.g[1]!.grantAccess(9, 0, 6);
    const [a, b] = w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }, { dom: 1, ref: 9, hostAddr: at(1) }]).results;
    const mfn8 = a!.devBusAddr;
    const { rc, statuses } = w.g[0]!.unmap([
      { handle: 999, hostAddr: at(0) },
      { handle: a!.handle, hostAddr: at(1) }, // names the other mapping's frame
      { handle: a!.handle, hostAddr: at(7) }, // nothing mapped there
      { handle: a!.handle, hostAddr: at(0), devBusAddr: mfn8 + 4096 },
      { handle: a!.handle, hostAddr: 0 }, // Xen: okay, nothing removed
      { handle: a!.handle, hostAddr: at(0), devBusAddr: mfn8 },
      { handle: a!.handle, hostAddr: at(0) }, // stale now
    ]);
    expect(rc).toBe(0);
    expect(statuses).toEqual([
      L.GNTST_BAD_HANDLE, L.GNTST_GENERAL_ERROR, L.GNTST_GENERAL_ERROR, L.GNTST_GENERAL_ERROR,
      L.GNTST_OKAY, L.GNTST_OKAY, L.GNTST_BAD_HANDLE,
    ]);
    expect(w.gt.pin(1, 8)).toBe(0);
    expect(w.gt.pin(1, 9)).toBe(1);
    expect(w.m.p2mLookup(0, WINDOW_GFN)).toBe(0);
    expect(w.m.counter(L.CNT_GNT_UNMAPS)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_ST_BAD_HANDLE)).toBe(2);
    expect(w.m.counter(L.CNT_GNT_PAGES_MAPPED)).toBe(1);
    expect(w.g[0]!.unmap([{ handle: b!.handle, hostAddr: at(1) }]).statuses).toEqual([0]);
    expect(w.m.counter(L.CNT_GNT_PAGES_MAPPED)).toBe(0);
    expect(w.m.counter(L.CNT_GNT_MAPTRACK_IN_USE)).toBe(0);
  });

  it("flushes the TLB once per batch of 32 unmaps, after which pins and flags are released", () => {
    const w = world(build);
    for (let r = 8; r < 78; r++) w.g[1]!.grantAccess(r, 0, r);
    const maps = w.g[0]!.map(Array.from({ length: 70 }, (_, i) => ({ dom: 1, ref: 8 + i, hostAddr: at(i) }))).results;
    const atomics = w.hv.atomics as X86GuestAtomics;
    const flushesSeenByClears: number[] = [];
    atomics.interferer = () => flushesSeenByClears.push(w.m.counter(L.CNT_GNT_TLB_FLUSHES));
    const { statuses } = w.g[0]!.unmap(maps.map((r, i) => ({ handle: r.handle, hostAddr: at(i) })));
    atomics.interferer = undefined;
    expect(statuses.every((s) => s === 0)).toBe(true);
    expect(w.m.counter(L.CNT_GNT_TLB_FLUSHES)).toBe(3);
    expect(w.m.counter(L.CNT_GNT_TLB_FLUSHES_ELIDED)).toBe(0);
    // 70 flag clears: the first 32 after flush 1, the next 32 after flush 2, the last 6 after flush 3.
    expect(flushesSeenByClears).toEqual([...Array(32).fill(1), ...Array(32).fill(2), ...Array(6).fill(3)]);
    expect(w.m.counter(L.CNT_GNT_FLAG_CLEARS)).toBe(70);
  });

  it("elides the flush of batches whose mappings were never accessed (XenServer patch)", () => {
    const w = world(build, { elideUnaccessedFlush: true });
    for (let r = 8; r < 78; r++) w.g[1]!.grantAccess(r, 0, r);
    let maps = w.g[0]!.map(Array.from({ length: 70 }, (_, i) => ({ dom: 1, ref: 8 + i, hostAddr: at(i) }))).results;
    w.g[0]!.unmap(maps.map((r, i) => ({ handle: r.handle, hostAddr: at(i) })));
    expect(w.m.counter(L.CNT_GNT_TLB_FLUSHES)).toBe(0);
    expect(w.m.counter(L.CNT_GNT_TLB_FLUSHES_ELIDED)).toBe(3);
    // Map again and touch one page of the second batch: only that batch flushes.
    maps = w.g[0]!.map(Array.from({ length: 70 }, (_, i) => ({ dom: 1, ref: 8 + i, hostAddr: at(i) }))).results;
    w.m.read(0, at(40), 1);
    w.g[0]!.unmap(maps.map((r, i) => ({ handle: r.handle, hostAddr: at(i) })));
    expect(w.m.counter(L.CNT_GNT_TLB_FLUSHES)).toBe(1);
    expect(w.m.counter(L.CNT_GNT_TLB_FLUSHES_ELIDED)).toBe(5);
    // Switched off, every batch flushes again.
    w.gt.elideUnaccessedFlush = false;
    maps = w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]).results;
    w.g[0]!.unmap([{ handle: maps[0]!.handle, hostAddr: at(0) }]);
    expect(w.m.counter(L.CNT_GNT_TLB_FLUSHES)).toBe(2);
  });

  it("counts the flush of a batch cut short by a fault, and completes what the batch did", () => {
    const w = world(build);
    w.g[1]!.grantAccess(8, 0, 5);
    const h = w.g[0]!.map([{ dom: 1, ref: 8, hostAddr: at(0) }]).results[0]!.handle;
    // Two structs: the first in RAM, the second just above RAM (unreadable).
    const gpa = RAM * 4096 - 24;
    const s = new DataView(new ArrayBuffer(24));
    s.setBigUint64(L.GNTTAB_UNMAP_HOST_ADDR, BigInt(at(0)), true);
    s.setUint32(L.GNTTAB_UNMAP_HANDLE, h, true);
    w.m.write(0, gpa, new Uint8Array(s.buffer));
    expect(w.gt.grantTableOp(0, L.GNTTABOP_UNMAP_GRANT_REF, gpa, 2)).toBe(-EFAULT);
    expect(w.m.read(0, gpa + L.GNTTAB_UNMAP_STATUS, 2)).toEqual(Uint8Array.of(0, 0));
    expect(w.m.counter(L.CNT_GNT_TLB_FLUSHES)).toBe(1);
    expect(w.gt.pin(1, 8)).toBe(0);
    expect(w.g[1]!.flags(8)).toBe(L.GTF_PERMIT_ACCESS);
  });
});
