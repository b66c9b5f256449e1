// Differential property tests: the Wasm packed kernels and the plain-TS reference, run on two
// identical machines through the same random scenario (valid and invalid rings alike), must
// return the same buffers, the same codes and cursors, leave the same ring bytes, and count
// the same: the Wasm counters block equals the TS HostCounters plus whatever the TS run's own
// machine counted (frames it populated through the machine), slot by slot.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as L from "../src/wasm/layout.ts";
import { dmaFromHalves, type DmaAddr } from "../src/virtio/dma-addr.ts";
import { Machine } from "../src/wasm/machine.ts";
import { newHostCounters } from "../src/wasm/ts-guest-memory.ts";
import { WasmPackedDevice, WasmPackedDriver, type PackedFeatures, type PackedSeg } from "../src/wasm/packed.ts";
import { RefPackedDevice, RefPackedDriver } from "../src/virtio/packed-ref.ts";
import { AVAIL, INDIRECT, NEXT, PackedMock, USED, WRITE, type RawDesc } from "./helpers/packed-mock.ts";

const GUEST = 1;
const BUF = 0x100000;
const RO_GFN = 1500;
// Buffer addresses: in RAM, straddling the end of RAM, unmapped, on a read-only page, near 2^64.
const ADDRS: (number | bigint)[] = [BUF, BUF + 0x1f80, 0x3fff00, 0x500000, RO_GFN * 4096, 2n ** 64n - 0x10n, 2n ** 33n, 2n ** 63n | 0x4d2010n];
const LENS = [0, 1, 16, 100, 0x1000, 0x80000000, 0xffffffff];
// Indirect tables: in RAM, straddling a page, unmapped, beyond 4 GiB.
const TABLES = [BUF + 0x8000, BUF + 0x8ff8, 0x500000, 2 ** 32 - 16];
const TABLE_LENS = [0, 16, 24, 32, 48, 16 * 30];

function machine(build: "release" | "debug"): Machine {
  const m = new Machine({ build });
  m.createDomain(GUEST, 1024);
  m.createDomain(2, 16);
  m.p2mMap(GUEST, RO_GFN, m.populate(2, 0), L.P2M_GRANT | L.P2MF_RO);
  m.write(GUEST, BUF, new Uint8Array(0x10000)); // populate the buffer and table area
  // Both tables start well-formed: two readable entries, then a writable one.
  const mock = new PackedMock(m, GUEST, 1, 0x200000);
  for (const t of TABLES.slice(0, 2)) {
    mock.writeTable(t, [{ addr: BUF, len: 64, flags: 0 }, { addr: BUF + 0x40, len: 64, flags: 0 }, { addr: BUF + 0x80, len: 64, flags: WRITE }]);
  }
  return m;
}

// Each descriptor draws a plausible value and a hostile one; a scenario is either careful
// (well-formed rings only: long runs of valid traffic) or hostile (each value hostile now and
// then, lists malformed now and then), so both valid traffic and every error path get exercised.
const descArb = fc.record({
  addr: fc.integer({ min: 0, max: 0x7ff }).map((x) => BUF + x * 16),
  len: fc.integer({ min: 0, max: 3000 }),
  tableLen: fc.integer({ min: 1, max: 6 }).map((n) => n * 16),
  badAddr: fc.integer({ min: 0, max: 40 }), // < ADDRS.length - 1: that hostile address
  badLen: fc.integer({ min: 0, max: 40 }), // < LENS.length: that length
  badTable: fc.integer({ min: 0, max: 12 }), // < 3: a hostile table, < 3 + TABLE_LENS.length: a hostile len
  id: fc.integer({ min: 0, max: 11 }),
  next: fc.boolean(),
  write: fc.boolean(),
  indirect: fc.integer({ min: 0, max: 3 }), // 0: INDIRECT
  raw: fc.integer({ min: 0, max: 29 }), // 0: random AVAIL/USED bits
  rawBits: fc.integer({ min: 0, max: 3 }),
});

type DescGen = typeof descArb extends fc.Arbitrary<infer T> ? T : never;

interface Ctx { hostile: boolean; wellFormed: boolean; last: boolean; sole: boolean; indirectOk: boolean; inTable?: boolean }

function toRaw(d: DescGen, { hostile, wellFormed, last, sole, indirectOk, inTable = false }: Ctx): RawDesc {
  // A careful driver uses INDIRECT only as the sole descriptor of a buffer, when negotiated.
  const indirect = d.indirect === 0 && (hostile || (!inTable && sole && indirectOk));
  let addr: number | bigint = hostile && d.badAddr < ADDRS.length - 1 ? ADDRS[d.badAddr + 1]! : d.addr;
  let len = hostile && d.badLen < LENS.length ? LENS[d.badLen]! : d.len;
  if (indirect && !inTable) {
    addr = hostile && d.badTable < 3 ? TABLES[d.badTable + 1]! : TABLES[0]!;
    len = hostile && d.badTable >= 3 && d.badTable < 3 + TABLE_LENS.length ? TABLE_LENS[d.badTable - 3]! : d.tableLen;
  }
  let flags = (d.next ? NEXT : 0) | (d.write ? WRITE : 0) | (indirect ? INDIRECT : 0);
  if (wellFormed) flags = (flags & ~NEXT) | (last ? 0 : NEXT);
  if (hostile && d.raw === 0 && !inTable) return { addr, len, id: d.id, flags: flags | (d.rawBits & 1 ? AVAIL : 0) | (d.rawBits & 2 ? USED : 0), raw: true };
  return { addr, len, id: d.id, flags, raw: inTable };
}

/** Well-formed lists put readable elements first. */
function ordered(descs: DescGen[], wellFormed: boolean): DescGen[] {
  return wellFormed ? [...descs.filter((d) => !d.write), ...descs.filter((d) => d.write)] : descs;
}

const tableArb = fc.record({
  table: fc.integer({ min: 0, max: 1 }),
  entries: fc.array(descArb, { minLength: 1, maxLength: 6 }),
  wellFormed: fc.integer({ min: 0, max: 3 }),
});

const devOpArb = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("publish" as const), descs: fc.array(descArb, { minLength: 1, maxLength: 5 }), wellFormed: fc.integer({ min: 0, max: 5 }), force: fc.integer({ min: 0, max: 15 }), fresh: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("pop" as const), max: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("push" as const), picks: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 5 }), over: fc.integer({ min: 0, max: 19 }), junk: fc.integer({ min: 0, max: 19 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("irq" as const), offWrap: fc.integer({ min: 0, max: 0xffff }), flags: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("notify" as const), enable: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("table" as const), t: tableArb }) },
);

const devScenarioArb = fc.record({
  hostile: fc.boolean(),
  size: fc.integer({ min: 1, max: 24 }),
  indirect: fc.integer({ min: 0, max: 3 }),
  inOrder: fc.integer({ min: 0, max: 3 }),
  eventIdx: fc.boolean(),
  e14: fc.boolean(),
  e16: fc.boolean(),
  e19: fc.boolean(),
  maxSegs: fc.integer({ min: 0, max: 5 }),
  bufDom: fc.boolean(),
  ops: fc.array(devOpArb, { minLength: 1, maxLength: 80, size: "medium" }),
});

function writeTable(mock: PackedMock, hostile: boolean, t: { table: number; entries: DescGen[]; wellFormed: number }): void {
  const wf = !hostile || t.wellFormed !== 0;
  mock.writeTable(TABLES[t.table]!, ordered(t.entries, wf).map((e) => toRaw(e, { hostile, wellFormed: false, last: false, sole: false, indirectOk: false, inTable: true })));
}

describe.each(["release", "debug"] as const)("packed device: Wasm (%s) and TS agree", (build) => {
  it("on random valid and invalid rings", () => {
    fc.assert(fc.property(devScenarioArb, (sc) => {
      const ma = machine(build);
      const mb = machine(build);
      const features: PackedFeatures = { indirect: sc.indirect !== 0, inOrder: sc.inOrder === 0, eventIdx: sc.eventIdx };
      const cfg = {
        queue: 7, ringDomid: GUEST, bufDomid: sc.bufDom ? GUEST : undefined, features, maxSegs: sc.maxSegs,
        strict: { indirectWithNext: sc.e14, zeroLength: sc.e16 && sc.hostile, segments: sc.e19 && sc.hostile },
      };
      const mocks = [new PackedMock(ma, GUEST, sc.size), new PackedMock(mb, GUEST, sc.size)];
      const a0 = ma.counters();
      const b0 = mb.counters();
      const host = newHostCounters();
      const wasm = new WasmPackedDevice(ma, cfg);
      const ref = new RefPackedDevice(mb, cfg, host);
      const mk = mocks[0]!;
      expect(ref.enable(sc.size, mk.desc, mk.driverArea, mk.deviceArea)).toBe(wasm.enable(sc.size, mk.desc, mk.driverArea, mk.deviceArea));
      wasm.driverOk();
      ref.driverOk();
      const outstanding: number[] = [];
      const info = new Map<number, { slots: number; writable: number }>();
      let published = 0; // slots the mock driver published
      let released = 0; // slots the device covered with used descriptors
      let nextId = 100;
      for (const op of sc.ops) {
        switch (op.kind) {
          case "publish": {
            const wf = !sc.hostile || op.wellFormed !== 0;
            // A careful driver only publishes into free slots; a forced publish may not.
            if ((!sc.hostile || op.force !== 0) && op.descs.length > sc.size - (published - released)) break;
            // A careful driver uses a fresh buffer id; a hostile one whatever was drawn.
            const descs = ordered(op.descs, wf).map((d) => (!sc.hostile || op.fresh !== 0 ? { ...d, id: nextId } : d));
            nextId = (nextId + 1) & 0xffff;
            const raws = descs.map((d, i) => toRaw(d, {
              hostile: sc.hostile, wellFormed: wf, last: i + 1 === descs.length, sole: descs.length === 1, indirectOk: features.indirect === true,
            }));
            for (const mock of mocks) mock.publish(raws);
            published += descs.length;
            break;
          }
          case "table":
            for (const mock of mocks) writeTable(mock, sc.hostile, op.t);
            break;
          case "pop": {
            const a = wasm.pop(op.max);
            expect(ref.popChains(op.max)).toEqual(a);
            outstanding.push(...a.map((c) => c.id));
            for (const c of a) info.set(c.id, { slots: c.slots, writable: c.writable });
            break;
          }
          case "push": {
            // Mostly valid completions (in order: the oldest first), sometimes bogus ones.
            const k = Math.min(op.picks.length, outstanding.length);
            const ids = sc.inOrder === 0 || op.junk === 1 ? outstanding.slice(0, k)
              : [...new Set(op.picks.slice(0, k).map((p) => outstanding[p % outstanding.length]!))];
            const used = ids.map((id, i) => ({
              id: sc.hostile && op.junk === 0 && i === 0 ? (op.picks[0]! % 3 === 0 ? 0x10000 + id : id + 1) : id,
              len: sc.hostile && op.over === 0 && i + 1 === ids.length ? Math.min(info.get(id)!.writable + 1, 0xffffffff) : (info.get(id)!.writable * (op.picks[i] ?? 0)) % (info.get(id)!.writable + 1),
            }));
            const n = wasm.push(used);
            expect(ref.push(used)).toBe(n);
            for (const u of used.slice(0, n)) {
              outstanding.splice(outstanding.indexOf(u.id), 1);
              released += info.get(u.id)?.slots ?? 0;
            }
            break;
          }
          case "irq":
            for (const mock of mocks) mock.setDriverEvent(op.offWrap, op.flags);
            expect(ref.needIrq()).toBe(wasm.needIrq());
            break;
          case "notify":
            if (op.enable) expect(ref.enableNotify()).toBe(wasm.enableNotify());
            else { wasm.disableNotify(); ref.disableNotify(); }
            break;
        }
        const w = wasm.cursors;
        expect({ error: ref.error, broken: ref.broken, nextAvail: ref.ring.nextAvail, availWrap: ref.ring.availWrap,
          nextUsed: ref.ring.nextUsed, usedWrap: ref.ring.usedWrap, inFlight: ref.ring.inFlight, slots: ref.slotsInFlight,
          numAdded: ref.ring.numAdded })
          .toEqual({ error: w.error, broken: wasm.broken, nextAvail: w.nextAvail, availWrap: w.availWrap, nextUsed: w.nextUsed,
            usedWrap: w.usedWrap, inFlight: w.inFlight, slots: w.slotsInFlight, numAdded: w.numAdded });
      }
      expect(mb.read(GUEST, mk.desc, sc.size * 16 + 8)).toEqual(ma.read(GUEST, mk.desc, sc.size * 16 + 8));
      const a1 = ma.counters();
      const b1 = mb.counters();
      for (let i = 0; i < L.COUNTERS_SLOTS; i++) {
        // The reads above are machine-level and identical on both sides.
        expect(host[i]! + (b1[i]! - b0[i]!), `counter ${i}`).toBe(a1[i]! - a0[i]!);
      }
    }), { seed: 0x5eed, numRuns: build === "release" ? 300 : 60 });
  });
});

// ---- driver side --------------------------------------------------------------------------

// Buffer addresses in RAM, and u64s a number cannot hold (grant DMA addresses with bit 63, any
// value from 2^53 up), which the descriptors must carry bit for bit.
const drvAddrArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 0xfffff }).map((x): DmaAddr => BUF + x) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(0xfffff), fc.nat(0xfff)).map(([gref, off]): DmaAddr => (1n << 63n) | (BigInt(gref) << 12n) | BigInt(off)) },
  { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }) },
);
const segArb = fc.record({ addr: drvAddrArb, len: fc.integer({ min: 0, max: 5000 }), write: fc.boolean() });

const drvOpArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("add" as const), segs: fc.array(segArb, { minLength: 1, maxLength: 4 }), sorted: fc.integer({ min: 0, max: 7 }), table: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("use" as const), pick: fc.integer({ min: 0, max: 40 }), junk: fc.integer({ min: 0, max: 29 }), len: fc.integer({ min: 0, max: 9000 }), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("reclaim" as const), max: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("kick" as const), offWrap: fc.integer({ min: 0, max: 0xffff }), flags: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("cb" as const), enable: fc.boolean() }) },
);

const drvScenarioArb = fc.record({
  size: fc.integer({ min: 1, max: 16 }),
  indirect: fc.integer({ min: 0, max: 2 }),
  inOrder: fc.integer({ min: 0, max: 3 }),
  eventIdx: fc.boolean(),
  ops: fc.array(drvOpArb, { minLength: 1, maxLength: 80, size: "medium" }),
});

describe.each(["release", "debug"] as const)("packed driver: Wasm (%s) and TS agree", (build) => {
  it("on random adds, kicks and (possibly bogus) completions", () => {
    fc.assert(fc.property(drvScenarioArb, (sc) => {
      const ma = machine(build);
      const mb = machine(build);
      const features: PackedFeatures = { indirect: sc.indirect !== 0, inOrder: sc.inOrder === 0, eventIdx: sc.eventIdx };
      const mocks = [new PackedMock(ma, GUEST, sc.size), new PackedMock(mb, GUEST, sc.size)];
      const mk = mocks[0]!;
      const a0 = ma.counters();
      const b0 = mb.counters();
      const host = newHostCounters();
      const wasm = new WasmPackedDriver(ma, { queue: 9, ringDomid: GUEST, features });
      const ref = new RefPackedDriver(mb, { queue: 9, ringDomid: GUEST, features }, host);
      expect(ref.init(sc.size, mk.desc, mk.driverArea, mk.deviceArea)).toBe(wasm.init(sc.size, mk.desc, mk.driverArea, mk.deviceArea));
      // The harness plays the device: it knows each added buffer's slot count.
      const added: { id: number; slots: number }[] = [];
      let useSlot = 0;
      let useWrap = 1;
      for (const op of sc.ops) {
        switch (op.kind) {
          case "add": {
            let segs: PackedSeg[] = op.segs.map((s) => ({ addr: s.addr, len: s.len, write: s.write }));
            if (op.sorted !== 0) segs = [...segs.filter((s) => !s.write), ...segs.filter((s) => s.write)];
            const table = sc.indirect !== 0 && op.table !== 0 ? TABLES[op.table % TABLES.length] : undefined;
            const run = (d: { add(s: PackedSeg[], t?: number): number }) => {
              try { return d.add(segs, table); } catch (e) { return (e as Error).message; }
            };
            const r = run(wasm);
            expect(run(ref)).toEqual(r);
            if (typeof r === "number" && r >= 0 && table === undefined) {
              // A direct chain: its descriptors hold the addresses exactly (read as two u32 words).
              const head = (wasm.cursors.nextAvail - segs.length + sc.size) % sc.size;
              for (const m of [ma, mb]) {
                segs.forEach((s, k) => {
                  const d = new DataView(m.read(GUEST, mk.desc + ((head + k) % sc.size) * 16, 8).buffer);
                  expect(dmaFromHalves(d.getUint32(4, true), d.getUint32(0, true))).toEqual(s.addr);
                });
              }
            }
            if (typeof r === "number" && r >= 0) added.push({ id: r, slots: table !== undefined ? 1 : segs.length });
            break;
          }
          case "use": {
            // Complete `n` buffers: mostly the oldest (valid in order too), sometimes a random
            // one, sometimes a junk id.
            for (let k = 0; k < op.n && (added.length > 0 || op.junk === 0); k++) {
              const at = op.junk === 2 && added.length ? (op.pick + k) % added.length : 0;
              const b = added.length ? added.splice(at, 1)[0]! : undefined;
              const id = op.junk === 0 || b === undefined ? op.pick + k : b.id;
              for (const mock of mocks) mock.markUsed(useSlot, id, op.len, useWrap);
              useSlot += b?.slots ?? 1;
              while (useSlot >= sc.size) { useSlot -= sc.size; useWrap ^= 1; }
            }
            break;
          }
          case "reclaim":
            expect(ref.getUsed(op.max)).toEqual(wasm.getUsed(op.max));
            break;
          case "kick":
            for (const mock of mocks) mock.setDeviceEvent(op.offWrap, op.flags);
            expect(ref.kickPrepare()).toBe(wasm.kickPrepare());
            break;
          case "cb":
            if (op.enable) expect(ref.enableCb()).toBe(wasm.enableCb());
            else { wasm.disableCb(); ref.disableCb(); }
            break;
        }
        const w = wasm.cursors;
        expect({ error: ref.error, nextAvail: ref.ring.nextAvail, availWrap: ref.ring.availWrap, nextUsed: ref.ring.nextUsed,
          usedWrap: ref.ring.usedWrap, inFlight: ref.ring.inFlight, numAdded: ref.ring.numAdded, numFree: ref.numFree })
          .toEqual({ error: w.error, nextAvail: w.nextAvail, availWrap: w.availWrap, nextUsed: w.nextUsed, usedWrap: w.usedWrap,
            inFlight: w.inFlight, numAdded: w.numAdded, numFree: w.numFree });
      }
      expect(mb.read(GUEST, mk.desc, sc.size * 16 + 8)).toEqual(ma.read(GUEST, mk.desc, sc.size * 16 + 8));
      expect(mb.read(GUEST, BUF + 0x8000, 0x1100)).toEqual(ma.read(GUEST, BUF + 0x8000, 0x1100));
      const a1 = ma.counters();
      const b1 = mb.counters();
      for (let i = 0; i < L.COUNTERS_SLOTS; i++) {
        expect(host[i]! + (b1[i]! - b0[i]!), `counter ${i}`).toBe(a1[i]! - a0[i]!);
      }
    }), { seed: 0xd1ff, numRuns: build === "release" ? 300 : 60 });
  });
});
