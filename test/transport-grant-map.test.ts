import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { runHarness } from "../src/transports/harness.ts";
import { TransportSetupError } from "../src/transports/types.ts";
import { decodeGrantDma, grantDmaAddr } from "../src/transports/grant-map.ts";
import { XEN_GRANT_DMA_ADDR_OFF } from "../src/xen/grant-abi.ts";
import { DriverError } from "../src/virtio/driver-probe.ts";
import { SiloPolicy } from "../src/xen/xsm.ts";
import { GuestGrants } from "../src/xen/grant-guest.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import { DISK_BYTES, DOM0, DRIVER_DOM, MemDisk, STUBDOM, grantDomains, grantMapWorld } from "./helpers/transport-world.ts";

const PER_IO = {
  grants: L.CNT_GM_GRANTS, ends: L.CNT_GM_END_ACCESS, busy: L.CNT_GM_END_BUSY, mapCalls: L.CNT_GM_MAP_CALLS,
  pagesMapped: L.CNT_GM_PAGES_MAPPED, unmapCalls: L.CNT_GM_UNMAP_CALLS, pagesUnmapped: L.CNT_GM_PAGES_UNMAPPED,
  gntMaps: L.CNT_GNT_MAPS, gntUnmaps: L.CNT_GNT_UNMAPS, flushes: L.CNT_GNT_TLB_FLUSHES, elided: L.CNT_GNT_TLB_FLUSHES_ELIDED,
  exposedIo: L.CNT_TR_PAGES_EXPOSED_IO, traps: L.CNT_TR_REG_TRAPS, irqLevelOps: L.CNT_GM_IRQ_LEVEL_OPS,
  foreignMaps: L.CNT_FOREIGN_MAPS, fails: L.CNT_GM_MAP_FAILS,
};
const scaled = (per: Record<string, number>, n: number) => Object.fromEntries(Object.entries(per).map(([k, v]) => [k, v * n]));

describe("grant DMA addresses", () => {
  it("encode Linux's 1 << 63 | gref << 12 | offset and decode back; anything else is not one", () => {
    expect(XEN_GRANT_DMA_ADDR_OFF).toBe(0x8000000000000000n);
    expect(grantDmaAddr(9, 0x123)).toBe(0x8000000000009123n);
    expect(grantDmaAddr(0xffffffff, 0xfff)).toBe(0x80000fffffffffffn);
    expect(decodeGrantDma(grantDmaAddr(2047, 4095))).toEqual({ gref: 2047, offset: 4095 });
    expect(decodeGrantDma(grantDmaAddr(0xffffffff, 1))).toEqual({ gref: 0xffffffff, offset: 1 });
    expect(decodeGrantDma(0x1000)).toBeUndefined();
    expect(decodeGrantDma(2 ** 53 - 1)).toBeUndefined();
    expect(decodeGrantDma(0x4000000000009123n)).toBeUndefined(); // bit 62, not 63
    expect(decodeGrantDma(0x8000100000000000n)).toBeUndefined(); // a gref above 32 bits
  });
});

describe.each(["release", "debug"] as const)("grant-map x virtio-blk (%s)", (build) => {
  it("grants and maps only the ring at bring-up; the backend may map nothing else", () => {
    const w = grantMapWorld({ build });
    const RING = 3;
    expect(w.t.exposure()).toEqual({ reachable: RING, mapped: RING, mappedPeak: RING });
    expect(w.c.m.counter(L.CNT_GM_RING_GRANTS)).toBe(RING);
    expect(w.c.m.counter(L.CNT_GM_RING_PAGES_MAPPED)).toBe(RING);
    expect(w.guest.capacity).toBe(BigInt(DISK_BYTES / 512));
  });

  for (const elide of [false, true]) {
    it(`moves every byte; per I/O 3 grants, one map batch of 3, one unmap batch with ${elide ? "its flush elided only if untouched" : "one flush"}`, () => {
      const w = grantMapWorld({ build });
      w.env.gt.elideUnaccessedFlush = elide;
      const disk = w.backing as MemDisk;
      const wl = new BlkPattern(w.guest, DISK_BYTES, 20, 5);
      w.c.mark();
      const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
      const n = wl.ops.length;
      expect(r).toMatchObject({ submitted: n, completed: n });
      expect(wl.verifyImage(disk.bytes)).toBe(20 * 4096);
      expect(wl.bytesVerified).toBe(20 * 4096);
      // header (read-only), data, status: three buffers, one page each; the backend touches all.
      expect(w.c.pick(PER_IO)).toEqual(scaled({
        grants: 3, ends: 3, busy: 0, mapCalls: 1, pagesMapped: 3, unmapCalls: 1, pagesUnmapped: 3, gntMaps: 3, gntUnmaps: 3,
        flushes: 1, elided: 0, exposedIo: 3, traps: 3, irqLevelOps: 2, foreignMaps: 0, fails: 0,
      }, n));
      expect(w.t.exposure()).toEqual({ reachable: 3, mapped: 3, mappedPeak: 6 });
    });
  }

  it("a flush per 32 unmapped pages; an untouched batch's flush is elided", () => {
    const w = grantMapWorld({ build });
    const be = w.t.backendGrants;
    w.env.gt.elideUnaccessedFlush = true;
    const first = w.t.guestGrants.allocRefs(40);
    for (let k = 0; k < 40; k++) w.t.guestGrants.grantAccess(first + k, DOM0, 100 + k, true);
    const host = 4096 * 600;
    const { results } = be.map(Array.from({ length: 40 }, (_, k) => ({ dom: 1, ref: first + k, hostAddr: host + k * 4096, readonly: true })));
    expect(results.every((x) => x.status === 0)).toBe(true);
    w.c.mark();
    be.unmap(results.map((x, k) => ({ handle: x.handle, hostAddr: host + k * 4096 })));
    expect(w.c.pick({ f: L.CNT_GNT_TLB_FLUSHES, e: L.CNT_GNT_TLB_FLUSHES_ELIDED })).toEqual({ f: 0, e: 2 });
  });

  it("the guest's descriptors and QueueDesc registers hold bit 63 | gref << 12 | offset, word for word", () => {
    const w = grantMapWorld({ build });
    const lay = w.driver.layout(0);
    const ringWords = (a: number) => new DataView(w.m.read(w.t.guest, a, 8).buffer);
    // The ring addresses the driver programmed are the guest's own; the transport wrote grant
    // addresses for them through the register window.
    const regs = w.t.backend.regs.queue(0)!;
    for (const a of [regs.desc, regs.avail, regs.used]) {
      expect(a >> 63n).toBe(1n);
      expect(decodeGrantDma(a)).toBeDefined();
    }
    expect(decodeGrantDma(regs.desc)!.offset).toBe(Number(lay.desc) % 4096);
    const wl = new BlkPattern(w.guest, DISK_BYTES, 1, 2);
    const seen: { hi: number; lo: number }[] = [];
    const watch = w.t.frontend.notify;
    w.t.frontend.notify = (q) => {
      // At the kick the chain's descriptors are in the guest's table: read them as two u32 words.
      for (let i = 0; i < 3; i++) {
        const d = ringWords(Number(lay.desc) + 16 * i);
        seen.push({ lo: d.getUint32(0, true), hi: d.getUint32(4, true) });
      }
      watch(q);
    };
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const { hi, lo } of seen.slice(0, 3)) {
      expect(hi >>> 31).toBe(1);
      expect(hi & 0x7ff00000).toBe(0); // gref < 2^20 here: nothing between bit 52 and bit 62
      const exact = (BigInt(hi) << 32n) | BigInt(lo);
      const d = decodeGrantDma(exact)!;
      expect(grantDmaAddr(d.gref, d.offset)).toBe(exact);
      expect(d.gref).toBeLessThan(4 * 512); // the guest's 4 grant frames
    }
    expect(wl.verifyImage((w.backing as MemDisk).bytes)).toBe(4096);
  });

  it("the driver refuses a device without ACCESS_PLATFORM before FEATURES_OK", () => {
    const w = grantMapWorld({ build, init: false, gm: { accessPlatform: false } });
    expect(() => w.driver.init()).toThrow(DriverError);
    expect(() => w.driver.init()).toThrow(/ACCESS_PLATFORM/);
    expect(w.t.exposure().reachable).toBe(0);
  });

  it("SILO: a domU backend is denied (permission_denied on the guest's grant, EPERM on the window); dom0 is allowed", () => {
    const env = grantDomains(build, new SiloPolicy());
    expect(() => grantMapWorld({ build, env, backend: STUBDOM, init: false })).toThrow(/EPERM/);
    const ok = grantMapWorld({ build, env, backend: DOM0 });
    // A domU granted a guest page, as a domU backend would be: SILO refuses the map.
    const ref = ok.t.guestGrants.allocRefs(1);
    ok.t.guestGrants.grantAccess(ref, DRIVER_DOM, 300, false);
    const drv = new GuestGrants(env.gt, DRIVER_DOM, { baseGfn: 0, scratchGpa: 4096 });
    ok.c.mark();
    expect(drv.map([{ dom: 1, ref, hostAddr: 4096 * 400 }]).results[0]!.status).toBe(L.GNTST_PERMISSION_DENIED);
    expect(ok.c.get(L.CNT_GNT_ST_PERMISSION_DENIED)).toBe(1);
    const wl = new BlkPattern(ok.guest, DISK_BYTES, 4, 3);
    runHarness({ driver: ok.driver, transport: ok.t, workload: wl });
    expect(wl.bytesVerified).toBe(4 * 4096);
    // Without SILO the same domU map succeeds.
    const open = grantMapWorld({ build });
    const r2 = open.t.guestGrants.allocRefs(1);
    open.t.guestGrants.grantAccess(r2, DRIVER_DOM, 300, false);
    const drv2 = new GuestGrants(open.env.gt, DRIVER_DOM, { baseGfn: 0, scratchGpa: 4096 });
    expect(drv2.map([{ dom: 1, ref: r2, hostAddr: 4096 * 400 }]).results[0]!.status).toBe(L.GNTST_OKAY);
  });

  it("a driver domain without device-model rights cannot serve the register window", () => {
    expect(() => grantMapWorld({ build, backend: DRIVER_DOM })).toThrow(TransportSetupError);
  });

  it("ending access while the backend still holds a page breaks the device", () => {
    const w = grantMapWorld({ build });
    const addr = w.t.frontend.expose({ gpa: 200 * 4096, len: 4096, write: true });
    const d = decodeGrantDma(addr)!;
    const { results } = w.t.backendGrants.map([{ dom: 1, ref: d.gref, hostAddr: 4096 * 700 }]);
    expect(results[0]!.status).toBe(0);
    w.t.frontend.unexpose({ gpa: 200 * 4096, len: 4096, write: true }, addr);
    expect(w.t.broken).toBe(true);
    expect(w.c.get(L.CNT_GM_END_BUSY)).toBe(1);
    expect(() => w.t.frontend.expose({ gpa: 201 * 4096, len: 16, write: false })).toThrow(/broken/);
  });
});

describe.each(["release", "debug"] as const)("grant-copy x virtio-blk (%s)", (build) => {
  it("moves every byte with hypervisor copies, one op per segment piece, and maps no buffer", () => {
    const w = grantMapWorld({ build, gm: { mode: "copy" } });
    expect(w.t.id).toBe("grant-copy");
    const disk = w.backing as MemDisk;
    const wl = new BlkPattern(w.guest, DISK_BYTES, 20, 9);
    w.c.mark();
    const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    const n = wl.ops.length;
    expect(r).toMatchObject({ submitted: n, completed: n });
    expect(wl.verifyImage(disk.bytes)).toBe(20 * 4096);
    expect(wl.bytesVerified).toBe(20 * 4096);
    // Per I/O: header (16 B), data (one 4 KiB page), status (1 B): three segments in one page
    // each, one copy op each, in two calls: the readable part in at the first read (header, and
    // a write's data), the written part out when the chain closes (a read's data, and the status).
    expect(w.c.pick({
      grants: L.CNT_GM_GRANTS, ends: L.CNT_GM_END_ACCESS, calls: L.CNT_GC_COPY_CALLS, ops: L.CNT_GC_COPY_OPS, gntCopies: L.CNT_GNT_COPIES,
      hvCopies: L.CNT_TR_COPIES_HV, maps: L.CNT_GNT_MAPS, unmaps: L.CNT_GNT_UNMAPS, flushes: L.CNT_GNT_TLB_FLUSHES, guestCopies: L.CNT_TR_COPIES_GUEST,
    })).toEqual(scaled({ grants: 3, ends: 3, calls: 2, ops: 3, gntCopies: 3, hvCopies: 3, maps: 0, unmaps: 0, flushes: 0, guestCopies: 0 }, n));
    expect(w.c.get(L.CNT_TR_COPY_BYTES_HV)).toBe(20 * 4096 * 2 + n * (16 + 1));
    expect(w.t.exposure()).toEqual({ reachable: 3, mapped: 3, mappedPeak: 3 });
  });

  it("a descriptor with a revoked gref fails that request (IOERR), not the host", () => {
    const w = grantMapWorld({ build, gm: { mode: "copy" } });
    const port = w.t.frontend;
    const realExpose = port.expose;
    let once = true;
    (port as { expose: typeof port.expose }).expose = (b) => {
      const a = realExpose(b);
      if (once && b.len === 4096) {
        once = false;
        w.t.guestGrants.endAccess(decodeGrantDma(a)!.gref); // revoked before the backend copies
      }
      return a;
    };
    const wl = new BlkPattern(w.guest, DISK_BYTES, 1, 2);
    w.c.mark();
    // The guest sees status IOERR for that write (the pattern workload rejects any non-OK status).
    expect(() => runHarness({ driver: w.driver, transport: w.t, workload: wl })).toThrow(`status ${L.VIRTIO_BLK_S_IOERR}`);
    expect(w.c.get(L.CNT_GC_COPY_FAILS)).toBe(1);
    expect(w.c.get(L.CNT_TR_IO_ERRORS)).toBe(1);
  });
});

describe("grant-copy: a write-back that cannot be delivered", () => {
  it("the status buffer's gref revoked: the chain is used with length 0, the failure counted once, the host unharmed", () => {
    const w = grantMapWorld({ gm: { mode: "copy" } });
    const port = w.t.frontend;
    const realExpose = port.expose;
    (port as { expose: typeof port.expose }).expose = (b) => {
      const a = realExpose(b);
      if (b.len === 1 && b.write) w.t.guestGrants.endAccess(decodeGrantDma(a)!.gref); // before the backend copies out
      return a;
    };
    expect(w.guest.read(0, 4096, "lost")).toBe(true);
    w.driver.kick(0);
    w.c.mark();
    w.t.service();
    const done = w.driver.handleInterrupt()!;
    // Used with length 0: the device's data and status never reached the guest.
    expect(done.map((c) => c.written)).toEqual([0]);
    expect(w.c.pick({ calls: L.CNT_GC_COPY_CALLS, ops: L.CNT_GC_COPY_OPS, fails: L.CNT_GC_COPY_FAILS, ioErrors: L.CNT_TR_IO_ERRORS }))
      // In: the header; out: the data (copied) and the status (its gref ended), one call.
      .toEqual({ calls: 2, ops: 2, fails: 1, ioErrors: 1 });
  });
});

describe.each(["release", "debug"] as const)("grant-persistent x virtio-blk (%s)", (build) => {
  it("maps the pool once at set-up; per I/O only guest copies, no grant or map operations", () => {
    const w = grantMapWorld({ build, gm: { mode: "persistent", poolPages: 64 } });
    expect(w.t.id).toBe("grant-persistent");
    expect(w.m.counter(L.CNT_GP_POOL_PAGES_MAPPED)).toBe(64);
    const disk = w.backing as MemDisk;
    const wl = new BlkPattern(w.guest, DISK_BYTES, 20, 4);
    w.c.mark();
    const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 4 });
    const n = wl.ops.length;
    expect(r).toMatchObject({ submitted: n, completed: n });
    expect(wl.verifyImage(disk.bytes)).toBe(20 * 4096);
    expect(wl.bytesVerified).toBe(20 * 4096);
    // Per I/O: header copied in, status copied out, data in (write) or out (read): 3 copies.
    expect(w.c.pick({
      grants: L.CNT_GNT_GUEST_GRANTS, maps: L.CNT_GNT_MAPS, unmaps: L.CNT_GNT_UNMAPS, flushes: L.CNT_GNT_TLB_FLUSHES,
      guestCopies: L.CNT_TR_COPIES_GUEST, takes: L.CNT_GP_POOL_TAKES, hv: L.CNT_GNT_COPIES, exposedIo: L.CNT_TR_PAGES_EXPOSED_IO,
    })).toEqual({ grants: 0, maps: 0, unmaps: 0, flushes: 0, guestCopies: 3 * n, takes: 3 * n, hv: 0, exposedIo: 0 });
    expect(w.c.get(L.CNT_TR_COPY_BYTES_GUEST)).toBe(20 * 4096 * 2 + n * (16 + 1));
    expect(w.t.exposure()).toEqual({ reachable: 64 + 3, mapped: 64 + 3, mappedPeak: 64 + 3 });
  });

  it("a request larger than the pool: its overflow buffer is granted in place and mapped per request (map, unmap, flushes), the rest goes through the pool", () => {
    const w = grantMapWorld({ build, gm: { mode: "persistent", poolPages: 2 } });
    const disk = w.backing as MemDisk;
    const RING = 3;
    const data = Uint8Array.from({ length: 40 * 4096 }, (_, i) => (i * 7 + 3) & 0xff);
    const ids = {
      exhausted: L.CNT_GP_POOL_EXHAUSTED, takes: L.CNT_GP_POOL_TAKES, guestCopies: L.CNT_TR_COPIES_GUEST, copyBytes: L.CNT_TR_COPY_BYTES_GUEST,
      grants: L.CNT_GM_GRANTS, gntGrants: L.CNT_GNT_GUEST_GRANTS, ends: L.CNT_GM_END_ACCESS, mapCalls: L.CNT_GM_MAP_CALLS, pagesMapped: L.CNT_GM_PAGES_MAPPED,
      gntMaps: L.CNT_GNT_MAPS, unmapCalls: L.CNT_GM_UNMAP_CALLS, pagesUnmapped: L.CNT_GM_PAGES_UNMAPPED, gntUnmaps: L.CNT_GNT_UNMAPS,
      flushes: L.CNT_GNT_TLB_FLUSHES, exposedIo: L.CNT_TR_PAGES_EXPOSED_IO,
    };
    for (const dir of ["write", "read"] as const) {
      w.c.mark();
      expect(dir === "write" ? w.guest.write(8, data, dir) : w.guest.read(8, data.length, dir)).toBe(true);
      // In flight: the 40 data pages are granted beside the pool and the rings.
      expect(w.t.exposure().reachable).toBe(2 + RING + 40);
      w.driver.kick(0);
      w.t.service();
      const done = w.driver.handleInterrupt()!;
      const res = w.guest.complete(done[0]!);
      expect(res.status).toBe(L.VIRTIO_BLK_S_OK);
      if (dir === "read") expect(res.data).toEqual(data);
      expect(disk.bytes.subarray(8 * 512, 8 * 512 + data.length)).toEqual(data);
      // Header and status take the 2 pool pages (copied: 16 in, 1 out); the 40-page data buffer
      // finds no run: 40 grants, one map batch of 40, one unmap call of 40 (Xen's batches of
      // 32: 2 flushes), 40 end-access. No copy of the data.
      expect(w.c.pick(ids)).toEqual({
        exhausted: 1, takes: 2, guestCopies: 2, copyBytes: 16 + 1, grants: 40, gntGrants: 40, ends: 40, mapCalls: 1, pagesMapped: 40,
        gntMaps: 40, unmapCalls: 1, pagesUnmapped: 40, gntUnmaps: 40, flushes: 2, exposedIo: 40,
      });
      // Between I/Os: the pool and the rings only; the overflow was mapped for that request alone.
      expect(w.t.exposure()).toMatchObject({ reachable: 2 + RING, mapped: 2 + RING, mappedPeak: 2 + RING + 40 });
    }
    // A one-sector read is 3 one-page buffers for 2 pool pages: its last buffer (the status)
    // overflows alone: 1 grant, 1 map, 1 unmap, 1 flush.
    w.c.mark();
    expect(w.guest.read(0, 512, "small")).toBe(true);
    w.driver.kick(0);
    w.t.service();
    expect(w.guest.complete(w.driver.handleInterrupt()![0]!).status).toBe(L.VIRTIO_BLK_S_OK);
    expect(w.c.pick({ exhausted: L.CNT_GP_POOL_EXHAUSTED, takes: L.CNT_GP_POOL_TAKES, grants: L.CNT_GNT_GUEST_GRANTS, maps: L.CNT_GNT_MAPS, unmaps: L.CNT_GNT_UNMAPS, flushes: L.CNT_GNT_TLB_FLUSHES }))
      .toEqual({ exhausted: 1, takes: 2, grants: 1, maps: 1, unmaps: 1, flushes: 1 });
  });
});

describe.each(["map", "copy", "persistent"] as const)("a 40-page request over grant mode %s", (mode) => {
  it("lands, reads back, and costs exactly the mode's model", () => {
    const w = grantMapWorld({ gm: { mode } });
    const disk = w.backing as MemDisk;
    const data = Uint8Array.from({ length: 40 * 4096 }, (_, i) => (i * 13 + 5) & 0xff);
    const ids = { gntMaps: L.CNT_GNT_MAPS, gntUnmaps: L.CNT_GNT_UNMAPS, flushes: L.CNT_GNT_TLB_FLUSHES, copyCalls: L.CNT_GC_COPY_CALLS,
      copyOps: L.CNT_GC_COPY_OPS, guestCopies: L.CNT_TR_COPIES_GUEST, grants: L.CNT_GNT_GUEST_GRANTS };
    w.c.mark();
    expect(w.guest.write(8, data, "w")).toBe(true);
    w.driver.kick(0);
    w.t.service();
    const done = w.driver.handleInterrupt()!;
    expect(w.guest.complete(done[0]!).status).toBe(L.VIRTIO_BLK_S_OK);
    expect(disk.bytes.subarray(8 * 512, 8 * 512 + data.length)).toEqual(data);
    // 42 pages: header, 40 data, status. Xen unmaps in batches of 32: 2 flushes.
    const want = {
      map: { gntMaps: 42, gntUnmaps: 42, flushes: 2, copyCalls: 0, copyOps: 0, guestCopies: 0, grants: 42 },
      // the readable part (header and 40 data pieces) comes in at the first read, split over
      // the 32 bounce pages: 2 calls; the status goes out at close: 1.
      copy: { gntMaps: 0, gntUnmaps: 0, flushes: 0, copyCalls: 3, copyOps: 42, guestCopies: 0, grants: 42 },
      persistent: { gntMaps: 0, gntUnmaps: 0, flushes: 0, copyCalls: 0, copyOps: 0, guestCopies: 3, grants: 0 },
    }[mode];
    expect(w.c.pick(ids)).toEqual(want);
    w.c.mark();
    expect(w.guest.read(8, data.length, "r")).toBe(true);
    w.driver.kick(0);
    w.t.service();
    const r = w.guest.complete(w.driver.handleInterrupt()![0]!);
    expect(r.status).toBe(L.VIRTIO_BLK_S_OK);
    expect(r.data).toEqual(data);
    expect(w.t.exposure().mapped).toBe(mode === "persistent" ? 64 + 3 : 3);
  });
});
