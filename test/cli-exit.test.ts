// The vxsim command as a child process: exit codes (0 ok, 1 a failed point or internal error,
// 2 a usage or input error), --quiet, --out, CSV, and shard + merge through the command line.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const JOB = ["--job", "test/fixtures/ring-job.ts#ringJob"];
const GRID = "test/fixtures/ring-grid.yaml";
const dir = mkdtempSync(join(tmpdir(), "vxsim-cli-"));

function vxsim(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs vxsim with stdout and stderr on a pseudo-terminal (util-linux `script`), as a person sees it. */
function vxsimOnTty(...args: string[]): string {
  const cmd = [process.execPath, "--import", "tsx", "src/cli/main.ts", ...args].map((a) => `'${a}'`).join(" ");
  const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8" });
  if (r.error) throw new Error(`this test needs util-linux 'script' (apt install bsdutils): ${r.error.message}`);
  expect(r.status).toBe(0);
  return r.stdout;
}

describe("vxsim sweep and merge (child process)", () => {
  it("exit 0: shards written with --out and merged print exactly the single-run output", () => {
    const single = vxsim("sweep", GRID, ...JOB, "--json", "--quiet");
    expect(single.status).toBe(0);
    expect(single.stderr).toBe("");
    const files = [0, 1].map((i) => join(dir, `shard${i}.json`));
    for (const [i, f] of files.entries()) {
      const r = vxsim("sweep", GRID, ...JOB, "--shard", `${i}/2`, "--jobs", "1", "--out", f);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(`vxsim sweep: 4 of 8 points (shard ${i}/2) on 1 worker thread: 4 ok, 0 failed\n`);
    }
    const merged = vxsim("merge", ...files, "--json");
    expect(merged.status).toBe(0);
    expect(merged.stdout).toBe(single.stdout);
    expect(merged.stderr).toBe("vxsim merge: 8 points from 2 files: 8 ok, 0 failed\n");
    const out = join(dir, "merged.json");
    expect(vxsim("merge", ...files, "--out", out, "--quiet")).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(readFileSync(out, "utf8")).toBe(single.stdout);
  });

  it("exit 1: a failing point is an error row, the rest run; the table says which", () => {
    const r = vxsim("sweep", "test/fixtures/ring-grid-fail.yaml", ...JOB, "--jobs", "2");
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("vxsim sweep: 3 of 3 points on 2 worker threads: 2 ok, 1 failed\n");
    expect(r.stdout).toMatch(/│ 1 │ grant-copy\s+│ ring-job: no ring demo for transport 'grant-copy' │/);
    expect(r.stdout).toMatch(/│ 2 │ fat-virtqueue\s+│ ok\s+│\s+100 │/);
  });

  it.each([
    ["a file that is not a grid", ["sweep", "scenarios/blk-randread.yaml"], "scenarios/blk-randread.yaml:4: base: missing (a required key)\n"],
    ["a shard out of range", ["sweep", GRID, "--shard", "2/2"], "error: option '--shard <i/n>' argument '2/2' is invalid. --shard must be i/n with n >= 1 and 0 <= i < n, got '2/2'"],
    ["a bad --jobs", ["sweep", GRID, "--jobs", "0"], "error: option '--jobs <n>' argument '0' is invalid. --jobs must be an integer in [1, 1024]"],
    ["--json with --csv", ["sweep", GRID, "--json", "--csv"], "error: option '--json' cannot be used with option '--csv'"],
    ["a job module without that export", ["sweep", GRID, "--job", "test/fixtures/ring-job.ts#notAJob"],
      "job module test/fixtures/ring-job.ts#notAJob: no exported function 'notAJob' (it exports: ringJob)\n"],
    ["a job module that does not exist", ["sweep", GRID, "--job", "test/fixtures/none.ts#job"], "job module test/fixtures/none.ts#job: cannot load it ("],
    ["an incomplete merge", ["merge", "test/fixtures/ring-grid.yaml"], "test/fixtures/ring-grid.yaml: not JSON ("],
    ["a missing scenario", ["run", "no-such.yaml"], "no-such.yaml: cannot read the scenario file (ENOENT)\n"],
    ["an unknown command, with a suggestion", ["swep"], "error: unknown command 'swep'\n(Did you mean sweep?)"],
  ])("exit 2: %s, before anything runs", (_what, args, message) => {
    const r = vxsim(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.startsWith(message)).toBe(true);
  });

  it("exit 2 for a grid error names file, line and field", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, readFileSync(GRID, "utf8").replace("[16, 64]", "[16, 0]"));
    expect(vxsim("sweep", bad, ...JOB)).toEqual({ status: 2, stdout: "", stderr: `${bad}:10: axes.workload.iodepth[1]: must be at least 1, got 0\n` });
  });

  it("--csv prints a header of flattened columns and one line per point", () => {
    const r = vxsim("sweep", "test/fixtures/ring-grid-fail.yaml", ...JOB, "--csv", "--quiet");
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]!.startsWith("index,point.transport,error,result.verified,result.bytesOut,result.bytesIn,result.counters.chains added,")).toBe(true);
    expect(lines[0]!.split(",")).toHaveLength(4 + 3 + 13);
    expect(lines[1]).toMatch(/^0,mmio-foreign,,100,\d+,\d+,100,100,200,100,100,/);
    expect(lines[2]).toBe("1,grant-copy,ring-job: no ring demo for transport 'grant-copy'" + ",".repeat(17));
  });

  it("on a terminal the progress bar shows, and --quiet prints only the result", () => {
    const shown = vxsimOnTty("sweep", GRID, ...JOB, "--json", "--jobs", "2");
    expect(shown).toMatch(/sweep ring \[[=-]+\] \d\/8 \| 0 failed/);
    expect(shown).toContain("vxsim sweep: 8 of 8 points on 2 worker threads: 8 ok, 0 failed");
    const quiet = vxsimOnTty("sweep", GRID, ...JOB, "--json", "--jobs", "2", "--quiet");
    expect(quiet).not.toContain("sweep ring [");
    expect(quiet).not.toContain("vxsim sweep:");
    // Only the JSON document (the terminal turns \n into \r\n).
    expect(JSON.parse(quiet.replaceAll("\r\n", "\n")).rows).toHaveLength(8);
  });
});

describe("vxsim profiles, versions and failed jobs (child process)", () => {
  const badProfile = join(dir, "bad-profile.yaml");
  writeFileSync(badProfile, readFileSync("profiles/x86-64.yaml", "utf8").replace(/(vm_exit:\n\s+cycles:) \d+/, "$1 -5"));
  const badLine = readFileSync(badProfile, "utf8").split("\n").findIndex((l) => l.includes("cycles: -5")) + 1;
  /** A scenario file in `dir`: `head` lines, then an rng workload on g/virtio0. */
  const rngScenario = (name: string, head: string[]): string => {
    const file = join(dir, name);
    writeFileSync(file, [...head, "workloads: [ { rng: { device: g/virtio0 } } ]", "duration: { ios: 5 }", "seed: 1"].join("\n"));
    return file;
  };

  it.each([
    ["job with a bad profile file", ["job", "--transport", "grant-map", "--profile", badProfile], `${badProfile}:${badLine}: primitives.vm_exit.cycles: must be >= 0, got -5\n`],
    ["job with a missing profile file", ["job", "--transport", "grant-map", "--profile", join(dir, "none.yaml")],
      `vxsim job: profile '${join(dir, "none.yaml")}' is neither a built-in profile (x86-64, arm64-v8.0, arm64-v8.1-lse, riscv64) nor a file\n`],
    ["job with a directory as profile", ["job", "--transport", "grant-map", "--profile", dir], `vxsim job: cannot read profile ${dir}: EISDIR`],
    ["compare with an unknown profile, before any job", ["compare", "--profiles", "x86-64,nosuch"],
      "vxsim compare: profile 'nosuch' is neither a built-in profile (x86-64, arm64-v8.0, arm64-v8.1-lse, riscv64) nor a file\n"],
  ])("exit 2: %s", (_what, args, message) => {
    const r = vxsim(...args);
    expect(r.stdout).toBe("");
    expect(r.stderr.startsWith(message), r.stderr).toBe(true);
    expect(r.status).toBe(2);
  });

  it("exit 2: a scenario whose profile file is bad names the profile's line", () => {
    const scenario = rngScenario("badprof.yaml", [
      "machine: { profile: bad-profile.yaml, arch: x86-64 }",
      "domains: [ { xl: [ \"name = 'g'\", \"virtio = [ 'type=virtio,device4' ]\" ] } ]",
    ]);
    expect(vxsim("run", scenario)).toEqual({ status: 2, stdout: "", stderr: `${badProfile}:${badLine}: primitives.vm_exit.cycles: must be >= 0, got -5\n` });
  });

  it("exit 2: a scenario whose backend's domain may not serve the transport, before anything runs", () => {
    const scenario = rngScenario("placement.yaml", [
      "machine: { profile: x86-64 }",
      "transport: mmio-foreign",
      "domains:",
      "  - xl: [ \"name = 'netdom'\", 'driver_domain = 1' ]",
      "  - xl: [ \"name = 'g'\", \"virtio = [ 'type=virtio,device4,backend=netdom' ]\" ]",
    ]);
    expect(vxsim("run", scenario)).toEqual({ status: 2, stdout: "", stderr: `${scenario}:5: virtio[0]: g/virtio0: backend 'netdom' cannot serve transport mmio-foreign: ` +
      "it may not map the memory of 'g', and the transport reaches buffers that way (Domain-0 may, and a stub domain whose target is 'g'); use backend Domain-0, or a transport a driver domain can serve (argo:buffered, argo:sg, fat-virtqueue)\n" });
  });

  it("exit 2: a sweep whose profile file is bad, before any point runs", () => {
    const grid = join(dir, "bad-profile-grid.yaml");
    writeFileSync(grid, readFileSync(GRID, "utf8").replace("profile: x86-64", `profile: ${badProfile}`));
    expect(vxsim("sweep", grid)).toEqual({ status: 2, stdout: "", stderr: `${badProfile}:${badLine}: primitives.vm_exit.cycles: must be >= 0, got -5\n` });
  });

  it("--version prints package.json's version", () => {
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(vxsim("--version")).toEqual({ status: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("exit 1: a job the model cannot set up as asked fails with the model's reason, no stack", () => {
    // A 1 MiB request needs an Argo area beyond the guest's 16 MiB of RAM.
    const r = vxsim("job", "--transport", "argo", "--bs", "1048576", "--ios", "2");
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^vxsim: the job cannot run as asked: argo: d1 needs RAM up to gfn \d+ for its Argo area, has 4096 pages\n$/);
    expect(r.status).toBe(1);
  });
});
