// Packed virtqueue, driver side (add, kick decision, reclaim, re-arm) and a full round trip
// driver -> device -> driver that moves real bytes, against Wasm and the TS reference.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import type { Machine } from "../src/wasm/machine.ts";
import type { PackedFeatures, PackedSeg } from "../src/wasm/packed.ts";
import { IMPLS, makeDevice, makeDriver, newMachine, type DeviceUT, type DriverUT, type Impl } from "./helpers/packed-impls.ts";
import { AVAIL, INDIRECT, NEXT, PackedMock, USED, WRITE } from "./helpers/packed-mock.ts";

const GUEST = 1;
const BUF = 0x100000;

function setup(impl: Impl, size = 8, features: PackedFeatures = {}) {
  const m = newMachine(impl);
  m.createDomain(GUEST, 1024);
  const mock = new PackedMock(m, GUEST, size); // used here for addresses and to play the device
  const drv = makeDriver(impl, m, { queue: 5, ringDomid: GUEST, features });
  expect(drv.init(size, mock.desc, mock.driverArea, mock.deviceArea)).toBe(0);
  return { m, mock, drv };
}

const seg = (addr: number, len: number, write = false): PackedSeg => ({ addr, len, write });

describe.each(IMPLS)("packed driver (%s)", (impl) => {
  it("init zeroes the ring, starts both wrap counters at 1 and frees every id", () => {
    const m = newMachine(impl);
    m.createDomain(GUEST, 1024);
    m.write(GUEST, 0x10000, new Uint8Array(8 * 16 + 4).fill(0xee));
    const drv = makeDriver(impl, m, { queue: 0, ringDomid: GUEST });
    expect(drv.init(8, 0x10000, 0x10080, 0x10084)).toBe(0);
    expect(m.read(GUEST, 0x10000, 8 * 16 + 4)).toEqual(new Uint8Array(8 * 16 + 4));
    expect(drv.cursors).toEqual({ nextAvail: 0, availWrap: 1, nextUsed: 0, usedWrap: 1 });
    expect(drv.numFree).toBe(8);
  });

  it("init validates the ring: E1, E2, E3", () => {
    const cases: [number, number, number, number, number][] = [
      [0, 0x10000, 0x10080, 0x10084, L.VQ_E1_BAD_SIZE],
      [32769, 0x10000, 0x10080, 0x10084, L.VQ_E1_BAD_SIZE],
      [8, 0x10004, 0x10080, 0x10084, L.VQ_E2_MISALIGNED],
      [8, 0x10000, 0x10081, 0x10084, L.VQ_E2_MISALIGNED],
      [8, 0x3fffc0, 0x10080, 0x10084, L.VQ_E3_RING_OUTSIDE_RAM],
      [8, 0x10000, 0x500000, 0x10084, L.VQ_E3_RING_OUTSIDE_RAM],
    ];
    for (const [size, d, a, b, code] of cases) {
      const m = newMachine(impl);
      m.createDomain(GUEST, 1024);
      const drv = makeDriver(impl, m, { queue: 0, ringDomid: GUEST });
      expect(drv.init(size, d, a, b)).toBe(code);
      expect(drv.error).toBe(code);
      expect(drv.counter(L.CNT_VIRTQ_ERR_BASE + code)).toBe(1);
    }
  });

  it("adds a chain: the id in every descriptor, NEXT and WRITE, avail bits for lap 1", () => {
    const { mock, drv } = setup(impl);
    const id = drv.add([seg(BUF, 10), seg(BUF + 0x100, 20, true), seg(BUF + 0x200, 30, true)]);
    expect(id).toBe(0);
    expect(mock.readDesc(0)).toEqual({ addr: BigInt(BUF), len: 10, id: 0, flags: NEXT | AVAIL });
    expect(mock.readDesc(1)).toEqual({ addr: BigInt(BUF + 0x100), len: 20, id: 0, flags: NEXT | WRITE | AVAIL });
    expect(mock.readDesc(2)).toEqual({ addr: BigInt(BUF + 0x200), len: 30, id: 0, flags: WRITE | AVAIL });
    expect(drv.cursors.nextAvail).toBe(3);
    expect(drv.numFree).toBe(5);
    expect(drv.counter(L.CNT_VQ_CHAINS_ADDED)).toBe(1);
    expect(drv.counter(L.CNT_VQ_DESCS_ADDED)).toBe(3);
  });

  it("returns -ENOSPC when the list does not fit, and changes nothing", () => {
    const { drv } = setup(impl, 4);
    expect(drv.add([seg(BUF, 1), seg(BUF, 1), seg(BUF, 1)])).toBe(0);
    expect(drv.add([seg(BUF, 1), seg(BUF, 1)])).toBe(-L.VQ_ENOSPC);
    expect(drv.add(Array.from({ length: 5 }, () => seg(BUF, 1)))).toBe(-L.VQ_ENOSPC);
    expect(drv.add([seg(BUF, 1)])).toBe(1);
    expect(drv.add([seg(BUF, 1)])).toBe(-L.VQ_ENOSPC);
    expect(drv.counter(L.CNT_VQ_CHAINS_ADDED)).toBe(2);
    expect(drv.numFree).toBe(0);
  });

  it("rejects malformed buffers with an Error naming the problem", () => {
    const { drv } = setup(impl);
    expect(() => drv.add([])).toThrow(/at least one element/);
    expect(() => drv.add([seg(BUF, 1, true), seg(BUF, 1)])).toThrow(/element 1 is readable after a writable/);
    expect(() => drv.add([seg(-1, 1)])).toThrow(/element 0 addr -1 is not a 64-bit address/);
    expect(() => drv.add([{ addr: 2n ** 64n, len: 1, write: false }])).toThrow(/is not a 64-bit address/);
    expect(() => drv.add([seg(2 ** 53, 1)])).toThrow(/is not a 64-bit address/); // not exact: say it as a bigint
    expect(() => drv.add([seg(BUF, 1)], 0x2000)).toThrow(/indirect feature/);
  });

  it("adds an indirect buffer: a table (here straddling a page) and one INDIRECT descriptor", () => {
    const { m, mock, drv } = setup(impl, 8, { indirect: true });
    const table = BUF + 0x0ff8;
    expect(drv.add([seg(BUF + 0x3000, 7), seg(BUF + 0x4000, 9, true)], table)).toBe(0);
    expect(mock.readDesc(0)).toEqual({ addr: BigInt(table), len: 32, id: 0, flags: INDIRECT | AVAIL });
    const t = new DataView(m.read(GUEST, table, 32).buffer);
    expect([t.getUint32(0, true), t.getUint32(8, true), t.getUint16(14, true)]).toEqual([BUF + 0x3000, 7, 0]);
    expect([t.getUint32(16, true), t.getUint32(24, true), t.getUint16(30, true)]).toEqual([BUF + 0x4000, 9, WRITE]);
    expect(drv.cursors.nextAvail).toBe(1);
    expect(drv.counter(L.CNT_VQ_DESCS_ADDED)).toBe(3);
    // A table the guest cannot write: refused, nothing changed, the queue still works.
    expect(drv.add([seg(BUF, 1)], 0x500000)).toBe(-L.VQ_E17_BUFFER_OUTSIDE_RAM);
    expect(drv.counter(L.CNT_REFUSED_NOT_MAPPED)).toBe(1);
    expect(drv.numFree).toBe(7);
    expect(drv.broken).toBe(false);
    expect(drv.add([seg(BUF, 1)], BUF)).toBe(1);
  });

  it("reclaims used buffers out of order and frees their ids and slots", () => {
    const { mock, drv } = setup(impl);
    const a = drv.add([seg(BUF, 4), seg(BUF, 4, true)]);
    const b = drv.add([seg(BUF, 4, true)]);
    mock.markUsed(0, b, 3, 1);
    mock.markUsed(1, a, 4, 1);
    expect(drv.getUsed()).toEqual([{ id: b, len: 3 }, { id: a, len: 4 }]);
    expect(drv.numFree).toBe(8);
    expect(drv.cursors.nextUsed).toBe(3);
    expect(drv.counter(L.CNT_VQ_CHAINS_RECLAIMED)).toBe(2);
    expect(drv.getUsed()).toEqual([]);
  });

  it("E21: a used id the driver does not know breaks the queue, as Linux does", () => {
    for (const bad of [99, 3]) {
      const { mock, drv } = setup(impl);
      drv.add([seg(BUF, 4)]);
      drv.add([seg(BUF, 4)]);
      mock.markUsed(0, 0, 0, 1);
      mock.markUsed(1, bad, 0, 1); // 99 >= Q; 3 < Q but not outstanding
      expect(drv.getUsed()).toEqual([{ id: 0, len: 0 }]);
      expect(drv.error).toBe(L.VQ_E21_BAD_USED_ID);
      expect(drv.counter(L.CNT_VIRTQ_ERR_BASE + L.VQ_E21_BAD_USED_ID)).toBe(1);
      expect(drv.add([seg(BUF, 4)])).toBe(-L.VQ_E21_BAD_USED_ID);
    }
  });

  it("in order: one used descriptor completes every buffer up to its id", () => {
    const { mock, drv } = setup(impl, 8, { inOrder: true });
    const ids = [
      drv.add([seg(BUF, 4), seg(BUF, 16, true)]),
      drv.add([seg(BUF, 8, true)]),
      drv.add([seg(BUF, 4), seg(BUF, 32, true)]),
    ];
    mock.markUsed(0, ids[2]!, 5, 1);
    expect(drv.getUsed()).toEqual([{ id: ids[0], len: 16 }, { id: ids[1], len: 8 }, { id: ids[2], len: 5 }]);
    expect(drv.cursors.nextUsed).toBe(5);
    expect(drv.numFree).toBe(8);
  });

  it("kicks without EVENT_IDX unless the device disabled them; no kick when nothing was added", () => {
    const { mock, drv } = setup(impl);
    expect(drv.kickPrepare()).toBe(false);
    drv.add([seg(BUF, 1)]);
    expect(drv.kickPrepare()).toBe(true);
    mock.setDeviceEvent(0, L.VRING_PACKED_EVENT_FLAG_DISABLE);
    drv.add([seg(BUF, 1)]);
    expect(drv.kickPrepare()).toBe(false);
    expect(drv.counter(L.CNT_VQ_NOTIFY_SENT)).toBe(1);
    expect(drv.counter(L.CNT_VQ_NOTIFY_SUPPRESSED)).toBe(1);
  });

  it("kicks with EVENT_IDX: the three worked cases of virtio.md 2.4 (Q=256, cursor wrapped to 2, 5 added)", () => {
    const cases: [number, boolean][] = [[254 | 0x8000, true], [1, true], [5, false]];
    for (const [offWrap, want] of cases) {
      const { mock, drv } = setup(impl, 256, { eventIdx: true });
      for (let i = 0; i < 253; i++) expect(drv.add([seg(BUF, 1)])).toBeGreaterThanOrEqual(0);
      for (let i = 0; i < 253; i++) mock.markUsed(i, 252 - i, 0, 1); // free ids 0..252 (LIFO list)
      expect(drv.getUsed().length).toBe(253);
      drv.kickPrepare(); // the decision that starts the window at 253
      for (let i = 0; i < 5; i++) drv.add([seg(BUF, 1)]);
      expect(drv.cursors).toMatchObject({ nextAvail: 2, availWrap: 0 });
      mock.setDeviceEvent(offWrap, L.VRING_PACKED_EVENT_FLAG_DESC);
      expect(drv.kickPrepare()).toBe(want);
    }
  });

  it("re-arms with off_wrap at the used cursor (EVENT_IDX) and re-checks; disables with DISABLE", () => {
    const { mock, drv } = setup(impl, 8, { eventIdx: true });
    const id = drv.add([seg(BUF, 1)]);
    drv.disableCb();
    expect(mock.event(mock.driverArea).flags).toBe(L.VRING_PACKED_EVENT_FLAG_DISABLE);
    expect(drv.enableCb()).toBe(false);
    expect(mock.event(mock.driverArea)).toEqual({ offWrap: 0x8000, flags: L.VRING_PACKED_EVENT_FLAG_DESC });
    mock.markUsed(0, id, 0, 1);
    expect(drv.enableCb()).toBe(true);
    drv.getUsed();
    drv.enableCb();
    expect(mock.event(mock.driverArea)).toEqual({ offWrap: 1 | 0x8000, flags: L.VRING_PACKED_EVENT_FLAG_DESC });
  });

  it("re-arms with ENABLE without EVENT_IDX", () => {
    const { mock, drv } = setup(impl);
    drv.disableCb();
    expect(drv.enableCb()).toBe(false);
    expect(mock.event(mock.driverArea).flags).toBe(L.VRING_PACKED_EVENT_FLAG_ENABLE);
  });
});

// ---- round trip ---------------------------------------------------------------------------

/** Deterministic generator for test data (no Math.random in tests either). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** The device model: reads every readable byte, writes them back transformed into the
 *  writable elements, completes with the bytes written. */
function serve(m: Machine, dev: DeviceUT): number {
  const chains = dev.pop(64);
  const used = chains.map((c) => {
    const input: number[] = [];
    for (const s of c.segs) if (!s.write) input.push(...m.read(GUEST, Number(s.addr), s.len));
    let off = 0;
    for (const s of c.segs) {
      if (!s.write || off >= input.length) continue;
      const n = Math.min(s.len, input.length - off);
      m.write(GUEST, Number(s.addr), Uint8Array.from(input.slice(off, off + n), (b) => b ^ 0x5a));
      off += n;
    }
    return { id: c.id, len: off };
  });
  expect(dev.push(used)).toBe(used.length);
  return used.length;
}

describe.each(IMPLS)("packed round trip (%s)", (impl) => {
  it.each([
    ["direct", {}],
    ["indirect", { indirect: true }],
    ["in order + event idx", { inOrder: true, eventIdx: true }],
  ] as [string, PackedFeatures][])("moves real bytes over many laps (%s)", (_name, features) => {
    const size = 13; // not a power of two, so laps end mid-batch
    const m = newMachine(impl);
    m.createDomain(GUEST, 1024);
    m.createDomain(0, 16);
    // The guest's ring, seen by the backend (dom0) through a foreign mapping at gfn 0x200.
    // Indirect tables are ring memory at guest addresses: with them, the backend reaches the
    // ring through the guest's own p2m (as a device model with all guest RAM mapped would).
    const ring = 0x10000;
    m.write(GUEST, ring, new Uint8Array(4096));
    expect(m.p2mMap(0, 0x200, m.populate(GUEST, ring >> 12), L.P2M_FOREIGN)).toBe(L.MST_OK);
    const viaGuest = features.indirect === true;
    const back = viaGuest ? ring : 0x200 * 4096;
    const drv: DriverUT = makeDriver(impl, m, { queue: 1, ringDomid: GUEST, features });
    expect(drv.init(size, ring, ring + size * 16, ring + size * 16 + 4)).toBe(0);
    const dev: DeviceUT = makeDevice(impl, m, { queue: 2, ringDomid: viaGuest ? GUEST : 0, bufDomid: GUEST, features });
    expect(dev.enable(size, back, back + size * 16, back + size * 16 + 4)).toBe(0);
    dev.driverOk();

    const rnd = lcg(42);
    const pending = new Map<number, { out: Uint8Array; inSegs: PackedSeg[] }>();
    let sent = 0;
    let done = 0;
    let bytes = 0;
    for (let round = 0; round < 60; round++) {
      // Fill: random buffers of 1..4 elements, readable then writable.
      for (;;) {
        const nOut = 1 + (rnd() % 2);
        const nIn = rnd() % 3;
        const base = BUF + (sent % 64) * 0x4000;
        const out = Uint8Array.from({ length: 1 + (rnd() % 700) }, () => rnd() & 0xff);
        const segs: PackedSeg[] = [];
        let o = 0;
        for (let k = 0; k < nOut; k++) {
          const len = k + 1 === nOut ? out.length - o : Math.floor((out.length - o) / 2);
          segs.push({ addr: base + k * 0x800, len, write: false });
          m.write(GUEST, base + k * 0x800, out.subarray(o, o + len));
          o += len;
        }
        const inSegs: PackedSeg[] = [];
        for (let k = 0; k < nIn; k++) inSegs.push({ addr: base + 0x2000 + k * 0x800, len: 1 + (rnd() % 600), write: true });
        const table = features.indirect && segs.length + inSegs.length > 1 ? base + 0x2ff0 : undefined;
        const id = drv.add([...segs, ...inSegs], table);
        if (id === -L.VQ_ENOSPC) break;
        expect(id).toBeGreaterThanOrEqual(0);
        pending.set(id, { out, inSegs });
        sent++;
      }
      drv.kickPrepare();
      serve(m, dev);
      dev.needIrq();
      for (const u of drv.getUsed()) {
        const p = pending.get(u.id)!;
        pending.delete(u.id);
        const cap = p.inSegs.reduce((a, s) => a + s.len, 0);
        const written = Math.min(cap, p.out.length);
        // In order, a buffer completed by a later one's used descriptor reports its full size.
        expect(u.len === written || (features.inOrder === true && u.len === cap)).toBe(true);
        const got: number[] = [];
        for (const s of p.inSegs) got.push(...m.read(GUEST, Number(s.addr), s.len));
        expect(Uint8Array.from(got.slice(0, written))).toEqual(p.out.subarray(0, written).map((b) => b ^ 0x5a));
        bytes += written;
        done++;
      }
      drv.enableCb();
    }
    expect(done).toBeGreaterThan(5 * size); // several laps
    expect(bytes).toBeGreaterThan(0);
    expect(drv.error).toBe(0);
    expect(dev.error).toBe(0);
    expect(dev.counter(L.CNT_VQ_CHAINS_POPPED)).toBe(sent);
    expect(drv.counter(L.CNT_VQ_CHAINS_RECLAIMED)).toBe(done);
  });
});
