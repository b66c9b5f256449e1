// Re-pricing a recorded runJob (issue 5.4). Within one behaviour class (the architecture the
// simulation runs, named by the profile's atomics model) a run re-priced under another profile
// equals the run simulated under it; across classes the simulation does other things (an x86
// ISA IRQ against an Arm SPI dm_op, LSE single instructions), so re-pricing is refused.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProfile, loadShippedProfile } from "../src/cost/profile.ts";
import { behaviourClass, recordRun, repriceRun, runFromJson, runToJson } from "../src/cost/run.ts";
import { runJob } from "../src/run/run-job.ts";
import type { JobSpec } from "../src/run/result.ts";

/** Another x86-64 board: the same mechanism, other figures (clock, hypercall). */
function otherX86(): string {
  const text = readFileSync(new URL("../profiles/x86-64.yaml", import.meta.url), "utf8");
  const edited = text.replace("name: x86-64", "name: x86-64-other").replace("  ghz: 2.0", "  ghz: 3.0").replace("    cycles: 1228", "    cycles: 2000");
  expect(edited).not.toBe(text);
  const file = join(mkdtempSync(join(tmpdir(), "vxsim-reprice-")), "x86-64-other.yaml");
  writeFileSync(file, edited);
  return file;
}

const x86 = loadShippedProfile("x86-64");
const JOBS: JobSpec[] = [
  { transport: "grant-map", profile: "x86-64", device: "blk", workload: { kind: "fio", rw: "randrw", bs: 16384, iodepth: 1 }, ios: 24, seed: 3 },
  { transport: "argo:sg", profile: "x86-64", device: "blk", workload: { kind: "fio", rw: "randread", bs: 4096, iodepth: 1 }, ios: 24, seed: 5 },
  { transport: "preshared-bounce", profile: "x86-64", device: "blk", workload: { kind: "fio", rw: "randwrite", bs: 65536, iodepth: 1 }, ios: 16, seed: 7 },
];

describe("re-pricing a recorded runJob", () => {
  const file = otherX86();
  const other = loadProfile(file);

  it("the two x86 profiles are one behaviour class, the shipped profiles four", () => {
    expect(behaviourClass(other)).toBe(behaviourClass(x86));
    const classes = ["x86-64", "arm64-v8.0", "arm64-v8.1-lse", "riscv64"].map((n) => behaviourClass(loadShippedProfile(n)));
    expect(new Set(classes).size).toBe(4);
  });

  it.each(JOBS)("$transport: re-priced under another profile of the same class, it equals the run simulated under that profile", (spec) => {
    const recorded = runFromJson(runToJson(recordRun(runJob(spec).counters, x86, { transport: spec.transport })), "run.json");
    const direct = runJob({ ...spec, profile: file });
    expect(recorded.counters).toEqual(direct.counters); // the same mechanism...
    const again = repriceRun(recorded, other); // ...so the same price
    expect(again.cycles).toBeGreaterThan(0);
    expect(again).toEqual(direct.price);
  });

  it("across architectures the counts differ, and re-pricing is refused with the reason", () => {
    const spec: JobSpec = { transport: "grant-map", profile: "x86-64", device: "blk", workload: { kind: "fio", rw: "randread", bs: 4096, iodepth: 1 }, ios: 16, seed: 1 };
    const a = runJob(spec);
    const lseProfile = loadShippedProfile("arm64-v8.1-lse");
    const lse = runJob({ ...spec, profile: "arm64-v8.1-lse" });
    expect(lse.counters.filter((v, i) => v !== a.counters[i]).length).toBeGreaterThan(0);
    const recorded = recordRun(a.counters, x86);
    expect(() => repriceRun(recorded, lseProfile)).toThrow(
      /^run recorded under x86-64 \(simulated as x86-64, atomics x86\) cannot be re-priced under arm64-v8\.1-lse \(simulated as Arm v8\.1 LSE, atomics arm-lse\): the architecture decides what the simulation does/,
    );
    // and back: an LSE run is not an x86 one either
    expect(() => repriceRun(recordRun(lse.counters, lseProfile), x86)).toThrow(/cannot be re-priced under x86-64/);
  });
});
