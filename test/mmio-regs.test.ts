// The device side of the virtio-mmio window (src/transports/mmio-regs.ts), register by register.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { MmioRegs, VXSIM_VENDOR_ID, type MmioRegsHooks } from "../src/transports/mmio-regs.ts";
import type { VirtioDevice } from "../src/devices/types.ts";
import type { RingAddrs } from "../src/virtio/rings.ts";

const S_ACK = L.VIRTIO_CONFIG_S_ACKNOWLEDGE;
const S_DRV = L.VIRTIO_CONFIG_S_DRIVER;
const S_FOK = L.VIRTIO_CONFIG_S_FEATURES_OK;
const S_DOK = L.VIRTIO_CONFIG_S_DRIVER_OK;
const V1 = 1n << 32n;

function fake(): VirtioDevice & { negotiatedWith: bigint[]; resets: number } {
  return {
    deviceId: 4,
    features: 0b101n, // bits 0 and 2
    numQueues: 2,
    queueMax: 64,
    config: Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55),
    negotiatedWith: [],
    resets: 0,
    negotiated(f) {
      this.negotiatedWith.push(f);
    },
    handle: () => ({ written: 0 }),
    reset() {
      this.resets++;
    },
  };
}

function setup(readyRc: number = L.VQ_OK) {
  const log: string[] = [];
  const rings: RingAddrs[] = [];
  const hooks: MmioRegsHooks = {
    queueReady: (q, ring, f) => (log.push(`ready ${q} 0x${f.toString(16)}`), rings.push(ring), readyRc),
    queueStop: (q) => void log.push(`stop ${q}`),
    notify: (q, v) => void log.push(`notify ${q} ${v}`),
    driverOk: () => void log.push("driver-ok"),
    reset: () => void log.push("reset"),
    irqLevel: (h) => void log.push(`irq ${h ? 1 : 0}`),
  };
  const dev = fake();
  const r = new MmioRegs(dev, 1n << BigInt(L.VIRTIO_RING_F_EVENT_IDX), hooks);
  const st = (v: number) => r.write(L.VIRTIO_MMIO_STATUS, 4, v);
  const feat = (f: bigint) => {
    r.write(L.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 0);
    r.write(L.VIRTIO_MMIO_DRIVER_FEATURES, 4, Number(f & 0xffffffffn));
    r.write(L.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1);
    r.write(L.VIRTIO_MMIO_DRIVER_FEATURES, 4, Number(f >> 32n));
  };
  const toFeaturesOk = (f = V1 | 1n) => {
    st(S_ACK);
    st(S_ACK | S_DRV);
    feat(f);
    st(S_ACK | S_DRV | S_FOK);
  };
  const queue = (q: number, num = 16) => {
    r.write(L.VIRTIO_MMIO_QUEUE_SEL, 4, q);
    r.write(L.VIRTIO_MMIO_QUEUE_NUM, 4, num);
    r.write(L.VIRTIO_MMIO_QUEUE_DESC_LOW, 4, 0x1000);
    r.write(L.VIRTIO_MMIO_QUEUE_DESC_HIGH, 4, 1);
    r.write(L.VIRTIO_MMIO_QUEUE_AVAIL_LOW, 4, 0x2000);
    r.write(L.VIRTIO_MMIO_QUEUE_USED_LOW, 4, 0x3000);
    r.write(L.VIRTIO_MMIO_QUEUE_READY, 4, 1);
  };
  const live = () => {
    toFeaturesOk();
    queue(0);
    st(S_ACK | S_DRV | S_FOK | S_DOK);
  };
  return { r, dev, log, rings, st, feat, toFeaturesOk, queue, live };
}

describe("virtio-mmio register file", () => {
  it("identifies itself and offers device, ring and VERSION_1 features by word", () => {
    const { r } = setup();
    expect(r.read(L.VIRTIO_MMIO_MAGIC_VALUE, 4)).toBe(0x74726976);
    expect(r.read(L.VIRTIO_MMIO_VERSION, 4)).toBe(2);
    expect(r.read(L.VIRTIO_MMIO_DEVICE_ID, 4)).toBe(4);
    expect(r.read(L.VIRTIO_MMIO_VENDOR_ID, 4)).toBe(VXSIM_VENDOR_ID);
    expect(r.read(L.VIRTIO_MMIO_DEVICE_FEATURES, 4)).toBe((1 << 29) | 0b101);
    r.write(L.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 1);
    expect(r.read(L.VIRTIO_MMIO_DEVICE_FEATURES, 4)).toBe(1);
    r.write(L.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 2);
    expect(r.read(L.VIRTIO_MMIO_DEVICE_FEATURES, 4)).toBe(0);
    for (const off of [L.VIRTIO_MMIO_SHM_LEN_LOW, L.VIRTIO_MMIO_SHM_LEN_HIGH, L.VIRTIO_MMIO_SHM_BASE_LOW, L.VIRTIO_MMIO_SHM_BASE_HIGH]) {
      expect(r.read(off, 4)).toBe(0xffffffff);
    }
    expect(r.read(L.VIRTIO_MMIO_QUEUE_RESET, 4)).toBe(0);
    expect(r.read(L.VIRTIO_MMIO_CONFIG_GENERATION, 4)).toBe(0);
    expect(r.faultCount).toBe(0);
  });

  it("reads config at the field's width, zero past its end", () => {
    const { r } = setup();
    expect(r.read(0x100, 1)).toBe(0x11);
    expect(r.read(0x101, 2)).toBe(0x3322);
    expect(r.read(0x101, 4)).toBe(0x55443322);
    expect(r.read(0x104, 4)).toBe(0x55);
    expect(r.read(0x180, 4)).toBe(0);
    expect(r.read(0x100, 8)).toBe(0);
    expect(r.faults).toEqual([{ code: "E25", off: 0x100, what: "8-byte config read" }]);
  });

  it("E25: narrow or unaligned control accesses, reads of write-only and writes of read-only registers are ignored", () => {
    const { r } = setup();
    expect(r.read(L.VIRTIO_MMIO_MAGIC_VALUE, 2)).toBe(0);
    expect(r.read(L.VIRTIO_MMIO_VERSION + 1, 4)).toBe(0);
    expect(r.read(L.VIRTIO_MMIO_QUEUE_SEL, 4)).toBe(0);
    expect(r.read(L.VIRTIO_MMIO_GUEST_PAGE_SIZE, 4)).toBe(0);
    r.write(L.VIRTIO_MMIO_MAGIC_VALUE, 4, 0);
    r.write(L.VIRTIO_MMIO_QUEUE_PFN, 4, 1);
    r.write(L.VIRTIO_MMIO_STATUS, 1, S_ACK);
    expect(r.status).toBe(0);
    expect(r.faults.map((f) => f.code)).toEqual(["E25", "E25", "E25", "E25", "E25", "E25", "E25"]);
    expect(r.faults[6]).toEqual({ code: "E25", off: L.VIRTIO_MMIO_STATUS, what: "1-byte write of a control register" });
  });

  it("follows the status handshake and refuses other transitions (E24)", () => {
    const { r, st, dev, log, feat } = setup();
    st(S_DRV);
    expect(r.status).toBe(0);
    st(S_ACK);
    st(S_ACK | S_DRV | S_FOK); // skips DRIVER
    expect(r.status).toBe(S_ACK);
    st(S_ACK | S_DRV);
    feat(V1 | 4n);
    st(S_ACK | S_DRV | S_FOK);
    expect(r.status).toBe(S_ACK | S_DRV | S_FOK);
    expect(dev.negotiatedWith).toEqual([V1 | 4n]);
    st(S_ACK); // clearing bits is not a transition
    expect(r.status).toBe(S_ACK | S_DRV | S_FOK);
    st(S_ACK | S_DRV | S_FOK | S_DOK);
    expect(log).toEqual(["driver-ok"]);
    st(L.VIRTIO_CONFIG_S_FAILED);
    expect(r.status & L.VIRTIO_CONFIG_S_FAILED).toBe(L.VIRTIO_CONFIG_S_FAILED);
    expect(r.faults.filter((f) => f.code === "E24")).toHaveLength(3);
  });

  it("E23: FEATURES_OK is not kept when the driver accepted an unoffered bit or not VERSION_1", () => {
    const a = setup();
    a.toFeaturesOk(V1 | 2n);
    expect(a.r.status).toBe(S_ACK | S_DRV);
    expect(a.r.faults).toEqual([{ code: "E23", off: L.VIRTIO_MMIO_STATUS, what: "driver accepted unoffered features 0x2" }]);
    const b = setup();
    b.toFeaturesOk(1n);
    expect(b.r.status).toBe(S_ACK | S_DRV);
    expect(b.r.faults[0]!.what).toBe("driver did not accept VERSION_1 (legacy drivers are not served)");
    expect(b.dev.negotiatedWith).toEqual([]);
  });

  it("feature words past bit 127 read as 0; bits written there are refused (E23)", () => {
    const { r, st } = setup();
    r.write(L.VIRTIO_MMIO_DEVICE_FEATURES_SEL, 4, 0xffffffff);
    expect(r.read(L.VIRTIO_MMIO_DEVICE_FEATURES, 4)).toBe(0);
    st(S_ACK);
    st(S_ACK | S_DRV);
    r.write(L.VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 0xffffffff);
    r.write(L.VIRTIO_MMIO_DRIVER_FEATURES, 4, 0);
    r.write(L.VIRTIO_MMIO_DRIVER_FEATURES, 4, 1);
    expect(r.driverFeatures).toBe(0n);
    expect(r.faults).toEqual([{ code: "E23", off: L.VIRTIO_MMIO_DRIVER_FEATURES, what: "feature bits in word 4294967295, beyond the 128 the spec defines" }]);
  });

  it("E24: DriverFeatures only between DRIVER and FEATURES_OK", () => {
    const { r, st, feat } = setup();
    feat(V1);
    expect(r.driverFeatures).toBe(0n);
    st(S_ACK);
    st(S_ACK | S_DRV);
    feat(V1 | 1n);
    st(S_ACK | S_DRV | S_FOK);
    feat(V1 | 4n);
    expect(r.features).toBe(V1 | 1n);
    expect(r.faults.map((f) => f.what)).toEqual(Array(4).fill("DriverFeatures written outside the negotiation phase"));
  });

  it("programs a queue and hands the ring to the backend at QueueReady; refuses reprogramming while ready", () => {
    const { r, toFeaturesOk, queue, log, rings } = setup();
    r.write(L.VIRTIO_MMIO_QUEUE_SEL, 4, 1);
    expect(r.read(L.VIRTIO_MMIO_QUEUE_NUM_MAX, 4)).toBe(64);
    r.write(L.VIRTIO_MMIO_QUEUE_READY, 4, 1); // before FEATURES_OK
    expect(r.read(L.VIRTIO_MMIO_QUEUE_READY, 4)).toBe(0);
    toFeaturesOk();
    queue(1, 32);
    expect(log).toEqual([`ready 1 0x${(V1 | 1n).toString(16)}`]);
    expect(rings).toEqual([{ size: 32, desc: 0x1_0000_1000, driver: 0x2000, device: 0x3000 }]);
    expect(r.read(L.VIRTIO_MMIO_QUEUE_READY, 4)).toBe(1);
    r.write(L.VIRTIO_MMIO_QUEUE_NUM, 4, 8);
    expect(r.queue(1)!.num).toBe(32);
    r.write(L.VIRTIO_MMIO_QUEUE_READY, 4, 1); // already ready: nothing
    r.write(L.VIRTIO_MMIO_QUEUE_READY, 4, 0);
    expect(log.slice(1)).toEqual(["stop 1"]);
    r.write(L.VIRTIO_MMIO_QUEUE_SEL, 4, 2); // absent queue
    expect(r.read(L.VIRTIO_MMIO_QUEUE_NUM_MAX, 4)).toBe(0);
    r.write(L.VIRTIO_MMIO_QUEUE_NUM, 4, 8);
    r.write(L.VIRTIO_MMIO_QUEUE_READY, 4, 1);
    expect(r.faults.map((f) => f.what)).toEqual([
      "QueueReady before FEATURES_OK", "queue 1 reprogrammed while ready", "queue 2 does not exist", "queue 2 does not exist",
    ]);
  });

  it("a queue the backend cannot use sets DEVICE_NEEDS_RESET (and a config interrupt once live)", () => {
    const { r, toFeaturesOk, queue, st, log } = setup(L.VQ_E3_RING_OUTSIDE_RAM);
    toFeaturesOk();
    queue(0);
    expect(r.status & L.VIRTIO_CONFIG_S_NEEDS_RESET).toBe(L.VIRTIO_CONFIG_S_NEEDS_RESET);
    expect(r.interruptStatus).toBe(0);
    st(S_ACK | S_DRV | S_FOK | S_DOK | L.VIRTIO_CONFIG_S_NEEDS_RESET); // the driver may echo the bit
    expect(r.status & S_DOK).toBe(S_DOK);
    queue(1);
    expect(r.interruptStatus).toBe(L.VIRTIO_MMIO_INT_CONFIG);
    expect(log.at(-1)).toBe("irq 1");
  });

  it("forwards QueueNotify only when live and the queue ready (E4)", () => {
    const { r, live, log } = setup();
    r.write(L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
    live();
    r.write(L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0x0001_0000);
    r.write(L.VIRTIO_MMIO_QUEUE_NOTIFY, 4, 1);
    expect(log.filter((l) => l.startsWith("notify"))).toEqual(["notify 0 65536"]);
    expect(r.faults.filter((f) => f.code === "E4")).toHaveLength(2);
  });

  it("raises the line on the first interrupt bit, lowers it when the ACK clears the last", () => {
    const { r, live, log } = setup();
    r.write(L.VIRTIO_MMIO_INTERRUPT_ACK, 4, 1); // before DRIVER_OK
    live();
    log.length = 0;
    expect(r.raise(L.VIRTIO_MMIO_INT_VRING)).toBe(true);
    expect(r.raise(L.VIRTIO_MMIO_INT_VRING)).toBe(false);
    expect(r.raise(L.VIRTIO_MMIO_INT_CONFIG)).toBe(false);
    expect(r.read(L.VIRTIO_MMIO_INTERRUPT_STATUS, 4)).toBe(3);
    r.write(L.VIRTIO_MMIO_INTERRUPT_ACK, 4, 1);
    expect(r.interruptStatus).toBe(2);
    r.write(L.VIRTIO_MMIO_INTERRUPT_ACK, 4, 0xfffffffe);
    expect(r.interruptStatus).toBe(0);
    expect(log).toEqual(["irq 1", "irq 0"]);
    expect(r.faults).toEqual([{ code: "E24", off: L.VIRTIO_MMIO_INTERRUPT_ACK, what: "InterruptACK before DRIVER_OK" }]);
  });

  it("status 0 resets registers, queues, the device, and lowers a raised line", () => {
    const { r, live, log, dev } = setup();
    live();
    r.raise(1);
    log.length = 0;
    r.write(L.VIRTIO_MMIO_STATUS, 4, 0);
    expect(log).toEqual(["irq 0", "reset"]);
    expect(dev.resets).toBe(1);
    expect(r.status).toBe(0);
    expect(r.interruptStatus).toBe(0);
    expect(r.features).toBe(0n);
    r.write(L.VIRTIO_MMIO_QUEUE_SEL, 4, 0);
    expect(r.read(L.VIRTIO_MMIO_QUEUE_READY, 4)).toBe(0);
  });

  it("config writes are refused (the configuration is read-only)", () => {
    const { r } = setup();
    r.write(0x100, 1, 9);
    expect(r.read(0x100, 1)).toBe(0x11);
    expect(r.faults).toEqual([{ code: "E24", off: 0x100, what: "config write: the device's configuration is read-only" }]);
  });
});
