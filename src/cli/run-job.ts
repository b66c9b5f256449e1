// Where the CLI gets the simulation's entry point (kept behind one function so commands and
// sweep workers load it the same way).
import type { JobResult, JobSpec } from "../run/result.ts";
import { runJob } from "../run/run-job.ts";

export type RunJob = (spec: JobSpec, opts?: { trace?: boolean }) => JobResult;

export async function loadRunJob(): Promise<RunJob> {
  return runJob;
}
