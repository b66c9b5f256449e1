// Plain-data shapes the report reads besides JobResult: an experiment's table with its
// verdict, and what a report is made of. Kept free of behaviour so experiments, sweeps and
// worker threads can produce them and they survive JSON unchanged.
import type { JobResult } from "../run/result.ts";

/** One experiment's outcome: the claim it tests, the table behind it and the verdict. */
export interface ExperimentTable {
  name: string;
  title: string;
  claim: string;
  columns: string[];
  rows: (string | number)[][];
  verdict: { holds: boolean; text: string };
  notes?: string[];
}

export interface ReportInput {
  title: string;
  results: JobResult[];
  experiments?: ExperimentTable[];
  /** Free-form facts printed under the title: version, seed, scenario, command line... */
  meta: Record<string, string | number | boolean>;
}
