// 64-bit descriptor addresses end to end: a driver adds chains whose addresses a number cannot
// hold (Linux's grant DMA addresses, bit 63; anything from 2^53 up), the device pops them, and
// both the Wasm kernels and the TS references hand back exactly the u64 the driver wrote. The
// E17 rule still judges them: outside the guest's RAM when buffers must lie there, accepted
// when the transport's addresses are not guest-physical (only the 2^64 wrap is checked).
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { Machine } from "../src/wasm/machine.ts";
import { SplitDevice, SplitDriver, readChains } from "../src/wasm/split.ts";
import { WasmPackedDevice, WasmPackedDriver, type PackedDeviceConfig } from "../src/wasm/packed.ts";
import { SplitRefDevice } from "../src/virtio/split-ref.ts";
import { RefPackedDevice } from "../src/virtio/packed-ref.ts";
import { dmaAdd, dmaCanon, dmaFromHalves, dmaGpa, dmaHi, dmaLo, FAR_GPA, getDma, isDmaAddr, setDma, type DmaAddr } from "../src/virtio/dma-addr.ts";
import { grantDmaAddr } from "../src/transports/grant-map.ts";

const GUEST = 1;
const RING = { desc: 0x10000, avail: 0x11000, used: 0x12000 };
const GRANT = grantDmaAddr(0x1234, 0x56); // 0x8000000001234056
const SEGS: { addr: DmaAddr; len: number; write: boolean }[] = [
  { addr: GRANT, len: 16, write: false },
  { addr: 2n ** 53n + 1n, len: 1, write: false }, // the first odd value a double cannot hold
  { addr: 2n ** 64n - 8n, len: 8, write: true }, // ends on the last byte: no wrap
];

describe("dma-addr", () => {
  it("keeps one canonical form: a number below 2^53, a bigint from 2^53 up", () => {
    expect(dmaFromHalves(0x1fffff, 0xffffffff)).toBe(2 ** 53 - 1);
    expect(dmaFromHalves(0x200000, 1)).toBe(2n ** 53n + 1n);
    expect(dmaFromHalves(0x80000000, 0x1234056)).toBe(GRANT);
    expect(dmaCanon(0x1000n)).toBe(0x1000);
    expect([dmaHi(GRANT), dmaLo(GRANT)]).toEqual([0x80000000, 0x1234056]);
    expect([dmaHi(2 ** 40 + 5), dmaLo(2 ** 40 + 5)]).toEqual([0x100, 5]);
    expect(dmaAdd(2 ** 53 - 2, 3)).toBe(2n ** 53n + 1n);
    expect(dmaAdd(2n ** 64n - 1n, 2)).toBe(1); // the u64 wraps
    expect(dmaAdd(GRANT, 0x10)).toBe(GRANT + 0x10n);
    expect([isDmaAddr(-1), isDmaAddr(0.5), isDmaAddr(2 ** 53), isDmaAddr(2n ** 64n), isDmaAddr(2n ** 64n - 1n)]).toEqual([false, false, false, false, true]);
    expect([dmaGpa(0x5000), dmaGpa(GRANT)]).toEqual([0x5000, FAR_GPA]);
    const dv = new DataView(new ArrayBuffer(8));
    setDma(dv, 0, GRANT);
    expect([dv.getUint32(0, true), dv.getUint32(4, true)]).toEqual([0x1234056, 0x80000000]);
    expect(getDma(dv, 0)).toBe(GRANT);
  });
});

function guest(build: "release" | "debug"): Machine {
  const m = new Machine({ build });
  m.createDomain(GUEST, 256);
  return m;
}

describe.each(["release", "debug"] as const)("64-bit descriptor addresses, split ring (%s)", (build) => {
  const added = (m: Machine): void => {
    const drv = new SplitDriver(m, 1, GUEST, 8);
    expect(drv.init({ size: 8, ...RING })).toBe(L.VQ_OK);
    expect(drv.add([{ segs: SEGS }])).toEqual([0]);
    drv.kick();
    const d = new DataView(m.read(GUEST, RING.desc, 16).buffer); // descriptor 0, as two u32 words
    expect([d.getUint32(0, true), d.getUint32(4, true)]).toEqual([0x1234056, 0x80000000]);
  };

  for (const bufDomid of [L.DOMID_INVALID, GUEST]) {
    const inRam = bufDomid === GUEST;
    it(`Wasm and TS pop them ${inRam ? "as E17 (outside the guest's RAM)" : "bit for bit"}`, () => {
      const [ma, mb] = [guest(build), guest(build)];
      added(ma);
      added(mb);
      const dev = new SplitDevice(ma, 0, GUEST, 8);
      expect(dev.enable({ size: 8, ...RING }, {}, { bufDomid })).toBe(L.VQ_OK);
      dev.setDriverOk(true);
      const ref = new SplitRefDevice(mb, GUEST, 8);
      ref.reset();
      expect(ref.enable(8, RING.desc, RING.avail, RING.used, 0, bufDomid, 0, 0)).toBe(L.VQ_OK);
      ref.setFlags(L.QF_DRIVER_OK, 0);
      const out = new DataView(new ArrayBuffer(4096));
      const fromWasm = dev.pop(4);
      const nRef = ref.pop(out, 0, 4096, 4);
      if (inRam) {
        expect([fromWasm.length, nRef, dev.error, ref.error]).toEqual([0, 0, L.VQ_E17_BUFFER_OUTSIDE_RAM, L.VQ_E17_BUFFER_OUTSIDE_RAM]);
        return;
      }
      expect(fromWasm).toHaveLength(1);
      expect(fromWasm[0]!.segs).toEqual(SEGS);
      expect(readChains(out, 0, nRef)).toEqual(fromWasm);
    });
  }

  it("the wrap rule still holds: a segment running past 2^64 - 1 is E17", () => {
    const m = guest(build);
    const drv = new SplitDriver(m, 1, GUEST, 8);
    expect(drv.init({ size: 8, ...RING })).toBe(L.VQ_OK);
    drv.add([{ segs: [{ addr: 2n ** 64n - 8n, len: 9, write: true }] }]);
    drv.kick();
    const dev = new SplitDevice(m, 0, GUEST, 8);
    expect(dev.enable({ size: 8, ...RING })).toBe(L.VQ_OK);
    dev.setDriverOk(true);
    expect(dev.pop(4)).toEqual([]);
    expect(dev.error).toBe(L.VQ_E17_BUFFER_OUTSIDE_RAM);
  });

  it("a ring area above 2^32 is E3, one misaligned above 2^53 is E2: the exact address decides", () => {
    const m = guest(build);
    const dev = new SplitDevice(m, 0, GUEST, 8);
    expect(dev.enable({ size: 8, ...RING, desc: 2n ** 63n })).toBe(L.VQ_E3_RING_OUTSIDE_RAM);
    dev.reset();
    // 2^63 + 8 rounds to 2^63 as a double: only the exact value shows the misalignment.
    expect(dev.enable({ size: 8, ...RING, desc: 2n ** 63n + 8n })).toBe(L.VQ_E2_MISALIGNED);
    expect(() => dev.enable({ size: 8, ...RING, desc: 2n ** 64n })).toThrow(/not a 64-bit address/);
  });
});

/** The Wasm device side on `ma` and the TS reference on `mb`, enabled on RING. */
function packedDevices(ma: Machine, mb: Machine, cfg: PackedDeviceConfig): { dev: WasmPackedDevice; ref: RefPackedDevice } {
  const dev = new WasmPackedDevice(ma, cfg);
  const ref = new RefPackedDevice(mb, cfg);
  for (const d of [dev, ref]) {
    expect(d.enable(8, RING.desc, RING.avail, RING.used)).toBe(L.VQ_OK);
    d.driverOk();
  }
  return { dev, ref };
}

describe.each(["release", "debug"] as const)("64-bit descriptor addresses, packed ring (%s)", (build) => {
  for (const indirect of [false, true]) {
    it(`Wasm and TS pop a ${indirect ? "chain from an indirect table" : "direct chain"} bit for bit`, () => {
      const [ma, mb] = [guest(build), guest(build)];
      const table = 0x20000;
      for (const m of [ma, mb]) {
        m.write(GUEST, table, new Uint8Array(64)); // populate the table's page
        const drv = new WasmPackedDriver(m, { queue: 1, ringDomid: GUEST, features: { indirect } });
        expect(drv.init(8, RING.desc, RING.avail, RING.used)).toBe(L.VQ_OK);
        expect(drv.add(SEGS, indirect ? table : undefined)).toBe(0);
        drv.kickPrepare();
        const d = new DataView(m.read(GUEST, indirect ? table : RING.desc, 16).buffer);
        expect([d.getUint32(0, true), d.getUint32(4, true)]).toEqual([0x1234056, 0x80000000]);
      }
      const { dev, ref } = packedDevices(ma, mb, { queue: 0, ringDomid: GUEST, features: { indirect } });
      const got = dev.pop(4);
      expect(got).toHaveLength(1);
      expect(got[0]!.segs).toEqual(SEGS);
      expect(ref.popChains(4)).toEqual(got);
    });
  }

  it("with buffers bound to the guest's RAM, a bit-63 address is E17 on both", () => {
    const [ma, mb] = [guest(build), guest(build)];
    for (const m of [ma, mb]) {
      const drv = new WasmPackedDriver(m, { queue: 1, ringDomid: GUEST });
      expect(drv.init(8, RING.desc, RING.avail, RING.used)).toBe(L.VQ_OK);
      expect(drv.add([{ addr: GRANT, len: 16, write: false }])).toBe(0);
      drv.kickPrepare();
    }
    const { dev, ref } = packedDevices(ma, mb, { queue: 0, ringDomid: GUEST, bufDomid: GUEST });
    expect(dev.pop(4)).toEqual([]);
    expect(ref.popChains(4)).toEqual([]);
    expect([dev.error, ref.error]).toEqual([L.VQ_E17_BUFFER_OUTSIDE_RAM, L.VQ_E17_BUFFER_OUTSIDE_RAM]);
  });
});
