// `vxsim experiment` as a child process: --list, one quick experiment with --json and --csv,
// exit 0 whatever the verdict, 2 for an unknown name (with the valid ones) or a bad option.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";

function vxsim(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const NAMES = ["c1", "c2", "c3", "c4", "c5", "c6", "c7"];

describe("vxsim experiment (child process)", () => {
  it("--list prints every experiment (table and JSON) and exits 0", () => {
    const t = vxsim("experiment", "--list");
    expect(t.status).toBe(0);
    for (const slug of ["arm-grants-vs-memcpy", "flush-elision", "double-fetch", "riscv-subword"]) expect(t.stdout).toContain(slug);
    const j = vxsim("experiment", "--list", "--json");
    expect(j.status).toBe(0);
    const list = JSON.parse(j.stdout) as { name: string; slug: string; claim: string }[];
    expect(list.map((x) => x.name)).toEqual(NAMES);
    expect(list.every((x) => x.claim.length > 20)).toBe(true);
  });

  it("runs c6 quick: --json is the experiment's table with its verdict, --csv one line per row, summary on stderr", () => {
    const r = vxsim("experiment", "riscv-subword", "--quick", "--seed", "7", "--json");
    expect(r.status).toBe(0);
    const t = JSON.parse(r.stdout) as { name: string; columns: string[]; rows: unknown[][]; verdict: { holds: boolean; text: string } };
    expect(t.name).toBe("c6");
    expect(t.columns[0]).toBe("arch");
    expect(t.rows.length).toBeGreaterThanOrEqual(8);
    expect(t.rows.every((row) => row.length === t.columns.length)).toBe(true);
    expect(t.verdict.holds).toBe(true);
    expect(r.stderr).toBe("vxsim experiment c6 --quick: claim HOLDS\n");
    const c = vxsim("experiment", "c6", "--quick", "--seed", "7", "--csv", "--quiet");
    expect(c.status).toBe(0);
    expect(c.stderr).toBe("");
    const lines = c.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(t.columns.join(","));
    expect(lines).toHaveLength(t.rows.length + 1);
  });

  it("prints c7 quick as a table with its verdict line and exits 0", () => {
    const r = vxsim("experiment", "c7", "--quick");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^C7: Double fetch/);
    expect(r.stdout).toMatch(/grant-copy\s+4096\s+\d+\s+0\s+\d+\s+0\s+\d+\s+\d+\s+immune/);
    expect(r.stdout).toMatch(/verdict: (HOLDS|DOES NOT HOLD): /);
  });

  it.each([
    ["an unknown name", ["experiment", "c9"], /^vxsim experiment: unknown experiment 'c9'; valid: c1 \(arm-grants-vs-memcpy\), .*c7 \(double-fetch\)\n$/],
    ["no name", ["experiment"], /^vxsim experiment: which one\? c1 .*; or --list\n$/],
    ["a name with --list", ["experiment", "c1", "--list"], /^vxsim experiment: give a name or --list, not both\n$/],
    ["a bad seed", ["experiment", "c6", "--seed", "-1"], /--seed must be an integer in \[0, 2\^32\)/],
  ])("exit 2 for %s", (_what, args, err) => {
    const r = vxsim(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(err);
  });
});
