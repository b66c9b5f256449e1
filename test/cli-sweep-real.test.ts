// The shipped sweep grid (scenarios/sweep-blk.yaml) on the real simulation, through the command
// line: two shards merged are byte for byte the single-machine sweep. Only the I/O count is cut
// down, so the test stays small; every axis and value of the file is kept.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";

const dir = mkdtempSync(join(tmpdir(), "vxsim-sweep-real-"));
const grid = join(dir, "sweep-blk.yaml");
const shipped = parse(readFileSync("scenarios/sweep-blk.yaml", "utf8"));
writeFileSync(grid, stringify({ ...shipped, base: { ...shipped.base, ios: 24 } }));

function vxsim(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("vxsim sweep scenarios/sweep-blk.yaml, sharded and merged", () => {
  it("merging --shard 0/2 and 1/2 reproduces the whole sweep exactly", () => {
    const whole = join(dir, "all.json");
    expect(vxsim("sweep", grid, "--quiet", "--out", whole).status).toBe(0);
    const shards = [0, 1].map((i) => {
      const f = join(dir, `s${i}.json`);
      const r = vxsim("sweep", grid, "--quiet", "--shard", `${i}/2`, "--out", f);
      expect(r.status).toBe(0);
      return f;
    });
    const merged = join(dir, "merged.json");
    expect(vxsim("merge", ...shards, "--quiet", "--out", merged).status).toBe(0);
    expect(readFileSync(merged, "utf8")).toBe(readFileSync(whole, "utf8"));

    // The rows are real, verified simulation results for every point of the file's axes.
    const doc = JSON.parse(readFileSync(whole, "utf8"));
    const points = Object.values(shipped.axes as Record<string, unknown[]>).reduce((n, v) => n * v.length, 1);
    expect(doc.rows).toHaveLength(points);
    for (const r of doc.rows) {
      expect(r.error).toBeUndefined();
      expect(r.result.ios).toBe(24);
      // 24 reads of 4 KiB, each checked against the image's pattern.
      expect(r.result.bytesVerified).toBe(24 * 4096);
    }
  });
});
