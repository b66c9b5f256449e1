// C6 end to end: 16-bit updates run in the atomics engine per architecture, RISC-V as masked
// LR.W/SC.W on the containing word; the neighbour halfword and the words around are checked.
import { describe, expect, it } from "vitest";
import { C6, c6Rows, c6Verdict, runC6Sweep, type C6Row } from "../src/experiments/c6-riscv-subword.ts";
import { formatTable } from "../src/experiments/common.ts";

const quick = runC6Sweep({ seed: 1, quick: true });
const rows = c6Rows(quick.runs);
const row = (arch: string, op: string, c: string): C6Row => rows.find((r) => r.arch === arch && r.op === op && r.case === c)!;

describe("C6: RISC-V masked LR/SC for 16-bit fields", () => {
  it("quick sweep: 4 architectures x 2 ops x 2 cases x 2 seeds, the claim holds", () => {
    expect(quick.runs).toHaveLength(32);
    expect(quick.table.rows).toHaveLength(16);
    expect(quick.table.verdict.holds).toBe(true);
    expect(quick.table.verdict.text).toMatch(/^RISC-V's 16-bit updates are masked LR.W\/SC.W loops/);
    expect(formatTable(quick.table)).toMatch(/verdict: HOLDS/);
    expect(quick.runs.every((r) => r.correct && r.ops === 32)).toBe(true);
    expect(quick.runs.filter((r) => r.case === "contended").every((r) => r.neighbourOps === 32)).toBe(true);
  });

  it("uncontended: RISC-V runs one masked LR/SC iteration of 7 (add) or 9 (CAS loop) instructions; natives 1 or 3", () => {
    expect(row("riscv64", "fetch-add", "uncontended")).toMatchObject({ instructionsPerOp: 7, llscPerOp: 1, retriesPerOp: 0, maskedShare: 1, correct: 2 });
    expect(row("riscv64", "cas-loop", "uncontended")).toMatchObject({ instructionsPerOp: 9, llscPerOp: 1, maskedShare: 1 });
    for (const arch of ["arm64-v8.1-lse", "x86-64"]) {
      expect(row(arch, "fetch-add", "uncontended")).toMatchObject({ instructionsPerOp: 1, llscPerOp: 0, maskedShare: 0 });
      expect(row(arch, "cas-loop", "uncontended")).toMatchObject({ instructionsPerOp: 3, llscPerOp: 0, maskedShare: 0 });
    }
    // Priced: masked_llsc_subword on RISC-V (35 cycles at 1.5 GHz), cas elsewhere.
    expect(row("riscv64", "fetch-add", "uncontended")).toMatchObject({ cyclesPerOp: 35 });
    expect(row("riscv64", "fetch-add", "uncontended").nsPerOp).toBeCloseTo(35 / 1.5, 9);
    expect(row("arm64-v8.1-lse", "fetch-add", "uncontended")).toMatchObject({ cyclesPerOp: 50, nsPerOp: 20 });
    expect(row("x86-64", "fetch-add", "uncontended").nsPerOp).toBeCloseTo(9.7, 9);
  });

  it("contended by the neighbour's writer: RISC-V retries, the natives never do", () => {
    for (const op of ["fetch-add", "cas-loop"]) {
      const rv = row("riscv64", op, "contended");
      expect(rv.llscPerOp).toBeGreaterThan(1);
      expect(rv.retriesPerOp).toBeCloseTo(rv.llscPerOp - 1, 9);
      expect(rv.correct).toBe(2);
      for (const arch of ["arm64-v8.1-lse", "x86-64"]) {
        expect(row(arch, op, "contended")).toMatchObject({ retriesPerOp: 0, llscPerOp: 0, correct: 2 });
        expect(rv.nsPerOp).toBeGreaterThan(row(arch, op, "contended").nsPerOp);
      }
    }
    // Arm v8.0 has native LDXRH but its 64-byte granule covers the neighbour: it retries too.
    expect(row("arm64-v8.0", "fetch-add", "contended").retriesPerOp).toBeGreaterThan(0);
    expect(row("arm64-v8.0", "fetch-add", "contended").maskedShare).toBe(0);
  });

  it("the verdict is computed from the rows", () => {
    const broken = rows.map((r) => (r.arch === "riscv64" && r.op === "fetch-add" && r.case === "contended" ? { ...r, correct: 1 } : r));
    expect(c6Verdict(broken)).toMatchObject({ holds: false, text: "riscv64 fetch-add contended: 1/2 runs left a wrong value" });
    const noRetry = rows.map((r) => (r.arch === "riscv64" && r.case === "contended" && r.op === "cas-loop" ? { ...r, llscPerOp: 1 } : r));
    expect(c6Verdict(noRetry).text).toBe("riscv64 cas-loop contended: 1 LR/SC iterations/op");
    const cheap = rows.map((r) => (r.arch === "riscv64" && r.op === "fetch-add" && r.case === "uncontended" ? { ...r, instructionsPerOp: 1 } : r));
    expect(c6Verdict(cheap).text).toMatch(/^fetch-add uncontended: riscv64 1 instructions\/op, not more than arm64-v8.1-lse 1/);
  });

  it("a sweep without RISC-V cannot confirm the claim", () => {
    const { table } = runC6Sweep({ seed: 1, quick: true }, ["x86-64", "arm64-v8.1-lse"]);
    expect(table.verdict.holds).toBe(false);
    expect(table.verdict.text).toMatch(/cas-loop uncontended: rows missing/);
  });

  it("is deterministic: same seed, same table", () => {
    expect(C6.run({ seed: 1, quick: true })).toEqual(quick.table);
    const other = runC6Sweep({ seed: 9, quick: true });
    expect(other.runs.map((r) => r.seed)).not.toEqual(quick.runs.map((r) => r.seed));
    expect(other.table.verdict.holds).toBe(true);
  });
});
