// What an experiment is and what it produces. An experiment runs a sweep, tabulates what the
// run measured and computes a verdict on one claim of the Xen VirtIO discussion from those
// numbers. Tables are plain data (JSON-safe) so the CLI, reports and tests read them alike.
import type { JobResult, JobSpec } from "../run/result.ts";

/** Runs one simulated job (the runner is injected; experiments never build transports). */
export type RunJob = (spec: JobSpec) => JobResult;

export type ExperimentName = "c1" | "c2" | "c3" | "c4" | "c5" | "c6" | "c7";

export interface RunOptions {
  /** Base seed: every run of the sweep derives its own seed from it. */
  seed: number;
  /** Reduced sweep (fewer seeds and sizes) for tests and CI. Default: the full sweep. */
  quick?: boolean;
  /** The job runner, for experiments that simulate transports (C1..C4). */
  runJob?: RunJob;
  /** Only these architectures, for experiments that sweep them (default: the experiment's own). */
  arches?: readonly string[];
  /** Called after each run of the sweep. */
  onProgress?: (done: number, total: number) => void;
}

export type Cell = string | number;

export interface Verdict {
  holds: boolean;
  text: string;
}

export interface ExperimentTable {
  name: ExperimentName;
  title: string;
  claim: string;
  columns: string[];
  rows: Cell[][];
  verdict: Verdict;
  notes?: string[];
}

export interface Experiment {
  name: ExperimentName;
  /** A readable alias for the name, e.g. `llsc-starvation`. */
  slug: string;
  title: string;
  claim: string;
  run(opts: RunOptions): ExperimentTable;
}

/** Thrown when an experiment cannot run as asked (no runner, bad options). */
export class ExperimentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExperimentError";
  }
}
