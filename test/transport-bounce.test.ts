import { afterEach, describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { runHarness } from "../src/transports/harness.ts";
import { TransportSetupError } from "../src/transports/types.ts";
import { PresharedBounceTransport, type PresharedBounceOptions } from "../src/transports/preshared-bounce.ts";
import type { XenEnv } from "../src/transports/xen-env.ts";
import { VirtioBlk } from "../src/devices/blk.ts";
import { BlkGuest } from "../src/devices/blk-guest.ts";
import { GuestPages } from "../src/virtio/guest-pages.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import {
  Counters, DISK_BYTES, DOM0, DRIVER_DOM, FileDisk, GUEST, GUEST_PAGES, MemDisk, STUBDOM, driverFor, tempImage, xenDomains,
  type WorldOptions,
} from "./helpers/transport-world.ts";
import type { BlkBacking } from "../src/devices/blk-backing.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

const REGION = 3 + 32;

function bounceWorld(o: WorldOptions & { backend?: number; pb?: Partial<PresharedBounceOptions>; env?: XenEnv } = {}) {
  const env = o.env ?? xenDomains(o.build);
  const m = env.hv.machine;
  const backing: BlkBacking = o.backing ?? new MemDisk(DISK_BYTES);
  const blk = new VirtioBlk({ backing, ...o.blk });
  const t = new PresharedBounceTransport({ env, guest: GUEST, backend: o.backend ?? DOM0, device: blk, ...o.pb });
  const driver = driverFor(m, t, o, t.ringPages); // rings in the region
  const pages = new GuestPages(GUEST, 16, 2048); // the guest's own buffers, outside it
  const c = new Counters(m);
  if (o.init ?? true) driver.init();
  return { env, m, t, blk, backing, driver, pages, guest: new BlkGuest<any>(driver, pages), c };
}

const PER_IO = {
  inCopies: L.CNT_PB_BOUNCE_IN_COPIES, inBytes: L.CNT_PB_BOUNCE_IN_BYTES, outCopies: L.CNT_PB_BOUNCE_OUT_COPIES,
  outBytes: L.CNT_PB_BOUNCE_OUT_BYTES, guestCopies: L.CNT_TR_COPIES_GUEST, guestBytes: L.CNT_TR_COPY_BYTES_GUEST,
  backendCopies: L.CNT_TR_COPIES_BACKEND, hvCopies: L.CNT_TR_COPIES_HV, kicks: L.CNT_PB_KICKS, irqs: L.CNT_PB_IRQS,
  sends: L.CNT_EVTCHN_SENDS, upcalls: L.CNT_EVTCHN_UPCALLS, notifications: L.CNT_TR_NOTIFICATIONS,
  interrupts: L.CNT_TR_INTERRUPTS, traps: L.CNT_TR_REG_TRAPS, foreignMaps: L.CNT_FOREIGN_MAPS,
  foreignUnmaps: L.CNT_FOREIGN_UNMAPS, exposedIo: L.CNT_TR_PAGES_EXPOSED_IO, regionMaps: L.CNT_PB_REGION_PAGES_MAPPED,
};

describe.each(["release", "debug"] as const)("preshared-bounce x virtio-blk (%s)", (build) => {
  it("maps the region once at set-up, brings the device up without traps, rings inside the region", () => {
    const env = xenDomains(build);
    const c = new Counters(env.hv.machine);
    const w = bounceWorld({ env, init: false });
    expect(c.pick({ maps: L.CNT_FOREIGN_MAPS, region: L.CNT_PB_REGION_PAGES_MAPPED })).toEqual({ maps: REGION, region: REGION });
    w.c.mark();
    w.driver.init();
    expect(w.c.pick({ traps: L.CNT_TR_REG_TRAPS, maps: L.CNT_FOREIGN_MAPS, hc: L.CNT_HYPERCALLS })).toEqual({ traps: 0, maps: 0, hc: 0 });
    expect(w.t.ringPages.freePages).toBe(0); // desc, avail, used: the 3 ring pages
    expect(w.guest.capacity).toBe(BigInt(DISK_BYTES / 512));
    expect(w.t.exposure()).toEqual({ reachable: REGION, mapped: REGION, mappedPeak: REGION });
  });

  it("moves every byte through a real image file; per I/O the guest bounces each buffer once, the backend copies nothing", () => {
    const img = tempImage();
    cleanups.push(img.cleanup);
    const disk = new FileDisk(img.path, { fsync: false });
    cleanups.push(() => disk.close());
    const w = bounceWorld({ build, backing: disk });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 20, 11);
    w.c.mark();
    const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    const n = wl.ops.length;
    expect(n).toBe(40);
    expect(r).toMatchObject({ submitted: n, completed: n, kicks: n, interrupts: n });
    expect(wl.verifyImage(img.read())).toBe(20 * 4096);
    expect(wl.bytesVerified).toBe(20 * 4096);
    // A write: header + data bounced in, status out. A read: header in, data + status out.
    const w20 = 20;
    expect(w.c.pick(PER_IO)).toEqual({
      inCopies: 2 * w20 + w20, inBytes: (16 + 4096) * w20 + 16 * w20, outCopies: w20 + 2 * w20, outBytes: w20 + (4096 + 1) * w20,
      guestCopies: 6 * w20, guestBytes: (16 + 4096 + 1) * w20 + (16 + 4096 + 1) * w20, backendCopies: 0, hvCopies: 0,
      kicks: n, irqs: n, sends: 2 * n, upcalls: 2 * n, notifications: n, interrupts: n, traps: 0, foreignMaps: 0,
      foreignUnmaps: 0, exposedIo: 0, regionMaps: 0,
    });
    expect(w.c.get(L.CNT_TR_DEV_READ_BYTES)).toBe(16 * n + 20 * 4096);
    expect(w.c.get(L.CNT_TR_DEV_WRITE_BYTES)).toBe(20 * 4096 + n);
    expect(w.t.exposure()).toEqual({ reachable: REGION, mapped: REGION, mappedPeak: REGION });
    expect(w.m.counter(L.CNT_TR_EXPOSED_REACHABLE)).toBe(REGION);
    expect(w.t.poolFree).toBe(32 * 4096); // every slot returned
  });

  it("lands bytes in the pool slot, not the guest buffer, until the bounce out", () => {
    const w = bounceWorld({ build });
    const data = Uint8Array.from({ length: 4096 }, (_, i) => (i * 13 + 5) & 0xff);
    expect(w.guest.write(8, data, "w")).toBe(true);
    w.driver.kick(0);
    w.t.service();
    const done = w.driver.handleInterrupt()!;
    expect(done.length).toBe(1);
    expect(w.guest.complete(done[0]!).status).toBe(L.VIRTIO_BLK_S_OK);
    expect(w.guest.read(8, 4096, "r")).toBe(true);
    w.driver.kick(0);
    w.t.service();
    // Before the guest handles the interrupt, the data sits in the pool, in place.
    const pool = w.m.read(GUEST, w.t.poolGpa, w.t.poolBytes);
    const s = Buffer.from(pool).indexOf(Buffer.from(data));
    expect(s).toBeGreaterThanOrEqual(0);
    const res = w.guest.complete(w.driver.handleInterrupt()![0]!);
    expect(res.status).toBe(L.VIRTIO_BLK_S_OK);
    expect(res.data).toEqual(data);
  });

  it("a descriptor outside the pool is an I/O error for that request, not a host crash", () => {
    const w = bounceWorld({ build });
    const raw = w.t.frontend.expose;
    (w.t.frontend as { expose: typeof raw }).expose = (b) => b.gpa; // a driver that forgot to bounce
    w.c.mark();
    expect(w.guest.read(0, 4096, "r")).toBe(true);
    w.driver.kick(0);
    w.t.service();
    const done = w.driver.handleInterrupt()!;
    expect(done.length).toBe(1);
    expect(w.c.get(L.CNT_TR_IO_ERRORS)).toBe(1);
    expect(done[0]!.written).toBe(0);
  });

  it("refuses a full pool with an Error naming it and counts it", () => {
    const w = bounceWorld({ build, pb: { poolPages: 1 } });
    w.c.mark();
    expect(() => w.guest.write(0, new Uint8Array(4096), "w")).toThrow(/pool has no room for a 4096-byte buffer/);
    expect(w.c.get(L.CNT_PB_POOL_EXHAUSTED)).toBe(1);
  });

  it("close() unmaps the region and zeroes the exposure", () => {
    const w = bounceWorld({ build });
    w.c.mark();
    w.t.close();
    expect(w.c.get(L.CNT_FOREIGN_UNMAPS)).toBe(REGION);
    expect(w.t.exposure()).toEqual({ reachable: 0, mapped: 0, mappedPeak: REGION });
    expect(w.m.counter(L.CNT_TR_EXPOSED_REACHABLE)).toBe(0);
    expect(w.m.counter(L.CNT_TR_EXPOSED_MAPPED)).toBe(0);
    expect(() => w.t.service()).toThrow(TransportSetupError);
  });

  it("set-up refusals: an unprivileged backend, a region outside RAM, the guest as its own backend", () => {
    const env = xenDomains(build);
    const blk = new VirtioBlk({ backing: new MemDisk(DISK_BYTES) });
    expect(() => new PresharedBounceTransport({ env, guest: GUEST, backend: DRIVER_DOM, device: blk })).toThrow(/may not map guest d1's memory/);
    expect(() => new PresharedBounceTransport({ env, guest: GUEST, backend: DOM0, device: blk, regionGfn: GUEST_PAGES - 1 })).toThrow(/not inside guest d1's/);
    expect(() => new PresharedBounceTransport({ env, guest: GUEST, backend: GUEST, device: blk })).toThrow(/its own backend/);
    expect(() => new PresharedBounceTransport({ env, guest: GUEST, backend: 9, device: blk })).toThrow(/backend domain 9 does not exist/);
    // The device-model target may serve it.
    const t = new PresharedBounceTransport({ env, guest: GUEST, backend: STUBDOM, device: blk });
    expect(t.exposure().reachable).toBe(REGION);
  });
});
