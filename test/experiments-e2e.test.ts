// C1, C3 and C4 end to end with the real job runner, quick mode. C3 and C4 run on all four
// architectures (every transport they use runs on each); C1 sweeps its own two Arm ones (C2 has
// its own file: experiments-c2-e2e.test.ts). Verdicts are checked against the measured rows.
import { describe, expect, it } from "vitest";
import { C1, GRANT_TRANSPORTS } from "../src/experiments/c1-arm-grants.ts";
import { C3, C3_LARGE_WIN } from "../src/experiments/c3-flush-elision.ts";
import { C4 } from "../src/experiments/c4-argo-copies.ts";
import { ARCHES } from "../src/experiments/common.ts";
import { ExperimentError } from "../src/experiments/types.ts";
import { runJob } from "../src/run/run-job.ts";

const real = { seed: 1, quick: true, runJob: (s: Parameters<typeof runJob>[0]) => runJob(s) };
const col = (columns: string[], name: string) => columns.indexOf(name);

describe("C3 flush elision (real runner, all four architectures)", () => {
  const t = C3.run(real);
  const c = (n: string) => col(t.columns, n);

  it("dma path: the elision skips the data pages' flush (2 -> 1 per I/O, 1 elided) and saves cycles; cpu path: nothing to skip", () => {
    expect(t.notes!.filter((n) => n.startsWith("failed:"))).toEqual([]);
    expect(t.rows).toHaveLength(ARCHES.length * 2 * 2); // arches x paths x rw
    expect(new Set(t.rows.map((r) => r[c("arch")]))).toEqual(new Set(ARCHES));
    for (const r of t.rows) {
      if (r[c("data path")] === "dma") {
        expect([r[c("flushes/IO")], r[c("flushes/IO elided")], r[c("skipped/IO")]]).toEqual([2, 1, 1]);
        expect(Number(r[c("saved cycles/IO")])).toBeGreaterThan(0);
      } else {
        expect([r[c("flushes/IO")], r[c("flushes/IO elided")], r[c("skipped/IO")]]).toEqual([1, 1, 0]);
        expect(r[c("saved cycles/IO")]).toBe(0);
      }
    }
  });

  it("the saving is shown in cycles, as a share of the total and of the data path, and the columns agree", () => {
    for (const r of t.rows.filter((x) => x[c("data path")] === "dma")) {
      const saved = Number(r[c("saved cycles/IO")]);
      expect(Number(r[c("cycles/IO")]) - Number(r[c("cycles/IO elided")])).toBeCloseTo(saved, -1);
      expect(Number(r[c("saved % of total")])).toBeCloseTo((100 * saved) / Number(r[c("cycles/IO")]), 0);
      expect(Number(r[c("saved % of data path")])).toBeCloseTo((100 * saved) / Number(r[c("data-path cyc/IO")]), 0);
      // the data path is a part of the whole, so its share is the larger one
      expect(Number(r[c("saved % of data path")])).toBeGreaterThan(Number(r[c("saved % of total")]));
    }
  });

  it("the verdict follows the stated rule on the measured dma rows, and states both shares", () => {
    const dma = t.rows.filter((r) => r[c("data path")] === "dma");
    const large = dma.every((r) => Number(r[c("saved % of total")]) >= C3_LARGE_WIN * 100);
    expect(t.verdict.holds).toBe(large);
    expect(t.verdict.text).toMatch(/of cycles per I\/O/);
    expect(t.verdict.text).toMatch(/of (its|the) data path's/);
  });

  it("refuses architectures outside its sweep", () => {
    expect(() => C3.run({ ...real, arches: ["sparc"] })).toThrow(ExperimentError);
  });
});

describe("C4 Argo copies (real runner, all four architectures)", () => {
  const t = C4.run(real);
  const c = (n: string) => col(t.columns, n);

  it("buffered copies the data 3 times, sg once on the source side; the verdict agrees", () => {
    expect(t.notes!.filter((n) => n.startsWith("failed:"))).toEqual([]);
    expect(t.rows).toHaveLength(ARCHES.length * 4);
    expect(new Set(t.rows.map((r) => r[c("arch")]))).toEqual(new Set(ARCHES));
    let counts = true;
    for (const r of t.rows) {
      const total = Math.round(Number(r[c("total")]));
      if (r[c("variant")] === "buffered") counts &&= total === 3;
      else if (r[c("rw")] === "randwrite") counts &&= Math.round(Number(r[c("data copies: guest")]) + Number(r[c("Xen")])) === 1;
    }
    expect(t.verdict.holds).toBe(counts);
    if (counts) expect(t.verdict.text).toMatch(/^buffered copies the data 3 times per I\/O and sg once on the source side in every case/);
  });
});

describe("C1 Arm grants against memcpy (real runner)", () => {
  const t = C1.run(real);
  const c = (n: string) => col(t.columns, n);

  it("every grant transport costs more per I/O than fat-virtqueue and preshared-bounce at every size, 64 KiB included", () => {
    expect(t.rows).toHaveLength(2 * 2 * 3);
    for (const r of t.rows) {
      for (const g of GRANT_TRANSPORTS) {
        for (const m of ["fat-virtqueue", "preshared-bounce"]) {
          expect(Number(r[c(`${g} cyc/IO`)])).toBeGreaterThan(Number(r[c(`${m} cyc/IO`)]));
        }
      }
    }
  });
});
