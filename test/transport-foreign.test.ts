import { afterEach, describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { Machine } from "../src/wasm/machine.ts";
import { runHarness } from "../src/transports/harness.ts";
import { TransportSetupError } from "../src/transports/types.ts";
import { MmioForeignTransport } from "../src/transports/mmio-foreign.ts";
import { makeXenEnv } from "../src/transports/xen-env.ts";
import { DummyPolicy, type XsmOp } from "../src/xen/xsm.ts";
import type { Domain } from "../src/xen/domain.ts";
import { VirtioBlk } from "../src/devices/blk.ts";
import { GuestPages } from "../src/virtio/guest-pages.ts";
import { probeDevice } from "../src/virtio/driver-probe.ts";
import { BlkGuest } from "../src/devices/blk-guest.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import {
  DISK_BYTES, DOM0, DRIVER_DOM, FileDisk, driverFor, GUEST, GUEST_PAGES, MemDisk, STUBDOM, foreignWorld, tempImage, xenDomains,
} from "./helpers/transport-world.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

const BRINGUP = 4 + 2 + 2 + 2 + 4 + 4 + 3 + 4 + 11 + 2; // as in transport-kvm.test.ts
const RING_PAGES = 3; // Q = 256: descriptors 4096 B, avail 518 B, used 2054 B, each area page-aligned

/** The per-I/O counters of the model, named. */
const PER_IO = {
  traps: L.CNT_TR_REG_TRAPS, notifyTraps: L.CNT_TR_REG_TRAPS_NOTIFY, isrTraps: L.CNT_TR_REG_TRAPS_ISR,
  ioreqs: L.CNT_IOREQ_SENT, ioreqTraps: L.CNT_IOREQ_MMIO_TRAPS, emuHandled: L.CNT_IOREQ_EMU_HANDLED,
  evtchnSends: L.CNT_EVTCHN_SENDS, xenNotify: L.CNT_EVTCHN_XEN_NOTIFY, upcalls: L.CNT_EVTCHN_UPCALLS,
  dmOps: L.CNT_IOREQ_DM_OPS, irqLevelOps: L.CNT_MF_IRQ_LEVEL_OPS, spiRaised: L.CNT_IOREQ_IRQ_RAISED,
  mapCalls: L.CNT_MF_MAP_CALLS, foreignMaps: L.CNT_FOREIGN_MAPS, foreignUnmaps: L.CNT_FOREIGN_UNMAPS,
  batches: L.CNT_FOREIGN_BATCHES, exposedIo: L.CNT_TR_PAGES_EXPOSED_IO, hypercalls: L.CNT_HYPERCALLS,
  notifications: L.CNT_TR_NOTIFICATIONS, interrupts: L.CNT_TR_INTERRUPTS, merged: L.CNT_TR_INTERRUPTS_MERGED,
  copies: L.CNT_COPY_BYTES,
};

function scaled(per: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(per).map(([k, v]) => [k, v * n]));
}

describe.each(["release", "debug"] as const)("mmio-foreign x virtio-blk (%s)", (build) => {
  it("brings the device up with one IOREQ round trip per register access and maps the ring", () => {
    const w = foreignWorld({ build, init: false });
    w.c.mark();
    w.driver.init();
    expect(w.c.pick({ traps: L.CNT_TR_REG_TRAPS, ioreq: L.CNT_IOREQ_SENT, done: L.CNT_IOREQ_COMPLETIONS, ring: L.CNT_MF_RING_PAGES_MAPPED, hc: L.CNT_HYPERCALLS })).toEqual({
      traps: BRINGUP, ioreq: BRINGUP, done: BRINGUP, ring: RING_PAGES,
      hc: BRINGUP + 1, // the emulator's notify per answer, one foreign-map batch for the ring
    });
    expect(w.t.backend.regs.faultCount).toBe(0);
    expect(w.guest.capacity).toBe(BigInt(DISK_BYTES / 512));
    expect(w.env.ioreq.servers(GUEST)).toMatchObject([{ emulator: DOM0, enabled: true }]);
    expect(w.t.exposure()).toEqual({ reachable: GUEST_PAGES, mapped: RING_PAGES, mappedPeak: RING_PAGES });
  });

  it("moves every byte through a real image file; per I/O: 3 traps, 2 SPI level changes, foreign maps of the request's pages", () => {
    const img = tempImage();
    cleanups.push(img.cleanup);
    const disk = new FileDisk(img.path, { fsync: false });
    cleanups.push(() => disk.close());
    const w = foreignWorld({ build, backing: disk });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 20, 11);
    w.c.mark();
    const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    const n = wl.ops.length;
    expect(r).toMatchObject({ submitted: n, completed: n, kicks: n, interrupts: n });
    expect(wl.verifyImage(img.read())).toBe(20 * 4096);
    expect(wl.bytesVerified).toBe(20 * 4096);
    // Each request touches 2 guest pages: its header/status slot and its 4 KiB data page.
    expect(w.c.pick(PER_IO)).toEqual(scaled({
      traps: 3, notifyTraps: 1, isrTraps: 2, ioreqs: 3, ioreqTraps: 3, emuHandled: 3, evtchnSends: 3, xenNotify: 3,
      upcalls: 3, dmOps: 2, irqLevelOps: 2, spiRaised: 1, mapCalls: 1, foreignMaps: 2, foreignUnmaps: 2, batches: 1,
      exposedIo: 2, hypercalls: 3 + 2 + 1 + 2, notifications: 1, interrupts: 1, merged: 0, copies: 0,
    }, n));
    expect(w.c.get(L.CNT_TR_DEV_READ_BYTES)).toBe(16 * n + 20 * 4096);
    expect(w.c.get(L.CNT_TR_DEV_WRITE_BYTES)).toBe(20 * 4096 + n);
    // Exposure: the ring between I/Os, ring + 2 pages during one.
    expect(w.t.exposure()).toEqual({ reachable: GUEST_PAGES, mapped: RING_PAGES, mappedPeak: RING_PAGES + 2 });
    expect(w.m.counter(L.CNT_TR_EXPOSED_MAPPED)).toBe(RING_PAGES);
    expect(w.env.ioreq.spi(GUEST, L.GUEST_VIRTIO_MMIO_SPI_FIRST)).toEqual({ level: 0, assertions: n });
  });

  it("all-ram: maps every guest RAM page once at set-up (32 batches of 128), then 0 maps and 0 unmaps per I/O; exposure all RAM, mapped", () => {
    const env = xenDomains(build);
    const c0 = env.hv.machine.counter(L.CNT_FOREIGN_MAPS);
    const w = foreignWorld({ build, env, mf: { mapping: { mode: "all-ram" } } });
    // Set-up: all of RAM in 32 add_to_physmap_batch calls; the ring lies in it (no ring map).
    expect(env.hv.machine.counter(L.CNT_FOREIGN_MAPS) - c0).toBe(GUEST_PAGES);
    expect([w.m.counter(L.CNT_MF_MAP_CALLS), w.m.counter(L.CNT_MF_PAGES_MAPPED), w.m.counter(L.CNT_MF_RING_PAGES_MAPPED)]).toEqual([GUEST_PAGES / 128, GUEST_PAGES, 0]);
    // Every RAM frame of the guest was populated by the mapping (Xen builds a guest's RAM whole).
    expect(w.m.domainInfo(GUEST).populated).toBe(GUEST_PAGES);
    expect(w.t.exposure()).toEqual({ reachable: GUEST_PAGES, mapped: GUEST_PAGES, mappedPeak: GUEST_PAGES });
    const disk = w.backing as MemDisk;
    const wl = new BlkPattern(w.guest, DISK_BYTES, 20, 12);
    w.c.mark();
    const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    const n = wl.ops.length;
    expect(r).toMatchObject({ submitted: n, completed: n, kicks: n, interrupts: n });
    expect(wl.verifyImage(disk.bytes)).toBe(20 * 4096);
    expect(wl.bytesVerified).toBe(20 * 4096);
    // Per I/O: the register path only (3 ioreq round trips, 2 dm_ops): 5 hypercalls, no map.
    expect(w.c.pick(PER_IO)).toEqual(scaled({
      traps: 3, notifyTraps: 1, isrTraps: 2, ioreqs: 3, ioreqTraps: 3, emuHandled: 3, evtchnSends: 3, xenNotify: 3,
      upcalls: 3, dmOps: 2, irqLevelOps: 2, spiRaised: 1, mapCalls: 0, foreignMaps: 0, foreignUnmaps: 0, batches: 0,
      exposedIo: 0, hypercalls: 3 + 2, notifications: 1, interrupts: 1, merged: 0, copies: 0,
    }, n));
    expect(w.t.exposure()).toEqual({ reachable: GUEST_PAGES, mapped: GUEST_PAGES, mappedPeak: GUEST_PAGES });
    w.c.mark();
    w.t.close();
    expect(w.c.pick({ unmaps: L.CNT_FOREIGN_UNMAPS, pagesUnmapped: L.CNT_MF_PAGES_UNMAPPED })).toEqual({ unmaps: GUEST_PAGES, pagesUnmapped: GUEST_PAGES });
    expect(w.t.exposure()).toEqual({ reachable: 0, mapped: 0, mappedPeak: GUEST_PAGES });
    expect(w.m.counter(L.CNT_TR_EXPOSED_MAPPED)).toBe(0);
    expect(env.foreign.entries(DOM0)).toEqual([]);
  });

  it("all-ram from a backend that may not map the guest is refused at set-up, leaving no server behind", () => {
    const env = xenDomains(build);
    const blk = new VirtioBlk({ backing: new MemDisk(DISK_BYTES) });
    expect(() => new MmioForeignTransport({ env, guest: GUEST, backend: DRIVER_DOM, device: blk, mapping: { mode: "all-ram" } })).toThrow(TransportSetupError);
    expect(env.ioreq.servers(GUEST)).toEqual([]);
    expect(env.foreign.entries(DRIVER_DOM)).toEqual([]);
  });

  it("with the map cache keeps the header/status page mapped: one map and one unmap per I/O after the first", () => {
    const w = foreignWorld({ build, mf: { mapping: { mode: "cache" } } });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 10, 3);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    const n = wl.ops.length;
    expect(w.c.pick({ hits: L.CNT_MF_CACHE_HITS, misses: L.CNT_MF_CACHE_MISSES, mapped: L.CNT_MF_PAGES_MAPPED, unmapped: L.CNT_MF_PAGES_UNMAPPED, calls: L.CNT_MF_MAP_CALLS, evictions: L.CNT_MF_CACHE_EVICTIONS })).toEqual({
      hits: n - 1, misses: 1, mapped: n + 1, unmapped: n, calls: n, evictions: 0,
    });
    expect(wl.bytesVerified).toBe(10 * 4096);
    expect(w.t.exposure()).toEqual({ reachable: GUEST_PAGES, mapped: RING_PAGES + 1, mappedPeak: RING_PAGES + 2 });
    w.t.close();
    expect(w.t.exposure()).toEqual({ reachable: 0, mapped: 0, mappedPeak: RING_PAGES + 2 });
    expect(w.m.counter(L.CNT_TR_EXPOSED_MAPPED)).toBe(0);
    expect(w.m.counter(L.CNT_TR_EXPOSED_REACHABLE)).toBe(0);
    expect(w.env.ioreq.servers(GUEST)).toEqual([]);
  });

  it("evicts the least recently used cached page the chain does not use when the cache is full", () => {
    const w = foreignWorld({ build, mf: { mapping: { mode: "cache", cachePages: 2, smallMax: 4096 } } });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 4, 5);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 2 });
    // Chains alternate data pages D1, D2 beside the shared header/status page S: after the
    // first chain each one hits S, misses its data page and evicts the other data page.
    expect(w.c.pick({ hits: L.CNT_MF_CACHE_HITS, misses: L.CNT_MF_CACHE_MISSES, evictions: L.CNT_MF_CACHE_EVICTIONS, mapped: L.CNT_MF_PAGES_MAPPED, unmapped: L.CNT_MF_PAGES_UNMAPPED, errors: L.CNT_TR_IO_ERRORS })).toEqual({
      hits: 7, misses: 9, evictions: 7, mapped: 9, unmapped: 7, errors: 0,
    });
    expect(wl.bytesVerified).toBe(4 * 4096);
    expect(w.t.maps.cachedPages).toBe(2);
  });

  it("maps a page per request when every cached page is in use by the chain", () => {
    const w = foreignWorld({ build, mf: { mapping: { mode: "cache", cachePages: 1, smallMax: 4096 } } });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 3, 5);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    // S takes the only entry; the data page cannot evict it (same chain) and goes per request.
    expect(w.c.pick({ hits: L.CNT_MF_CACHE_HITS, misses: L.CNT_MF_CACHE_MISSES, evictions: L.CNT_MF_CACHE_EVICTIONS, mapped: L.CNT_MF_PAGES_MAPPED, unmapped: L.CNT_MF_PAGES_UNMAPPED })).toEqual({
      hits: 5, misses: 7, evictions: 0, mapped: 7, unmapped: 6,
    });
    expect(wl.bytesVerified).toBe(3 * 4096);
    expect(w.t.maps.cachedPages).toBe(1);
  });

  it.each([[true, 1], [false, 8]] as const)("EVENT_IDX %s: 8 kicks decided while the backend sleeps cost %i QueueNotify traps", (eventIdx, notifies) => {
    const w = foreignWorld({ build, eventIdx, mf: { eventIdx } });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 8, 9);
    w.c.mark();
    const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 8, kickEachSubmit: true });
    expect(r).toMatchObject({ rounds: 2, completed: 16, interrupts: 2, kicks: 2 * notifies });
    expect(w.c.pick({ notifyTraps: L.CNT_TR_REG_TRAPS_NOTIFY, isrTraps: L.CNT_TR_REG_TRAPS_ISR, traps: L.CNT_TR_REG_TRAPS, suppressed: L.CNT_VQ_NOTIFY_SUPPRESSED })).toEqual({
      notifyTraps: 2 * notifies, isrTraps: 4, traps: 2 * notifies + 4, suppressed: 2 * (8 - notifies),
    });
  });

  it.each([[true, 1, 0], [false, 1, 7]] as const)("EVENT_IDX %s with a decision per chain: %i interrupt, %i merged into the raised line", (eventIdx, irqs, merged) => {
    const w = foreignWorld({ build, eventIdx, mf: { eventIdx, irqPerChain: true } });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 8, 9);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 8 });
    expect(w.c.pick({ interrupts: L.CNT_TR_INTERRUPTS, merged: L.CNT_TR_INTERRUPTS_MERGED, levelOps: L.CNT_MF_IRQ_LEVEL_OPS, isr: L.CNT_TR_REG_TRAPS_ISR })).toEqual({
      interrupts: 2 * irqs, merged: 2 * merged, levelOps: 4, isr: 4,
    });
  });

  it("serves the guest from its device-model stub domain (target) as well as from dom0", () => {
    const w = foreignWorld({ build, backend: STUBDOM });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 4, 1);
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 2 });
    expect(wl.bytesVerified).toBe(4 * 4096);
    expect(w.env.foreign.entries(STUBDOM).filter((e) => e.owner.domid === GUEST)).toHaveLength(RING_PAGES);
  });

  it("refuses a backend without privilege over the guest, leaving nothing behind", () => {
    const env = xenDomains(build);
    const blk = new VirtioBlk({ backing: new MemDisk(DISK_BYTES) });
    expect(() => new MmioForeignTransport({ env, guest: GUEST, backend: DRIVER_DOM, device: blk })).toThrow(TransportSetupError);
    expect(() => new MmioForeignTransport({ env, guest: GUEST, backend: DRIVER_DOM, device: blk })).toThrow(
      "mmio-foreign: backend d3 (drv) cannot be the device model of guest d1: create_ioreq_server and its set-up returned -EPERM; it must be the control domain or the guest's device-model target",
    );
    expect(env.ioreq.servers(GUEST)).toEqual([]);
    expect(env.hv.machine.counter(L.CNT_IOREQ_DM_OP_DENIED)).toBe(2);
    expect(env.hv.machine.counter(L.CNT_TR_EXPOSED_REACHABLE)).toBe(0);
  });

  it("refuses a backend allowed dm_ops but not foreign maps (a Flask-style policy), destroying its server", () => {
    class NoForeign extends DummyPolicy {
      override check(op: XsmOp, s: Domain, o?: Domain): boolean {
        return op === "map_gmfn_foreign" ? false : super.check(op, s, o);
      }
    }
    const env = xenDomains(build);
    env.hv.xsm = new NoForeign();
    const blk = new VirtioBlk({ backing: new MemDisk(DISK_BYTES) });
    expect(() => new MmioForeignTransport({ env, guest: GUEST, backend: DOM0, device: blk })).toThrow(
      "mmio-foreign: backend d0 (Domain-0) may not map guest d1's memory (XSM map_gmfn_foreign denied); mmio-foreign reaches " +
        "buffers by foreign mapping, so its device model must hold that right (a backend with device-model rights alone can serve the grant transports)",
    );
    expect(env.ioreq.servers(GUEST)).toEqual([]);
  });

  it("rejects other set-up errors by name", () => {
    const blk = new VirtioBlk({ backing: new MemDisk(DISK_BYTES) });
    const env = xenDomains(build);
    const mk = (o: Partial<ConstructorParameters<typeof MmioForeignTransport>[0]>) => () =>
      new MmioForeignTransport({ env, guest: GUEST, backend: DOM0, device: blk, ...o });
    expect(mk({ guest: 9 })).toThrow("mmio-foreign: guest domain 9 does not exist");
    expect(mk({ backend: 9 })).toThrow("mmio-foreign: backend domain 9 does not exist");
    expect(mk({ backend: GUEST })).toThrow("mmio-foreign: the guest cannot be its own backend");
    const x86 = makeXenEnv({ machine: new Machine({ build }), arch: "x86-64" });
    x86.hv.createDomain({ domid: 0, name: "Domain-0", ramPages: 64, control: true });
    x86.hv.createDomain({ domid: 1, name: "g", ramPages: 64 });
    // x86: the fourth device finds no level-triggered ISA IRQ left (5, 10, 11 are taken by 0..2).
    expect(() => new MmioForeignTransport({ env: x86, guest: 1, backend: 0, device: blk, index: 3 })).toThrow(
      "mmio-foreign: device index 3 has no ISA IRQ: x86 guests give virtio-mmio the 3 level-triggered lines 5, 10, 11",
    );
  });

  it("serves two devices from one backend domain: separate windows, SPIs and servers, one event-channel scan", () => {
    const env = xenDomains(build);
    const pages = new GuestPages(GUEST, 16, 2048);
    const a = foreignWorld({ build, env, pages });
    const b = foreignWorld({ build, env, pages, mf: { index: 1 } });
    expect(b.t.base).toBe(L.GUEST_VIRTIO_MMIO_BASE + 0x200);
    expect([b.t.irq.kind, b.t.irq.line]).toEqual(["spi", L.GUEST_VIRTIO_MMIO_SPI_FIRST + 1]);
    expect(env.ioreq.servers(GUEST).map((s) => s.id)).toEqual([0, 1]);
    const wa = new BlkPattern(a.guest, DISK_BYTES, 4, 21);
    const wb = new BlkPattern(b.guest, DISK_BYTES, 4, 22);
    runHarness({ driver: a.driver, transport: a.t, workload: wa, iodepth: 2 });
    runHarness({ driver: b.driver, transport: b.t, workload: wb, iodepth: 2 });
    expect(wa.verifyImage((a.backing as MemDisk).bytes)).toBe(4 * 4096);
    expect(wb.verifyImage((b.backing as MemDisk).bytes)).toBe(4 * 4096);
    expect(wa.bytesVerified + wb.bytesVerified).toBe(8 * 4096);
  });

  it("a backend that loses its foreign-map privilege mid-run answers nothing: used len 0, status byte untouched", () => {
    const w = foreignWorld({ build });
    class NoForeign extends DummyPolicy {
      override check(op: XsmOp, s: Domain, o?: Domain): boolean {
        return op === "map_gmfn_foreign" ? false : super.check(op, s, o);
      }
    }
    w.env.hv.xsm = new NoForeign();
    const results: { status: number; written: number }[] = [];
    expect(w.guest.write(0, new Uint8Array(4096).fill(0xab), null)).toBe(true);
    w.driver.kick();
    expect(w.t.service()).toBe(1);
    for (const c of w.driver.handleInterrupt()!) results.push(w.guest.complete(c));
    expect(results).toEqual([expect.objectContaining({ status: 0xff, written: 0 })]);
    expect(w.c.get(L.CNT_TR_IO_ERRORS)).toBe(1);
    expect(w.c.get(L.CNT_FOREIGN_DENIED)).toBe(2);
    expect(w.blk.stats).toMatchObject({ requests: 1, ok: 0, ioerr: 0 });
    expect((w.backing as MemDisk).bytes.subarray(0, 4096).every((b) => b === 0)).toBe(true);
  });

  it("a corrupt avail index: NEEDS_RESET through the SPI, the reset unmaps the ring, a new driver maps a new one", () => {
    const w = foreignWorld({ build, mf: { mapping: { mode: "cache" } } });
    const wl0 = new BlkPattern(w.guest, DISK_BYTES, 1, 2);
    runHarness({ driver: w.driver, transport: w.t, workload: wl0, iodepth: 1 });
    expect(w.t.exposure().mapped).toBe(RING_PAGES + 1);
    w.m.write(GUEST, Number(w.driver.layout(0).driver) + 2, Uint8Array.of(0xe8, 0x03));
    w.t.frontend.writeReg(L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
    expect(w.t.service()).toBe(0);
    expect(w.env.ioreq.spi(GUEST, w.t.irq.line).level).toBe(1);
    expect(w.driver.handleInterrupt()).toEqual([]);
    expect(w.driver.configInterrupts).toBe(1);
    w.c.mark();
    const again = driverFor(w.m, w.t, {}, w.pages);
    again.init();
    expect(w.c.get(L.CNT_FOREIGN_UNMAPS)).toBe(RING_PAGES + 1); // old ring and the cached page
    expect(w.c.get(L.CNT_MF_RING_PAGES_MAPPED)).toBe(RING_PAGES);
    const wl = new BlkPattern(new BlkGuest(again, w.pages), DISK_BYTES, 3, 8);
    runHarness({ driver: again, transport: w.t, workload: wl, iodepth: 2 });
    expect(wl.bytesVerified).toBe(3 * 4096);
  });

  it("a chain larger than the backend's map window: the pages that do not fit fail, the request gets IOERR", () => {
    const w = foreignWorld({ build, mf: { windowPages: RING_PAGES + 3 } });
    const results: number[] = [];
    expect(w.guest.write(0, new Uint8Array(3 * 4096).fill(7), null)).toBe(true); // slot page + 3 data pages
    w.driver.kick();
    w.t.service();
    for (const c of w.driver.handleInterrupt()!) results.push(w.guest.complete(c).status);
    expect(results).toEqual([L.VIRTIO_BLK_S_IOERR]);
    expect(w.c.get(L.CNT_TR_IO_ERRORS)).toBe(1);
    expect(w.t.exposure()).toMatchObject({ mapped: RING_PAGES, mappedPeak: RING_PAGES + 3 });
    expect((w.backing as MemDisk).bytes[0]).toBe(0);
    const wl = new BlkPattern(w.guest, DISK_BYTES, 2, 3); // 2 pages per request fit
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    expect(wl.bytesVerified).toBe(2 * 4096);
  });

  it("a ring that does not fit the map window fails its queue (E3, NEEDS_RESET), not the host", () => {
    const w = foreignWorld({ build, init: false, mf: { windowPages: 2 } });
    w.driver.init();
    expect(w.t.backend.regs.status & L.VIRTIO_CONFIG_S_NEEDS_RESET).toBe(L.VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(w.t.backend.ring(0)).toBeUndefined();
    expect(w.t.exposure().mapped).toBe(0);
  });

  it("a ring the guest places outside its RAM cannot be foreign-mapped: E3, NEEDS_RESET, nothing left mapped", () => {
    const w = foreignWorld({ build, init: false });
    const port = w.t.frontend;
    probeDevice(port, { deviceFeatures: 0n });
    port.writeReg(L.VIRTIO_MMIO_QUEUE_SEL, 4, 0);
    port.writeReg(L.VIRTIO_MMIO_QUEUE_NUM, 4, 16);
    port.writeReg(L.VIRTIO_MMIO_QUEUE_DESC_LOW, 4, (GUEST_PAGES + 10) * 4096);
    port.writeReg(L.VIRTIO_MMIO_QUEUE_AVAIL_LOW, 4, 0x10000);
    port.writeReg(L.VIRTIO_MMIO_QUEUE_USED_LOW, 4, 0x11000);
    w.c.mark();
    port.writeReg(L.VIRTIO_MMIO_QUEUE_READY, 4, 1);
    expect(w.t.backend.regs.status & L.VIRTIO_CONFIG_S_NEEDS_RESET).toBe(L.VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(w.c.pick({ errors: L.CNT_FOREIGN_ERRORS, maps: L.CNT_FOREIGN_MAPS, unmaps: L.CNT_FOREIGN_UNMAPS })).toEqual({ errors: 1, maps: 2, unmaps: 2 });
    expect(w.t.exposure().mapped).toBe(0);
  });
});
