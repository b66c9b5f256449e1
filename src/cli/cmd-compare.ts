// `vxsim compare`: the main job. Every transport on every architecture (compare-jobs.ts), run
// in parallel on worker threads, then the claims of the Xen VirtIO debate (the experiments,
// quick sweeps) with their verdicts. One table per device, rows in a fixed order.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { EXPERIMENTS } from "../experiments/index.ts";
import type { ExperimentTable } from "../experiments/types.ts";
import { renderReport } from "../report/html.ts";
import type { JobResult, JobSpec } from "../run/result.ts";
import { compareJobs, type CompareOptions } from "./compare-jobs.ts";
import { DEFAULT_JOB } from "./job-ref.ts";
import { checkProfileRef } from "./profile-ref.ts";
import { addOutputOptions, emit, fmt, textTable, type OutputOptions } from "./output.ts";
import { progressBar } from "./progress.ts";
import type { RunJob } from "./run-job.ts";
import { runPool } from "./sweep-pool.ts";
import { UserError } from "./user-error.ts";

export interface CompareCommandOptions extends OutputOptions, Partial<CompareOptions> {
  jobs?: number;
  claims?: boolean;
  html?: string;
}

export type CompareRow = { spec: JobSpec } & ({ ok: true; result: JobResult } | { ok: false; error: string });

export interface CompareOutput {
  ios: number;
  seed: number;
  rows: CompareRow[];
  claims: ExperimentTable[];
}

const FULL_JOB = { ...DEFAULT_JOB, exportName: "fullJob", label: "vxsim:runJob (full result)" };

/** Busy ns per I/O of the guest domains and of everything serving them. */
function cpuPerIo(r: JobResult): { guest: number; backend: number } {
  let guest = 0;
  let backend = 0;
  for (const [d, by] of Object.entries(r.cpuByDomain)) {
    if (d === "guest" || d === "peer") guest += by.total;
    else backend += by.total;
  }
  return { guest: guest / r.ios, backend: backend / r.ios };
}

const HEAD = ["device", "arch", "transport", "cycles/IO", "p50 µs", "rate", "copies", "maps", "flushes", "traps", "hcalls", "notifs", "irqs", "guest ns/IO", "backend ns/IO", "pages exposed"];

function rowCells(row: CompareRow): string[] {
  const s = row.spec;
  const head = [s.device, s.profile, s.transport];
  if (!row.ok) return [...head, "failed", ...HEAD.slice(4).map(() => "")];
  const r = row.result;
  const p = r.perIo;
  const cpu = cpuPerIo(r);
  const rate = s.device === "net" ? `${fmt(r.throughputMBps)} MB/s` : `${fmt(r.iops)} IOPS`;
  return [
    ...head, fmt(Math.round(r.cyclesPerIo)), fmt(r.latency.p50 / 1000), rate, fmt(p.copies), fmt(p.maps), fmt(p.tlbFlushes), fmt(p.traps),
    fmt(p.hypercalls), fmt(p.notifications), fmt(p.interrupts), fmt(Math.round(cpu.guest)), fmt(Math.round(cpu.backend)),
    `${r.exposure.reachable}`,
  ];
}

/** Claim lines wrap here: a verdict names every case it checked and runs to hundreds of characters. */
const CLAIM_WIDTH = 120;

/** `text` wrapped at spaces into lines of at most `width` (a longer word stands alone), the first
 *  after `head`, the rest indented under it. */
export function hangingWrap(head: string, text: string, width: number): string[] {
  const out: string[] = [];
  let line = head;
  for (const word of text.split(" ")) {
    if (line.length > head.length && line.length + 1 + word.length > width) {
      out.push(line);
      line = " ".repeat(head.length) + word;
    } else line += line.length > head.length ? ` ${word}` : word;
  }
  out.push(line);
  return out;
}

export function compareTable(out: CompareOutput): string {
  const lines = [
    `vxsim compare: virtio-blk 4 KiB random reads (iodepth 1) and a virtio-net stream of ${1400}-byte messages between two guests,`,
    `${out.ios} I/Os per job, seed ${out.seed}. Costs are virtual: counted mechanism priced by each architecture's profile.`,
    textTable(HEAD, out.rows.map(rowCells), 3),
  ];
  lines.push("  pv-p2m appears on x86-64 only: PV guests exist only there (`vxsim job --transport pv-p2m` still models it elsewhere).");
  const failed = out.rows.filter((r): r is CompareRow & { ok: false } => !r.ok);
  for (const f of failed) lines.push(`  failed: ${f.spec.transport} ${f.spec.device} on ${f.spec.profile}: ${f.error}`);
  if (out.claims.length > 0) {
    lines.push("", "Claims from the Xen VirtIO discussion (quick sweeps; `vxsim experiment <name>` runs the full one):");
    for (const c of out.claims) {
      const head = `  ${c.name.toUpperCase()} ${c.verdict.holds ? "HOLDS        " : "DOES NOT HOLD"}  `;
      lines.push(...hangingWrap(head, `${c.title}: ${c.verdict.text}`, CLAIM_WIDTH));
    }
  }
  return lines.join("\n");
}

export async function compareCommand(o: CompareCommandOptions, runJob: RunJob): Promise<number> {
  let specs: JobSpec[];
  try {
    specs = compareJobs({ ios: o.ios ?? 400, seed: o.seed ?? 1, profiles: o.profiles, transports: o.transports, devices: o.devices });
  } catch (e) {
    throw new UserError(`vxsim compare: ${(e as Error).message}`);
  }
  for (const p of o.profiles ?? []) checkProfileRef(p, "compare");
  const claims = o.claims === false ? [] : EXPERIMENTS;
  const bar = progressBar("compare", specs.length + claims.length, o.quiet);
  const out: CompareOutput = { ios: o.ios ?? 400, seed: o.seed ?? 1, rows: [], claims: [] };
  try {
    const outcomes = await runPool(specs.map((spec, index) => ({ index, spec })), FULL_JOB, { jobs: o.jobs, onDone: (_n, failed) => bar.tick(failed) });
    out.rows = specs.map((spec, i) => {
      const oc = outcomes.get(i)!;
      return oc.ok ? { spec, ok: true, result: oc.result as JobResult } : { spec, ok: false, error: oc.error };
    });
    for (const e of claims) {
      out.claims.push(e.run({ seed: out.seed, quick: true, runJob: (s) => runJob(s) }));
      bar.tick(false);
    }
  } finally {
    bar.stop();
  }
  if (o.html !== undefined) {
    const results = out.rows.flatMap((r) => (r.ok ? [r.result] : []));
    const html = await renderReport({ title: "vxsim compare", results, experiments: out.claims, meta: { ios: out.ios, seed: out.seed, jobs: specs.length } });
    writeFileSync(o.html, html);
    if (!o.quiet) console.error(`vxsim compare: report written to ${o.html}`);
  }
  emit(o, {
    json: out,
    rows: () => out.rows.map((r) => ({ spec: r.spec, ok: r.ok, ...(r.ok ? { result: { ...r.result, counters: undefined, price: undefined } } : { error: r.error }) })),
    table: () => compareTable(out),
  });
  return out.rows.some((r) => !r.ok) ? 1 : 0;
}

const list = (v: string): string[] => v.split(",").map((x) => x.trim()).filter((x) => x !== "");

export function registerCompare(program: Command, run: (command: () => Promise<number> | number) => Promise<void>, load: () => Promise<RunJob>, int: (name: string, min: number, max: number) => (v: string) => number): void {
  addOutputOptions(
    program
      .command("compare")
      .description("every transport on every architecture: blk 4 KiB random reads and a net stream, with the claims' verdicts")
      .option("--ios <n>", "I/Os per job", int("--ios", 1, 10_000_000), 400)
      .option("--seed <n>", "seed of the jobs (where the random reads land), recorded in the output; the figures do not change with it: " +
        "a 4 KiB read costs the same wherever it lands and a stream has no randomness", int("--seed", 0, 2 ** 31 - 1), 1)
      .option("--profiles <list>", "comma-separated profiles (default: all four built-in)", list)
      .option("--transports <list>", "comma-separated transports (default: all)", list)
      .option("--devices <list>", "blk, net or both (default both)", list)
      .option("--jobs <n>", "worker threads (default: one per CPU)", int("--jobs", 1, 256))
      .option("--no-claims", "skip the experiments' verdicts")
      .option("--html <file>", "also write the HTML report (charts) to <file>"),
  ).action(async (o: CompareCommandOptions) => {
    for (const d of o.devices ?? []) if (d !== "blk" && d !== "net") return run(() => { throw new UserError(`vxsim compare: --devices takes blk and/or net, got '${d}'`); });
    return run(async () => compareCommand(o, await load()));
  });
}
