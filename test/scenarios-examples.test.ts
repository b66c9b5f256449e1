// Every example scenario in scenarios/ runs through the real `vxsim run` (a child process, few
// I/Os) and verifies its bytes, so the examples the README points to never rot.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { RunOutput } from "../src/cli/cmd-run.ts";

const DIR = "scenarios";
// Grid files (base + axes) live there too; they are `vxsim sweep`'s, tested in cli-grid.test.ts.
const scenarios = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f) && !("axes" in (parse(readFileSync(join(DIR, f), "utf8")) as object))).sort();

describe("scenarios/ examples", () => {
  it("are the ones the README names", () => {
    const readme = readFileSync("README.md", "utf8");
    expect(scenarios.length).toBeGreaterThanOrEqual(4);
    for (const f of scenarios) expect(readme, f).toContain(`scenarios/${f}`);
  });

  it.each(scenarios)("%s runs with vxsim run, exit 0, every job's bytes verified", (f) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "run", join(DIR, f), "--ios", "20", "--json", "--quiet"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as RunOutput;
    expect(out.jobs.length).toBeGreaterThan(0);
    for (const j of out.jobs) {
      expect(j.result.spec.ios, j.workload).toBe(20);
      expect(j.result.bytesVerified, j.workload).toBeGreaterThan(0);
    }
  });
});
