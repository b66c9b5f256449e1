// Packed virtqueue, device side: popping, validation (every applicable row of virtio.md 8 with
// its exact code), pushing, interrupt decision and kick suppression, against the Wasm builds
// and the plain-TS reference alike.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import type { PackedDeviceConfig } from "../src/wasm/packed.ts";
import { IMPLS, makeDevice, newMachine, type Impl } from "./helpers/packed-impls.ts";
import { AVAIL, INDIRECT, NEXT, PackedMock, USED, WRITE } from "./helpers/packed-mock.ts";

const BUF = 0x100000; // buffers live at 1 MiB in a 4 MiB guest
const GUEST = 1;

function setup(impl: Impl, size = 8, cfg: Partial<PackedDeviceConfig> = {}) {
  const m = newMachine(impl);
  m.createDomain(GUEST, 1024);
  const mock = new PackedMock(m, GUEST, size);
  const dev = makeDevice(impl, m, { queue: 3, ringDomid: GUEST, ...cfg });
  expect(dev.enable(size, mock.desc, mock.driverArea, mock.deviceArea)).toBe(0);
  dev.driverOk();
  return { m, mock, dev };
}

/** Asserts that the queue failed with `code`, counted once. */
function expectFailed(dev: ReturnType<typeof setup>["dev"], code: number): void {
  expect(dev.error).toBe(code);
  expect(dev.broken).toBe(true);
  expect(dev.counter(L.CNT_VQ_ERRORS)).toBe(1);
  expect(dev.counter(L.CNT_VIRTQ_ERR_BASE + code)).toBe(1);
}

describe.each(IMPLS)("packed device (%s)", (impl) => {
  it("pops a chain: segments, the id of its last descriptor, slots and counters", () => {
    const { mock, dev } = setup(impl);
    mock.publish([
      { addr: BUF, len: 100, id: 7, flags: NEXT },
      { addr: BUF + 0x1000, len: 200, id: 7, flags: NEXT | WRITE },
      { addr: BUF + 0x2000, len: 50, id: 9, flags: WRITE },
    ]);
    const chains = dev.pop();
    expect(chains).toEqual([{
      id: 9, slots: 3, indirect: false, readable: 100, writable: 250,
      segs: [
        { addr: BUF, len: 100, write: false },
        { addr: BUF + 0x1000, len: 200, write: true },
        { addr: BUF + 0x2000, len: 50, write: true },
      ],
    }]);
    expect(dev.cursors.nextAvail).toBe(3);
    expect(dev.inFlight).toBe(1);
    expect(dev.slotsInFlight).toBe(3);
    expect(dev.counter(L.CNT_VQ_CHAINS_POPPED)).toBe(1);
    expect(dev.counter(L.CNT_VQ_DESCS_POPPED)).toBe(3);
    expect(dev.counter(L.CNT_VQ_BYTES_READABLE)).toBe(100);
    expect(dev.counter(L.CNT_VQ_BYTES_WRITABLE)).toBe(250);
    expect(dev.pop()).toEqual([]); // nothing more available
  });

  it("pops at most `max` buffers per call and stops at the first unavailable slot", () => {
    const { mock, dev } = setup(impl);
    for (let i = 0; i < 5; i++) mock.chain(i, [{ addr: BUF + i * 64, len: 64 }]);
    expect(dev.pop(3).map((c) => c.id)).toEqual([0, 1, 2]);
    expect(dev.pop(10).map((c) => c.id)).toEqual([3, 4]);
    expect(dev.pop(10)).toEqual([]);
  });

  it("pushes one used descriptor per buffer, advancing by its slot count, and follows the wrap", () => {
    const size = 5;
    const { mock, dev } = setup(impl, size);
    let id = 0;
    // Several laps of mixed chain lengths: used flags carry the device's wrap counter.
    for (let lap = 0; lap < 7; lap++) {
      const lens = [1, 2, 2];
      const ids: number[] = [];
      for (const n of lens) {
        ids.push(id);
        mock.chain(id, Array.from({ length: n }, (_, k) => ({ addr: BUF + k * 16, len: 16, write: k > 0 })));
        id = (id + 1) & 0xffff;
      }
      const before = dev.cursors;
      const got = dev.pop();
      expect(got.map((c) => c.id)).toEqual(ids);
      // Complete out of order: last first.
      const order = [...got].reverse();
      expect(dev.push(order.map((c) => ({ id: c.id, len: c.writable })))).toBe(3);
      let u = before.nextUsed;
      let w = before.usedWrap;
      for (const c of order) {
        const d = mock.readDesc(u);
        expect(d.id).toBe(c.id);
        expect(d.len).toBe(c.writable);
        expect(d.flags).toBe((w ? AVAIL | USED : 0) | (c.writable > 0 ? WRITE : 0));
        u += c.slots;
        if (u >= size) { u -= size; w ^= 1; }
      }
      expect(dev.cursors.nextUsed).toBe(u);
      expect(dev.cursors.usedWrap).toBe(w);
    }
    expect(dev.cursors.nextAvail).toBe(dev.cursors.nextUsed);
    expect(dev.inFlight).toBe(0);
    expect(dev.slotsInFlight).toBe(0);
    expect(dev.counter(L.CNT_VQ_USED_PUSHED)).toBe(21);
    expect(dev.counter(L.CNT_VQ_USED_BYTES)).toBe(7 * (16 + 16));
    expect(dev.error).toBe(0);
  });

  it("in order: one used descriptor for a batch, with the id and len of its last buffer", () => {
    const { mock, dev } = setup(impl, 8, { features: { inOrder: true } });
    mock.chain(4, [{ addr: BUF, len: 8, write: true }]);
    mock.chain(5, [{ addr: BUF, len: 8 }, { addr: BUF + 8, len: 8, write: true }]);
    mock.chain(6, [{ addr: BUF, len: 8, write: true }]);
    dev.pop();
    expect(dev.push([{ id: 4, len: 8 }, { id: 5, len: 3 }, { id: 6, len: 2 }])).toBe(3);
    expect(mock.readDesc(0)).toMatchObject({ id: 6, len: 2, flags: AVAIL | USED | WRITE });
    // The skipped slots are not written.
    expect(mock.readDesc(1).flags & USED).toBe(0);
    expect(dev.cursors.nextUsed).toBe(4);
    expect(dev.counter(L.CNT_VQ_USED_PUSHED)).toBe(3);
    expect(dev.counter(L.CNT_VQ_USED_BYTES)).toBe(2);
  });

  it("pops an indirect buffer, including a table that straddles a page", () => {
    const { mock, dev } = setup(impl, 8, { features: { indirect: true } });
    const table = BUF + 0x0ff8; // entry 0 crosses into the next page
    mock.indirect(11, table, [
      { addr: BUF + 0x4000, len: 10 },
      { addr: BUF + 0x5000, len: 20 },
      { addr: BUF + 0x6000, len: 30, write: true },
    ]);
    mock.chain(12, [{ addr: BUF, len: 1 }]);
    const [a, b] = dev.pop();
    expect(a).toEqual({
      id: 11, slots: 1, indirect: true, readable: 30, writable: 30,
      segs: [
        { addr: BUF + 0x4000, len: 10, write: false },
        { addr: BUF + 0x5000, len: 20, write: false },
        { addr: BUF + 0x6000, len: 30, write: true },
      ],
    });
    expect(b!.id).toBe(12);
    expect(dev.counter(L.CNT_VQ_INDIRECT_TABLES)).toBe(1);
    expect(dev.counter(L.CNT_VQ_DESCS_POPPED)).toBe(1 + 3 + 1);
  });

  it("ignores NEXT on an INDIRECT descriptor unless strict (E14)", () => {
    const { mock, dev } = setup(impl, 8, { features: { indirect: true } });
    mock.indirect(1, BUF, [{ addr: BUF + 0x1000, len: 4 }], NEXT);
    mock.chain(2, [{ addr: BUF, len: 4 }]);
    expect(dev.pop().map((c) => [c.id, c.slots])).toEqual([[1, 1], [2, 1]]);
  });

  it("accepts zero-length elements and any segment count unless strict", () => {
    const { mock, dev } = setup(impl, 8, { maxSegs: 1 });
    mock.chain(1, [{ addr: BUF, len: 0 }, { addr: BUF, len: 4 }]);
    expect(dev.pop()[0]!.segs.length).toBe(2);
  });

  it("accepts sizes that are not powers of two, and buffers ending exactly at 2^64", () => {
    const { mock, dev } = setup(impl, 3);
    mock.chain(1, [{ addr: 2n ** 64n - 16n, len: 16 }]);
    expect(dev.pop()[0]!.segs[0]!.len).toBe(16);
  });

  it("returns the buffers popped before an error, then stays silent while broken", () => {
    const { mock, dev } = setup(impl);
    mock.chain(1, [{ addr: BUF, len: 4 }]);
    mock.chain(2, [{ addr: BUF, len: 4, write: true }]);
    mock.chain(3, [{ addr: BUF, len: 4, write: true }, { addr: BUF, len: 4 }]);
    mock.chain(4, [{ addr: BUF, len: 4 }]);
    expect(dev.pop().map((c) => c.id)).toEqual([1, 2]);
    expectFailed(dev, L.VQ_E15_READ_AFTER_WRITE);
    expect(dev.pop()).toEqual([]);
    expect(dev.push([{ id: 1, len: 0 }])).toBe(0);
    expect(dev.needIrq()).toBe(false);
    expect(dev.counter(L.CNT_VQ_ERRORS)).toBe(1);
    expect(dev.counter(L.CNT_VQ_CHAINS_POPPED)).toBe(2);
  });

  it("rejects host misuse with an Error naming the argument", () => {
    const m = newMachine(impl);
    m.createDomain(GUEST, 1024);
    const dev = makeDevice(impl, m, { queue: 0, ringDomid: GUEST });
    expect(() => dev.enable(8, -16, 0x20000, 0x20004)).toThrow(/descriptor area -16/);
    expect(() => dev.enable(8.5, 0x10000, 0x20000, 0x20004)).toThrow(/queue size/);
    expect(() => dev.push([{ id: -1, len: 0 }])).toThrow(/record 0/);
    expect(dev.broken).toBe(false);
  });

  describe("setup errors", () => {
    it("E1: size 0 or above 32768", () => {
      for (const size of [0, 32769]) {
        const m = newMachine(impl);
        m.createDomain(GUEST, 1024);
        const dev = makeDevice(impl, m, { queue: 0, ringDomid: GUEST });
        expect(dev.enable(size, 0x10000, 0x20000, 0x20004)).toBe(L.VQ_E1_BAD_SIZE);
        expectFailed(dev, L.VQ_E1_BAD_SIZE);
      }
    });

    it("E2: descriptor ring not 16-aligned, event structures not 4-aligned", () => {
      for (const [d, a, b] of [[0x10008, 0x20000, 0x20004], [0x10000, 0x20002, 0x20004], [0x10000, 0x20000, 0x20005]] as const) {
        const m = newMachine(impl);
        m.createDomain(GUEST, 1024);
        const dev = makeDevice(impl, m, { queue: 0, ringDomid: GUEST });
        expect(dev.enable(8, d, a, b)).toBe(L.VQ_E2_MISALIGNED);
        expectFailed(dev, L.VQ_E2_MISALIGNED);
      }
    });

    it("E3: an area outside RAM, or the device area on a read-only mapping", () => {
      const m = newMachine(impl);
      m.createDomain(GUEST, 1024);
      const dev = makeDevice(impl, m, { queue: 0, ringDomid: GUEST });
      expect(dev.enable(256, 0x3ff800, 0x10000, 0x10004)).toBe(L.VQ_E3_RING_OUTSIDE_RAM);
      expectFailed(dev, L.VQ_E3_RING_OUTSIDE_RAM);
      expect(dev.counter(L.CNT_REFUSED_NOT_MAPPED)).toBe(1);

      const m2 = newMachine(impl);
      m2.createDomain(GUEST, 1024);
      m2.createDomain(2, 16);
      const mfn = m2.populate(2, 0);
      expect(m2.p2mMap(GUEST, 2000, mfn, L.P2M_GRANT | L.P2MF_RO)).toBe(L.MST_OK);
      const ro = 2000 * 4096;
      // The driver area is only read by the device: a read-only page is fine for it.
      const ok = makeDevice(impl, m2, { queue: 1, ringDomid: GUEST });
      expect(ok.enable(8, 0x10000, ro, 0x10084)).toBe(0);
      const bad = makeDevice(impl, m2, { queue: 2, ringDomid: GUEST });
      expect(bad.enable(8, 0x10000, 0x10080, ro + 4)).toBe(L.VQ_E3_RING_OUTSIDE_RAM);
      expect(bad.counter(L.CNT_REFUSED_READ_ONLY)).toBe(1);
    });

    it("E4: no ring access before QueueReady or before DRIVER_OK", () => {
      const m = newMachine(impl);
      m.createDomain(GUEST, 1024);
      const dev = makeDevice(impl, m, { queue: 0, ringDomid: GUEST });
      expect(dev.pop()).toEqual([]);
      expectFailed(dev, L.VQ_E4_NOT_READY);

      const m2 = newMachine(impl);
      m2.createDomain(GUEST, 1024);
      const mock = new PackedMock(m2, GUEST, 8);
      mock.chain(1, [{ addr: BUF, len: 4 }]);
      const dev2 = makeDevice(impl, m2, { queue: 0, ringDomid: GUEST });
      expect(dev2.enable(8, mock.desc, mock.driverArea, mock.deviceArea)).toBe(0);
      expect(dev2.pop()).toEqual([]);
      expectFailed(dev2, L.VQ_E4_NOT_READY);
    });
  });

  // Each case publishes something after one good buffer (id 0, one slot); the pop returns the
  // buffers before the bad one (`popped`, default [0]) and fails the queue.
  interface Case { name: string; code: number; cfg?: Partial<PackedDeviceConfig>; size?: number; popped?: number[]; first?: boolean; build(mock: PackedMock): void }
  const cases: Case[] = [
    {
      name: "E7: a NEXT chain running past the published descriptors", code: L.VQ_E7_HEAD_OUT_OF_RANGE,
      build(mock) { mock.publish([{ addr: BUF, len: 4, id: 10, flags: NEXT }]); },
    },
    {
      name: "E9: a chain longer than Q", code: L.VQ_E9_LOOP, size: 4, first: false, popped: [],
      build(mock) { mock.publish(Array.from({ length: 4 }, () => ({ addr: BUF, len: 4, id: 10, flags: NEXT }))); },
    },
    {
      name: "E10: INDIRECT inside an indirect table", code: L.VQ_E10_NESTED_INDIRECT, cfg: { features: { indirect: true } },
      build(mock) {
        mock.writeTable(BUF, [{ addr: BUF, len: 4, flags: 0 }, { addr: BUF, len: 16, flags: INDIRECT }]);
        mock.publish([{ addr: BUF, len: 32, id: 10, flags: INDIRECT }]);
      },
    },
    {
      name: "E11: indirect len 0", code: L.VQ_E11_BAD_INDIRECT_LEN, cfg: { features: { indirect: true } },
      build(mock) { mock.publish([{ addr: BUF, len: 0, id: 10, flags: INDIRECT }]); },
    },
    {
      name: "E11: indirect len not a multiple of 16", code: L.VQ_E11_BAD_INDIRECT_LEN, cfg: { features: { indirect: true } },
      build(mock) { mock.publish([{ addr: BUF, len: 24, id: 10, flags: INDIRECT }]); },
    },
    {
      name: "E12: an indirect table with more than Q entries", code: L.VQ_E12_INDIRECT_TOO_BIG, cfg: { features: { indirect: true } },
      build(mock) { mock.publish([{ addr: BUF, len: 16 * 9, id: 10, flags: INDIRECT }]); },
    },
    {
      name: "E13: INDIRECT without the feature", code: L.VQ_E13_INDIRECT_NOT_NEGOTIATED,
      build(mock) { mock.indirect(10, BUF, [{ addr: BUF, len: 4 }]); },
    },
    {
      name: "E14: INDIRECT with NEXT in strict mode", code: L.VQ_E14_INDIRECT_WITH_NEXT,
      cfg: { features: { indirect: true }, strict: { indirectWithNext: true } },
      build(mock) { mock.indirect(10, BUF, [{ addr: BUF, len: 4 }], NEXT); },
    },
    {
      name: "E15: readable after writable", code: L.VQ_E15_READ_AFTER_WRITE,
      build(mock) { mock.chain(10, [{ addr: BUF, len: 4, write: true }, { addr: BUF, len: 4 }]); },
    },
    {
      name: "E15: readable after writable inside a table", code: L.VQ_E15_READ_AFTER_WRITE, cfg: { features: { indirect: true } },
      build(mock) { mock.indirect(10, BUF, [{ addr: BUF, len: 4, write: true }, { addr: BUF, len: 4 }]); },
    },
    {
      name: "E16: zero length in strict mode", code: L.VQ_E16_ZERO_LENGTH, cfg: { strict: { zeroLength: true } },
      build(mock) { mock.chain(10, [{ addr: BUF, len: 4 }, { addr: BUF, len: 0 }]); },
    },
    {
      name: "E17: a buffer wrapping 2^64", code: L.VQ_E17_BUFFER_OUTSIDE_RAM,
      build(mock) { mock.chain(10, [{ addr: 2n ** 64n - 16n, len: 17 }]); },
    },
    {
      name: "E17: a buffer outside the buffer domain's RAM", code: L.VQ_E17_BUFFER_OUTSIDE_RAM, cfg: { bufDomid: GUEST },
      build(mock) { mock.chain(10, [{ addr: 0x3fff00, len: 0x200 }]); },
    },
    {
      name: "E17: an indirect table that is not mapped", code: L.VQ_E17_BUFFER_OUTSIDE_RAM, cfg: { features: { indirect: true } },
      build(mock) { mock.publish([{ addr: 0x500000, len: 16, id: 10, flags: INDIRECT }]); },
    },
    {
      name: "E17: an indirect table beyond 4 GiB", code: L.VQ_E17_BUFFER_OUTSIDE_RAM, cfg: { features: { indirect: true } },
      build(mock) { mock.publish([{ addr: 2 ** 32 - 16, len: 32, id: 10, flags: INDIRECT }]); },
    },
    {
      name: "E18: a chain of more than 2^32 bytes", code: L.VQ_E18_CHAIN_TOO_LONG_BYTES,
      build(mock) { mock.chain(10, [{ addr: BUF, len: 0xffffffff }, { addr: BUF, len: 2, write: true }]); },
    },
    {
      name: "E19: more segments than the limit in strict mode", code: L.VQ_E19_TOO_MANY_SEGMENTS,
      cfg: { maxSegs: 2, strict: { segments: true } },
      build(mock) { mock.chain(10, [{ addr: BUF, len: 4 }, { addr: BUF, len: 4 }, { addr: BUF, len: 4 }]); },
    },
    {
      name: "E26: an INDIRECT descriptor inside a NEXT chain", code: L.VQ_E26_PACKED, cfg: { features: { indirect: true } },
      build(mock) {
        mock.writeTable(BUF, [{ addr: BUF, len: 4, flags: 0 }]);
        mock.publish([{ addr: BUF, len: 4, id: 10, flags: NEXT }, { addr: BUF, len: 16, id: 10, flags: INDIRECT }]);
      },
    },
    {
      name: "E26: a buffer id already in flight", code: L.VQ_E26_PACKED,
      build(mock) { mock.chain(0, [{ addr: BUF, len: 4 }]); },
    },
  ];

  it.each(cases)("$name", ({ code, cfg, size, build, popped = [0], first = true }) => {
    const { mock, dev } = setup(impl, size ?? 8, cfg);
    if (first) mock.chain(0, [{ addr: BUF, len: 4 }]);
    build(mock);
    const got = dev.pop();
    expect(got.map((c) => c.id)).toEqual(popped);
    expectFailed(dev, code);
    expect(dev.counter(L.CNT_VQ_CHAINS_POPPED)).toBe(popped.length);
  });

  it("E6: a slot made available while the device still owns it (more than Q in flight)", () => {
    const { mock, dev } = setup(impl, 4);
    for (let i = 0; i < 4; i++) mock.chain(i, [{ addr: BUF, len: 4 }]);
    expect(dev.pop().length).toBe(4);
    mock.chain(4, [{ addr: BUF, len: 4 }]); // overwrites slot 0, still the device's
    expect(dev.pop()).toEqual([]);
    expectFailed(dev, L.VQ_E6_TOO_MANY_IN_FLIGHT);
  });

  it("E6: a chain running into slots the device still owns", () => {
    const { mock, dev } = setup(impl, 4);
    mock.chain(0, [{ addr: BUF, len: 4 }]);
    expect(dev.pop().length).toBe(1);
    mock.chain(1, Array.from({ length: 4 }, () => ({ addr: BUF, len: 4 }))); // slots 1, 2, 3, 0
    expect(dev.pop()).toEqual([]);
    expectFailed(dev, L.VQ_E6_TOO_MANY_IN_FLIGHT);
  });

  it("E17 checks the direction: a writable element on a read-only page, a readable one is fine", () => {
    const m = newMachine(impl);
    m.createDomain(GUEST, 1024);
    m.createDomain(2, 16);
    const mfn = m.populate(2, 0);
    expect(m.p2mMap(GUEST, 1500, mfn, L.P2M_GRANT | L.P2MF_RO)).toBe(L.MST_OK);
    const mock = new PackedMock(m, GUEST, 8);
    const dev = makeDevice(impl, m, { queue: 0, ringDomid: GUEST, bufDomid: GUEST });
    expect(dev.enable(8, mock.desc, mock.driverArea, mock.deviceArea)).toBe(0);
    dev.driverOk();
    mock.chain(1, [{ addr: 1500 * 4096, len: 64 }]);
    mock.chain(2, [{ addr: 1500 * 4096, len: 64, write: true }]);
    expect(dev.pop().map((c) => c.id)).toEqual([1]);
    expectFailed(dev, L.VQ_E17_BUFFER_OUTSIDE_RAM);
    expect(dev.counter(L.CNT_REFUSED_READ_ONLY)).toBe(1);
  });

  describe("push errors", () => {
    function popped(cfg: Partial<PackedDeviceConfig> = {}) {
      const s = setup(impl, 8, cfg);
      s.mock.chain(1, [{ addr: BUF, len: 8, write: true }]);
      s.mock.chain(2, [{ addr: BUF, len: 8 }, { addr: BUF, len: 16, write: true }]);
      expect(s.dev.pop().length).toBe(2);
      return s;
    }

    it("E21: an id that is not outstanding; the records before it are published", () => {
      const { mock, dev } = popped();
      expect(dev.push([{ id: 2, len: 16 }, { id: 2, len: 16 }])).toBe(1);
      expectFailed(dev, L.VQ_E21_BAD_USED_ID);
      expect(mock.readDesc(0)).toMatchObject({ id: 2, len: 16, flags: AVAIL | USED | WRITE });
      expect(dev.counter(L.CNT_VQ_USED_PUSHED)).toBe(1);
    });

    it("E21: an id that never was popped, or above 0xffff", () => {
      for (const id of [5, 0x10001]) {
        const { dev } = popped();
        expect(dev.push([{ id, len: 0 }])).toBe(0);
        expectFailed(dev, L.VQ_E21_BAD_USED_ID);
      }
    });

    it("E21 in order: a completion that is not the oldest outstanding buffer", () => {
      const { dev } = popped({ features: { inOrder: true } });
      expect(dev.push([{ id: 2, len: 0 }])).toBe(0);
      expectFailed(dev, L.VQ_E21_BAD_USED_ID);
    });

    it("E22: len above the buffer's writable bytes", () => {
      const { dev } = popped();
      expect(dev.push([{ id: 1, len: 8 }, { id: 2, len: 17 }])).toBe(1);
      expectFailed(dev, L.VQ_E22_USED_LEN_TOO_BIG);
    });
  });

  describe("notifications", () => {
    it("without EVENT_IDX: interrupts unless the driver disabled them; none when nothing was added", () => {
      const { mock, dev } = setup(impl);
      expect(dev.needIrq()).toBe(false);
      mock.chain(1, [{ addr: BUF, len: 4 }]);
      dev.push(dev.pop().map((c) => ({ id: c.id, len: 0 })));
      expect(dev.needIrq()).toBe(true);
      mock.chain(2, [{ addr: BUF, len: 4 }]);
      dev.push(dev.pop().map((c) => ({ id: c.id, len: 0 })));
      mock.setDriverEvent(0, L.VRING_PACKED_EVENT_FLAG_DISABLE);
      expect(dev.needIrq()).toBe(false);
      // DESC means nothing without EVENT_IDX: treated as enabled.
      mock.chain(3, [{ addr: BUF, len: 4 }]);
      dev.push(dev.pop().map((c) => ({ id: c.id, len: 0 })));
      mock.setDriverEvent(0x7fff, L.VRING_PACKED_EVENT_FLAG_DESC);
      expect(dev.needIrq()).toBe(true);
      expect(dev.counter(L.CNT_VQ_IRQ_SENT)).toBe(2);
      expect(dev.counter(L.CNT_VQ_IRQ_SUPPRESSED)).toBe(1);
    });

    it("with EVENT_IDX: the virtio.md 2.4 cases on the used cursor (Q=256, wrapped to 2, 5 added)", () => {
      const cases: [number, boolean][] = [[254 | 0x8000, true], [1, true], [5, false]];
      for (const [offWrap, want] of cases) {
        const { mock, dev } = setup(impl, 256, { features: { eventIdx: true } });
        for (let i = 0; i < 253; i++) {
          mock.chain(i, [{ addr: BUF, len: 4 }]);
          expect(dev.push(dev.pop().map((c) => ({ id: c.id, len: 0 })))).toBe(1);
        }
        dev.needIrq(); // a decision: the window starts at 253
        for (let i = 0; i < 5; i++) mock.chain(300 + i, [{ addr: BUF, len: 4 }]);
        expect(dev.push(dev.pop().map((c) => ({ id: c.id, len: 0 })))).toBe(5);
        expect(dev.cursors).toMatchObject({ nextUsed: 2, usedWrap: 0 });
        mock.setDriverEvent(offWrap, L.VRING_PACKED_EVENT_FLAG_DESC);
        expect(dev.needIrq()).toBe(want);
      }
    });

    it("enables kicks with off_wrap at the avail cursor and re-checks the ring", () => {
      const { mock, dev } = setup(impl, 8, { features: { eventIdx: true } });
      mock.chain(1, [{ addr: BUF, len: 4 }]);
      dev.pop();
      dev.disableNotify();
      expect(mock.event(mock.deviceArea).flags).toBe(L.VRING_PACKED_EVENT_FLAG_DISABLE);
      expect(dev.enableNotify()).toBe(false);
      expect(mock.event(mock.deviceArea)).toEqual({ offWrap: 1 | 0x8000, flags: L.VRING_PACKED_EVENT_FLAG_DESC });
      mock.chain(2, [{ addr: BUF, len: 4 }]);
      expect(dev.enableNotify()).toBe(true); // a buffer raced the re-enable
    });

    it("without EVENT_IDX, enabling kicks writes ENABLE", () => {
      const { mock, dev } = setup(impl);
      dev.disableNotify();
      expect(dev.enableNotify()).toBe(false);
      expect(mock.event(mock.deviceArea).flags).toBe(L.VRING_PACKED_EVENT_FLAG_ENABLE);
    });
  });
});
