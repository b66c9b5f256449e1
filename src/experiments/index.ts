// The experiments registry: each settles one claim of the Xen VirtIO discussion with a sweep,
// a table and a verdict computed from the run.
import { C1 } from "./c1-arm-grants.ts";
import { C2 } from "./c2-x86-crossover.ts";
import { C3 } from "./c3-flush-elision.ts";
import { C4 } from "./c4-argo-copies.ts";
import { C5 } from "./c5-llsc-starvation.ts";
import { C6 } from "./c6-riscv-subword.ts";
import { C7 } from "./c7-double-fetch.ts";
import type { Experiment } from "./types.ts";

export const EXPERIMENTS: readonly Experiment[] = [C1, C2, C3, C4, C5, C6, C7];

/** An experiment by name (`c5`) or slug (`llsc-starvation`), case-insensitive. */
export function experimentByName(name: string): Experiment {
  const key = name.trim().toLowerCase();
  const e = EXPERIMENTS.find((x) => x.name === key || x.slug === key);
  if (!e) {
    throw new Error(`unknown experiment '${name}'; valid: ${EXPERIMENTS.map((x) => `${x.name} (${x.slug})`).join(", ")}`);
  }
  return e;
}

export { formatTable } from "./common.ts";
export { ExperimentError, type Cell, type Experiment, type ExperimentName, type ExperimentTable, type RunJob, type RunOptions, type Verdict } from "./types.ts";
export { findCrossover, type CrossPoint, type Crossover } from "./c2-x86-crossover.ts";
