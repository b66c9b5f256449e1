import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { SPEEDSCOPE_FILE_SCHEMA } from "./helpers/speedscope-schema.ts";
import type { ChromeTrace, TraceEvent } from "../src/report/trace.ts";
import type { JobResult } from "../src/run/result.ts";

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });
}

describe("vxsim job: one real run with its trace and profile", () => {
  it("writes a trace with a track per CPU and domain and a speedscope profile that weighs the priced cycles", () => {
    const dir = mkdtempSync(join(tmpdir(), "vxsim-job-"));
    try {
      const trace = join(dir, "t.json");
      const prof = join(dir, "p.speedscope.json");
      const r = cli("job", "--transport", "mmio-foreign", "--profile", "arm64-v8.0", "--iodepth", "2", "--ios", "40", "--trace", trace, "--speedscope", prof, "--json", "--quiet");
      expect(r.status).toBe(0);
      const res = JSON.parse(r.stdout) as JobResult;
      expect(res.ios).toBe(40);
      const t = JSON.parse(readFileSync(trace, "utf8")) as ChromeTrace;
      const meta = (name: string) => t.traceEvents.filter((e: TraceEvent) => e.ph === "M" && e.name === name).map((e) => (e.args as { name: string }).name);
      expect(meta("process_name")).toEqual(expect.arrayContaining(["guest", "Domain-0"]));
      expect(meta("thread_name")).toEqual(expect.arrayContaining(["d1v0", "d0v0"]));
      const spans = t.traceEvents.filter((e) => e.ph === "X");
      expect(spans.length).toBeGreaterThan(40 * 2);
      for (const e of spans) {
        expect(typeof e.ts).toBe("number");
        expect(e.dur).toBeGreaterThanOrEqual(0);
        expect(typeof e.pid).toBe("number");
        expect(typeof e.tid).toBe("number");
      }
      // Span time (µs in the file) is the CPUs' busy time.
      const busyUs = spans.reduce((s, e) => s + e.dur!, 0);
      expect(busyUs * 1000).toBeCloseTo(res.cpu.reduce((s, c) => s + c.busyNs, 0), 0);
      const p = JSON.parse(readFileSync(prof, "utf8"));
      const validate = new Ajv({ allErrors: true, strict: true }).compile(SPEEDSCOPE_FILE_SCHEMA);
      expect(validate(p), JSON.stringify(validate.errors)).toBe(true);
      const cycles = p.profiles[0].weights.reduce((s: number, w: number) => s + w, 0);
      expect(cycles / res.price.cycles).toBeCloseTo(1, 9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("run --trace/--speedscope: one file each for every workload, a process per domain of each job", () => {
    const dir = mkdtempSync(join(tmpdir(), "vxsim-run-"));
    try {
      const trace = join(dir, "t.json");
      const prof = join(dir, "p.speedscope.json");
      const r = cli("run", "scenarios/net-bridge.yaml", "--ios", "10", "--trace", trace, "--speedscope", prof, "--json");
      expect(r.status).toBe(0);
      expect(r.stderr).toBe(`vxsim run: trace written to ${trace} (open it in https://ui.perfetto.dev)\nvxsim run: profile written to ${prof} (open it in https://www.speedscope.app)\n`);
      const out = JSON.parse(r.stdout) as { jobs: { workload: string; device: string; result: JobResult }[] };
      expect(out.jobs.map((j) => [j.workload, "timeline" in j.result])).toEqual([["web-to-db", false], ["db-rr", false]]);
      const t = JSON.parse(readFileSync(trace, "utf8")) as ChromeTrace;
      const processes = new Map<number, string>();
      for (const e of t.traceEvents) if (e.ph === "M" && e.name === "process_name") processes.set(e.pid, (e.args as { name: string }).name);
      expect([...processes.values()]).toEqual(expect.arrayContaining(["web-to-db (web/vif0): guest", "web-to-db (web/vif0): Domain-0", "db-rr (db/vif0): peer", "db-rr (db/vif0): Domain-0"]));
      expect(new Set(processes.values()).size).toBe(processes.size);
      // Each job's spans sit in that job's processes, and weigh its CPUs' busy time.
      for (const j of out.jobs) {
        const pids = new Set([...processes].filter(([, n]) => n.startsWith(`${j.workload} (`)).map(([pid]) => pid));
        const spans = t.traceEvents.filter((e): e is TraceEvent & { ph: "X" } => e.ph === "X" && pids.has(e.pid));
        const busyUs = spans.reduce((s, e) => s + e.dur, 0);
        expect(busyUs * 1000).toBeCloseTo(j.result.cpu.reduce((s, c) => s + c.busyNs, 0), 0);
      }
      const p = JSON.parse(readFileSync(prof, "utf8"));
      const validate = new Ajv({ allErrors: true, strict: true }).compile(SPEEDSCOPE_FILE_SCHEMA);
      expect(validate(p), JSON.stringify(validate.errors)).toBe(true);
      expect(p.name).toBe("vxsim run net-bridge");
      for (const j of out.jobs) {
        const mine = p.profiles.filter((x: { name: string }) => x.name.startsWith(`${j.workload} (${j.device}): `));
        expect(mine).toHaveLength(3);
        const cycles = mine[0].weights.reduce((s: number, w: number) => s + w, 0);
        expect(cycles / j.result.price.cycles).toBeCloseTo(1, 9);
        for (const x of mine) for (const st of x.samples) for (const f of st) expect(p.shared.frames[f]).toBeDefined();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the option at fault and exits 2", () => {
    const r = cli("job", "--transport", "grant-mop");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/vxsim job: --transport must be one of .*grant-map.*, got 'grant-mop'/);
    const d = cli("job", "--transport", "grant-map", "--device", "gpu");
    expect(d.status).toBe(2);
    expect(d.stderr).toContain("vxsim job: --device must be blk, net or rng, got 'gpu'");
    const rw = cli("job", "--transport", "grant-map", "--rw", "sideways");
    expect(rw.stderr).toContain("vxsim job: --rw must be one of read, write, randread, randwrite, randrw, got 'sideways'");
  });
});
