// C5 end to end: the sweep really runs the atomics engine per architecture; the verdict
// follows the measurements (a sweep whose "mitigated" case has the helpers off fails it).
import { describe, expect, it } from "vitest";
import { C5, C5_CASES, c5Rows, c5Verdict, runC5Sweep, type C5Row } from "../src/experiments/c5-llsc-starvation.ts";
import { formatTable } from "../src/experiments/common.ts";
import { ExperimentError } from "../src/experiments/types.ts";

const quick = runC5Sweep({ seed: 1, quick: true });
const row = (rows: readonly C5Row[], arch: string, id: string) => rows.find((r) => r.arch === arch && r.case === id)!;

describe("C5: LL/SC starvation and the XSA-295 bound", () => {
  it("quick sweep: 4 architectures x 3 cases x 2 seeds, the claim holds", () => {
    expect(quick.runs).toHaveLength(24);
    expect(quick.table.rows).toHaveLength(12);
    expect(quick.table.verdict.holds).toBe(true);
    expect(quick.table.verdict.text).toMatch(/arm64-v8.0: starved without the mitigation in 2\/2 runs/);
    expect(formatTable(quick.table)).toMatch(/verdict: HOLDS/);
  });

  it("Arm v8.0 and RISC-V starve unmitigated, complete mitigated with bounded steps and pauses", () => {
    const rows = c5Rows(quick.runs);
    for (const [arch, scFails, pauses, maxSteps] of [["arm64-v8.0", 6553, 16, 645], ["riscv64", 8192, 8, 516]] as const) {
      expect(row(rows, arch, "hostile")).toMatchObject({ runs: 2, completed: 0, starved: 2, attempted: 2, done: 0, retriesPerOp: scFails, pauses: 0 });
      // Arm v8.0 pauses for the pin and the 16-bit clear (LDXRH loop); RISC-V only for the pin
      // (the clear is one AMOAND.W on the containing word).
      expect(row(rows, arch, "hostile+mitigation")).toMatchObject({ runs: 2, completed: 2, starved: 0, attempted: 16, done: 16, pauses, maxXenSteps: maxSteps });
      expect(row(rows, arch, "calm")).toMatchObject({ completed: 2, retriesPerOp: 0, pauses: 0 });
    }
    // Priced by the profiles: a pin with 128 failed SCs and one pause+unpause, and a release.
    expect(row(rows, "arm64-v8.0", "hostile+mitigation").cyclesPerOp).toBe(60 + 128 * 270 + 8799 + 4000);
    expect(row(rows, "riscv64", "hostile+mitigation").cyclesPerOp).toBe((40 + 128 * 150 + 13200 + 7000 + 35) / 2);
    expect(row(rows, "riscv64", "calm").cyclesPerOp).toBe((40 + 35) / 2);
  });

  it("LSE and x86 complete every case in one instruction per op, no retries", () => {
    const rows = c5Rows(quick.runs);
    for (const arch of ["arm64-v8.1-lse", "x86-64"]) {
      for (const c of C5_CASES) {
        expect(row(rows, arch, c.id)).toMatchObject({ completed: 2, starved: 0, done: 16, retriesPerOp: 0, hostileRetriesPerOp: 0, pauses: 0, maxXenSteps: 1 });
      }
    }
  });

  it("the verdict is computed: a 'mitigated' case without the helpers makes it fail", () => {
    const noFix = C5_CASES.map((c) => (c.id === "hostile+mitigation" ? { ...c, guestSafe: false } : c));
    const { table } = runC5Sweep({ seed: 1, quick: true }, noFix);
    expect(table.verdict.holds).toBe(false);
    expect(table.verdict.text).toMatch(/arm64-v8.0: with the mitigation 0\/2 runs completed, 0 pauses/);
    expect(table.verdict.text).toMatch(/riscv64: with the mitigation 0\/2 runs completed/);
  });

  it("the verdict reads the rows: hostile retries on x86, or an unmitigated run completing, fail it", () => {
    const rows = c5Rows(quick.runs);
    const x86 = rows.map((r) => (r.arch === "x86-64" && r.case === "hostile" ? { ...r, hostileRetriesPerOp: 0.5 } : r));
    expect(c5Verdict(x86)).toMatchObject({ holds: false, text: "x86-64 hostile: 2/2 completed, 0.5 hostile retries per op" });
    const rv = rows.map((r) => (r.arch === "riscv64" && r.case === "hostile" ? { ...r, starved: 1 } : r));
    expect(c5Verdict(rv).text).toBe("riscv64: the unmitigated hostile case completed in 1/2 runs");
    expect(c5Verdict(rows.filter((r) => r.arch !== "arm64-v8.1-lse")).text).toBe("arm64-v8.1-lse: cases missing from the sweep");
  });

  it("is deterministic: same seed, same table; runs carry seeds derived from the base seed", () => {
    expect(C5.run({ seed: 1, quick: true })).toEqual(quick.table);
    expect(JSON.parse(JSON.stringify(quick.table))).toEqual(quick.table);
    const other = runC5Sweep({ seed: 2, quick: true });
    expect(other.runs.map((r) => r.seed)).not.toEqual(quick.runs.map((r) => r.seed));
    expect(other.table.verdict.holds).toBe(true);
  });

  it("reports progress and refuses a bad seed", () => {
    const seen: [number, number][] = [];
    C5.run({ seed: 3, quick: true, onProgress: (d, t) => seen.push([d, t]) });
    expect(seen).toHaveLength(24);
    expect(seen[0]).toEqual([1, 24]);
    expect(seen[23]).toEqual([24, 24]);
    expect(() => C5.run({ seed: -1 })).toThrow(ExperimentError);
    expect(() => C5.run({ seed: 1.5 })).toThrow(/seed must be an integer in \[0, 2\^32\), got 1.5/);
  });
});
