// Both transports with packed rings (VIRTIO_F_RING_PACKED offered by the transport, accepted
// by the driver): same bytes, same per-I/O counts as split rings.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { runHarness } from "../src/transports/harness.ts";
import { BlkPattern } from "./helpers/blk-pattern.ts";
import { DISK_BYTES, MemDisk, foreignWorld, kvmWorld } from "./helpers/transport-world.ts";

describe.each(["release", "debug"] as const)("packed rings (%s)", (build) => {
  it("kvm-ioeventfd: negotiated only when both sides want it; bytes and per-I/O exits as with split rings", () => {
    expect(kvmWorld({ build, packed: true }).driver.has(L.VIRTIO_F_RING_PACKED)).toBe(false); // not offered
    expect(kvmWorld({ build, kvm: { packed: true } }).driver.has(L.VIRTIO_F_RING_PACKED)).toBe(false); // not accepted
    const w = kvmWorld({ build, packed: true, kvm: { packed: true } });
    expect(w.driver.has(L.VIRTIO_F_RING_PACKED)).toBe(true);
    expect(w.driver.ring(0).packed).toBe(true);
    expect(w.t.backend.ring(0)!.packed).toBe(true);
    const wl = new BlkPattern(w.guest, DISK_BYTES, 12, 13, true);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 1 });
    const n = wl.ops.length;
    expect(wl.verifyImage((w.backing as MemDisk).bytes)).toBe(wl.bytesWritten);
    expect(wl.bytesVerified).toBe(wl.bytesWritten);
    expect(w.c.pick({ ioeventfd: L.CNT_KVM_EXITS_IOEVENTFD, user: L.CNT_KVM_EXITS_USER, injections: L.CNT_KVM_IRQ_INJECTIONS })).toEqual({ ioeventfd: n, user: 2 * n, injections: n });
  });

  // The device event structure starts zeroed (ENABLE: notify always) and gets DESC mode only
  // when the device first re-enables notifications, so EVENT_IDX suppresses from the second
  // batch on: 8 + 1 notifications with it, 8 + 8 without.
  it.each([[true, 8 + 1], [false, 8 + 8]] as const)("mmio-foreign: EVENT_IDX %s, two batches of 8 kicks while the backend sleeps: %i QueueNotify traps; 3 ring pages mapped", (eventIdx, notifies) => {
    const w = foreignWorld({ build, packed: true, eventIdx, mf: { packed: true, eventIdx } });
    expect(w.driver.ring(0).packed).toBe(true);
    expect(w.t.exposure().mapped).toBe(3); // descriptor ring, driver and device event structures
    const wl = new BlkPattern(w.guest, DISK_BYTES, 8, 17);
    w.c.mark();
    runHarness({ driver: w.driver, transport: w.t, workload: wl, iodepth: 8, kickEachSubmit: true });
    expect(wl.bytesVerified).toBe(8 * 4096);
    expect(w.c.pick({ notify: L.CNT_TR_REG_TRAPS_NOTIFY, isr: L.CNT_TR_REG_TRAPS_ISR, maps: L.CNT_FOREIGN_MAPS })).toEqual({ notify: notifies, isr: 4, maps: 32 });
  });
});
