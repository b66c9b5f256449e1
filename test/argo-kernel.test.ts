// Differential test of the Argo ring-insert kernel: Wasm (both builds) against the plain-TS
// reference, on two identically prepared machines; results, ring bytes, the sender's p2m
// (accessed bits) and every counter slot must agree.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { WasmArgoCopier, allocRingTable, type ArgoInsert, type ArgoIov } from "../src/wasm/argo.ts";
import { TsArgoCopier } from "../src/wasm/argo-ref.ts";
import { ringPages } from "../src/xen/argo-ring.ts";
import { pattern } from "./helpers/argo-world.ts";

const RX = 1; // ring owner
const TX = 2; // sender
const RAM = 64;

interface Case {
  len: number;
  tx: number;
  ringGfns: number[];
  /** Put a frame of another domain at this ring page (the kernel must refuse). */
  foreignPage: number | undefined;
  senderPages: number[];
  iovs: ArgoIov[];
  srcAport: number;
  msgType: number;
}

function prepare(build: "release" | "debug", c: Case) {
  const m = new Machine({ build });
  m.createDomain(RX, RAM);
  m.createDomain(TX, RAM);
  for (const g of c.senderPages) m.write(TX, g * L.PAGE_SIZE, pattern(L.PAGE_SIZE, 100 + g));
  const mfns = c.ringGfns.map((g) => {
    m.write(RX, g * L.PAGE_SIZE, pattern(L.PAGE_SIZE, g));
    return m.populate(RX, g);
  });
  if (c.foreignPage !== undefined) mfns[c.foreignPage % mfns.length] = m.populate(TX, RAM - 1);
  const tableMfn = allocRingTable(m, mfns);
  const args: ArgoInsert = {
    tableMfn, nmfns: mfns.length, owner: RX, ringLen: c.len, tx: c.tx, srcDom: TX, srcAport: c.srcAport, msgType: c.msgType, iovs: c.iovs,
  };
  return { m, mfns, args };
}

function observe(m: Machine, mfns: number[]) {
  return {
    ring: mfns.map((mfn) => m.readMfn(mfn, 0, L.PAGE_SIZE)),
    p2m: Array.from({ length: RAM }, (_, g) => m.p2mLookup(TX, g)),
  };
}

function runBoth(build: "release" | "debug", c: Case) {
  const w = prepare(build, c);
  const before = w.m.counters();
  const wasmRet = new WasmArgoCopier(w.m).insert(w.args);
  const after = w.m.counters();
  const t = prepare(build, c);
  const ref = new TsArgoCopier(t.m);
  const tsRet = ref.insert(t.args);
  expect(wasmRet).toBe(tsRet);
  const [ow, ot] = [observe(w.m, w.mfns), observe(t.m, t.mfns)];
  expect(ow.p2m).toEqual(ot.p2m);
  // Byte compare first: a deep toEqual of every ring frame is slow when they agree.
  ow.ring.forEach((f, i) => {
    if (!Buffer.from(f).equals(Buffer.from(ot.ring[i]!))) expect(f).toEqual(ot.ring[i]);
  });
  const delta = Array.from(after, (v, i) => v - before[i]!);
  expect(delta).toEqual(Array.from(ref.counters));
  return { ret: wasmRet, m: w.m, mfns: w.mfns };
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    pages: fc.integer({ min: 1, max: 4 }),
    lenFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    txFrac: fc.double({ min: 0, max: 0.9999, noNaN: true }),
    gfnSeed: fc.array(fc.integer({ min: 0, max: RAM - 2 }), { minLength: 4, maxLength: 4 }),
    foreign: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 8 }),
    senderPages: fc.uniqueArray(fc.integer({ min: 0, max: RAM - 1 }), { maxLength: 20 }),
    iovs: fc.array(
      fc.record({
        gpa: fc.oneof(
          { weight: 12, arbitrary: fc.integer({ min: 0, max: RAM * L.PAGE_SIZE - 1 }) },
          { weight: 1, arbitrary: fc.integer({ min: RAM * L.PAGE_SIZE, max: (RAM + 8) * L.PAGE_SIZE }) },
          { weight: 1, arbitrary: fc.constant(2 ** 40) },
        ),
        len: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 5000 })),
      }),
      { maxLength: 8 },
    ),
    srcAport: fc.integer({ min: 0, max: 0xffffffff }),
    msgType: fc.integer({ min: 0, max: 0xffffffff }),
  })
  .map((r) => {
    const maxLen = r.pages * L.PAGE_SIZE - L.ARGO_RING_SIZE;
    const minLen = Math.max(L.ARGO_MIN_RING_LEN, (r.pages - 1) * L.PAGE_SIZE - L.ARGO_RING_SIZE + 16);
    const len = minLen + Math.floor(((maxLen - minLen) / 16) * r.lenFrac) * 16;
    const npages = ringPages(len);
    const gfns = [...new Set(r.gfnSeed)];
    while (gfns.length < npages) gfns.push(gfns.length + RAM - 10);
    // Keep iovs in RAM-sized totals so most cases are inserts, not size refusals.
    const iovs = r.iovs.map((v) => ({ gpa: v.gpa, len: Math.min(v.len, RAM * L.PAGE_SIZE) }));
    return {
      len, tx: Math.floor((len / 16) * r.txFrac) * 16, ringGfns: gfns.slice(0, npages), foreignPage: r.foreign ?? undefined,
      senderPages: r.senderPages, iovs, srcAport: r.srcAport, msgType: r.msgType,
    };
  });

describe.each(["release", "debug"] as const)("Argo ring insert, Wasm vs TS reference (%s)", (build) => {
  it("agrees on random rings, positions, iovs and refusals", () => {
    const outcomes = new Set<string>();
    fc.assert(
      fc.property(caseArb, (c) => {
        const { ret } = runBoth(build, c);
        outcomes.add(ret >= 0 ? "ok" : String(ret));
      }),
      { seed: 20240605, numRuns: build === "release" ? 160 : 60 },
    );
    // The generator must reach every outcome: inserts and each kind of refusal.
    expect([...outcomes].sort()).toEqual(["-2", "-6", "-7", "-9", "ok"].sort());
  });

  it("splits the payload at the ring end and at every page of a non-contiguous ring", () => {
    const len = 2 * L.PAGE_SIZE;
    const c: Case = {
      len, tx: len - 32, ringGfns: [40, 3, 17], foreignPage: undefined, senderPages: [5, 6, 7],
      iovs: [{ gpa: 5 * L.PAGE_SIZE + 4000, len: 100 }, { gpa: 6 * L.PAGE_SIZE + 10, len: 5000 }], srcAport: 9, msgType: 3,
    };
    const { ret, m, mfns } = runBoth(build, c);
    expect(ret).toBe((16 + 5100 - 32 + 15) & ~15);
    const ring = new Uint8Array(3 * L.PAGE_SIZE);
    mfns.forEach((mfn, i) => ring.set(m.readMfn(mfn, 0, L.PAGE_SIZE), i * L.PAGE_SIZE));
    const data = ring.subarray(L.ARGO_RING_SIZE, L.ARGO_RING_SIZE + len);
    const hdr = new DataView(data.buffer, data.byteOffset + len - 32, 16);
    expect([hdr.getUint32(0, true), hdr.getUint32(4, true), hdr.getUint16(8, true), hdr.getUint32(12, true)]).toEqual([5116, 9, TX, 3]);
    const src = new Uint8Array(3 * L.PAGE_SIZE);
    [5, 6, 7].forEach((g, i) => src.set(pattern(L.PAGE_SIZE, 100 + g), i * L.PAGE_SIZE));
    const payload = Uint8Array.from([...src.subarray(4000, 4100), ...src.subarray(L.PAGE_SIZE + 10, L.PAGE_SIZE + 5010)]);
    expect(data.subarray(len - 16)).toEqual(payload.subarray(0, 16));
    expect(data.subarray(0, 5100 - 16)).toEqual(payload.subarray(16));
  });

  it("refuses a table frame that is not a hypervisor frame, and bad geometry", () => {
    const c: Case = { len: 64, tx: 0, ringGfns: [1], foreignPage: undefined, senderPages: [], iovs: [], srcAport: 0, msgType: 0 };
    const w = prepare(build, c);
    const wasm = new WasmArgoCopier(w.m);
    const ts = new TsArgoCopier(w.m);
    for (const copier of [wasm, ts]) {
      expect(copier.insert({ ...w.args, tableMfn: w.mfns[0]! })).toBe(L.MST_BAD_MFN);
      expect(copier.insert({ ...w.args, tx: 8 })).toBe(L.MST_BAD_ARG);
      expect(copier.insert({ ...w.args, tx: 64 })).toBe(L.MST_BAD_ARG);
      expect(copier.insert({ ...w.args, ringLen: 4096 })).toBe(L.MST_BAD_ARG); // needs 2 frames
      expect(copier.insert({ ...w.args, iovs: Array(9).fill({ gpa: 0, len: 0 }) })).toBe(L.MST_BAD_ARG);
      expect(copier.insert({ ...w.args, iovs: [{ gpa: 0, len: 40 }] })).toBe(L.MST_BAD_ARG); // can never fit
    }
  });
});
