// Differential property tests, driver side: random sequences of adds (direct, indirect,
// malformed, too large), kicks, reclaims, notification re-arms, against a scripted device that
// completes chains correctly, in batches (IN_ORDER), or writes garbage. The Wasm kernel and the
// TS reference must agree on every result, the ring and table bytes, their state and counters.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SplitDriver } from "../src/wasm/split.ts";
import { SplitRefDriver } from "../src/virtio/split-ref.ts";
import * as L from "../src/wasm/layout.ts";
import { setDma, type DmaAddr } from "../src/virtio/dma-addr.ts";
import { MockSplitQueue } from "./helpers/mock-split.ts";
import { GUEST, both, expectSameBytes, expectSameCounters, expectSameGuest, twins } from "./helpers/split-world.ts";

const RING = { desc: 0x10000, avail: 0x11000, used: 0x12000 };
const TABLES = 0x30000;

// Addresses: guest-physical, and u64s a number cannot hold (grant DMA addresses with bit 63,
// anything from 2^53 up): the descriptor must carry them bit for bit.
const highArb = fc.oneof(
  fc.tuple(fc.nat(0xfffff), fc.nat(0xfff)).map(([gref, off]): DmaAddr => (1n << 63n) | (BigInt(gref) << 12n) | BigInt(off)),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
);
const segArb = fc.record({
  addr: fc.oneof({ weight: 4, arbitrary: fc.oneof(fc.integer({ min: 0x1000, max: 0xfffff }), fc.constantFrom(2 ** 52, 0)) }, { weight: 1, arbitrary: highArb }),
  len: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 0x3000 }) }, { weight: 1, arbitrary: fc.constantFrom(0x80000000, 0xffffffff) }),
  write: fc.boolean(),
});
const reqArb = fc.record({
  segs: fc.array(segArb, { minLength: 0, maxLength: 5 }),
  ordered: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  table: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(TABLES, TABLES + 0x100, TABLES + 0xff8, TABLES + 0x1ff9) },
    { weight: 1, arbitrary: fc.constantFrom<DmaAddr>(300 * 4096, 2 ** 40, 2n ** 63n | 0x30000n) }),
}).map((r) => {
  // Requests are mostly well formed: at least one segment, readable ones first.
  const segs = r.segs.length === 0 && r.ordered ? [{ addr: 0x5000, len: 8, write: true }] : r.segs;
  return { segs: r.ordered ? [...segs.filter((s) => !s.write), ...segs.filter((s) => s.write)] : segs, table: r.table };
});

const opArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("add" as const), reqs: fc.array(reqArb, { minLength: 1, maxLength: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("kick" as const) }) },
  { weight: 4, arbitrary: fc.record({
    kind: fc.constant("complete" as const), n: fc.integer({ min: 1, max: 4 }), batch: fc.integer({ min: 1, max: 3 }),
    garbage: fc.oneof({ weight: 40, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }) }),
    jump: fc.oneof({ weight: 40, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 0xffff }) }),
    lens: fc.array(fc.nat(0x4000), { minLength: 4, maxLength: 4 }),
    short: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("reclaim" as const), max: fc.integer({ min: 1, max: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("cb" as const), enable: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("event" as const), availEvent: fc.nat(0xffff), noNotify: fc.boolean() }) },
);

const scenarioArb = fc.record({
  size: fc.oneof({ weight: 10, arbitrary: fc.constantFrom(1, 2, 4, 8, 16) }, { weight: 1, arbitrary: fc.constantFrom(0, 3, 65536) }),
  misalign: fc.oneof({ weight: 15, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(2, 8, 300 * 4096) }),
  eventIdx: fc.boolean(),
  indirect: fc.boolean(),
  inOrder: fc.boolean(),
  ops: fc.array(opArb, { minLength: 1, maxLength: 25, size: "max" }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

const addStatuses = new Set<number>(); // outcomes of add calls seen (generator reach)

/** Writes add records for `reqs` (QS_ADD_* + SEG_*) into `dv` at 0; returns their offsets. */
function encode(dv: DataView, reqs: { segs: { addr: DmaAddr; len: number; write: boolean }[]; table: DmaAddr }[]): number[] {
  let p = 0;
  const at: number[] = [];
  for (const r of reqs) {
    at.push(p);
    dv.setUint16(p + L.QS_ADD_NSEGS, r.segs.length, true);
    dv.setUint16(p + L.QS_ADD_HEAD, 0xffff, true);
    setDma(dv, p + L.QS_ADD_TABLE, r.table);
    p += L.QS_ADD_HDR_SIZE;
    for (const s of r.segs) {
      setDma(dv, p + L.SEG_ADDR, s.addr);
      dv.setUint32(p + L.SEG_LEN, s.len, true);
      dv.setUint32(p + L.SEG_FLAGS, s.write ? L.VRING_DESC_F_WRITE : 0, true);
      p += L.SEG_SIZE;
    }
  }
  at.push(p);
  return at;
}

function run(build: "release" | "debug", s: Scenario): { added: number; reclaimed: number; error: number } {
  const t = twins(build);
  const drv = new SplitDriver(t.a, 1, GUEST, 32768);
  const ref = new SplitRefDriver(t.b, GUEST, t.host);
  const ring = { size: s.size, desc: RING.desc + s.misalign, avail: RING.avail, used: RING.used };
  const features = { eventIdx: s.eventIdx, indirect: s.indirect, inOrder: s.inOrder };
  const f = (s.eventIdx ? L.QF_EVENT_IDX : 0) | (s.indirect ? L.QF_INDIRECT : 0) | (s.inOrder ? L.QF_IN_ORDER : 0);
  const code = drv.init(ring, features);
  expect(ref.init(ring.size, ring.desc, ring.avail, ring.used, f)).toBe(code);
  const mqs: MockSplitQueue[] = [];
  both(t, (m) => mqs.push(new MockSplitQueue(m, GUEST, Math.max(1, s.size), 0, { ...ring, size: Math.max(1, s.size) })));
  const [ma, mb] = mqs as [MockSplitQueue, MockSplitQueue];
  const io = new DataView(new ArrayBuffer(L.IO_SIZE > 65536 ? 65536 : L.IO_SIZE));
  let outstanding: number[] = []; // heads in availability order (the scripted device's view)
  let deviceUsed = 0; // used.idx the scripted device has published

  const compare = (where: string) => {
    const a = [drv.status, drv.error, drv.broken, drv.availIdx, drv.lastUsed, drv.numAdded, drv.inFlight, drv.freeHead, drv.numFree];
    const b = [ref.status, ref.error, ref.broken, ref.shadow, ref.lastUsed, ref.numAdded, ref.inFlight, ref.freeHead, ref.numFree];
    if (a.join() !== b.join()) expect(a, `${where}: [status, error, broken, availIdx, lastUsed, numAdded, inFlight, freeHead, numFree]`).toEqual(b);
    expectSameGuest(t, GUEST, RING.desc, 0x3000, where);
    expectSameGuest(t, GUEST, TABLES, 0x3000, where);
    expectSameCounters(t, where);
  };
  compare("init");
  if (code !== L.VQ_OK) return { added: 0, reclaimed: 0, error: code };

  s.ops.forEach((op, i) => {
    const where = `op ${i} ${op.kind}`;
    switch (op.kind) {
      case "add": {
        const at = encode(io, op.reqs);
        const bytes = new Uint8Array(io.buffer, 0, at[at.length - 1]!);
        t.a.u8.set(bytes, L.IO_BASE);
        const k = drv.addRaw(L.IO_BASE, op.reqs.length);
        expect(ref.add(io, 0, op.reqs.length), where).toBe(k);
        expectSameBytes(t.a.u8.slice(L.IO_BASE, L.IO_BASE + bytes.length), bytes, `${where}: heads written back`);
        for (let r = 0; r < k; r++) outstanding.push(io.getUint16(at[r]! + L.QS_ADD_HEAD, true));
        addStatuses.add(drv.status);
        break;
      }
      case "kick":
        expect(ref.kick(), where).toBe(drv.kick());
        break;
      case "complete": {
        // The device uses `n` chains: in order of availability with IN_ORDER (one used entry
        // per `batch` chains), otherwise from the newest; or it writes a garbage id.
        let n = Math.min(op.n, outstanding.length);
        if (op.garbage !== null) n = Math.max(n, 1);
        for (let j = 0; j < n;) {
          let id: number;
          let step = 1;
          if (op.garbage !== null) id = op.garbage;
          else if (s.inOrder) {
            step = Math.min(op.batch, n - j);
            id = outstanding[step - 1]!;
            outstanding = outstanding.slice(step);
          } else id = outstanding.pop()!;
          ma.setUsedElem(deviceUsed, id, op.lens[j % 4]!);
          mb.setUsedElem(deviceUsed, id, op.lens[j % 4]!);
          // A "short" device names the last chain of a batch but advances used.idx by one.
          deviceUsed = (deviceUsed + (op.short ? 1 : step)) & 0xffff;
          j += step;
        }
        deviceUsed = (deviceUsed + op.jump) & 0xffff;
        ma.usedIdx = deviceUsed;
        mb.usedIdx = deviceUsed;
        break;
      }
      case "reclaim": {
        t.a.u8.fill(0, L.IO_BASE, L.IO_BASE + 8 * 64);
        new Uint8Array(io.buffer).fill(0, 0, 8 * 64);
        const k = t.a.raw<{ vqs_drv_reclaim(q: number, out: number, max: number): number }>().vqs_drv_reclaim(1, L.IO_BASE, op.max);
        expect(ref.reclaim(io, 0, op.max), where).toBe(k);
        expectSameBytes(t.a.u8.slice(L.IO_BASE, L.IO_BASE + 8 * 64), new Uint8Array(io.buffer, 0, 8 * 64), `${where}: records`);
        break;
      }
      case "cb":
        if (op.enable) expect(ref.enableCb(true), where).toBe(drv.enableCallbacks());
        else {
          drv.disableCallbacks();
          ref.enableCb(false);
        }
        break;
      case "event":
        both(t, (m) => {
          const mq = m === t.a ? ma : mb;
          mq.availEvent = op.availEvent;
          mq.usedFlags = op.noNotify ? L.VRING_USED_F_NO_NOTIFY : 0;
        });
        break;
    }
    compare(where);
  });
  return { added: ref.counters[L.CNT_VQ_CHAINS_ADDED]!, reclaimed: ref.counters[L.CNT_VQ_CHAINS_RECLAIMED]!, error: ref.error };
}

describe.each([["release", 300], ["debug", 60]] as const)("split driver differential: Wasm vs TS reference (%s)", (build, runs) => {
  it("agrees on random add / kick / reclaim sequences against a scripted device", () => {
    let added = 0;
    let reclaimed = 0;
    const errors = new Set<number>();

    fc.assert(fc.property(scenarioArb, (s) => {
      const r = run(build, s);
      added += r.added;
      reclaimed += r.reclaimed;
      errors.add(r.error);
    }), { seed: 0xd417, numRuns: runs });
    if (build === "release") {
      expect(added).toBeGreaterThan(400);
      expect(reclaimed).toBeGreaterThan(150);
      for (const st of [L.VQ_OK, L.VQ_ENOSPC, L.VQ_SPLIT_BAD_ADD]) expect(addStatuses.has(st), `add status ${st}`).toBe(true);
      for (const code of [0, L.VQ_E1_BAD_SIZE, L.VQ_E2_MISALIGNED, L.VQ_E3_RING_OUTSIDE_RAM, L.VQ_E21_BAD_USED_ID]) {
        expect(errors.has(code), `E${code}`).toBe(true);
      }
    }
  });
});
