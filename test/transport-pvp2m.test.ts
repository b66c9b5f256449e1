import { afterEach, describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { Machine } from "../src/wasm/machine.ts";
import { runHarness } from "../src/transports/harness.ts";
import { TransportSetupError } from "../src/transports/types.ts";
import { PvP2mTransport } from "../src/transports/pv-p2m.ts";
import { makeXenEnv } from "../src/transports/xen-env.ts";
import { Xenstore } from "../src/xen/xenstore.ts";
import { XenbusState, backendPath, frontendPath } from "../src/xen/xenbus.ts";
import { VirtioBlk } from "../src/devices/blk.ts";
import { BlkGuest } from "../src/devices/blk-guest.ts";
import { GuestPages } from "../src/virtio/guest-pages.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import {
  Counters, DISK_BYTES, DOM0, DRIVER_DOM, FileDisk, GUEST, GUEST_PAGES, MemDisk, STUBDOM, driverFor, tempImage,
} from "./helpers/transport-world.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function pvEnv(build: "release" | "debug") {
  const env = makeXenEnv({ machine: new Machine({ build }), arch: "arm64" });
  const xs = env.hv.register(new Xenstore(env.hv, { evtchn: env.evtchn }));
  env.hv.createDomain({ domid: DOM0, name: "Domain-0", ramPages: 256, control: true });
  env.hv.createDomain({ domid: GUEST, name: "guest", ramPages: GUEST_PAGES });
  env.hv.createDomain({ domid: STUBDOM, name: "guest-dm", ramPages: 256, target: GUEST });
  env.hv.createDomain({ domid: DRIVER_DOM, name: "drv", ramPages: 256, driverDomain: true });
  return { env, xs };
}

function pvWorld(build: "release" | "debug", backing = new MemDisk(DISK_BYTES) as import("../src/devices/blk-backing.ts").BlkBacking) {
  const { env, xs } = pvEnv(build);
  const m = env.hv.machine;
  const c0 = new Counters(m);
  const blk = new VirtioBlk({ backing });
  const t = new PvP2mTransport({ env, xenstore: xs, guest: GUEST, backend: DOM0, device: blk });
  const setup = c0.pick({ ring: L.CNT_PP_RING_PAGES_MAPPED, maps: L.CNT_FOREIGN_MAPS });
  const driver = driverFor(m, t, {}, t.ringPages);
  driver.init();
  const pages = new GuestPages(GUEST, 16, 2048);
  return { env, xs, m, t, blk, backing, driver, guest: new BlkGuest<any>(driver, pages), c: new Counters(m), setup };
}

describe.each(["release", "debug"] as const)("pv-p2m x virtio-blk (%s)", (build) => {
  it("connects through xenbus: ring-ref (mfns) and event-channel published, both ends Connected, ring mapped", () => {
    const w = pvWorld(build);
    expect(w.t.xbFront.state).toBe(XenbusState.Connected);
    expect(w.t.xbBack.state).toBe(XenbusState.Connected);
    const fe = frontendPath(w.t.dev);
    const g = w.xs.client(DOM0);
    const read = (p: string) => { const r = g.read(p); if (!r.ok) throw new Error(r.error); return r.value; };
    expect(read(`${fe}/event-channel`)).toBe(String(w.t.guestPort));
    expect(read(`${fe}/ring-page-order`)).toBe("2");
    expect(w.t.ringMfns.map((_, i) => Number(read(`${fe}/ring-ref${i}`)))).toEqual(w.t.ringMfns);
    expect(read(`${backendPath(w.t.dev)}/state`)).toBe(String(XenbusState.Connected));
    expect(w.setup).toEqual({ ring: 4, maps: 4 });
    expect(w.t.exposure()).toEqual({ reachable: GUEST_PAGES, mapped: 4, mappedPeak: 4 });
  });

  it("moves every byte through a real image file; per I/O: pfn->mfn per buffer, one map batch, a map and unmap per page, one kick, one interrupt", () => {
    const img = tempImage();
    cleanups.push(img.cleanup);
    const disk = new FileDisk(img.path, { fsync: false });
    cleanups.push(() => disk.close());
    const w = pvWorld(build, disk);
    const wl = new BlkPattern(w.guest, DISK_BYTES, 20, 11);
    w.c.mark();
    const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    const n = wl.ops.length;
    expect(r).toMatchObject({ submitted: n, completed: n, kicks: n, interrupts: n });
    expect(wl.verifyImage(img.read())).toBe(20 * 4096);
    expect(wl.bytesVerified).toBe(20 * 4096);
    // Each request: 3 buffers (header, data, status) on 2 pages (header/status slot, data page).
    expect(w.c.pick({
      pfn: L.CNT_PP_PFN_TO_MFN, calls: L.CNT_PP_MAP_CALLS, mapped: L.CNT_PP_PAGES_MAPPED, unmapped: L.CNT_PP_PAGES_UNMAPPED,
      fmaps: L.CNT_FOREIGN_MAPS, funmaps: L.CNT_FOREIGN_UNMAPS, exposedIo: L.CNT_TR_PAGES_EXPOSED_IO, kicks: L.CNT_PP_KICKS,
      irqs: L.CNT_PP_IRQS, sends: L.CNT_EVTCHN_SENDS, upcalls: L.CNT_EVTCHN_UPCALLS, notifications: L.CNT_TR_NOTIFICATIONS,
      copiesGuest: L.CNT_TR_COPIES_GUEST, copiesBackend: L.CNT_TR_COPIES_BACKEND, traps: L.CNT_TR_REG_TRAPS, bad: L.CNT_PP_BAD_MFN,
    })).toEqual({
      pfn: 3 * n, calls: n, mapped: 2 * n, unmapped: 2 * n, fmaps: 2 * n, funmaps: 2 * n, exposedIo: 2 * n, kicks: n, irqs: n,
      sends: 2 * n, upcalls: 2 * n, notifications: n, copiesGuest: 0, copiesBackend: 0, traps: 0, bad: 0,
    });
    expect(w.t.exposure()).toEqual({ reachable: GUEST_PAGES, mapped: 4, mappedPeak: 6 });
    expect(w.m.counter(L.CNT_TR_EXPOSED_MAPPED)).toBe(4);
  });

  it("descriptors carry machine addresses: a gpa-valued descriptor naming a frame the guest does not own fails that request", () => {
    const w = pvWorld(build);
    const raw = w.t.frontend.expose;
    (w.t.frontend as { expose: typeof raw }).expose = (b) => (b.write ? 0x7ffff000 + (b.gpa % 4096) : raw(b));
    w.c.mark();
    expect(w.guest.read(0, 4096, "r")).toBe(true);
    w.driver.kick(0);
    w.t.service();
    const done = w.driver.handleInterrupt()!;
    expect(done[0]!.written).toBe(0);
    expect(w.c.pick({ bad: L.CNT_PP_BAD_MFN, err: L.CNT_TR_IO_ERRORS, maps: L.CNT_FOREIGN_MAPS })).toEqual({ bad: 1, err: 1, maps: 0 });
  });

  it("refuses a backend that is not dom0 (device-model target, driver domain)", () => {
    const { env, xs } = pvEnv(build);
    const blk = new VirtioBlk({ backing: new MemDisk(DISK_BYTES) });
    for (const be of [STUBDOM, DRIVER_DOM]) {
      expect(() => new PvP2mTransport({ env, xenstore: xs, guest: GUEST, backend: be, device: blk })).toThrow(TransportSetupError);
      expect(() => new PvP2mTransport({ env, xenstore: xs, guest: GUEST, backend: be, device: blk })).toThrow(/only dom0 may map the guest's machine frames/);
    }
  });

  it("close() unmaps the ring and drops the exposure", () => {
    const w = pvWorld(build);
    w.c.mark();
    w.t.close();
    expect(w.c.get(L.CNT_FOREIGN_UNMAPS)).toBe(4);
    expect(w.t.exposure()).toEqual({ reachable: 0, mapped: 0, mappedPeak: 4 });
    expect(w.m.counter(L.CNT_TR_EXPOSED_REACHABLE)).toBe(0);
    expect(w.m.counter(L.CNT_TR_EXPOSED_MAPPED)).toBe(0);
  });
});
