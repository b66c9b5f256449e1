import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareJobs, COMPARE_TRANSPORTS } from "../src/cli/compare-jobs.ts";
import { compareTable, hangingWrap, type CompareOutput } from "../src/cli/cmd-compare.ts";

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
}

describe("vxsim compare", () => {
  it("plans every transport on every architecture for blk and net, in a fixed order", () => {
    const specs = compareJobs({ ios: 10, seed: 3 });
    // pv-p2m only on x86-64: PV guests exist only there.
    expect(specs).toHaveLength(2 * (4 * COMPARE_TRANSPORTS.length - 3));
    expect(specs.filter((s) => s.transport === "pv-p2m").map((s) => s.profile)).toEqual(["x86-64", "x86-64"]);
    expect(specs[0]).toEqual({ transport: "kvm-ioeventfd", profile: "x86-64", device: "blk", ios: 10, seed: 3, workload: { kind: "fio", rw: "randread", bs: 4096, iodepth: 1 } });
    expect(specs.at(-1)).toMatchObject({ transport: "preshared-bounce", profile: "riscv64", device: "net", workload: { kind: "netperf", test: "stream", messageSize: 1400 } });
    expect(() => compareJobs({ ios: 1, seed: 1, transports: ["virtio-owl"] })).toThrow(/unknown transport 'virtio-owl'; expected one of/);
  });

  it("runs the jobs on worker threads and prints JSON results that match the table", () => {
    const r = cli("compare", "--profiles", "arm64-v8.0", "--transports", "kvm-ioeventfd,grant-copy", "--devices", "blk", "--ios", "16", "--no-claims", "--json", "--quiet");
    expect(r.stderr.replace(/npm warn.*\n/g, "")).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as CompareOutput;
    expect(out.rows.map((x) => [x.spec.transport, x.ok])).toEqual([["kvm-ioeventfd", true], ["grant-copy", true]]);
    for (const row of out.rows) {
      if (!row.ok) throw new Error(row.error);
      expect(row.result.ios).toBe(16);
      expect(row.result.bytes).toBe(16 * 4096);
    }
    const [kvm, gc] = out.rows.map((x) => (x.ok ? x.result : undefined)!);
    expect(kvm!.perIo.copies).toBe(0);
    expect(gc!.perIo.copies).toBeGreaterThan(0);
    const table = compareTable(out);
    expect(table).toContain("kvm-ioeventfd");
    expect(table).toContain(String(Math.round(gc!.cyclesPerIo)));
  });

  it("writes the HTML report with --html and refuses bad lists with exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "vxsim-compare-"));
    try {
      const html = join(dir, "r.html");
      const r = cli("compare", "--profiles", "x86-64", "--transports", "kvm-ioeventfd", "--devices", "blk", "--ios", "8", "--no-claims", "--quiet", "--html", html);
      expect(r.status).toBe(0);
      const text = readFileSync(html, "utf8");
      expect(text).toContain("<svg");
      expect(text).toContain("kvm-ioeventfd");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const bad = cli("compare", "--devices", "gpu");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("vxsim compare: --devices takes blk and/or net, got 'gpu'");
    const badT = cli("compare", "--transports", "virtio-owl", "--no-claims");
    expect(badT.status).toBe(2);
    expect(badT.stderr).toContain("vxsim compare: unknown transport 'virtio-owl'");
  });
});

describe("compare's claim lines", () => {
  it("wrap at spaces under a hanging indent, a word too long for the width standing alone", () => {
    expect(hangingWrap("  C9 HOLDS  ", "one two three four", 20)).toEqual(["  C9 HOLDS  one two", "            three", "            four"]);
    expect(hangingWrap("> ", "abcdefghij xy", 6)).toEqual(["> abcdefghij", "  xy"]);
    expect(hangingWrap("> ", "", 6)).toEqual(["> "]);
  });

  it("keep every word of a long verdict, in order, within 120 columns", () => {
    const text = Array.from({ length: 60 }, (_, i) => `case${i}: saves ${i}%`).join("; ");
    const claim = { name: "c3", title: "a claim", verdict: { holds: false, text } } as unknown as CompareOutput["claims"][number];
    const out = compareTable({ ios: 1, seed: 1, rows: [], claims: [claim] }).split("\n");
    const from = out.findIndex((l) => l.startsWith("  C3 DOES NOT HOLD  a claim: case0:"));
    expect(from).toBeGreaterThan(0);
    const lines = out.slice(from);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);
    const indent = "  C3 DOES NOT HOLD  ".length;
    expect(lines.slice(1).every((l) => l.startsWith(" ".repeat(indent)) && l[indent] !== " ")).toBe(true);
    expect(lines.map((l) => l.trim()).join(" ")).toBe(`C3 DOES NOT HOLD  a claim: ${text}`);
  });
});
