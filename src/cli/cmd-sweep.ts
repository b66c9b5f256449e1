// `vxsim sweep <grid>` and `vxsim merge <files...>`.
import { InvalidArgumentError, type Command } from "commander";
import { loadGrid } from "./grid.ts";
import { DEFAULT_JOB, importJob, parseJobRef } from "./job-ref.ts";
import { addOutputOptions, emit, type OutputOptions } from "./output.ts";
import { checkProfileRef } from "./profile-ref.ts";
import { progressBar } from "./progress.ts";
import { poolSize } from "./sweep-pool.ts";
import { failedRows, mergeFiles, parseShard, printableSweep, runSweep, type Shard, type SweepDoc } from "./sweep.ts";

export interface SweepCommandOptions extends OutputOptions {
  shard?: Shard;
  jobs?: number;
  job?: string;
  seed?: number;
}

/** Runs the sweep and prints it; the exit code is 1 when any point failed. */
export async function sweepCommand(gridFile: string, o: SweepCommandOptions): Promise<number> {
  const grid = loadGrid(gridFile, { seed: o.seed });
  for (const p of new Set(grid.points.map((pt) => pt.spec.profile))) checkProfileRef(p, "sweep");
  const job = o.job === undefined ? DEFAULT_JOB : parseJobRef(o.job);
  await importJob(job); // a job that does not load fails here, before any worker starts
  const count = o.shard ? grid.points.filter((p) => p.index % o.shard!.count === o.shard!.index).length : grid.points.length;
  const workers = poolSize(count, o.jobs);
  const bar = progressBar(`sweep ${grid.name}`, count, o.quiet);
  let doc: SweepDoc;
  try {
    doc = await runSweep(grid, job, { shard: o.shard, jobs: o.jobs, onDone: (_n, failed) => bar.tick(failed) });
  } finally {
    bar.stop();
  }
  return finish("sweep", doc, o, `${count} of ${grid.points.length} points${o.shard ? ` (shard ${o.shard.index}/${o.shard.count})` : ""} on ${workers} worker thread${workers === 1 ? "" : "s"}`);
}

export function mergeCommand(files: string[], o: OutputOptions): number {
  const doc = mergeFiles(files);
  return finish("merge", doc, o, `${doc.rows.length} points from ${files.length} file${files.length === 1 ? "" : "s"}`);
}

function finish(cmd: string, doc: SweepDoc, o: OutputOptions, what: string): number {
  emit(o, printableSweep(doc));
  const failed = failedRows(doc);
  if (!o.quiet) console.error(`vxsim ${cmd}: ${what}: ${doc.rows.length - failed} ok, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

function shardOption(v: string): Shard {
  try {
    return parseShard(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function jobsOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new InvalidArgumentError("--jobs must be an integer in [1, 1024]");
  return n;
}

export function registerSweep(program: Command, run: (command: () => Promise<number> | number) => Promise<void>, int: (name: string, min: number, max: number) => (v: string) => number): void {
  addOutputOptions(
    program
      .command("sweep")
      .argument("<grid>", "grid file (YAML or JSON): a base job and axes")
      .description("run every point of a parameter grid on worker threads; one row per point, in point order")
      .option("--shard <i/n>", "run only the points whose index % n == i (join the outputs with merge)", shardOption)
      .option("--jobs <n>", "worker threads (default: one per CPU, at most one per point)", jobsOption)
      .option("--seed <n>", "every point's seed, instead of the grid's base.seed (not with a seed axis)", int("--seed", 0, 2 ** 31 - 1))
      .option("--job <module#export>", "run this job function instead of vxsim's simulation (for tests and extensions)"),
  ).action((grid: string, o: SweepCommandOptions) => run(() => sweepCommand(grid, o)));

  addOutputOptions(
    program
      .command("merge")
      .argument("<files...>", "sweep outputs (JSON) of the shards of one grid")
      .description("join shard outputs into the output of the whole sweep"),
  ).action((files: string[], o: OutputOptions) => run(() => mergeCommand(files, o)));
}
