// `vxsim exposure`: the exposure and hostile-peer table. For every transport it runs small real
// blk jobs (src/run/exposure-table.ts) and prints what the backend reaches and maps, whether a
// hostile frontend's rewrite reaches the backend's device (double fetch), and what a hostile
// backend can read or write of the guest beyond the request's buffers, as the runs decided.
import type { Command } from "commander";
import { seedOption } from "./cmd-experiment.ts";
import { COMPLETED_COLUMNS, completedCells, EXPOSURE_COLUMNS, EXPOSURE_TRANSPORTS, exposureCells, formatExposure, runExposure, type ExposureRow } from "../run/exposure-table.ts";
import { addOutputOptions, emit, type OutputOptions } from "./output.ts";
import { progressBar } from "./progress.ts";
import { UserError } from "./user-error.ts";

export interface ExposureCommandOptions extends OutputOptions {
  transports?: string;
  seed: number;
}

/** One object per transport for --csv: the printed cells of both tables, then the probe's denial counters. */
function csvRows(rows: readonly ExposureRow[]): object[] {
  return rows.map((r) => {
    const completed = Object.fromEntries(COMPLETED_COLUMNS.slice(1).map((c, k) => [c, completedCells(r)[k + 1]]));
    return { ...Object.fromEntries(EXPOSURE_COLUMNS.map((c, k) => [c, exposureCells(r)[k]])), completed, denials: r.backend.denials };
  });
}

export function exposureCommand(o: ExposureCommandOptions): number {
  const list = o.transports === undefined ? EXPOSURE_TRANSPORTS : o.transports.split(",").map((t) => t.trim());
  const bad = list.filter((t) => !(EXPOSURE_TRANSPORTS as readonly string[]).includes(t));
  if (bad.length > 0) throw new UserError(`vxsim exposure: unknown transport(s) ${bad.join(", ")}; expected some of ${EXPOSURE_TRANSPORTS.join(", ")}`);
  const bar = progressBar("exposure", list.length, o.quiet);
  let rows: ExposureRow[];
  try {
    rows = runExposure({ seed: o.seed, transports: list, onProgress: () => bar.tick(false) });
  } finally {
    bar.stop();
  }
  emit(o, { json: rows, rows: () => csvRows(rows), table: () => formatExposure(rows) });
  return 0;
}

export function registerExposure(program: Command, run: (command: () => Promise<number> | number) => Promise<void>): void {
  addOutputOptions(
    program
      .command("exposure")
      .description("what each transport exposes to its backend, and what a hostile frontend (double fetch) or backend can do, measured by real runs")
      .option("--transports <list>", `comma-separated transports (default all: ${EXPOSURE_TRANSPORTS.join(",")})`)
      .option("--seed <n>", "seed of the jobs", seedOption, 1),
  ).action((o: ExposureCommandOptions) => run(() => exposureCommand(o)));
}
