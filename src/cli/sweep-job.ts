// The job a sweep runs by default: vxsim's runJob on the point's spec, summarised for the row.
import type { JobResult, JobSpec } from "../run/result.ts";
import { summarizeJob, type JobSummary } from "./job-summary.ts";
import { loadRunJob } from "./run-job.ts";

// Loaded when the module is imported, so a missing entry point fails before any point runs.
const runJob = await loadRunJob();

export function sweepJob(spec: JobSpec): JobSummary {
  return summarizeJob(runJob(spec));
}

/** The whole result (no timeline): what `compare` tabulates and reports. */
export function fullJob(spec: JobSpec): JobResult {
  return runJob(spec);
}
