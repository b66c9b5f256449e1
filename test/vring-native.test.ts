// Differential test of the split-ring arithmetic against the Linux uapi inlines: a C program
// compiled against <linux/virtio_ring.h> evaluates vring_need_event and vring_size, and the
// Wasm kernels (both builds) and the TS reference must agree with it on every sample. It also
// checks the uapi constants and struct layouts vxsim mirrors in assembly/layout.ts.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { cMacros, once, runC } from "./native/native.ts";
import { layoutSection } from "./native/layout-source.ts";
import { Machine } from "../src/wasm/machine.ts";
import { WasmRingMath } from "../src/wasm/ring.ts";
import { needEvent, vringSize } from "../src/virtio/ring-math.ts";
import * as L from "../src/wasm/layout.ts";

// Worked values from reference/virtio.md 1.6: [event, new, old, expected].
const WORKED: [number, number, number, boolean][] = [
  [5, 6, 3, true], [5, 8, 6, false], [0xffff, 1, 0xfffe, true], [0, 1, 0, true], [0, 0, 0, false],
  [3, 4, 4, false], [2, 4, 2, true], [10, 4, 2, false], [0xfffe, 0, 0xfffd, true],
];
// vring_size(Q, 4096) from reference/virtio.md 1.1.
const SIZES_4096: [number, number][] = [[16, 4230], [64, 4614], [128, 5126], [256, 10246], [1024, 28678], [32768, 856070]];

/** (event, new, old) triples: every event and old in 32-wide windows around 0 and 0x8000 times
 *  many new values, then a dense pseudo-random part (fixed LCG), then the worked values. */
function sample(): Uint16Array {
  const out: number[] = [];
  const win: number[] = [];
  for (const p of [0, 0x8000]) for (let d = -16; d < 16; d++) win.push((p + d) & 0xffff);
  const news = [...win, 0x10, 0x11, 0x20, 0x100, 0x3fff, 0x4000, 0x4001, 0xbfff, 0xc000, 0xc001];
  for (const event of win) for (const old of win) for (const n of news) out.push(event, n, old);
  let x = 0x9e3779b9;
  const next = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) >>> 16;
  for (let i = 0; i < 100_000; i++) out.push(next(), next(), next());
  // Producer moved a little; event near it: the interesting region, where both answers occur.
  for (let i = 0; i < 100_000; i++) {
    const old = next();
    out.push((old + (next() % 80) - 8) & 0xffff, (old + (next() % 64)) & 0xffff, old);
  }
  for (const [e, n, o] of WORKED) out.push(e, n, o);
  return Uint16Array.from(out);
}

function firstMismatch(triples: Uint16Array, a: ArrayLike<number>, b: ArrayLike<number>): string | undefined {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `triple ${i} (event ${triples[3 * i]}, new ${triples[3 * i + 1]}, old ${triples[3 * i + 2]}): ${a[i]} vs ${b[i]}`;
  }
  return undefined;
}

interface CResult {
  constants: Record<string, number>;
  vring_size: [number, number, number][];
  need_event: string;
}

const triples = sample();
const native = once(() => {
  const bytes = new Uint8Array(triples.length * 2);
  const dv = new DataView(bytes.buffer);
  triples.forEach((v, i) => dv.setUint16(i * 2, v, true));
  const c = JSON.parse(runC("vring.c", bytes)) as CResult;
  return { c, cNeed: Uint8Array.from(c.need_event, (ch) => (ch === "1" ? 1 : 0)) };
});

describe("uapi vring helpers vs the TS reference", () => {
  it("evaluates vring_need_event on the whole sample", () => {
    const { cNeed } = native();
    expect(cNeed.length).toBe(triples.length / 3);
    const ones = cNeed.reduce((s, v) => s + v, 0);
    expect(ones / cNeed.length).toBeGreaterThan(0.2); // the sample exercises both answers
    expect(ones / cNeed.length).toBeLessThan(0.8);
    const ts = new Uint8Array(cNeed.length);
    for (let i = 0; i < ts.length; i++) ts[i] = needEvent(triples[3 * i]!, triples[3 * i + 1]!, triples[3 * i + 2]!) ? 1 : 0;
    expect(firstMismatch(triples, cNeed, ts)).toBeUndefined();
  });

  it("matches the worked values of virtio.md 1.6", () => {
    const { cNeed } = native();
    const base = cNeed.length - WORKED.length;
    WORKED.forEach(([e, n, o, want], i) => {
      expect(cNeed[base + i] === 1, `C (${e}, ${n}, ${o})`).toBe(want);
      expect(needEvent(e, n, o), `TS (${e}, ${n}, ${o})`).toBe(want);
    });
  });

  it("computes vring_size for every power-of-two num and every align", () => {
    const { c } = native();
    expect(c.vring_size.length).toBe(16 * 14);
    for (const [num, align, size] of c.vring_size) expect(vringSize(num, align), `num ${num} align ${align}`).toBe(size);
    for (const [num, size] of SIZES_4096) {
      expect(c.vring_size.find(([q, a]) => q === num && a === 4096)?.[2]).toBe(size);
      expect(vringSize(num, 4096)).toBe(size);
    }
  });

  it("rejects arguments outside the uapi domain", () => {
    expect(() => needEvent(0x10000, 0, 0)).toThrow(/event must be a u16/);
    expect(() => needEvent(0, -1, 0)).toThrow(/newIdx must be a u16/);
    expect(() => needEvent(0, 0, 1.5)).toThrow(/oldIdx must be a u16/);
    expect(() => vringSize(0, 4096)).toThrow(/num must be/);
    expect(() => vringSize(32769, 4096)).toThrow(/num must be/);
    expect(() => vringSize(16, 3000)).toThrow(/align must be a power of two/);
    expect(() => vringSize(16, 2 ** 32)).toThrow(/align must be a power of two/);
  });

  it("equals the window definition: event - old < new - old (mod 2^16)", () => {
    const u16 = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(u16, u16, u16, (e, n, o) => needEvent(e, n, o) === ((e - o) & 0xffff) < ((n - o) & 0xffff)),
      { seed: 20240601, numRuns: 20_000 },
    );
  });
});

describe.each(["release", "debug"] as const)("uapi vring helpers vs the Wasm kernels (%s)", (build) => {
  const ring = new WasmRingMath(new Machine({ build, maxFrames: 64 }));

  it("evaluates vring_need_event on the whole sample (batch and single calls)", () => {
    const { cNeed } = native();
    const wasm = ring.needEventBatch(triples);
    expect(firstMismatch(triples, cNeed, wasm)).toBeUndefined();
    for (let i = 0; i < cNeed.length; i += 997) {
      expect(ring.needEvent(triples[3 * i]!, triples[3 * i + 1]!, triples[3 * i + 2]!) ? 1 : 0, `triple ${i}`).toBe(cNeed[i]);
    }
    for (const [e, n, o, want] of WORKED) expect(ring.needEvent(e, n, o), `(${e}, ${n}, ${o})`).toBe(want);
  });

  it("computes vring_size for every power-of-two num and every align", () => {
    const { c } = native();
    for (const [num, align, size] of c.vring_size) expect(ring.vringSize(num, align), `num ${num} align ${align}`).toBe(size);
  });

  it("rejects bad arguments with a named error", () => {
    expect(() => ring.needEvent(0, 0x10000, 0)).toThrow(/newIdx must be a u16/);
    expect(() => ring.vringSize(16, 0)).toThrow(/align must be a power of two/);
    expect(() => ring.vringSize(1.5, 16)).toThrow(/num must be/);
    expect(() => ring.needEventBatch(new Uint16Array(4))).toThrow(/multiple of 3/);
    expect(ring.needEventBatch(new Uint16Array(0))).toEqual(new Uint8Array(0));
  });

  it("refuses a batch whose areas leave the IO window", () => {
    const raw = new Machine({ build, maxFrames: 64 }).raw<{ vring_need_event_batch(src: number, n: number, dst: number): number }>();
    const refused = 0xffffffff;
    expect(raw.vring_need_event_batch(L.IO_BASE - 6, 1, L.IO_BASE + 0x1000) >>> 0).toBe(refused);
    expect(raw.vring_need_event_batch(L.IO_BASE, Math.floor(L.IO_SIZE / 6) + 1, L.IO_BASE) >>> 0).toBe(refused);
    expect(raw.vring_need_event_batch(L.IO_BASE, 1, L.IO_BASE + L.IO_SIZE) >>> 0).toBe(refused);
    expect(raw.vring_need_event_batch(L.IO_BASE, 1, 0) >>> 0).toBe(refused);
    expect(raw.vring_need_event_batch(L.IO_BASE, 0, L.IO_BASE + L.IO_SIZE) >>> 0).toBe(0); // empty batch at the very end
  });
});

describe("uapi constants and layouts vs assembly/layout.ts", () => {
  const RING_NAMES = /^(VRING_|VIRTIO_F_|VIRTIO_RING_F_|VIRTIO_TRANSPORT_F_)/;
  // Header macros vxsim does not mirror, with the reason.
  const NOT_MIRRORED: Record<string, string> = { VIRTIO_F_IOMMU_PLATFORM: "old name of VIRTIO_F_ACCESS_PLATFORM" };
  // vxsim constants some uapi versions lack; checked whenever the header has them.
  const SPEC_ONLY = new Set(["VIRTIO_F_NOTIFICATION_DATA"]);

  it("has every value printed by C", () => {
    const { c } = native();
    const ts = L as unknown as Record<string, number>;
    const wrong = Object.entries(c.constants).filter(([name, v]) => ts[name] !== v).map(([name, v]) => `${name}: uapi ${v}, vxsim ${ts[name]}`);
    expect(wrong).toEqual([]);
  });

  it("checks every ring constant vxsim defines", () => {
    const { c } = native();
    const names = [...new Set([...layoutSection("virtio ring ABI and features"), ...Object.keys(L).filter((n) => RING_NAMES.test(n))])];
    const unchecked = names.filter((n) => !(n in c.constants) && !SPEC_ONLY.has(n));
    expect(unchecked).toEqual([]);
  });

  it("mirrors every ring macro of the uapi headers", () => {
    const { c } = native();
    const macros = cMacros(["linux/virtio_config.h", "linux/virtio_ring.h"]);
    const missing = [...macros.keys()].filter((m) => RING_NAMES.test(m) && !(m in NOT_MIRRORED) && !(m in c.constants));
    expect(missing).toEqual([]);
  });
});
