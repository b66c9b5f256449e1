// `vxsim run <scenario>`: each workload of the scenario as one job, in order.
import type { Command } from "commander";
import type { JobResult } from "../run/result.ts";
import { scenarioJobs, type ScenarioJob } from "../run/scenario-jobs.ts";
import { loadScenario } from "../scenario/scenario.ts";
import { addExportOptions, wantsTimeline, writeExports, type ExportOptions } from "./exports.ts";
import { summarizeJob } from "./job-summary.ts";
import { addOutputOptions, emit, fmt, textTable, type OutputOptions, type Printable } from "./output.ts";
import { progressBar } from "./progress.ts";
import type { RunJob } from "./run-job.ts";

export interface RunOutput {
  scenario: string;
  file: string;
  seed: number;
  jobs: { workload: string; device: string; result: JobResult }[];
}

export interface RunCommandOptions extends OutputOptions, ExportOptions {
  /** Replace the scenario's seed and duration.ios. */
  seed?: number;
  ios?: number;
}

/** Loads the scenario, then the job runner (so a bad scenario is reported first), runs the
 *  scenario's jobs and prints them. */
export async function runCommand(file: string, o: RunCommandOptions, load: () => RunJob | Promise<RunJob>): Promise<number> {
  const s = loadScenario(file);
  if (!o.quiet) for (const w of s.warnings) console.error(`vxsim run: warning: ${w}`);
  const seed = o.seed ?? s.seed;
  const jobs = scenarioJobs({ ...s, seed, duration: { kind: "ios", ios: o.ios ?? s.duration.ios } });
  const runJob = await load();
  const bar = progressBar(`run ${s.name}`, jobs.length, o.quiet);
  const out: RunOutput = { scenario: s.name, file, seed, jobs: [] };
  const traced: { name: string; result: JobResult }[] = [];
  try {
    for (const j of jobs) {
      const { timeline, ...result } = runJob(j.spec, { trace: wantsTimeline(o) });
      out.jobs.push({ workload: j.workload, device: j.device, result });
      traced.push({ name: `${j.workload} (${j.device})`, result: { ...result, timeline } });
      bar.tick(false);
    }
  } finally {
    bar.stop();
  }
  writeExports("run", o, traced, `vxsim run ${s.name}`);
  emit(o, printableRun(out, jobs));
  return 0;
}

function printableRun(out: RunOutput, jobs: ScenarioJob[]): Printable {
  const rows = () => out.jobs.map((j, i) => ({ workload: j.workload, device: j.device, transport: jobs[i]!.spec.transport, ...summarizeJob(j.result) }));
  const table = () => {
    const head = ["workload", "device", "transport", "profile", "IOPS", "MB/s", "p50 ns", "p99 ns", "cycles/IO", "copies/IO", "maps/IO", "flushes/IO", "traps/IO", "notifs/IO"];
    const body = out.jobs.map((j, i) => {
      const r = j.result;
      return [j.workload, j.device, jobs[i]!.spec.transport, r.profile, r.iops, r.throughputMBps, r.latency.p50, r.latency.p99, r.cyclesPerIo,
        r.perIo.copies, r.perIo.maps, r.perIo.tlbFlushes, r.perIo.traps, r.perIo.notifications].map(fmt);
    });
    return `vxsim run ${out.scenario} (${out.file}), seed ${out.seed}\n` + textTable(head, body, 4);
  };
  return { json: out, rows, table };
}

export function registerRun(program: Command, run: (command: () => Promise<number> | number) => Promise<void>, load: () => Promise<RunJob>, int: (name: string, min: number, max: number) => (v: string) => number): void {
  addOutputOptions(addExportOptions(
    program
      .command("run")
      .argument("<scenario>", "scenario file (YAML)")
      .description("run every workload of a scenario and print its results")
      .option("--seed <n>", "seed of every job, instead of the scenario's seed", int("--seed", 0, 2 ** 32 - 1))
      .option("--ios <n>", "I/Os of every job, instead of the scenario's duration.ios", int("--ios", 1, 10_000_000)),
    "the jobs'",
    { trace: "one file: a process per domain of each workload's job", speedscope: "one file: each workload's profiles side by side" },
  )).action((file: string, o: RunCommandOptions) => run(() => runCommand(file, o, load)));
}
