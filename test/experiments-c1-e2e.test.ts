// C1's verdict end to end with the real job runner, quick mode: every job runs (argo:buffered
// included, on both Arm profiles and at 64 KiB). The grant vs fat-virtqueue/preshared-bounce
// comparison row by row is asserted in experiments-e2e.test.ts.
import { describe, expect, it } from "vitest";
import { C1 } from "../src/experiments/c1-arm-grants.ts";
import { runJob } from "../src/run/run-job.ts";

describe("C1 verdict (real runner)", () => {
  const t = C1.run({ seed: 1, quick: true, runJob: (s) => runJob(s) });

  it("verdict holds: the cheapest grant transport is dearer than the dearest memcpy one everywhere", () => {
    expect(t.notes!.filter((n) => n.startsWith("failed:"))).toEqual([]);
    expect(t.verdict.holds).toBe(true);
    expect(t.verdict.text).toMatch(/^in all 12 cases the cheapest grant transport costs more per I\/O than the dearest memcpy one/);
  });
});
