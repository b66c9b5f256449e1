// Split virtqueue, driver side: init checks, adding direct and indirect chains, ENOSPC,
// reclaiming (with the device checked, like Linux BAD_RING), IN_ORDER batches, and a full
// driver -> device -> driver round trip that moves real bytes.
import { describe, expect, it } from "vitest";
import { Machine } from "../src/wasm/machine.ts";
import { SplitDevice, SplitDriver, type AddRequest, type SplitFeatures } from "../src/wasm/split.ts";
import * as L from "../src/wasm/layout.ts";
import { INDIRECT, MockSplitQueue, NEXT, WRITE } from "./helpers/mock-split.ts";

const GUEST = 1;
const BUF = 0x40000;

function driver(build: "release" | "debug", size = 8, features: SplitFeatures = {}) {
  const m = new Machine({ build });
  m.createDomain(GUEST, 256);
  const ring = { size, desc: 0x10000, avail: 0x11000, used: 0x12000 };
  const drv = new SplitDriver(m, 1, GUEST, 1024);
  expect(drv.init(ring, features)).toBe(L.VQ_OK);
  const mq = new MockSplitQueue(m, GUEST, size, 0, ring);
  return { m, drv, mq, ring };
}

const rd = (addr: number, len: number) => ({ addr, len, write: false });
const wr = (addr: number, len: number) => ({ addr, len, write: true });

describe.each(["release", "debug"] as const)("split driver (%s)", (build) => {
  it("init validates the ring (E1, E2, E3) and zeroes the ring headers", () => {
    const m = new Machine({ build });
    m.createDomain(GUEST, 256);
    m.write(GUEST, 0x11000, new Uint8Array(64).fill(0xee));
    const drv = new SplitDriver(m, 1, GUEST, 1024);
    expect(drv.init({ size: 6, desc: 0x10000, avail: 0x11000, used: 0x12000 })).toBe(L.VQ_E1_BAD_SIZE);
    expect(drv.broken).toBe(true);
    expect(drv.init({ size: 8, desc: 0x10004, avail: 0x11000, used: 0x12000 })).toBe(L.VQ_E2_MISALIGNED);
    expect(drv.init({ size: 8, desc: 0x10000, avail: 0x11000, used: 256 * 4096 })).toBe(L.VQ_E3_RING_OUTSIDE_RAM);
    const ring = { size: 8, desc: 0x10000, avail: 0x11000, used: 0x12000 };
    expect(drv.init(ring)).toBe(L.VQ_OK);
    expect(drv.broken).toBe(false);
    const mq = new MockSplitQueue(m, GUEST, 8, 0, ring);
    expect([mq.availFlagsValue, mq.availIdx, mq.usedEventValue]).toEqual([0, 0, 0]);
    expect(drv.numFree).toBe(8);
  });

  it("adds direct chains through its free list; nothing is visible before the kick", () => {
    const { m, drv, mq } = driver(build);
    expect(drv.add([{ segs: [rd(BUF, 16), wr(BUF + 0x100, 64)] }, { segs: [wr(BUF + 0x200, 8)] }])).toEqual([0, 2]);
    expect(mq.readDesc(0)).toEqual({ addr: BigInt(BUF), len: 16, flags: NEXT, next: 1 });
    expect(mq.readDesc(1)).toEqual({ addr: BigInt(BUF + 0x100), len: 64, flags: WRITE, next: 2 });
    expect(mq.readDesc(2).flags).toBe(WRITE);
    expect(mq.availIdx).toBe(0);
    expect(drv.kick()).toBe(true);
    expect(mq.availIdx).toBe(2);
    expect(drv.numFree).toBe(5);
    expect(drv.inFlight).toBe(2);
    expect(m.counter(L.CNT_VQ_CHAINS_ADDED)).toBe(2);
    expect(m.counter(L.CNT_VQ_DESCS_ADDED)).toBe(3);
  });

  it("uses one descriptor and an indirect table for multi-segment requests with INDIRECT_DESC", () => {
    const { m, drv, mq } = driver(build, 8, { indirect: true });
    const table = 0x30ff8; // straddles a page on purpose
    expect(drv.add([{ segs: [rd(BUF, 16), wr(BUF + 0x100, 64), wr(BUF + 0x200, 1)], table }, { segs: [wr(BUF, 4)] }])).toEqual([0, 1]);
    expect(mq.readDesc(0)).toEqual({ addr: BigInt(table), len: 48, flags: INDIRECT, next: 1 });
    const t = new DataView(m.read(GUEST, table, 48).buffer);
    expect([t.getUint32(0, true), t.getUint32(8, true), t.getUint16(12, true), t.getUint16(14, true)]).toEqual([BUF, 16, NEXT, 1]);
    expect([t.getUint32(16 + 8, true), t.getUint16(16 + 12, true), t.getUint16(16 + 14, true)]).toEqual([64, WRITE | NEXT, 2]);
    expect([t.getUint32(32 + 8, true), t.getUint16(32 + 12, true)]).toEqual([1, WRITE]);
    expect(drv.numFree).toBe(6);
    expect(m.counter(L.CNT_VQ_DESCS_ADDED)).toBe(5);
  });

  it("returns ENOSPC (not a ring error) when the descriptors run out", () => {
    const { m, drv } = driver(build, 4);
    expect(drv.add([{ segs: [rd(BUF, 1), rd(BUF, 1), rd(BUF, 1)] }, { segs: [rd(BUF, 1), wr(BUF, 1)] }])).toEqual([0]);
    expect(drv.status).toBe(L.VQ_ENOSPC);
    expect(drv.broken).toBe(false);
    expect(drv.add([{ segs: [rd(BUF, 1)] }])).toEqual([3]);
    expect(drv.status).toBe(L.VQ_OK);
    expect(m.counter(L.CNT_VQ_ERRORS)).toBe(0);
  });

  it("refuses malformed requests with an Error", () => {
    const { drv } = driver(build, 8, { indirect: true });
    expect(() => drv.add([{ segs: [] }])).toThrow(/malformed/);
    expect(() => drv.add([{ segs: [wr(BUF, 1), rd(BUF, 1)] }])).toThrow(/malformed/);
    expect(() => drv.add([{ segs: [rd(BUF, 1), rd(BUF, 1)], table: 300 * 4096 }])).toThrow(/malformed/);
    expect(drv.numFree).toBe(8);
  });

  it("reclaims used entries and reuses the freed descriptors", () => {
    const { drv, mq } = driver(build, 4);
    drv.add([{ segs: [rd(BUF, 1), wr(BUF, 9)] }, { segs: [wr(BUF, 5)] }]);
    drv.kick();
    mq.setUsedElem(0, 2, 5);
    mq.setUsedElem(1, 0, 9);
    mq.usedIdx = 2;
    expect(drv.reclaim()).toEqual([{ id: 2, len: 5 }, { id: 0, len: 9 }]);
    expect(drv.numFree).toBe(4);
    expect(drv.lastUsed).toBe(2);
    expect(drv.add([{ segs: [rd(BUF, 1), rd(BUF, 1), rd(BUF, 1), rd(BUF, 1)] }])).toHaveLength(1);
  });

  const badDevice: [string, (mq: MockSplitQueue) => void][] = [
    ["a used id >= Q", (mq) => mq.setUsedElem(0, 8, 0)],
    ["a used id that is not an outstanding head", (mq) => mq.setUsedElem(0, 1, 0)], // 1 is inside chain 0
  ];
  it.each(badDevice)("E21: %s breaks the queue (Linux BAD_RING); later adds fail", (_n, write) => {
    const { m, drv, mq } = driver(build);
    drv.add([{ segs: [rd(BUF, 1), wr(BUF, 1)] }]);
    drv.kick();
    write(mq);
    mq.usedIdx = 1;
    expect(drv.reclaim()).toEqual([]);
    expect(drv.broken).toBe(true);
    expect(drv.error).toBe(L.VQ_E21_BAD_USED_ID);
    expect(m.counter(L.CNT_VIRTQ_ERR_BASE + L.VQ_E21_BAD_USED_ID)).toBe(1);
    expect(drv.add([{ segs: [rd(BUF, 1)] }])).toEqual([]);
    expect(drv.status).toBe(L.VQ_E21_BAD_USED_ID);
    expect(drv.kick()).toBe(false);
  });

  it("IN_ORDER: descriptors in ring order; one used entry completes a batch", () => {
    const { m, drv, mq } = driver(build, 8, { inOrder: true });
    expect(drv.add([{ segs: [rd(BUF, 1), wr(BUF, 10)] }, { segs: [wr(BUF, 20)] }, { segs: [rd(BUF, 1), wr(BUF, 30)] }])).toEqual([0, 2, 3]);
    expect(mq.readDesc(4).next).toBe(5); // sequential links, even on the last descriptor
    drv.kick();
    mq.setUsedElem(0, 3, 25);
    mq.usedIdx = 3;
    expect(drv.reclaim()).toEqual([{ id: 0, len: 10 }, { id: 2, len: 20 }, { id: 3, len: 25 }]);
    expect(drv.numFree).toBe(8);
    expect(m.counter(L.CNT_VQ_CHAINS_RECLAIMED)).toBe(3);
    // Descriptors keep coming in ring order, wrapping at the end of the table.
    expect(drv.add([{ segs: [rd(BUF, 1), rd(BUF, 1), rd(BUF, 1), rd(BUF, 1)] }])).toEqual([5]);
    expect(mq.readDesc(7).next).toBe(0);
  });

  it("IN_ORDER: a used entry implying more chains than used.idx advanced is E21", () => {
    const { drv, mq } = driver(build, 8, { inOrder: true });
    drv.add([{ segs: [wr(BUF, 1)] }, { segs: [wr(BUF, 1)] }]);
    drv.kick();
    mq.setUsedElem(0, 1, 1);
    mq.usedIdx = 1;
    expect(drv.reclaim()).toEqual([]);
    expect(drv.error).toBe(L.VQ_E21_BAD_USED_ID);
  });
});

describe.each(["release", "debug"] as const)("split round trip (%s)", (build) => {
  const cases: [string, SplitFeatures][] = [
    ["plain", {}],
    ["EVENT_IDX + INDIRECT", { eventIdx: true, indirect: true }],
    ["IN_ORDER + EVENT_IDX", { inOrder: true, eventIdx: true }],
  ];
  it.each(cases)("%s: the device transforms request bytes into the driver's writable buffers", (_n, features) => {
    // The guest (domain 1) drives the queue; the back-end (domain 0) reaches the ring and the
    // buffers through domain 1's memory, checking buffers against it (E17).
    const m = new Machine({ build });
    m.createDomain(0, 64);
    m.createDomain(GUEST, 1024);
    const size = 16;
    const ring = { size, desc: 0x10000, avail: 0x11000, used: 0x12000 };
    const drv = new SplitDriver(m, 1, GUEST, size);
    const dev = new SplitDevice(m, 0, GUEST, size);
    expect(drv.init(ring, features)).toBe(L.VQ_OK);
    expect(dev.enable(ring, features, { bufDomid: GUEST, strictE16: true })).toBe(L.VQ_OK);
    dev.setDriverOk(true);

    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const expected = new Map<number, { out: number[]; lens: number[]; data: Uint8Array }>();
    let irqs = 0;
    let kicks = 0;
    let done = 0;
    for (let round = 0; round < 40; round++) {
      // The driver queues a few requests: 1-2 readable segments of random bytes, 1-3 writable.
      const reqs: AddRequest[] = [];
      const meta: { out: number[]; lens: number[]; data: Uint8Array }[] = [];
      const n = 1 + Math.floor(rand() * 4);
      for (let r = 0; r < n; r++) {
        const slot = 0x100000 + ((round * 4 + r) % 64) * 0x4000; // distinct region per live request
        const rlen = 1 + Math.floor(rand() * 3000);
        const data = Uint8Array.from({ length: rlen }, () => Math.floor(rand() * 256));
        const split = Math.floor(rlen / 2) || rlen;
        const segs = [rd(slot, split)];
        if (split < rlen) segs.push(rd(slot + split, rlen - split));
        m.write(GUEST, slot, data);
        const lens: number[] = [];
        const outs: number[] = [];
        const nw = 1 + Math.floor(rand() * 3);
        for (let w = 0; w < nw; w++) {
          const len = 1 + Math.floor(rand() * 2000);
          const addr = slot + [0x1000, 0x1ff0, 0x2800][w]!; // the second crosses a page
          segs.push(wr(addr, len));
          outs.push(addr);
          lens.push(len);
        }
        reqs.push({ segs, table: slot + 0x3f00 });
        meta.push({ out: outs, lens, data });
      }
      const heads = drv.add(reqs);
      heads.forEach((h, i) => expected.set(h, meta[i]!));
      if (drv.kick()) kicks++;
      // The device serves every chain: writes bytes[i] ^ 0x5a (cycling over the request) into
      // the writable segments and reports exactly what it wrote.
      const chains = dev.pop(64);
      const used = chains.map((c) => {
        const input = new Uint8Array(c.readable);
        let o = 0;
        for (const s of c.segs.filter((s) => !s.write)) {
          input.set(m.read(GUEST, Number(s.addr), s.len), o);
          o += s.len;
        }
        let written = 0;
        for (const s of c.segs.filter((s) => s.write)) {
          const out = Uint8Array.from({ length: s.len }, (_, i) => input[(written + i) % input.length]! ^ 0x5a);
          m.write(GUEST, Number(s.addr), out);
          written += s.len;
        }
        return { id: c.head, len: written };
      });
      dev.push(used);
      if (dev.needInterrupt()) irqs++;
      for (const u of drv.reclaim()) {
        const e = expected.get(u.id)!;
        expect(u.len).toBe(e.lens.reduce((a, b) => a + b, 0));
        let written = 0;
        e.out.forEach((addr, w) => {
          const got = m.read(GUEST, addr, e.lens[w]!);
          const want = Uint8Array.from({ length: e.lens[w]! }, (_, i) => e.data[(written + i) % e.data.length]! ^ 0x5a);
          expect(got).toEqual(want);
          written += e.lens[w]!;
        });
        expected.delete(u.id);
        done++;
      }
      drv.enableCallbacks();
    }
    expect(expected.size).toBe(0);
    expect(done).toBeGreaterThan(40);
    expect(drv.numFree).toBe(size);
    expect(drv.broken || dev.broken).toBe(false);
    expect(m.counter(L.CNT_VQ_CHAINS_ADDED)).toBe(done);
    expect(m.counter(L.CNT_VQ_CHAINS_POPPED)).toBe(done);
    expect(m.counter(L.CNT_VQ_CHAINS_RECLAIMED)).toBe(done);
    expect(m.counter(L.CNT_VQ_NOTIFY_SENT)).toBe(kicks);
    expect(m.counter(L.CNT_VQ_IRQ_SENT)).toBe(irqs);
    expect(m.counter(L.CNT_VQ_INDIRECT_TABLES)).toBe(features.indirect ? done : 0);
  });
});
