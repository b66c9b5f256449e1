// `vxsim experiment <name>` and `vxsim experiment --list`: runs one experiment (a sweep, its
// table and the verdict on one claim) with the simulation's job runner. The exit code says
// whether the experiment ran (0, whatever its verdict), not whether the claim held.
import { InvalidArgumentError, type Command } from "commander";
import { EXPERIMENTS, experimentByName, formatTable, type Experiment, type ExperimentTable } from "../experiments/index.ts";
import { addOutputOptions, emit, textTable, type OutputOptions } from "./output.ts";
import { progressBar, type Progress } from "./progress.ts";
import type { RunJob } from "./run-job.ts";
import { UserError } from "./user-error.ts";

export interface ExperimentCommandOptions extends OutputOptions {
  list?: boolean;
  quick?: boolean;
  seed: number;
}

function listExperiments(o: OutputOptions): number {
  const rows = EXPERIMENTS.map((e) => ({ name: e.name, slug: e.slug, title: e.title, claim: e.claim }));
  emit(o, { json: rows, rows: () => rows, table: () => textTable(["name", "slug", "title"], rows.map((r) => [r.name, r.slug, r.title]), 3) });
  return 0;
}

function find(name: string): Experiment {
  try {
    return experimentByName(name);
  } catch (e) {
    throw new UserError(`vxsim experiment: ${(e as Error).message}`);
  }
}

/** The table's rows as objects keyed by column, for --csv. */
function csvRows(t: ExperimentTable): object[] {
  return t.rows.map((r) => Object.fromEntries(t.columns.map((c, k) => [c, r[k]])));
}

export async function experimentCommand(name: string | undefined, o: ExperimentCommandOptions, load: () => RunJob | Promise<RunJob>): Promise<number> {
  if (o.list) {
    if (name !== undefined) throw new UserError("vxsim experiment: give a name or --list, not both");
    return listExperiments(o);
  }
  if (name === undefined) throw new UserError(`vxsim experiment: which one? ${EXPERIMENTS.map((e) => `${e.name} (${e.slug})`).join(", ")}; or --list`);
  const e = find(name);
  const runJob = await load();
  // The total is known once the experiment has planned its sweep: the bar starts on the first report.
  let bar: Progress | undefined;
  let table: ExperimentTable;
  try {
    table = e.run({
      seed: o.seed, quick: o.quick, runJob: (spec) => runJob(spec),
      onProgress: (_done, total) => {
        bar ??= progressBar(`experiment ${e.name}`, total, o.quiet);
        bar.tick(false);
      },
    });
  } finally {
    bar?.stop();
  }
  emit(o, { json: table, rows: () => csvRows(table), table: () => formatTable(table) });
  if (!o.quiet) console.error(`vxsim experiment ${e.name}${o.quick ? " --quick" : ""}: claim ${table.verdict.holds ? "HOLDS" : "DOES NOT HOLD"}`);
  return 0;
}

export function seedOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError("--seed must be an integer in [0, 2^32)");
  return n;
}

export function registerExperiment(program: Command, run: (command: () => Promise<number> | number) => Promise<void>, load: () => Promise<RunJob>): void {
  addOutputOptions(
    program
      .command("experiment")
      .argument("[name]", `experiment name or slug (${EXPERIMENTS.map((e) => e.name).join(", ")})`)
      .description("run one experiment of the Xen VirtIO discussion: its sweep, table and verdict (exit 0 whatever the verdict)")
      .option("--list", "list the experiments")
      .option("--quick", "the reduced sweep (fewer sizes, I/Os and seeds)")
      .option("--seed <n>", "base seed of the sweep", seedOption, 1),
  ).action((name: string | undefined, o: ExperimentCommandOptions) => run(() => experimentCommand(name, o, load)));
}
