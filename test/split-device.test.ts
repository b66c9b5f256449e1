// Split virtqueue, device side: setup checks, pop with every ring-error row (virtio.md §8) and
// its exact code, push refusals, and what is returned before an error.
import { describe, expect, it } from "vitest";
import { Machine } from "../src/wasm/machine.ts";
import { SplitDevice, type SplitDevicePolicy, type SplitFeatures } from "../src/wasm/split.ts";
import * as L from "../src/wasm/layout.ts";
import { INDIRECT, MockSplitQueue, NEXT, WRITE } from "./helpers/mock-split.ts";

const GUEST = 1;
const BUF = 0x40000; // buffers live here in the guest (RAM is 256 pages = 1 MiB)

function setup(build: "release" | "debug", size = 16, features: SplitFeatures = {}, policy: SplitDevicePolicy = {}) {
  const m = new Machine({ build });
  m.createDomain(GUEST, 256);
  const mq = new MockSplitQueue(m, GUEST, size, 0x10000);
  const dev = new SplitDevice(m, 0, GUEST, 1024);
  expect(dev.enable(mq.ring, features, policy)).toBe(L.VQ_OK);
  dev.setDriverOk(true);
  return { m, mq, dev };
}

/** Expects the queue broken with `code`, counted once. */
function expectBroken(m: Machine, dev: SplitDevice, code: number): void {
  expect(dev.broken).toBe(true);
  expect(dev.error).toBe(code);
  expect(dev.status).toBe(code);
  expect(m.counter(L.CNT_VQ_ERRORS)).toBe(1);
  expect(m.counter(L.CNT_VIRTQ_ERR_BASE + code)).toBe(1);
}

describe.each(["release", "debug"] as const)("split device (%s)", (build) => {
  describe("setup", () => {
    const bad = (size: number, ring: Partial<{ desc: number; avail: number; used: number }>, code: number) => {
      const m = new Machine({ build });
      m.createDomain(GUEST, 256);
      const mq = new MockSplitQueue(m, GUEST, 16, 0x10000);
      const dev = new SplitDevice(m, 0, GUEST, 256);
      expect(dev.enable({ ...mq.ring, ...ring, size })).toBe(code);
      expect(dev.flags & L.QF_READY).toBe(0);
      expectBroken(m, dev, code);
      dev.reset();
      expect(dev.broken).toBe(false);
      expect(dev.enable(mq.ring)).toBe(L.VQ_OK);
    };
    it("E1: size 0, not a power of two, above 32768 or above QueueNumMax", () => {
      bad(0, {}, L.VQ_E1_BAD_SIZE);
      bad(12, {}, L.VQ_E1_BAD_SIZE);
      bad(65536, {}, L.VQ_E1_BAD_SIZE);
      bad(512, {}, L.VQ_E1_BAD_SIZE); // max is 256 here
    });
    it("E2: desc not 16-aligned, avail not 2-aligned, used not 4-aligned", () => {
      bad(16, { desc: 0x10008 }, L.VQ_E2_MISALIGNED);
      bad(16, { avail: 0x20001 }, L.VQ_E2_MISALIGNED);
      bad(16, { used: 0x20002 }, L.VQ_E2_MISALIGNED);
    });
    it("E3: a ring area outside what the ring domain may access", () => {
      bad(16, { desc: 256 * 4096 }, L.VQ_E3_RING_OUTSIDE_RAM); // above RAM, nothing mapped
      bad(16, { used: 256 * 4096 - 64 }, L.VQ_E3_RING_OUTSIDE_RAM); // runs past the end of RAM
      bad(16, { avail: 2 ** 40 }, L.VQ_E3_RING_OUTSIDE_RAM); // beyond guest-physical space
    });
    it("E3: a used ring the ring domain can only read", () => {
      const m = new Machine({ build });
      m.createDomain(GUEST, 256);
      m.createDomain(2, 16);
      const mfn = m.populate(GUEST, 0x30);
      expect(m.p2mMap(2, 100, mfn, L.P2M_GRANT | L.P2MF_RO)).toBe(L.MST_OK);
      const dev = new SplitDevice(m, 0, 2, 256);
      // desc and avail in d2's own RAM, the used ring in the read-only grant.
      expect(dev.enable({ size: 16, desc: 0x1000, avail: 0x2000, used: 100 * 4096 })).toBe(L.VQ_E3_RING_OUTSIDE_RAM);
      expect(m.counter(L.CNT_REFUSED_READ_ONLY)).toBe(1);
    });
    it("E4: nothing is popped before DRIVER_OK or before enable, and the queue stays usable", () => {
      const m = new Machine({ build });
      m.createDomain(GUEST, 256);
      const mq = new MockSplitQueue(m, GUEST, 16, 0x10000);
      const dev = new SplitDevice(m, 0, GUEST, 256);
      expect(dev.pop()).toEqual([]);
      expect(dev.status).toBe(L.VQ_E4_NOT_READY);
      expect(dev.enable(mq.ring)).toBe(L.VQ_OK);
      mq.addChain(0, [{ addr: BUF, len: 64 }]);
      mq.publish(0);
      expect(dev.pop()).toEqual([]);
      expect(dev.status).toBe(L.VQ_E4_NOT_READY);
      expect(dev.needInterrupt()).toBe(false);
      expect(dev.broken).toBe(false);
      expect(m.counter(L.CNT_VIRTQ_ERR_BASE + L.VQ_E4_NOT_READY)).toBe(3);
      expect(m.counter(L.CNT_VQ_ERRORS)).toBe(0);
      dev.setDriverOk(true);
      expect(dev.pop().map((c) => c.head)).toEqual([0]);
    });
  });

  describe("pop", () => {
    it("returns chains with their segments, byte totals and counters", () => {
      const { m, mq, dev } = setup(build);
      mq.addChain(3, [{ addr: BUF, len: 16 }, { addr: BUF + 0x100, len: 100 }, { addr: BUF + 0x1000, len: 4096, flags: WRITE }]);
      mq.addChain(7, [{ addr: BUF + 0x3000, len: 512, flags: WRITE }]);
      mq.publish(3, 7);
      const chains = dev.pop();
      expect(chains).toEqual([
        { head: 3, readable: 116, writable: 4096, slots: 3, indirect: false, segs: [
          { addr: BUF, len: 16, write: false }, { addr: BUF + 0x100, len: 100, write: false }, { addr: BUF + 0x1000, len: 4096, write: true }] },
        { head: 7, readable: 0, writable: 512, slots: 1, indirect: false, segs: [{ addr: BUF + 0x3000, len: 512, write: true }] },
      ]);
      expect(dev.nextAvail).toBe(2);
      expect(dev.inFlight).toBe(2);
      expect(m.counter(L.CNT_VQ_CHAINS_POPPED)).toBe(2);
      expect(m.counter(L.CNT_VQ_DESCS_POPPED)).toBe(4);
      expect(m.counter(L.CNT_VQ_BYTES_READABLE)).toBe(116);
      expect(m.counter(L.CNT_VQ_BYTES_WRITABLE)).toBe(4608);
      expect(dev.pop()).toEqual([]);
    });

    it("pops at most `max` and stops when the output area is full, without losing the chain", () => {
      const { mq, dev } = setup(build);
      for (let i = 0; i < 4; i++) mq.addChain(2 * i, [{ addr: BUF, len: 8 }, { addr: BUF, len: 8, flags: WRITE }]);
      mq.publish(0, 2, 4, 6);
      expect(dev.pop(1).map((c) => c.head)).toEqual([0]);
      expect(dev.popRaw(64, L.IO_BASE, 16 + 32 + 16)).toBe(1); // room for one chain and a half
      expect(dev.status).toBe(L.VQ_OK);
      expect(dev.pop().map((c) => c.head)).toEqual([4, 6]);
    });

    it("accepts direct descriptors followed by one indirect descriptor", () => {
      const { mq, dev } = setup(build, 16, { indirect: true });
      mq.writeTable(0x30000, [{ addr: BUF + 0x200, len: 32, flags: NEXT, next: 1 }, { addr: BUF + 0x400, len: 64, flags: WRITE }]);
      mq.addChain(0, [{ addr: BUF, len: 16 }, { addr: 0x30000, len: 32, flags: INDIRECT }]);
      mq.publish(0);
      const [c] = dev.pop();
      expect(c).toEqual({ head: 0, readable: 48, writable: 64, slots: 2, indirect: true, segs: [
        { addr: BUF, len: 16, write: false }, { addr: BUF + 0x200, len: 32, write: false }, { addr: BUF + 0x400, len: 64, write: true }] });
    });

    it("reads an indirect table at an odd address straddling a page", () => {
      const { m, mq, dev } = setup(build, 16, { indirect: true });
      const table = 0x31ff7; // entry 0 crosses into the next page
      mq.writeTable(table, [{ addr: BUF, len: 10, flags: NEXT, next: 1 }, { addr: BUF + 0x10, len: 20, flags: WRITE }]);
      mq.writeDesc(5, { addr: table, len: 32, flags: INDIRECT | WRITE }); // WRITE on the referrer is ignored
      mq.publish(5);
      const [c] = dev.pop();
      expect(c!.segs).toEqual([{ addr: BUF, len: 10, write: false }, { addr: BUF + 0x10, len: 20, write: true }]);
      expect(m.counter(L.CNT_VQ_INDIRECT_TABLES)).toBe(1);
      expect(m.counter(L.CNT_VQ_DESCS_POPPED)).toBe(3);
    });

    it("returns the chains completed before an error, then the queue is broken", () => {
      const { m, mq, dev } = setup(build);
      mq.addChain(0, [{ addr: BUF, len: 8 }]);
      mq.addChain(1, [{ addr: BUF, len: 8 }]);
      mq.publish(0, 1, 99);
      expect(dev.pop().map((c) => c.head)).toEqual([0, 1]);
      expectBroken(m, dev, L.VQ_E7_HEAD_OUT_OF_RANGE);
      expect(m.counter(L.CNT_VQ_CHAINS_POPPED)).toBe(2);
      mq.publish(1);
      expect(dev.pop()).toEqual([]);
      expect(dev.status).toBe(L.VQ_E7_HEAD_OUT_OF_RANGE);
    });

    // One case per ring-error row: build the ring, pop, expect the code.
    const rows: [string, number, SplitFeatures, SplitDevicePolicy, (mq: MockSplitQueue) => void][] = [
      ["E5 avail idx more than Q ahead", L.VQ_E5_AVAIL_IDX_JUMP, {}, {}, (mq) => { mq.availIdx = 17; }],
      ["E5 avail idx moved backwards", L.VQ_E5_AVAIL_IDX_JUMP, {}, {}, (mq) => { mq.availIdx = 0xffff; }],
      ["E7 head >= Q", L.VQ_E7_HEAD_OUT_OF_RANGE, {}, {}, (mq) => mq.publish(16)],
      ["E8 next >= Q", L.VQ_E8_NEXT_OUT_OF_RANGE, {}, {}, (mq) => {
        mq.writeDesc(0, { addr: BUF, len: 8, flags: NEXT, next: 16 });
        mq.publish(0);
      }],
      ["E8 next >= indirect table size", L.VQ_E8_NEXT_OUT_OF_RANGE, { indirect: true }, {}, (mq) => {
        mq.writeTable(0x30000, [{ addr: BUF, len: 8, flags: NEXT, next: 2 }, { addr: BUF, len: 8 }]);
        mq.writeDesc(0, { addr: 0x30000, len: 32, flags: INDIRECT });
        mq.publish(0);
      }],
      ["E9 descriptor loop", L.VQ_E9_LOOP, {}, {}, (mq) => {
        mq.writeDesc(0, { addr: BUF, len: 8, flags: NEXT, next: 1 });
        mq.writeDesc(1, { addr: BUF, len: 8, flags: NEXT, next: 0 });
        mq.publish(0);
      }],
      ["E9 loop inside an indirect table", L.VQ_E9_LOOP, { indirect: true }, {}, (mq) => {
        mq.writeTable(0x30000, [{ addr: BUF, len: 8, flags: NEXT, next: 1 }, { addr: BUF, len: 8, flags: NEXT, next: 1 }]);
        mq.writeDesc(0, { addr: 0x30000, len: 32, flags: INDIRECT });
        mq.publish(0);
      }],
      ["E10 indirect inside an indirect table", L.VQ_E10_NESTED_INDIRECT, { indirect: true }, {}, (mq) => {
        mq.writeTable(0x30000, [{ addr: 0x30100, len: 16, flags: INDIRECT }]);
        mq.writeDesc(0, { addr: 0x30000, len: 16, flags: INDIRECT });
        mq.publish(0);
      }],
      ["E11 indirect len 0", L.VQ_E11_BAD_INDIRECT_LEN, { indirect: true }, {}, (mq) => {
        mq.writeDesc(0, { addr: 0x30000, len: 0, flags: INDIRECT });
        mq.publish(0);
      }],
      ["E11 indirect len not a multiple of 16", L.VQ_E11_BAD_INDIRECT_LEN, { indirect: true }, {}, (mq) => {
        mq.writeDesc(0, { addr: 0x30000, len: 24, flags: INDIRECT });
        mq.publish(0);
      }],
      ["E12 indirect table above 65535 entries", L.VQ_E12_INDIRECT_TOO_BIG, { indirect: true }, {}, (mq) => {
        mq.writeDesc(0, { addr: 0x30000, len: 65536 * 16, flags: INDIRECT });
        mq.publish(0);
      }],
      ["E12 indirect table above the device limit", L.VQ_E12_INDIRECT_TOO_BIG, { indirect: true }, { maxIndirect: 4 }, (mq) => {
        mq.writeDesc(0, { addr: 0x30000, len: 5 * 16, flags: INDIRECT });
        mq.publish(0);
      }],
      ["E13 indirect without INDIRECT_DESC", L.VQ_E13_INDIRECT_NOT_NEGOTIATED, {}, {}, (mq) => {
        mq.writeTable(0x30000, [{ addr: BUF, len: 8 }]);
        mq.writeDesc(0, { addr: 0x30000, len: 16, flags: INDIRECT });
        mq.publish(0);
      }],
      ["E14 INDIRECT with NEXT (strict)", L.VQ_E14_INDIRECT_WITH_NEXT, { indirect: true }, { strictE14: true }, (mq) => {
        mq.writeTable(0x30000, [{ addr: BUF, len: 8 }]);
        mq.writeDesc(0, { addr: 0x30000, len: 16, flags: INDIRECT | NEXT, next: 1 });
        mq.publish(0);
      }],
      ["E15 readable after writable", L.VQ_E15_READ_AFTER_WRITE, {}, {}, (mq) => {
        mq.addChain(0, [{ addr: BUF, len: 8, flags: WRITE }, { addr: BUF, len: 8 }]);
        mq.publish(0);
      }],
      ["E15 readable in the table after a writable direct descriptor", L.VQ_E15_READ_AFTER_WRITE, { indirect: true }, {}, (mq) => {
        mq.writeTable(0x30000, [{ addr: BUF, len: 8 }]);
        mq.addChain(0, [{ addr: BUF, len: 8, flags: WRITE }, { addr: 0x30000, len: 16, flags: INDIRECT }]);
        mq.publish(0);
      }],
      ["E16 zero-length descriptor (strict)", L.VQ_E16_ZERO_LENGTH, {}, { strictE16: true }, (mq) => {
        mq.addChain(0, [{ addr: BUF, len: 8 }, { addr: BUF, len: 0, flags: WRITE }]);
        mq.publish(0);
      }],
      ["E17 buffer wraps 2^64", L.VQ_E17_BUFFER_OUTSIDE_RAM, {}, {}, (mq) => {
        mq.addChain(0, [{ addr: 2n ** 64n - 8n, len: 16 }]);
        mq.publish(0);
      }],
      ["E17 buffer outside the buffer domain's memory", L.VQ_E17_BUFFER_OUTSIDE_RAM, {}, { bufDomid: GUEST }, (mq) => {
        mq.addChain(0, [{ addr: 255 * 4096, len: 8192, flags: WRITE }]); // last page is past RAM
        mq.publish(0);
      }],
      ["E17 buffer above 4 GiB with a buffer domain", L.VQ_E17_BUFFER_OUTSIDE_RAM, {}, { bufDomid: GUEST }, (mq) => {
        mq.addChain(0, [{ addr: 2 ** 33, len: 8 }]);
        mq.publish(0);
      }],
      ["E17 indirect table the ring domain cannot read", L.VQ_E17_BUFFER_OUTSIDE_RAM, { indirect: true }, {}, (mq) => {
        mq.writeDesc(0, { addr: 300 * 4096, len: 32, flags: INDIRECT });
        mq.publish(0);
      }],
      ["E18 chain longer than 2^32 - 1 bytes", L.VQ_E18_CHAIN_TOO_LONG_BYTES, {}, {}, (mq) => {
        mq.addChain(0, [{ addr: BUF, len: 0x80000000 }, { addr: BUF, len: 0x80000000, flags: WRITE }]);
        mq.publish(0);
      }],
      ["E19 more segments than the device takes (strict)", L.VQ_E19_TOO_MANY_SEGMENTS, {}, { strictE19: true, maxSegs: 2 }, (mq) => {
        mq.addChain(0, [{ addr: BUF, len: 8 }, { addr: BUF, len: 8 }, { addr: BUF, len: 8 }]);
        mq.publish(0);
      }],
    ];
    it.each(rows)("%s", (_name, code, features, policy, build_) => {
      const { m, mq, dev } = setup(build, 16, features, policy);
      build_(mq);
      expect(dev.pop()).toEqual([]);
      expectBroken(m, dev, code);
      expect(m.counter(L.CNT_VQ_CHAINS_POPPED)).toBe(0);
    });

    it("E3 at run time: the ring's mapping is taken away after enable", () => {
      // The device reaches the guest's ring through a grant mapping in its own domain (d2).
      const m = new Machine({ build });
      m.createDomain(GUEST, 256);
      m.createDomain(2, 16, 128);
      const mq = new MockSplitQueue(m, GUEST, 16, 0x10000);
      mq.addChain(0, [{ addr: BUF, len: 8, flags: WRITE }]);
      mq.publish(0, 0);
      for (let g = 0; g < 2; g++) expect(m.p2mMap(2, 64 + g, m.populate(GUEST, 0x10 + g), L.P2M_GRANT)).toBe(L.MST_OK);
      const dev = new SplitDevice(m, 0, 2, 256);
      const ring = { size: 16, desc: 64 * 4096, avail: 64 * 4096 + (mq.ring.avail - 0x10000), used: 64 * 4096 + (mq.ring.used - 0x10000) };
      expect(dev.enable(ring, {}, { bufDomid: GUEST })).toBe(L.VQ_OK);
      dev.setDriverOk(true);
      expect(dev.pop(1).map((c) => c.head)).toEqual([0]);
      m.p2mUnmap(2, 64); // the page with the descriptor table and the avail ring
      expect(dev.pop()).toEqual([]);
      expectBroken(m, dev, L.VQ_E3_RING_OUTSIDE_RAM);
      expect(m.counter(L.CNT_REFUSED_NOT_MAPPED)).toBe(1);
    });

    it("E6: more chains in flight than the queue size", () => {
      const { m, mq, dev } = setup(build, 4);
      for (let i = 0; i < 4; i++) mq.addChain(i, [{ addr: BUF, len: 8 }]);
      mq.publish(0, 1, 2, 3);
      expect(dev.pop()).toHaveLength(4);
      mq.publish(0); // a head the device still holds, and one chain too many
      expect(dev.pop()).toEqual([]);
      expectBroken(m, dev, L.VQ_E6_TOO_MANY_IN_FLIGHT);
    });

    it("lenient policy: INDIRECT+NEXT ignores NEXT, zero length and many segments pass", () => {
      const { mq, dev } = setup(build, 16, { indirect: true });
      mq.writeTable(0x30000, [{ addr: BUF, len: 0 }]);
      mq.writeDesc(0, { addr: 0x30000, len: 16, flags: INDIRECT | NEXT, next: 9 });
      mq.addChain(1, Array.from({ length: 16 }, () => ({ addr: BUF, len: 1 })));
      mq.publish(0, 1);
      const chains = dev.pop();
      expect(chains.map((c) => [c.head, c.segs.length])).toEqual([[0, 1], [1, 16]]);
      expect(dev.broken).toBe(false);
    });

    it("E17 passes a buffer in RAM and an exact-fit buffer ending at 2^64", () => {
      const { mq, dev } = setup(build, 16, {}, { bufDomid: GUEST });
      mq.addChain(0, [{ addr: 0, len: 256 * 4096, flags: WRITE }]);
      mq.publish(0);
      expect(dev.pop()).toHaveLength(1);
      const s2 = setup(build);
      s2.mq.addChain(0, [{ addr: 2n ** 64n - 16n, len: 16 }]);
      s2.mq.publish(0);
      expect(s2.dev.pop()).toHaveLength(1);
    });

    it("E17 refuses a writable buffer in a read-only grant the buffer domain holds", () => {
      const { m, mq, dev } = setup(build, 16, {}, { bufDomid: 2 });
      m.createDomain(2, 16);
      const mfn = m.populate(GUEST, 0x50);
      expect(m.p2mMap(2, 40, mfn, L.P2M_GRANT | L.P2MF_RO)).toBe(L.MST_OK);
      mq.addChain(0, [{ addr: 40 * 4096, len: 64 }, { addr: 40 * 4096, len: 64, flags: WRITE }]);
      mq.publish(0);
      expect(dev.pop()).toEqual([]);
      expectBroken(m, dev, L.VQ_E17_BUFFER_OUTSIDE_RAM);
      expect(m.counter(L.CNT_REFUSED_READ_ONLY)).toBe(1);
    });
  });

  describe("push", () => {
    it("writes used elements, publishes used.idx once and counts", () => {
      const { m, mq, dev } = setup(build);
      mq.addChain(2, [{ addr: BUF, len: 8 }, { addr: BUF, len: 100, flags: WRITE }]);
      mq.addChain(5, [{ addr: BUF, len: 50, flags: WRITE }]);
      mq.publish(2, 5);
      dev.pop();
      dev.push([{ id: 5, len: 50 }, { id: 2, len: 60 }]);
      expect(mq.usedIdx).toBe(2);
      expect(mq.usedElem(0)).toEqual({ id: 5, len: 50 });
      expect(mq.usedElem(1)).toEqual({ id: 2, len: 60 });
      expect(dev.inFlight).toBe(0);
      expect(m.counter(L.CNT_VQ_USED_PUSHED)).toBe(2);
      expect(m.counter(L.CNT_VQ_USED_BYTES)).toBe(110);
    });

    it("E21: refuses an id out of range or not outstanding (the queue stays usable)", () => {
      const { m, mq, dev } = setup(build);
      mq.addChain(2, [{ addr: BUF, len: 100, flags: WRITE }]);
      mq.publish(2);
      dev.pop();
      expect(() => dev.push([{ id: 16, len: 0 }])).toThrow(/E21/);
      expect(dev.status).toBe(L.VQ_E21_BAD_USED_ID);
      expect(() => dev.push([{ id: 2, len: 1 }, { id: 3, len: 0 }])).toThrow(/id 3.*E21/);
      expect(mq.usedIdx).toBe(1); // the element before the refused one is published
      expect(() => dev.push([{ id: 2, len: 1 }])).toThrow(/E21/); // already completed
      expect(dev.broken).toBe(false);
      expect(m.counter(L.CNT_VIRTQ_ERR_BASE + L.VQ_E21_BAD_USED_ID)).toBe(3);
      expect(m.counter(L.CNT_VQ_ERRORS)).toBe(0);
    });

    it("E22: refuses a used len above the chain's writable bytes", () => {
      const { m, mq, dev } = setup(build);
      mq.addChain(2, [{ addr: BUF, len: 8 }, { addr: BUF, len: 100, flags: WRITE }]);
      mq.publish(2);
      dev.pop();
      expect(() => dev.push([{ id: 2, len: 101 }])).toThrow(/E22/);
      expect(mq.usedIdx).toBe(0);
      expect(dev.inFlight).toBe(1);
      expect(m.counter(L.CNT_VIRTQ_ERR_BASE + L.VQ_E22_USED_LEN_TOO_BIG)).toBe(1);
      dev.push([{ id: 2, len: 100 }]);
      expect(mq.usedIdx).toBe(1);
    });

    it("completes popped chain records in place with their writable length", () => {
      const { mq, dev } = setup(build);
      mq.addChain(0, [{ addr: BUF, len: 8 }, { addr: BUF, len: 30, flags: WRITE }]);
      mq.addChain(2, [{ addr: BUF, len: 40, flags: WRITE }]);
      mq.publish(0, 2);
      expect(dev.popRaw(64)).toBe(2);
      expect(dev.pushChainsRaw(L.IO_BASE, 2)).toBe(2);
      expect([mq.usedElem(0), mq.usedElem(1)]).toEqual([{ id: 0, len: 30 }, { id: 2, len: 40 }]);
    });

    it("IN_ORDER: one used entry for a batch, id of the last chain, used.idx += batch", () => {
      const { m, mq, dev } = setup(build, 8, { inOrder: true });
      mq.addChain(0, [{ addr: BUF, len: 10, flags: WRITE }]);
      mq.addChain(1, [{ addr: BUF, len: 20, flags: WRITE }]);
      mq.addChain(2, [{ addr: BUF, len: 30, flags: WRITE }]);
      mq.publish(0, 1, 2);
      dev.pop();
      dev.push([{ id: 2, len: 7 }]);
      expect(mq.usedIdx).toBe(3);
      expect(mq.usedElem(0)).toEqual({ id: 2, len: 7 });
      expect(dev.inFlight).toBe(0);
      expect(m.counter(L.CNT_VQ_USED_PUSHED)).toBe(3);
      expect(m.counter(L.CNT_VQ_USED_BYTES)).toBe(10 + 20 + 7); // skipped chains count as fully written
      expect(() => dev.push([{ id: 0, len: 0 }])).toThrow(/E21/);
    });
  });
});
