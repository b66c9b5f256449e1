import { afterEach, describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { runHarness } from "../src/transports/harness.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import { DISK_BYTES, FileDisk, GUEST_PAGES, driverFor, kvmWorld, tempImage } from "./helpers/transport-world.ts";
import { Eventfd, KvmVm } from "../src/kvm/kvm.ts";
import { KvmIoeventfdTransport } from "../src/transports/kvm-ioeventfd.ts";
import { BlkGuest } from "../src/devices/blk-guest.ts";

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

  it("with per-queue MSI vectors the handler touches no register: one exit and one injection per I/O", () => {
    const w = kvmWorld({ build, kvm: { msi: true } });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 6, 2);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    const n = wl.ops.length;
    expect(w.c.pick({ ioeventfd: L.CNT_KVM_EXITS_IOEVENTFD, user: L.CNT_KVM_EXITS_USER, injections: L.CNT_KVM_IRQ_INJECTIONS, isr: L.CNT_TR_REG_TRAPS_ISR })).toEqual({
      ioeventfd: n, user: 0, injections: n, isr: 0,
    });
    expect(wl.bytesVerified).toBe(6 * 4096);
  });

  it.each([[true, 1, 0], [false, 8, 7]] as const)("EVENT_IDX %s: 8 kicks while the VMM sleeps: %i ioeventfd exits, %i merged on the eventfd", (eventIdx, exits, merged) => {
    const w = kvmWorld({ build, eventIdx, kvm: { eventIdx } });
    const wl = new BlkPattern(w.guest, DISK_BYTES, 8, 4);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 8, kickEachSubmit: true });
    expect(w.c.pick({ ioeventfd: L.CNT_KVM_EXITS_IOEVENTFD, signals: L.CNT_KVM_EVENTFD_SIGNALS, merged: L.CNT_KVM_EVENTFD_MERGED, wakeups: L.CNT_KVM_BACKEND_WAKEUPS, irqfd: L.CNT_KVM_IRQFD_SIGNALS })).toEqual({
      ioeventfd: 2 * exits, signals: 2, merged: 2 * merged, wakeups: 2, irqfd: 2,
    });
  });

  it("a QueueNotify before DRIVER_OK exits to the VMM (no ioeventfd yet) and is refused (E4)", () => {
    const w = kvmWorld({ build, init: false });
    w.c.mark();
    w.t.frontend.writeReg(L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
    expect(w.c.pick({ user: L.CNT_KVM_EXITS_USER, ioeventfd: L.CNT_KVM_EXITS_IOEVENTFD })).toEqual({ user: 1, ioeventfd: 0 });
    expect(w.t.backend.regs.faults.map((f) => f.code)).toEqual(["E4"]);
  });

  it("a guest that corrupts its avail index gets DEVICE_NEEDS_RESET and a configuration interrupt, then recovers after a reset", () => {
    const w = kvmWorld({ build });
    const avail = Number(w.driver.layout(0).driver);
    w.m.write(w.t.guest, avail + 2, Uint8Array.of(0xe8, 0x03)); // avail.idx = 1000 > queue size away (E5)
    w.t.frontend.writeReg(L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
    expect(w.t.service()).toBe(0);
    expect(w.t.backend.ring(0)!.error).toBe(L.VQ_E5_AVAIL_IDX_JUMP);
    expect(w.driver.handleInterrupt()).toEqual([]);
    expect(w.driver.configInterrupts).toBe(1);
    expect(w.t.frontend.readReg(L.VIRTIO_MMIO_STATUS, 4) & L.VIRTIO_CONFIG_S_NEEDS_RESET).toBe(L.VIRTIO_CONFIG_S_NEEDS_RESET);
    const again = driverFor(w.m, w.t, {}, w.pages);
    again.init(); // resets the device (status 0) and sets the queue up anew
    const g = new BlkGuest(again, w.pages);
    const wl = new BlkPattern(g, DISK_BYTES, 3, 8);
    runHarness({ driver: again, transport: w.t, workload: wl, iodepth: 2 });
    expect(wl.bytesVerified).toBe(3 * 4096);
  });

  it("a device reset stops the ioeventfds; close() removes the window and the exposure", () => {
    const w = kvmWorld({ build });
    w.t.frontend.writeReg(L.VIRTIO_MMIO_STATUS, 4, 0);
    w.c.mark();
    w.t.frontend.writeReg(L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
    expect(w.c.pick({ user: L.CNT_KVM_EXITS_USER, ioeventfd: L.CNT_KVM_EXITS_IOEVENTFD })).toEqual({ user: 1, ioeventfd: 0 });
    w.t.close();
    w.t.close();
    expect(w.m.counter(L.CNT_TR_EXPOSED_REACHABLE)).toBe(0);
    expect(w.m.counter(L.CNT_TR_EXPOSED_MAPPED)).toBe(0);
    expect(w.t.exposure()).toMatchObject({ reachable: 0, mapped: 0 });
    expect(w.t.frontend.readReg(L.VIRTIO_MMIO_MAGIC_VALUE, 4)).toBe(0); // nothing emulated there any more
    expect(() => w.t.service()).toThrow("kvm-ioeventfd: service() after close()");
  });

  it("refuses bad set-ups and KVM misuse by name", () => {
    const w = kvmWorld({ build });
    const blk = w.blk;
    expect(() => new KvmIoeventfdTransport({ vm: w.t.vm, device: blk, base: 0x1234 })).toThrow("kvm-ioeventfd: window base must be a page-aligned address, got 4660");
    expect(() => new KvmIoeventfdTransport({ vm: w.t.vm, device: blk, base: 0x1000 })).toThrow("kvm-ioeventfd: window base 0x1000 lies inside the guest's RAM");
    expect(() => new KvmIoeventfdTransport({ vm: w.t.vm, device: blk })).toThrow("KVM: MMIO region 0xa000000+0x200 overlaps another");
    expect(() => new KvmVm(w.m, 9)).toThrow("KVM: no machine domain 9 for the guest");
    const fd = new Eventfd();
    w.t.vm.addIoeventfd(0x2000_0000, 4, fd, 3);
    expect(() => w.t.vm.addIoeventfd(0x2000_0000, 4, fd, 3)).toThrow("KVM: ioeventfd at 0x20000000 (datamatch 3) already registered");
    expect(fd.signal()).toBe(true);
    expect(fd.signal()).toBe(false);
    expect(fd.read()).toBe(2);
    expect(fd.read()).toBe(0);
  });
});
