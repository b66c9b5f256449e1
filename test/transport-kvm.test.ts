import { afterEach, describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { runHarness } from "../src/transports/harness.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import { DISK_BYTES, FileDisk, GUEST_PAGES, kvmWorld, tempImage } from "./helpers/transport-world.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

// Bring-up in register accesses (src/virtio/driver-probe.ts): probe 4, reset 2, ACK 2,
// DRIVER 2, features 4, accept 4, FEATURES_OK 3, config (generation, capacity as 2 halves,
// generation) 4, one queue 11, DRIVER_OK 2.
const BRINGUP = 4 + 2 + 2 + 2 + 4 + 4 + 3 + 4 + 11 + 2;

describe.each(["release", "debug"] as const)("kvm-ioeventfd x virtio-blk (%s)", (build) => {
  it("brings the device up with one VM exit to the VMM per register access", () => {
    const w = kvmWorld({ build, init: false });
    w.driver.init();
    expect(w.c.pick({ traps: L.CNT_TR_REG_TRAPS, user: L.CNT_KVM_EXITS_USER, ioeventfd: L.CNT_KVM_EXITS_IOEVENTFD })).toEqual({
      traps: BRINGUP, user: BRINGUP, ioeventfd: 0,
    });
    expect(w.t.backend.regs.status).toBe(L.VIRTIO_CONFIG_S_ACKNOWLEDGE | L.VIRTIO_CONFIG_S_DRIVER | L.VIRTIO_CONFIG_S_FEATURES_OK | L.VIRTIO_CONFIG_S_DRIVER_OK);
    expect(w.t.backend.regs.faultCount).toBe(0);
    expect(w.guest.capacity).toBe(BigInt(DISK_BYTES / 512));
    expect(w.driver.has(L.VIRTIO_RING_F_EVENT_IDX)).toBe(true);
    expect(w.driver.has(L.VIRTIO_BLK_F_FLUSH)).toBe(true);
    expect(w.t.exposure()).toEqual({ reachable: GUEST_PAGES, mapped: GUEST_PAGES, mappedPeak: GUEST_PAGES });
  });

  it("moves every byte through a real image file and reads it back, with the exact per-I/O counts", () => {
    const img = tempImage();
    cleanups.push(img.cleanup);
    const disk = new FileDisk(img.path, { fsync: false });
    cleanups.push(() => disk.close());
    const w = kvmWorld({ build, backing: disk });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 24, 7, true);
    w.c.mark();
    const r = runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    const n = wl.ops.length;
    expect(r).toMatchObject({ submitted: n, completed: n, kicks: n, interrupts: n });
    expect(wl.verifyImage(img.read())).toBe(wl.bytesWritten);
    expect(wl.bytesVerified).toBe(wl.bytesWritten);
    const data = wl.ops.filter((o) => o.kind === "write").reduce((s, o) => s + o.bytes, 0);
    expect(wl.bytesWritten).toBe(data);
    expect(w.c.pick({
      ioeventfd: L.CNT_KVM_EXITS_IOEVENTFD, user: L.CNT_KVM_EXITS_USER, signals: L.CNT_KVM_EVENTFD_SIGNALS,
      merged: L.CNT_KVM_EVENTFD_MERGED, wakeups: L.CNT_KVM_BACKEND_WAKEUPS, irqfd: L.CNT_KVM_IRQFD_SIGNALS,
      injections: L.CNT_KVM_IRQ_INJECTIONS, traps: L.CNT_TR_REG_TRAPS, notifyTraps: L.CNT_TR_REG_TRAPS_NOTIFY,
      isrTraps: L.CNT_TR_REG_TRAPS_ISR, notifications: L.CNT_TR_NOTIFICATIONS, interrupts: L.CNT_TR_INTERRUPTS,
      copies: L.CNT_TR_COPY_BYTES_GUEST + 0, exposedIo: L.CNT_TR_PAGES_EXPOSED_IO, devRead: L.CNT_TR_DEV_READ_BYTES,
      devWrite: L.CNT_TR_DEV_WRITE_BYTES, hypercalls: L.CNT_HYPERCALLS,
    })).toEqual({
      ioeventfd: n, user: 2 * n, signals: n, merged: 0, wakeups: n, irqfd: n, injections: n,
      traps: 3 * n, notifyTraps: n, isrTraps: 2 * n, notifications: n, interrupts: n, copies: 0, exposedIo: 0,
      devRead: 16 * n + data, devWrite: data + n, hypercalls: 0,
    });
    for (const id of [L.CNT_TR_COPY_BYTES_HV, L.CNT_TR_COPY_BYTES_BACKEND, L.CNT_COPY_BYTES, L.CNT_TR_IO_ERRORS]) expect(w.c.get(id)).toBe(0);
    expect(w.blk.stats).toMatchObject({ requests: n, ok: n, ioerr: 0, unsupp: 0 });
  });
});
