// Differential property tests, device side: random valid and invalid split rings (descriptor
// tables, indirect tables, heads, flags, lens, nexts, avail jumps) and random call sequences
// (pop, push, notification decisions, enable/disable). The Wasm kernel and the TS reference
// must return the same chains and results, leave the same state and guest memory, and count
// the same, slot by slot.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { SplitDevice } from "../src/wasm/split.ts";
import { SplitRefDevice } from "../src/virtio/split-ref.ts";
import * as L from "../src/wasm/layout.ts";
import { MockSplitQueue, type Desc } from "./helpers/mock-split.ts";
import { GUEST, OTHER, RO_GFN, both, expectSameBytes, expectSameCounters, expectSameGuest, twins } from "./helpers/split-world.ts";

const RING_BASE = 0x10000;
const T1 = 0x30000; // indirect table, aligned
const T2 = 0x31ff8; // indirect table straddling a page
const OUT = 8192; // bytes of pop output compared
const GRANT_GFN = 48; // where OTHER maps the guest's ring pages in the viaGrant scenarios

// Symbolic addresses of the two indirect tables, resolved per scenario (the ring domain may be
// the guest itself or a domain reaching the guest's pages through grants).
const SYM_T1 = 1n;
const SYM_T2 = 2n;
const addrArb = fc.oneof(
  // Inside the RAM of both the guest and OTHER, so valid whatever the buffer domain.
  { weight: 12, arbitrary: fc.integer({ min: 0x10, max: 0x4f }).map((k) => BigInt(k * 0x100)) },
  { weight: 3, arbitrary: fc.constantFrom(SYM_T1, SYM_T2) },
  { weight: 2, arbitrary: fc.constantFrom(0x40ff0n, 0x1000n, 255n * 4096n, BigInt(RO_GFN) * 4096n, 20n * 4096n) },
  { weight: 1, arbitrary: fc.constantFrom(300n * 4096n, 2n ** 40n, 2n ** 64n - 16n, 2n ** 64n - 8n) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) },
);
const lenArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 0x800 }) },
  { weight: 3, arbitrary: fc.constantFrom(0, 16, 32, 48, 64, 96, 4096, 8192) },
  { weight: 1, arbitrary: fc.constantFrom(0x80000000, 0xfffffff0, 0xffffffff, 65536 * 16, 20) },
);
const NEXT = L.VRING_DESC_F_NEXT;
const WRITE = L.VRING_DESC_F_WRITE;
const INDIRECT = L.VRING_DESC_F_INDIRECT;
const flagsArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(0, NEXT) },
  { weight: 2, arbitrary: fc.constantFrom(INDIRECT, INDIRECT | NEXT) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 7 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
/** A table of `n` descriptors. `next` mostly points at the following entry; in an ordered
 *  table the first half is device-readable and the second half device-writable, so chains
 *  that follow `next` forward are well ordered. */
const tableArb = (n: number) => fc.record({
  ordered: fc.boolean(),
  ds: fc.array(fc.record({
    addr: addrArb, len: lenArb, flags: flagsArb, w: fc.boolean(), seq: fc.nat(3), next: fc.integer({ min: 0, max: n + 1 }), fix: fc.nat(7),
  }), { minLength: n, maxLength: n }),
}).map(({ ordered, ds }) => ds.map((d, i): Desc => {
  const write = ordered ? i >= n / 2 : d.w;
  const flags = d.flags > 7 ? d.flags : (d.flags & ~WRITE) | (write ? WRITE : 0);
  // Most indirect descriptors point at one of the tables with a plausible length.
  const ind = (flags & INDIRECT) !== 0 && d.fix < 6;
  return {
    addr: ind ? (d.fix % 2 === 0 ? SYM_T1 : SYM_T2) : d.addr,
    len: ind ? 16 * (1 + (d.fix >> 1)) : d.len,
    flags, next: d.seq !== 0 ? i + 1 : d.next,
  };
}));

const opArb = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("pop" as const), max: fc.integer({ min: 1, max: 8 }), cap: fc.constantFrom(OUT, OUT, OUT, 100, 48) }) },
  { weight: 4, arbitrary: fc.record({
    kind: fc.constant("push" as const),
    elems: fc.array(fc.record({ pick: fc.nat(), raw: fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 20 }) }), less: fc.integer({ min: -1, max: 50 }) }), { maxLength: 5 }),
  }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("pushChains" as const), lower: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("irq" as const), usedEvent: fc.option(fc.integer({ min: 0, max: 0xffff })), noInt: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("notify" as const), enable: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("publish" as const), heads: fc.array(fc.oneof({ weight: 9, arbitrary: fc.nat(15) }, { weight: 1, arbitrary: fc.nat(40) }), { maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("jump" as const), idx: fc.integer({ min: 0, max: 0xffff }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("revoke" as const), what: fc.constantFrom("desc", "avail", "used", "tables") }) },
);

const rawScenarioArb = fc.constantFrom(1, 2, 4, 8, 16).chain((size) => fc.record({
  size: fc.constant(size),
  clean: fc.boolean(),
  viaGrant: fc.boolean(),
  eventIdx: fc.boolean(),
  indirect: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  inOrder: fc.boolean(),
  strictE14: fc.boolean(),
  strictE16: fc.boolean(),
  strictE19: fc.boolean(),
  maxSegs: fc.integer({ min: 0, max: 5 }),
  maxIndirect: fc.constantFrom(0, 0, 0, 2, 5),
  bufDomid: fc.constantFrom(L.DOMID_INVALID, L.DOMID_INVALID, GUEST, GUEST, OTHER, OTHER, 7),
  descs: tableArb(size),
  t1: fc.integer({ min: 1, max: 6 }).chain(tableArb),
  t2: fc.integer({ min: 1, max: 4 }).chain(tableArb),
  heads: fc.array(fc.oneof({ weight: 9, arbitrary: fc.nat(size - 1) }, { weight: 1, arbitrary: fc.nat(size + 2) }), { minLength: size >> 1, maxLength: size }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 16, size: "max" }),
  inject: fc.constantFrom("none", "none", "loop", "loopInTable", "nested", "zero", "huge", "readAfterWrite", "wrap", "tableNext"),
  at: fc.nat(15),
}));

/** Half the scenarios are "clean": every descriptor is a well-formed segment or a proper
 *  indirect reference, heads are in range and the avail index never jumps, so long sequences
 *  of pops and completions happen; the other half keep every corruption. */
function sanitize(d: Desc, i: number, n: number): Desc {
  const f = d.flags ?? 0;
  if ((f & INDIRECT) !== 0 && f <= 7 && (d.addr === SYM_T1 || d.addr === SYM_T2)) return { ...d, flags: INDIRECT };
  const addr = typeof d.addr === "bigint" && d.addr >= 0x1000n && d.addr < 0x5000n ? d.addr : BigInt(0x1000 + 0x100 * (i % 64));
  return { addr, len: 1 + (d.len % 0x800), flags: (i >= n / 2 ? WRITE : 0) | (i + 1 < n ? f & NEXT : 0), next: i + 1 };
}
type Raw = typeof rawScenarioArb extends fc.Arbitrary<infer T> ? T : never;

/** Plants one specific fault in a clean scenario, so that every error path is also reached
 *  from otherwise valid rings (and not only from noise). */
function inject(s0: Raw): Raw {
  let s = s0;
  const descs = s.descs.slice();
  let t1 = s.t1.slice();
  const at = s.at % s.size;
  const toT1 = (n: number): Desc => ({ addr: SYM_T1, len: 16 * n, flags: INDIRECT });
  switch (s.inject) {
    case "loop": descs[at] = { ...descs[at]!, flags: NEXT, next: at }; break;
    case "loopInTable": t1 = [{ addr: 0x1000n, len: 8, flags: NEXT, next: 0 }]; descs[at] = toT1(1); break;
    case "nested": t1 = [{ addr: SYM_T2, len: 16, flags: INDIRECT }]; descs[at] = toT1(1); break;
    case "zero": descs[at] = { ...descs[at]!, len: 0 }; break;
    case "huge": s = { ...s, bufDomid: L.DOMID_INVALID, indirect: true }; t1 = [{ addr: 0x1000n, len: 0xffffffff, flags: NEXT, next: 1 }, { addr: 0x1000n, len: 2, flags: WRITE }]; descs[at] = toT1(2); break;
    case "readAfterWrite": t1 = [{ addr: 0x1000n, len: 8, flags: WRITE | NEXT, next: 1 }, { addr: 0x1000n, len: 8 }]; descs[at] = toT1(2); break;
    case "wrap": descs[at] = { ...descs[at]!, addr: 2n ** 64n - 4n, len: 8 }; break;
    case "tableNext": t1 = [{ addr: 0x1000n, len: 8, flags: NEXT, next: 3 }, { addr: 0x1000n, len: 8 }]; descs[at] = toT1(2); break;
  }
  return { ...s, descs, t1 };
}

const scenarioArb = rawScenarioArb.map((s) => !s.clean ? s : inject({
  ...s,
  bufDomid: s.bufDomid === 7 ? GUEST : s.bufDomid,
  descs: s.descs.map((d, i) => sanitize(d, i, s.size)),
  t1: s.t1.map((d, i) => sanitize(d, i, s.t1.length)).map((d) => (d.flags! & INDIRECT ? { ...d, flags: 0 } : d)),
  t2: s.t2.map((d, i) => sanitize(d, i, s.t2.length)).map((d) => (d.flags! & INDIRECT ? { ...d, flags: 0 } : d)),
  heads: s.heads.map((h) => h % s.size),
  ops: s.ops.filter((o) => o.kind !== "jump" && o.kind !== "revoke")
    .map((o) => (o.kind === "publish" ? { ...o, heads: o.heads.map((h) => h % s.size) } : o)),
}));

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function run(build: "release" | "debug", s: Scenario): void {
  const t = twins(build);
  const rings: MockSplitQueue[] = [];
  // With viaGrant the device reaches the guest's ring pages (gfn 0x10..0x3f) through grant
  // mappings in OTHER's p2m at GRANT_GFN.., which a "revoke" op can take away.
  const ringDom = s.viaGrant ? OTHER : GUEST;
  const shift = s.viaGrant ? GRANT_GFN * 4096 - RING_BASE : 0;
  const sym = (d: Desc): Desc => ({ ...d, addr: d.addr === SYM_T1 ? T1 + shift : d.addr === SYM_T2 ? T2 + shift : d.addr });
  both(t, (m) => {
    const mq = new MockSplitQueue(m, GUEST, s.size, RING_BASE);
    s.descs.forEach((d, i) => mq.writeDesc(i, sym(d)));
    mq.writeTable(T1, s.t1.map(sym));
    mq.writeTable(T2, s.t2.map(sym));
    s.heads.forEach((h, i) => mq.setAvailSlot(i, h));
    mq.availIdx = s.heads.length;
    rings.push(mq);
    if (s.viaGrant) {
      for (let g = 0x10; g < 0x40; g++) expect(m.p2mMap(OTHER, GRANT_GFN + g - 0x10, m.populate(GUEST, g), L.P2M_GRANT)).toBe(L.MST_OK);
    }
  });
  const [ma, mb] = rings as [MockSplitQueue, MockSplitQueue];
  const devRing = { ...ma.ring, desc: ma.ring.desc + shift, avail: ma.ring.avail + shift, used: ma.ring.used + shift };
  const features = { eventIdx: s.eventIdx, indirect: s.indirect, inOrder: s.inOrder };
  const policy = { strictE14: s.strictE14, strictE16: s.strictE16, strictE19: s.strictE19, maxSegs: s.maxSegs, maxIndirect: s.maxIndirect, bufDomid: s.bufDomid };
  const dev = new SplitDevice(t.a, 0, ringDom, 16);
  const ref = new SplitRefDevice(t.b, ringDom, 16, t.host);
  expect(dev.enable(devRing, features, policy)).toBe(L.VQ_OK);
  const flagsOf = (f: number) => f | (s.strictE14 ? L.QF_STRICT_E14 : 0) | (s.strictE16 ? L.QF_STRICT_E16 : 0) | (s.strictE19 ? L.QF_STRICT_E19 : 0);
  expect(ref.enable(s.size, devRing.desc, devRing.avail, devRing.used,
    flagsOf((s.eventIdx ? L.QF_EVENT_IDX : 0) | (s.indirect ? L.QF_INDIRECT : 0) | (s.inOrder ? L.QF_IN_ORDER : 0)),
    s.bufDomid, s.maxSegs, s.maxIndirect)).toBe(L.VQ_OK);
  dev.setDriverOk(true);
  ref.setFlags(L.QF_DRIVER_OK, 0);

  const refOut = new DataView(new ArrayBuffer(OUT));
  let lastPop = new Uint8Array(0);
  let lastPopN = 0;
  // Chains popped and not yet completed, in pop order (a model for choosing push ids).
  let popped: { head: number; writable: number }[] = [];
  const compare = (where: string) => {
    const a = [dev.error, dev.status, dev.broken, dev.nextAvail, dev.nextUsed, dev.inFlight, dev.numAdded, dev.signalled, dev.signalledValid, dev.notificationsOn];
    const b = [ref.error, ref.status, ref.broken, ref.nextAvail, ref.nextUsed, ref.inFlight, ref.numAdded, ref.signalled, ref.signalledValid, ref.notifyOn];
    if (a.join() !== b.join()) expect(a, `${where}: [error, status, broken, nextAvail, nextUsed, inFlight, numAdded, signalled, valid, notifyOn]`).toEqual(b);
    expectSameGuest(t, GUEST, RING_BASE, 0x400, where);
    expectSameCounters(t, where);
  };

  s.ops.forEach((op, i) => {
    const where = `op ${i} ${op.kind}`;
    switch (op.kind) {
      case "pop": {
        t.a.u8.fill(0, L.IO_BASE, L.IO_BASE + OUT);
        new Uint8Array(refOut.buffer).fill(0);
        const n = dev.popRaw(op.max, L.IO_BASE, op.cap);
        expect(ref.pop(refOut, 0, op.cap, op.max), where).toBe(n);
        const wasmBytes = t.a.u8.slice(L.IO_BASE, L.IO_BASE + OUT);
        expectSameBytes(wasmBytes, new Uint8Array(refOut.buffer), where);
        lastPop = wasmBytes;
        lastPopN = n;
        let p = 0;
        for (let c = 0; c < n; c++) {
          popped.push({ head: refOut.getUint16(p + L.CHAIN_ID, true), writable: refOut.getUint32(p + L.CHAIN_WRITABLE, true) });
          p += L.CHAIN_HDR_SIZE + refOut.getUint16(p + L.CHAIN_NSEGS, true) * L.SEG_SIZE;
        }
        break;
      }
      case "push": {
        const recs = new DataView(new ArrayBuffer(8 * op.elems.length + 8));
        const pool = popped.slice();
        const chosen: number[] = [];
        op.elems.forEach((e, j) => {
          const c = pool.length ? pool.splice(e.pick % pool.length, 1)[0]! : { head: 0, writable: 0 };
          chosen.push(e.raw ?? c.head);
          recs.setUint32(8 * j, e.raw ?? c.head, true);
          recs.setUint32(8 * j + 4, Math.max(0, c.writable - e.less), true);
        });
        t.a.u8.set(new Uint8Array(recs.buffer), L.IO_BASE);
        const k = dev.pushRaw(L.IO_BASE, op.elems.length);
        expect(ref.push(recs, 0, op.elems.length, false), where).toBe(k);
        for (const id of chosen.slice(0, k)) {
          const at = popped.findIndex((c) => c.head === id);
          popped = s.inOrder ? popped.slice(at + 1) : popped.filter((_, x) => x !== at);
        }
        break;
      }
      case "pushChains": {
        // Complete the last popped batch as records, some with a lowered writable length.
        const bytes = lastPop.slice();
        const dv = new DataView(bytes.buffer);
        if (lastPopN > 0 && op.lower > 0) dv.setUint32(L.CHAIN_WRITABLE, Math.max(0, dv.getUint32(L.CHAIN_WRITABLE, true) - op.lower), true);
        t.a.u8.set(bytes, L.IO_BASE);
        const k = dev.pushChainsRaw(L.IO_BASE, lastPopN);
        expect(ref.push(dv, 0, lastPopN, true), where).toBe(k);
        let p = 0;
        for (let c = 0; c < k; c++) {
          const id = dv.getUint16(p + L.CHAIN_ID, true);
          const at = popped.findIndex((x) => x.head === id);
          popped = s.inOrder ? popped.slice(at + 1) : popped.filter((_, x) => x !== at);
          p += L.CHAIN_HDR_SIZE + dv.getUint16(p + L.CHAIN_NSEGS, true) * L.SEG_SIZE;
        }
        break;
      }
      case "irq": {
        both(t, (m) => {
          const mq = m === t.a ? ma : mb;
          if (op.usedEvent !== null) mq.usedEvent = op.usedEvent;
          mq.availFlags = op.noInt ? L.VRING_AVAIL_F_NO_INTERRUPT : 0;
        });
        expect(ref.needIrq(), where).toBe(dev.needInterrupt());
        break;
      }
      case "notify": {
        if (op.enable) expect(ref.notify(true), where).toBe(dev.enableNotifications());
        else {
          dev.disableNotifications();
          ref.notify(false);
        }
        break;
      }
      case "publish": {
        // Mostly stay within the ring (more would be E5, which "jump" covers).
        const room = s.size - ((ma.availIdx - dev.nextAvail) & 0xffff);
        void mb.availIdx; // the same guest read on the twin keeps the counters comparable
        const heads = op.heads.length % 5 === 4 ? op.heads : op.heads.slice(0, Math.max(0, room));
        ma.publish(...heads);
        mb.publish(...heads);
        break;
      }
      case "jump":
        ma.availIdx = op.idx;
        mb.availIdx = op.idx;
        break;
      case "revoke": {
        if (!s.viaGrant) break;
        const gpa = op.what === "tables" ? T1 : op.what === "desc" ? ma.ring.desc : op.what === "avail" ? ma.ring.avail : ma.ring.used;
        const gfn = GRANT_GFN + (gpa >> 12) - 0x10;
        both(t, (m) => { if (m.p2mLookup(OTHER, gfn) !== 0) m.p2mUnmap(OTHER, gfn); });
        break;
      }
    }
    compare(where);
  });
  STATS?.(dev.error, ref.counters[L.CNT_VQ_CHAINS_POPPED]!, ref.counters[L.CNT_VQ_USED_PUSHED]!);
}

/** Optional hook for checking what the generator reaches (see the coverage test below). */
let STATS: ((error: number, popped: number, pushed: number) => void) | undefined;

describe("split device differential: Wasm vs TS reference (release)", () => {
  it("agrees on random rings and call sequences, reaching every device-side ring error", () => {
    const errors = new Map<number, number>();
    let popped = 0;
    let pushed = 0;
    STATS = (e, p, u) => {
      errors.set(e, (errors.get(e) ?? 0) + 1);
      popped += p;
      pushed += u;
    };
    try {
      fc.assert(fc.property(scenarioArb, (s) => run("release", s)), { seed: 0x5911, numRuns: 400 });
    } finally {
      STATS = undefined;
    }
    for (const code of [0, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]) {
      expect(errors.get(code) ?? 0, `E${code}`).toBeGreaterThan(0);
    }
    expect(popped).toBeGreaterThan(250);
    expect(pushed).toBeGreaterThan(50);
  });
});

// Valid chains only (2 segments each: readable then writable), from indices restored just
// below the 16-bit wrap; "quiet" runs make a notification decision only every 8300 rounds.
const longRunArb = fc.record({
  eventIdx: fc.boolean(), inOrder: fc.boolean(), rounds: fc.integer({ min: 1, max: 40 }), start: fc.integer({ min: 0xff00, max: 0xffff }),
  quiet: fc.constant<boolean>(false),
  batch: fc.integer({ min: 1, max: 8 }), skip: fc.integer({ min: 1, max: 3 }), usedEvent: fc.integer({ min: 0, max: 0xffff }),
});
type LongRun = typeof longRunArb extends fc.Arbitrary<infer T> ? T : never;

function longRun(build: "release" | "debug", s: LongRun): void {
  const size = 8;
  const t = twins(build);
  const rings: MockSplitQueue[] = [];
  both(t, (m) => {
    const mq = new MockSplitQueue(m, GUEST, size, RING_BASE);
    for (let i = 0; i < size; i++) {
      mq.writeDesc(i, i % 2 === 0 ? { addr: 0x40000 + i * 64, len: 16 + i, flags: L.VRING_DESC_F_NEXT, next: i + 1 }
        : { addr: 0x41000 + i * 64, len: 100 + i, flags: L.VRING_DESC_F_WRITE });
      mq.setAvailSlot(i, (2 * i) % size);
    }
    mq.availIdx = s.start;
    mq.usedIdx = s.start;
    rings.push(mq);
  });
  const [ma, mb] = rings as [MockSplitQueue, MockSplitQueue];
  const f = (s.eventIdx ? L.QF_EVENT_IDX : 0) | (s.inOrder ? L.QF_IN_ORDER : 0);
  const dev = new SplitDevice(t.a, 0, GUEST, size);
  const ref = new SplitRefDevice(t.b, GUEST, size, t.host);
  expect(dev.enable(ma.ring, { eventIdx: s.eventIdx, inOrder: s.inOrder })).toBe(ref.enable(size, mb.ring.desc, mb.ring.avail, mb.ring.used, f, L.DOMID_INVALID, 0, 0));
  dev.setDriverOk(true);
  ref.setFlags(L.QF_DRIVER_OK, 0);
  dev.restore(s.start, s.start); // as after a migration: the run crosses the 16-bit wrap
  ref.restore(s.start, s.start);
  const out = new DataView(new ArrayBuffer(OUT));
  const total = s.quiet ? 8400 : s.rounds * 50;
  for (let r = 0; r < total; r++) {
    const n = Math.min(s.batch, size / 2);
    ma.availIdx = ma.availIdx + n;
    mb.availIdx = mb.availIdx + n;
    const k = dev.popRaw(64);
    expect(ref.pop(out, 0, OUT, 64)).toBe(k);
    // Complete in steps of `skip` chains (IN_ORDER: one entry per step).
    const heads: number[] = [];
    let p = 0;
    for (let c = 0; c < k; c++) {
      heads.push(out.getUint16(p, true));
      p += L.CHAIN_HDR_SIZE + out.getUint16(p + L.CHAIN_NSEGS, true) * L.SEG_SIZE;
    }
    const ids = s.inOrder ? heads.filter((_, c) => (c + 1) % s.skip === 0 || c === k - 1) : heads;
    const recs = new DataView(new ArrayBuffer(8 * ids.length + 8));
    ids.forEach((h, j) => recs.setUint32(8 * j, h, true));
    t.a.u8.set(new Uint8Array(recs.buffer), L.IO_BASE);
    expect(ref.push(recs, 0, ids.length, false)).toBe(dev.pushRaw(L.IO_BASE, ids.length));
    const ue = s.quiet ? s.start + 3 : s.usedEvent + r * 3; // quiet: just behind the first decision
    ma.usedEvent = ue & 0xffff;
    mb.usedEvent = ue & 0xffff;
    // Quiet runs decide rarely, so used.idx runs over 2^15 past the last decision.
    if (!s.quiet || r % 8300 === 0 || r > 8300) {
      const irq = dev.needInterrupt();
      expect(ref.needIrq()).toBe(irq);
      if (s.quiet && r === 8300) expect(irq).toBe(true);
    }
    if (r % 7 === 0) {
      const on = r % 2 === 0;
      const more = on ? dev.enableNotifications() : (dev.disableNotifications(), false);
      expect(ref.notify(on)).toBe(more);
    }
  }
  expect([dev.broken, dev.nextUsed, dev.signalled]).toEqual([ref.broken, ref.nextUsed, ref.signalled]);
  expect(dev.broken).toBe(false);
  expectSameGuest(t, GUEST, RING_BASE, 0x400, "end");
  expectSameCounters(t, "end");
}

describe.each(["release", "debug"] as const)("split device differential: Wasm vs TS reference (%s)", (build) => {
  if (build === "debug") {
    it("agrees on random rings and call sequences", () => {
      fc.assert(fc.property(scenarioArb, (s) => run(build, s)), { seed: 0x5913, numRuns: 60 });
    });
  }

  it("agrees on long runs of valid chains (wrap-around, in-order batches, notifications)", () => {
    fc.assert(fc.property(longRunArb, (s) => longRun(build, s)), { seed: 0x5912, numRuns: build === "release" ? 40 : 12 });
  });

  it("agrees when used.idx runs more than 2^15 past the last decision (the next one notifies)", () => {
    for (const inOrder of [false, true] as boolean[]) {
      longRun(build, { eventIdx: true, inOrder, rounds: 0, start: 0xff80, quiet: true, batch: 4, skip: 2, usedEvent: 0 });
    }
  });
});
