// The guest upcall-handler scan: Wasm kernel against the plain-TS reference and a direct oracle.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { CPU_MASK_WORDS, evtchn2lScan, type Evtchn2lGpas } from "../src/wasm/evtchn.ts";
import { evtchn2lScanRef } from "../src/wasm/evtchn-scan-ref.ts";
import { newHostCounters } from "../src/wasm/ts-guest-memory.ts";

const SI_GFN = 20;

function guest(build: "release" | "debug", image: Uint8Array): { m: Machine; mfn: number; g: Evtchn2lGpas } {
  const m = new Machine({ build });
  m.createDomain(1, 16, 64);
  const mfn = m.allocXenFrame();
  expect(m.p2mMap(1, SI_GFN, mfn, L.P2M_XEN)).toBe(L.MST_OK);
  m.writeMfn(mfn, 0, image);
  const base = SI_GFN * 4096;
  return { m, mfn, g: { vcpuInfo: base + L.SHARED_INFO_VCPU_INFO, pending: base + L.SHARED_INFO_EVTCHN_PENDING, mask: base + L.SHARED_INFO_EVTCHN_MASK } };
}

const bit = (words: Uint32Array, p: number) => ((words[p >>> 5]! >>> (p & 31)) & 1) === 1;

/** What the handler must dispatch: selector words ascending, ports ascending within a word. */
function oracle(image: Uint8Array, cpu: Uint32Array | undefined): number[] {
  const dv = new DataView(image.buffer);
  const u32s = (off: number) => Uint32Array.from({ length: 128 }, (_, i) => dv.getUint32(off + i * 4, true));
  const pending = u32s(L.SHARED_INFO_EVTCHN_PENDING);
  const mask = u32s(L.SHARED_INFO_EVTCHN_MASK);
  const sel = [dv.getUint32(L.VCPU_INFO_EVTCHN_PENDING_SEL, true), dv.getUint32(L.VCPU_INFO_EVTCHN_PENDING_SEL + 4, true)];
  const out: number[] = [];
  for (let w = 0; w < 64; w++) {
    if (((sel[w >>> 5]! >>> (w & 31)) & 1) === 0) continue;
    for (let p = w * 64; p < w * 64 + 64; p++) if (bit(pending, p) && !bit(mask, p) && (!cpu || bit(cpu, p))) out.push(p);
  }
  return out;
}

const imageArb = fc
  .record({
    pending: fc.uint32Array({ minLength: 128, maxLength: 128 }),
    mask: fc.uint32Array({ minLength: 128, maxLength: 128 }),
    sel: fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })),
    upcall: fc.integer({ min: 0, max: 1 }),
    cpu: fc.option(fc.uint32Array({ minLength: CPU_MASK_WORDS, maxLength: CPU_MASK_WORDS }), { nil: undefined }),
  })
  .map(({ pending, mask, sel, upcall, cpu }) => {
    const image = new Uint8Array(4096);
    const dv = new DataView(image.buffer);
    for (let i = 0; i < 128; i++) {
      dv.setUint32(L.SHARED_INFO_EVTCHN_PENDING + i * 4, pending[i]!, true);
      dv.setUint32(L.SHARED_INFO_EVTCHN_MASK + i * 4, mask[i]!, true);
    }
    dv.setUint32(L.VCPU_INFO_EVTCHN_PENDING_SEL, sel[0], true);
    dv.setUint32(L.VCPU_INFO_EVTCHN_PENDING_SEL + 4, sel[1], true);
    image[L.VCPU_INFO_EVTCHN_UPCALL_PENDING] = upcall;
    return { image, cpu };
  });

describe.each(["release", "debug"] as const)("2-level handler scan kernel (%s)", (build) => {
  it("agrees with the TS reference and the oracle: ports, final memory and counters", () => {
    fc.assert(
      fc.property(imageArb, ({ image, cpu }) => {
        const k = guest(build, image);
        const r = guest(build, image);
        const want = oracle(image, cpu);
        const got = evtchn2lScan(k.m, 1, k.g, cpu);
        const host = newHostCounters();
        const ref = evtchn2lScanRef(r.m, 1, r.g, cpu, host);
        expect(got).toEqual(want);
        expect(ref).toEqual(want);
        const after = k.m.readMfn(k.mfn, 0, 4096);
        expect(r.m.readMfn(r.mfn, 0, 4096)).toEqual(after);
        // Exactly the dispatched ports lost their pending bit; selector and upcall are clear.
        const dv = new DataView(after.buffer);
        for (let p = 0; p < 4096; p++) {
          const before = ((image[L.SHARED_INFO_EVTCHN_PENDING + (p >>> 3)]! >>> (p & 7)) & 1) === 1;
          const now = ((after[L.SHARED_INFO_EVTCHN_PENDING + (p >>> 3)]! >>> (p & 7)) & 1) === 1;
          if (before !== now) expect(want.includes(p) && !now).toBe(true);
        }
        expect(dv.getBigUint64(L.VCPU_INFO_EVTCHN_PENDING_SEL, true)).toBe(0n);
        expect(after[L.VCPU_INFO_EVTCHN_UPCALL_PENDING]).toBe(0);
        for (const id of [L.CNT_EVTCHN_SCANS, L.CNT_EVTCHN_DISPATCHED, L.CNT_ACCESS_REFUSED]) {
          expect(k.m.counter(id), `counter ${id}`).toBe(host[id]);
        }
      }),
      { seed: 0x5ca7, numRuns: 60 },
    );
  });

  it("a guest whose shared_info is not mapped gets a status, counted as a refused access", () => {
    const image = new Uint8Array(4096);
    const k = guest(build, image);
    const r = guest(build, image);
    k.m.p2mUnmap(1, SI_GFN);
    r.m.p2mUnmap(1, SI_GFN);
    const host = newHostCounters();
    expect(evtchn2lScan(k.m, 1, k.g)).toBe(L.MST_NOT_MAPPED);
    expect(evtchn2lScanRef(r.m, 1, r.g, undefined, host)).toBeLessThan(0);
    expect(k.m.counter(L.CNT_REFUSED_NOT_MAPPED)).toBe(1);
    expect(host[L.CNT_REFUSED_NOT_MAPPED]).toBe(1);
    expect(evtchn2lScan(k.m, 1, { ...k.g, mask: 2 ** 32 })).toBe(L.MST_RANGE);
    expect(() => evtchn2lScan(k.m, 1, k.g, new Uint32Array(3))).toThrow(RangeError);
  });
});
