// C2 (x86-64: sharing against copying on the same control path) end to end with the real job
// runner, quick mode. The verdict is not asserted as a value: it is recomputed here from the
// measured rows (findCrossover per pair and workload) and must agree with what C2 printed.
import { describe, expect, it } from "vitest";
import { C2, C2_PAIRS, findCrossover, type CrossPoint } from "../src/experiments/c2-x86-crossover.ts";
import { runJob } from "../src/run/run-job.ts";
import type { Cell } from "../src/experiments/types.ts";

describe("C2 x86-64 sharing vs copying (real runner)", () => {
  const t = C2.run({ seed: 1, quick: true, runJob: (s) => runJob(s) });
  const col = (name: string) => {
    const k = t.columns.indexOf(name);
    expect(k, name).toBeGreaterThanOrEqual(0);
    return (r: Cell[]) => r[k]!;
  };
  const [pair, rw, bs, sCyc, cCyc, sCtl, cCtl, sFlush, winner] =
    ["pair", "rw", "bs", "S cyc/IO", "C cyc/IO", "S control+device", "C control+device", "S flush", "winner"].map(col);
  const measured = t.rows.filter((r) => typeof sCyc!(r) === "number" && typeof cCyc!(r) === "number");

  it("has every pair, workload and size, and both sides of a pair ride the same control path", () => {
    expect(t.rows).toHaveLength(C2_PAIRS.length * 2 * 3);
    expect(measured.length).toBeGreaterThanOrEqual(C2_PAIRS.length * 2 * 2);
    for (const r of measured) {
      const [s, c] = [sCtl!(r) as number, cCtl!(r) as number];
      // what is left once the data path is taken out is the control path: within 1%
      expect(Math.abs(s - c) / c, `${pair!(r)} ${rw!(r)} ${bs!(r)}: control ${s} vs ${c}`).toBeLessThan(0.01);
      expect(winner!(r)).toBe((sCyc!(r) as number) < (cCyc!(r) as number) ? "sharing" : "copying");
    }
  });

  it("grant-map's data-page flushes are elided: its one flush per I/O (header and status pages) does not grow with size", () => {
    const flushes = measured.filter((r) => pair!(r) === C2_PAIRS[0]!.name).map((r) => sFlush!(r));
    expect(flushes.length).toBeGreaterThan(1);
    expect(new Set(flushes).size).toBe(1);
  });

  it("the verdict follows from the measured rows", () => {
    let holds = true;
    for (const w of ["randread", "randwrite"]) {
      let wins = 0;
      for (const p of C2_PAIRS) {
        const pts: CrossPoint[] = measured.filter((r) => pair!(r) === p.name && rw!(r) === w)
          .map((r) => ({ bs: bs!(r) as number, shared: sCyc!(r) as number, copy: cCyc!(r) as number }));
        const x = findCrossover(pts);
        if (x.kind !== "none") wins++;
        const said = x.kind === "always" ? "sharing is cheaper at every size measured"
          : x.kind === "none" ? "no crossover up to" : `sharing wins from ${x.firstWin} B on`;
        expect(t.verdict.text).toContain(`${w} ${p.name} (${p.control}): ${said}`);
      }
      if (wins === 0) holds = false;
    }
    expect(t.verdict.holds).toBe(holds);
  });
});
