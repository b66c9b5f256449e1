// C1, C3 and C4 end to end with the real job runner, quick mode, on the architectures every
// transport they use runs on today (Arm); x86-64 and riscv64 rows come with the x86irq and
// argop merges (C2 has its own file: experiments-c2-e2e.test.ts).
import { describe, expect, it } from "vitest";
import { C1, GRANT_TRANSPORTS } from "../src/experiments/c1-arm-grants.ts";
import { C3 } from "../src/experiments/c3-flush-elision.ts";
import { C4 } from "../src/experiments/c4-argo-copies.ts";
import { ExperimentError } from "../src/experiments/types.ts";
import { runJob } from "../src/run/run-job.ts";

const real = { seed: 1, quick: true, runJob: (s: Parameters<typeof runJob>[0]) => runJob(s) };
const col = (columns: string[], name: string) => columns.indexOf(name);

describe("C3 flush elision (real runner, arm64)", () => {
  const t = C3.run({ ...real, arches: ["arm64-v8.0", "arm64-v8.1-lse"] });
  const c = (n: string) => col(t.columns, n);

  it("dma path: the elision skips the data pages' flush (2 -> 1 per I/O, 1 elided) and saves cycles; cpu path: nothing to skip", () => {
    expect(t.rows).toHaveLength(2 * 2 * 2); // arches x paths x rw
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

  it("verdict: a flush is skipped but the win is small (about 2% of cycles per I/O, below the 10% threshold)", () => {
    expect(t.verdict.holds).toBe(false);
    expect(t.verdict.text).toMatch(/^4\/4 cases miss: arm64-v8.0 dma randread 4096 B: saves 2\.\d% of cycles per I\/O, below 10%/);
  });

  it("refuses architectures outside its sweep", () => {
    expect(() => C3.run({ ...real, arches: ["sparc"] })).toThrow(ExperimentError);
  });
});

describe("C4 Argo copies (real runner, arm64-v8.1-lse)", () => {
  const t = C4.run({ ...real, arches: ["arm64-v8.1-lse"] });
  const c = (n: string) => col(t.columns, n);

  it("buffered copies the data 3 times, sg once on the source side; the claim holds", () => {
    expect(t.rows).toHaveLength(4);
    for (const r of t.rows) {
      const total = Number(r[c("total")]);
      if (r[c("variant")] === "buffered") expect(Math.round(total)).toBe(3);
      else if (r[c("rw")] === "randwrite") expect(Math.round(Number(r[c("data copies: guest")]) + Number(r[c("Xen")]))).toBe(1);
    }
    expect(t.verdict.holds).toBe(true);
    expect(t.verdict.text).toMatch(/^buffered copies the data 3 times per I\/O and sg once on the source side in every case/);
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
