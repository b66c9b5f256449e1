// Sweeps on real worker threads running real ring-demo jobs (test/fixtures/ring-job.ts).
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadGrid } from "../src/cli/grid.ts";
import { parseJobRef } from "../src/cli/job-ref.ts";
import { toJson } from "../src/cli/output.ts";
import { failedRows, mergeFiles, runSweep, type SweepDoc } from "../src/cli/sweep.ts";
import { UserError } from "../src/cli/user-error.ts";
import { ringJob } from "./fixtures/ring-job.ts";

const JOB = parseJobRef("test/fixtures/ring-job.ts#ringJob");
const grid = loadGrid("test/fixtures/ring-grid.yaml");
const dir = mkdtempSync(join(tmpdir(), "vxsim-sweep-"));

function write(name: string, doc: SweepDoc | string): string {
  const f = join(dir, name);
  writeFileSync(f, typeof doc === "string" ? doc : toJson(doc));
  return f;
}

function mergeError(files: string[]): string {
  try {
    mergeFiles(files);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error("expected a UserError");
}

describe("sweep on worker threads", async () => {
  const whole = await runSweep(grid, JOB, { jobs: 2 });

  it("runs every point and keeps the rows in index order, each the job's own result", () => {
    expect(whole).toMatchObject({ format: "vxsim-sweep/1", grid: "ring", gridHash: grid.hash, job: "test/fixtures/ring-job.ts#ringJob", points: 8 });
    expect(whole.shard).toBeUndefined();
    expect(whole.rows.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(whole.rows[5]!.point).toEqual({ transport: "fat-virtqueue", "workload.iodepth": 16, seed: 2 });
    for (const r of whole.rows) {
      expect(r.error).toBeUndefined();
      // The worker's result is what the job returns for that point in this thread.
      expect(r.result).toEqual(ringJob(grid.points[r.index]!.spec));
      expect(r.result).toMatchObject({ verified: 300, counters: { "chains added": 300, "chains reclaimed": 300, "ring errors": 0 } });
    }
    expect(failedRows(whole)).toBe(0);
  });

  it("writes the same bytes whatever the number of workers", async () => {
    const one = await runSweep(grid, JOB, { jobs: 1 });
    const four = await runSweep(grid, JOB, { jobs: 4 });
    expect(toJson(one)).toBe(toJson(whole));
    expect(toJson(four)).toBe(toJson(whole));
  });

  it("--shard runs index % n == i, and merging the shards gives the whole sweep byte for byte", async () => {
    for (const n of [2, 3, 11]) {
      const files: string[] = [];
      for (let i = n - 1; i >= 0; i--) {
        const doc = await runSweep(grid, JOB, { jobs: 2, shard: { index: i, count: n } });
        expect(doc.shard).toEqual({ index: i, count: n });
        expect(doc.rows.map((r) => r.index)).toEqual(grid.points.map((p) => p.index).filter((x) => x % n === i));
        files.push(write(`s${i}-of-${n}.json`, doc));
      }
      expect(toJson(mergeFiles(files))).toBe(toJson(whole));
    }
  });

  it("a point whose job throws becomes an error row; the other points still run", async () => {
    const doc = await runSweep(loadGrid("test/fixtures/ring-grid-fail.yaml"), JOB, { jobs: 2 });
    expect(doc.rows.map((r) => [r.index, r.point.transport, r.error])).toEqual([
      [0, "mmio-foreign", undefined], [1, "grant-copy", "ring-job: no ring demo for transport 'grant-copy'"], [2, "fat-virtqueue", undefined],
    ]);
    expect(doc.rows[1]!.result).toBeUndefined();
    expect(doc.rows[2]!.result).toMatchObject({ verified: 100 });
    expect(failedRows(doc)).toBe(1);
  });

  it("a shard with no points is a document without rows (it still merges, see n = 11 above)", async () => {
    const doc = await runSweep(grid, JOB, { shard: { index: 9, count: 10 } });
    expect(doc.rows).toEqual([]);
  });

  describe("merge refuses", async () => {
    const s0 = await runSweep(grid, JOB, { jobs: 2, shard: { index: 0, count: 2 } });
    const s1 = await runSweep(grid, JOB, { jobs: 2, shard: { index: 1, count: 2 } });
    const f0 = write("m0.json", s0);
    const f1 = write("m1.json", s1);
    const other = await runSweep(loadGrid("test/fixtures/ring-grid-fail.yaml"), JOB, { shard: { index: 1, count: 2 } });

    it("a missing shard", () => {
      expect(mergeError([f0])).toBe("points missing from the merge: 1, 3, 5, 7 (of 0..7; is a shard left out?)");
    });
    it("overlapping shards", () => {
      const f1b = write("m1b.json", { ...s1, rows: [s0.rows[1]!, ...s1.rows] });
      expect(mergeError([f0, f1b])).toBe(`point 2 is in both ${f0} and ${f1b} (overlapping shards)`);
    });
    it("the same file twice", () => {
      expect(mergeError([f0, f1, f0])).toBe(`${f0} is given twice`);
    });
    it("outputs of another grid", () => {
      const fo = write("other.json", other);
      expect(mergeError([f0, fo])).toBe(`${fo}: comes from a different grid than ${f0} (grid hash ${other.gridHash.slice(0, 12)} vs ${grid.hash.slice(0, 12)})`);
    });
    it("outputs of another job", () => {
      const fj = write("job.json", { ...s1, job: "x.ts#other" });
      expect(mergeError([f0, fj])).toBe(`${fj}: ran job 'x.ts#other', ${f0} ran 'test/fixtures/ring-job.ts#ringJob'`);
    });
    it("a row outside the grid", () => {
      const fr = write("range.json", { ...s1, rows: [...s1.rows, { ...s1.rows[0]!, index: 8 }] });
      expect(mergeError([f0, fr])).toBe(`${fr}: row index 8 is outside the grid's 8 points`);
    });
    it("files that are not sweep outputs", () => {
      const fn = write("not.json", "{ nope");
      expect(mergeError([fn])).toMatch(new RegExp(`^${fn}: not JSON \\(`));
      const fx = write("other-format.json", toJson({ format: "vxsim-result/1" }));
      expect(mergeError([fx])).toBe(`${fx}: not a vxsim sweep output (expected format 'vxsim-sweep/1'; write one with vxsim sweep --json or --out)`);
      expect(mergeError([join(dir, "absent.json")])).toBe(`${join(dir, "absent.json")}: cannot read it (ENOENT)`);
    });
    it("but joins the two shards, in either order, to the whole sweep", () => {
      expect(toJson(mergeFiles([f1, f0]))).toBe(toJson(whole));
      expect(readFileSync(f0, "utf8")).toContain('"shard": {\n    "index": 0,\n    "count": 2\n  }');
    });
  });
});
