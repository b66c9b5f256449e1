import { afterEach, describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { runHarness } from "../src/transports/harness.ts";
import { FatVirtqueueTransport, type FatVirtqueueOptions } from "../src/transports/fat-virtqueue.ts";
import type { XenEnv } from "../src/transports/xen-env.ts";
import { VirtioBlk } from "../src/devices/blk.ts";
import { BlkGuest } from "../src/devices/blk-guest.ts";
import { GuestPages } from "../src/virtio/guest-pages.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import {
  Counters, DISK_BYTES, DOM0, DRIVER_DOM, FileDisk, GUEST, MemDisk, STUBDOM, driverFor, grantDomains, tempImage, type WorldOptions,
} from "./helpers/transport-world.ts";
import type { GrantTables } from "../src/xen/grant-table.ts";
import { grantShare } from "../src/transports/region-share.ts";
import type { BlkBacking } from "../src/devices/blk-backing.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

const RING = 3 + 32; // descriptor, avail, used pages + 32 slots of 4 KiB

function fatWorld(o: WorldOptions & { backend?: number; fv?: Partial<FatVirtqueueOptions>; env?: XenEnv & { gt: GrantTables } } = {}) {
  const env = o.env ?? grantDomains(o.build);
  const m = env.hv.machine;
  const backing: BlkBacking = o.backing ?? new MemDisk(DISK_BYTES);
  const blk = new VirtioBlk({ backing, ...o.blk });
  const t = new FatVirtqueueTransport({ env, gt: env.gt, guest: GUEST, backend: o.backend ?? DOM0, device: blk, ...o.fv });
  const pages = new GuestPages(GUEST, 16, 2048);
  const driver = driverFor(m, t, o, pages); // rings go in the fat ring (ringPagesFor)
  const c = new Counters(m);
  if (o.init ?? true) driver.init();
  return { env, m, t, blk, backing, driver, pages, guest: new BlkGuest<any>(driver, pages), c };
}

const PER_IO = {
  inCopies: L.CNT_FV_SLOT_COPIES_IN, inBytes: L.CNT_FV_SLOT_BYTES_IN, outCopies: L.CNT_FV_SLOT_COPIES_OUT,
  outBytes: L.CNT_FV_SLOT_BYTES_OUT, guestCopies: L.CNT_TR_COPIES_GUEST, backendCopies: L.CNT_TR_COPIES_BACKEND,
  hvCopies: L.CNT_TR_COPIES_HV, kicks: L.CNT_FV_KICKS, irqs: L.CNT_FV_IRQS, sends: L.CNT_EVTCHN_SENDS,
  upcalls: L.CNT_EVTCHN_UPCALLS, notifications: L.CNT_TR_NOTIFICATIONS, interrupts: L.CNT_TR_INTERRUPTS,
  traps: L.CNT_TR_REG_TRAPS, foreignMaps: L.CNT_FOREIGN_MAPS, foreignUnmaps: L.CNT_FOREIGN_UNMAPS,
  gntMaps: L.CNT_GNT_MAPS, gntUnmaps: L.CNT_GNT_UNMAPS, gntGrants: L.CNT_GNT_GUEST_GRANTS,
};

describe.each(["release", "debug"] as const)("fat-virtqueue x virtio-blk (%s)", (build) => {
  it("the guest grants the fat ring once at set-up and the backend maps those grants once; exposure is the ring with its slots", () => {
    const env = grantDomains(build);
    const c = new Counters(env.hv.machine);
    const w = fatWorld({ env });
    expect(c.pick({
      grants: L.CNT_GNT_GUEST_GRANTS, maps: L.CNT_GNT_MAPS, ring: L.CNT_FV_RING_PAGES_MAPPED,
      foreignMaps: L.CNT_FOREIGN_MAPS, traps: L.CNT_TR_REG_TRAPS,
    })).toEqual({ grants: RING, maps: RING, ring: RING, foreignMaps: 0, traps: 0 });
    // Every ring page: a writable permit_access entry for the backend that Xen marked in use.
    const share = w.t.share as ReturnType<typeof grantShare>;
    expect(share.kind).toBe("grant");
    for (let i = 0; i < RING; i++) expect(share.flags(i)).toBe(L.GTF_PERMIT_ACCESS | L.GTF_READING | L.GTF_WRITING);
    expect(w.t.exposure()).toEqual({ reachable: RING, mapped: RING, mappedPeak: RING });
    expect(w.guest.capacity).toBe(BigInt(DISK_BYTES / 512));
  });

  it("moves every byte through a real image file; one slot copy per buffer by the frontend, none by the backend", () => {
    const img = tempImage();
    cleanups.push(img.cleanup);
    const disk = new FileDisk(img.path, { fsync: false });
    cleanups.push(() => disk.close());
    const w = fatWorld({ build, backing: disk });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 20, 7);
    w.c.mark();
    const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 2 });
    const n = wl.ops.length;
    expect(n).toBe(40);
    expect(r).toMatchObject({ submitted: n, completed: n });
    expect(wl.verifyImage(img.read())).toBe(20 * 4096);
    expect(wl.bytesVerified).toBe(20 * 4096);
    // 20 writes (header + data in, status out), 20 reads (header in, data + status out).
    expect(w.c.pick(PER_IO)).toEqual({
      inCopies: 40 + 20, inBytes: 20 * (16 + 4096) + 20 * 16, outCopies: 20 + 40, outBytes: 20 + 20 * 4097,
      guestCopies: 120, backendCopies: 0, hvCopies: 0, kicks: r.kicks, irqs: r.interrupts, sends: r.kicks + r.interrupts,
      upcalls: r.kicks + r.interrupts, notifications: r.kicks, interrupts: r.interrupts, traps: 0, foreignMaps: 0, foreignUnmaps: 0,
      gntMaps: 0, gntUnmaps: 0, gntGrants: 0,
    });
    expect(w.t.slotsFree).toBe(32);
  });

  it("iodepth 1: exactly one kick and one interrupt (two event-channel sends, two upcalls) per I/O", () => {
    const w = fatWorld({ build });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 5, 3);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    const n = wl.ops.length;
    expect(w.c.pick({ kicks: L.CNT_FV_KICKS, irqs: L.CNT_FV_IRQS, sends: L.CNT_EVTCHN_SENDS, upcalls: L.CNT_EVTCHN_UPCALLS, hc: L.CNT_HYPERCALLS }))
      .toEqual({ kicks: n, irqs: n, sends: 2 * n, upcalls: 2 * n, hc: 2 * n });
  });

  it("refuses a request with a buffer larger than a slot, leaving ring and slots untouched; the queue still works", () => {
    const w = fatWorld({ build, fv: { slotBytes: 1024 } });
    w.c.mark();
    expect(() => w.guest.write(0, new Uint8Array(4096), "big")).toThrow(/a 4096-byte buffer does not fit a 1024-byte ring slot/);
    expect(w.c.get(L.CNT_FV_OVERSIZE)).toBe(1);
    expect(w.t.slotsFree).toBe(32);
    expect(w.driver.inFlight(0)).toBe(0);
    // A request that fits still goes through (512 bytes: one sector).
    const data = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff);
    expect(w.guest.write(2, data, "w")).toBe(true);
    w.driver.kick(0);
    w.t.service();
    expect(w.guest.complete(w.driver.handleInterrupt()![0]!).status).toBe(L.VIRTIO_BLK_S_OK);
    expect(Array.from((w.backing as MemDisk).bytes.subarray(1024, 1536))).toEqual(Array.from(data));
  });

  it("refuses a request when every slot is taken (counted)", () => {
    const w = fatWorld({ build, fv: { slots: 2 } });
    w.c.mark();
    expect(() => w.guest.write(0, new Uint8Array(4096), "w")).toThrow(/all 2 ring slots are in use/);
    expect(w.c.get(L.CNT_FV_SLOTS_EXHAUSTED)).toBe(1);
    expect(w.t.slotsFree).toBe(2);
  });

  it("serves the guest from a driver domain (it needs only the grants), and close() unmaps and revokes the ring's grants", () => {
    const env = grantDomains(build);
    const d = fatWorld({ build, env, backend: DRIVER_DOM });
    const wl = new BlkPattern(d.guest, DISK_BYTES, 4, 5);
    runHarness({ driver: d.driver, transport: d.t, workload: wl, iodepth: 2 });
    expect(wl.verifyImage((d.backing as MemDisk).bytes)).toBe(4 * 4096);
    expect(env.foreign.entries(DRIVER_DOM)).toEqual([]);
    const c = new Counters(env.hv.machine);
    const share = d.t.share as ReturnType<typeof grantShare>;
    d.t.close();
    // One unmap call of 35 (Xen's batches of 32: 2 flushes), the guest ends access (no
    // hypercall), both ends close the event channel.
    expect(c.pick({ unmaps: L.CNT_GNT_UNMAPS, flushes: L.CNT_GNT_TLB_FLUSHES, hypercalls: L.CNT_HYPERCALLS }))
      .toEqual({ unmaps: RING, flushes: 2, hypercalls: 1 + 2 });
    for (let i = 0; i < RING; i++) expect(share.flags(i)).toBe(0);
    expect(d.t.exposure()).toEqual({ reachable: 0, mapped: 0, mappedPeak: RING });
  });

  it("set-up refusals", () => {
    const env = grantDomains(build);
    const blk = new VirtioBlk({ backing: new MemDisk(DISK_BYTES) });
    expect(() => new FatVirtqueueTransport({ env, gt: env.gt, guest: GUEST, backend: DOM0, device: blk, slotBytes: 100 })).toThrow(/slotBytes must be a positive multiple of 16/);
    expect(() => new FatVirtqueueTransport({ env, gt: env.gt, guest: GUEST, backend: 9, device: blk })).toThrow("fat-virtqueue: backend domain 9 does not exist");
    expect(() => new FatVirtqueueTransport({ env, gt: undefined as unknown as GrantTables, guest: GUEST, backend: DOM0, device: blk }))
      .toThrow("fat-virtqueue: the world has no grant tables for it");
    const t = new FatVirtqueueTransport({ env, gt: env.gt, guest: GUEST, backend: STUBDOM, device: blk });
    t.close();
    expect(t.exposure()).toEqual({ reachable: 0, mapped: 0, mappedPeak: RING });
  });
});
