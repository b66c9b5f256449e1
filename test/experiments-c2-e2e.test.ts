// C2 (x86-64 crossover) end to end with the real job runner, quick mode. Expected to fail until
// the x86irq (grant transports on an x86 hypervisor) and argop (argo:buffered pricing) branches
// are merged: today every x86-64 job of a side fails and the table has no comparable row.
import { describe, expect, it } from "vitest";
import { C2 } from "../src/experiments/c2-x86-crossover.ts";
import { runJob } from "../src/run/run-job.ts";

describe("C2 x86-64 crossover (real runner)", () => {
  it("has a row per workload and size with both sides measured on x86-64", () => {
    const t = C2.run({ seed: 1, quick: true, runJob: (s) => runJob(s) });
    expect(t.rows.length).toBeGreaterThanOrEqual(2 * 3);
    expect(t.notes!.filter((n) => n.startsWith("failed:"))).toEqual([]);
    expect(t.verdict.text).not.toMatch(/cannot compare/);
  });
});
