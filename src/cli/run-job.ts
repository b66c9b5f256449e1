// Where the CLI gets the simulation's entry point. src/run/job.ts is written in parallel with
// the CLI; until it is merged, loading it fails with a message that says so. Once it is in,
// this file becomes `export { runJob } from "../run/job.ts"` and loadRunJob returns it.
import type { JobResult, JobSpec } from "../run/result.ts";
import { SOURCE_EXT } from "./job-ref.ts";

export type RunJob = (spec: JobSpec, opts?: { trace?: boolean }) => JobResult;

export async function loadRunJob(): Promise<RunJob> {
  const url = new URL(`../run/job${SOURCE_EXT}`, import.meta.url);
  let mod: { runJob?: RunJob };
  try {
    mod = (await import(url.href)) as { runJob?: RunJob };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String((e as Error).message).includes(url.pathname)) {
      throw new Error(`the simulation entry point (src/run/job.ts, runJob) is not part of this build yet`);
    }
    throw e;
  }
  if (typeof mod.runJob !== "function") throw new Error(`${url.pathname} does not export runJob`);
  return mod.runJob;
}
