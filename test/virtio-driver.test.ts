// The generic guest driver's bring-up failures, its page allocator, queue ids and the harness.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { Machine } from "../src/wasm/machine.ts";
import { GuestPages } from "../src/virtio/guest-pages.ts";
import { allocQueueId, freeQueueId, reserveQueueId } from "../src/virtio/queue-ids.ts";
import { VirtioDriver } from "../src/virtio/driver.ts";
import { DriverError } from "../src/virtio/driver-probe.ts";
import type { FrontendPort } from "../src/virtio/port.ts";
import { MmioRegs } from "../src/transports/mmio-regs.ts";
import { runHarness } from "../src/transports/harness.ts";
import { VirtioBlk } from "../src/devices/blk.ts";
import { MemDisk } from "../src/devices/blk-backing.ts";
import { BLK_CONFIG_READS, BLK_DRIVER_FEATURES } from "../src/devices/blk-guest.ts";
import { kvmWorld } from "./helpers/transport-world.ts";

/** A driver over a bare register file; `over` replaces what chosen registers read. */
function bare(over: Record<number, (v: number) => number> = {}, dev = new VirtioBlk({ backing: new MemDisk(8192), queueMax: 100 })) {
  const m = new Machine();
  m.createDomain(1, 512);
  const regs = new MmioRegs(dev, 0n, {
    queueReady: () => L.VQ_OK, queueStop: () => {}, notify: () => {}, driverOk: () => {}, reset: () => {}, irqLevel: () => {},
  });
  const port: FrontendPort = {
    readReg: (off, size) => (over[off] ?? ((v) => v))(regs.read(off, size)),
    writeReg: (off, size, v) => regs.write(off, size, v),
    expose: (b) => b.gpa, unexpose: () => {}, notify: () => {}, takeInterrupt: () => false, isrRegisters: true,
  };
  const driver = new VirtioDriver({ machine: m, domid: 1, port, pages: new GuestPages(1, 16, 256), deviceFeatures: BLK_DRIVER_FEATURES, configReads: BLK_CONFIG_READS });
  return { m, regs, driver };
}

describe("guest driver bring-up", () => {
  it.each([
    [L.VIRTIO_MMIO_MAGIC_VALUE, (): number => 0x12345678, "virtio-mmio: wrong magic value 0x12345678"],
    [L.VIRTIO_MMIO_VERSION, (): number => 1, "virtio-mmio: version 1 not supported (only 2)"],
    [L.VIRTIO_MMIO_DEVICE_ID, (): number => 0, "virtio-mmio: device id 0 (placeholder, no device)"],
    [L.VIRTIO_MMIO_QUEUE_NUM_MAX, (): number => 0, "virtio-mmio: queue 0 does not exist"],
    [L.VIRTIO_MMIO_QUEUE_READY, (): number => 1, "virtio-mmio: queue 0 is already set up"],
  ] as const)("refuses register %i reading wrong", (off, f, msg) => {
    const { driver } = bare({ [off]: f });
    expect(() => driver.init()).toThrow(new DriverError(msg));
  });

  it("refuses a device that does not reset", () => {
    let reads = 0;
    const { driver } = bare({ [L.VIRTIO_MMIO_STATUS]: (v) => (reads++ === 0 ? 3 : v) });
    expect(() => driver.init()).toThrow("virtio-mmio: device did not reset");
  });

  it("sets FAILED when VERSION_1 is not offered", () => {
    let sel = 0;
    const { driver, regs } = bare({ [L.VIRTIO_MMIO_DEVICE_FEATURES]: (v) => (sel++ === 0 ? 0 : v) });
    expect(() => driver.init()).toThrow("virtio-mmio: device does not offer VERSION_1");
    expect(regs.status & L.VIRTIO_CONFIG_S_FAILED).toBe(L.VIRTIO_CONFIG_S_FAILED);
  });

  it("sets FAILED when the device does not keep FEATURES_OK", () => {
    let n = 0;
    // The read after the FEATURES_OK write is the 5th Status read of the sequence.
    const { driver, regs } = bare({ [L.VIRTIO_MMIO_STATUS]: (v) => (++n === 5 ? v & ~L.VIRTIO_CONFIG_S_FEATURES_OK : v) });
    expect(() => driver.init()).toThrow(/^virtio-mmio: device refused features 0x/);
    expect(regs.status & L.VIRTIO_CONFIG_S_FAILED).toBe(L.VIRTIO_CONFIG_S_FAILED);
  });

  it("gives up when the configuration generation never settles", () => {
    let g = 0;
    const { driver } = bare({ [L.VIRTIO_MMIO_CONFIG_GENERATION]: () => g++ });
    expect(() => driver.init()).toThrow("virtio-mmio: configuration kept changing over 8 reads");
  });

  it("rounds the ring down to a power of two under QueueNumMax and accepts only offered features", () => {
    const { driver } = bare();
    driver.init();
    expect(driver.layout(0).size).toBe(64);
    expect(driver.has(L.VIRTIO_RING_F_EVENT_IDX)).toBe(false); // the bare register file offers no ring features
    expect(driver.has(L.VIRTIO_F_VERSION_1)).toBe(true);
    expect(() => driver.ring(1)).toThrow("queue 1 is not set up");
    expect(() => new VirtioDriver({ ...driver.opts }).features).toThrow("driver not initialised");
  });

  it("submit reports a full ring; no interrupt means null from the handler", () => {
    const w = kvmWorld({ queueSize: 4 });
    const buf = (write: boolean) => ({ gpa: w.pages.allocGpa(1), len: 512, write });
    expect(w.driver.submit(0, [buf(false), buf(true)], 1 as never)).toBe(true);
    expect(w.driver.submit(0, [buf(false), buf(true)], 2 as never)).toBe(true);
    expect(w.driver.submit(0, [buf(false), buf(true), buf(true)], 3 as never)).toBe(false);
    expect(w.driver.inFlight()).toBe(2);
    expect(w.driver.handleInterrupt()).toBeNull();
    expect(() => w.driver.submit(0, [buf(true), buf(false)], 4 as never)).toThrow("submit: device-readable buffers must come before device-writable ones");
    expect(() => w.driver.submit(0, [], 4 as never)).toThrow("submit: a chain needs at least one buffer");
  });
});

describe("guest pages and queue ids", () => {
  it("allocates first fit, frees, and names its errors", () => {
    const p = new GuestPages(3, 100, 8);
    expect(p.alloc(2)).toBe(100);
    expect(p.alloc(1)).toBe(102);
    expect(p.allocGpa(1)).toBe(103 * 4096);
    p.release(100, 2);
    expect(p.alloc(3)).toBe(104);
    expect(p.alloc(2)).toBe(100);
    expect(p.freePages).toBe(1);
    expect(() => p.alloc(2)).toThrow("guest d3: no 2 contiguous free pages in gfns [100, 108)");
    expect(() => p.release(107)).toThrow("guest d3: gfn 107 freed twice");
    expect(() => p.release(99)).toThrow("gfns [99, 100) are outside the allocator");
    expect(() => p.alloc(0)).toThrow("page count must be a positive integer, got 0");
    expect(() => new GuestPages(1, -1, 4)).toThrow("firstGfn must be a non-negative integer, got -1");
    expect(() => new GuestPages(1, 0, 0)).toThrow("count must be a positive integer, got 0");
  });

  it("hands out the lowest free queue id per machine", () => {
    const m = new Machine();
    expect(allocQueueId(m)).toBe(0);
    reserveQueueId(m, 1);
    expect(allocQueueId(m)).toBe(2);
    freeQueueId(m, 0);
    expect(allocQueueId(m)).toBe(0);
    expect(() => reserveQueueId(m, 2)).toThrow("queue id 2 is already in use");
    expect(() => freeQueueId(m, 5)).toThrow("queue id 5 is not in use");
    expect(() => reserveQueueId(m, L.MAX_QUEUES)).toThrow(`queue id must be an integer in [0, ${L.MAX_QUEUES}), got ${L.MAX_QUEUES}`);
    expect(allocQueueId(new Machine())).toBe(0);
  });
});

describe("harness", () => {
  it("refuses a bad iodepth and reports a stall", () => {
    const w = kvmWorld();
    const idle = { finished: false, submit: () => 0, complete: () => {} };
    expect(() => runHarness({ driver: w.driver, transport: w.t, workload: idle, iodepth: 0 })).toThrow("iodepth must be a positive integer, got 0");
    expect(() => runHarness({ driver: w.driver, transport: w.t, workload: idle })).toThrow("harness stalled after 1 rounds: 0 in flight, nothing submitted, served or completed");
  });

  it("stops at maxRounds", () => {
    const w = kvmWorld();
    let k = 0;
    const endless = {
      finished: false,
      submit: () => (w.guest.flush(k++) ? 1 : 0),
      complete: (c: Parameters<typeof w.guest.complete>[0]) => void w.guest.complete(c),
    };
    expect(() => runHarness({ driver: w.driver, transport: w.t, workload: endless, maxRounds: 5 })).toThrow("harness: no end after 5 rounds");
  });
});
