// What the experiments that simulate transports (C1..C4) share: the injected runner, blk job
// specs, the size sweep, and running a list of jobs with their failures kept as outcomes.
import type { JobResult, JobSpec } from "../run/result.ts";
import { checkSeed } from "./common.ts";
import { ExperimentError, type RunJob, type RunOptions } from "./types.ts";

export type BlkRw = "randread" | "randwrite";
export const BLK_RWS: readonly BlkRw[] = ["randread", "randwrite"];

/** Request sizes 512 B .. 64 KiB, doubling; quick: both ends and 4 KiB. */
export function sizes(quick: boolean | undefined): number[] {
  return quick ? [512, 4096, 65536] : [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
}

/** I/Os per job: enough for steady per-I/O counts; quick runs fewer. */
export function iosPerJob(quick: boolean | undefined): number {
  return quick ? 32 : 256;
}

/** Queue depth of every blk job: one request in flight, so a job's cost per I/O is one
 *  request's whole path (no batching of notifications across requests). */
export const IODEPTH = 1;

export function requireRunJob(opts: RunOptions, name: string): RunJob {
  if (typeof opts.runJob !== "function") {
    throw new ExperimentError(
      `${name} simulates transports and needs a job runner: pass RunOptions.runJob (a function from JobSpec to JobResult, src/run)`,
    );
  }
  checkSeed(opts.seed);
  return opts.runJob;
}

export function blkSpec(transport: string, profile: string, rw: BlkRw, bs: number, ios: number, seed: number,
  options?: JobSpec["options"]): JobSpec {
  const spec: JobSpec = { transport, profile, device: "blk", workload: { kind: "fio", rw, bs, iodepth: IODEPTH }, ios, seed };
  if (options) spec.options = options;
  return spec;
}

/** A job's result, or why it could not run (a transport that cannot carry a size refuses). */
export type Outcome = { ok: true; spec: JobSpec; result: JobResult } | { ok: false; spec: JobSpec; error: string };

/** Runs each spec once, in order, reporting progress. Only ExperimentError (a bad runner)
 *  stops the sweep; any other failure is recorded as that job's outcome. */
export function runJobs(runJob: RunJob, specs: readonly JobSpec[], opts: RunOptions): Outcome[] {
  const out: Outcome[] = [];
  specs.forEach((spec, k) => {
    try {
      const result = runJob(spec);
      if (!result || !(result.ios > 0) || !Number.isFinite(result.cyclesPerIo)) {
        throw new ExperimentError(`the job runner returned no completed I/Os for ${describe(spec)}`);
      }
      out.push({ ok: true, spec, result });
    } catch (e) {
      if (e instanceof ExperimentError) throw e;
      out.push({ ok: false, spec, error: (e as Error).message ?? String(e) });
    }
    opts.onProgress?.(k + 1, specs.length);
  });
  return out;
}

export function describe(spec: JobSpec): string {
  const w = spec.workload;
  const what = w.kind === "fio" ? `${w.rw} bs=${w.bs}` : w.kind;
  const opt = (spec.options?.tlbFlushElision ? " +elision" : "") + (spec.options?.backendDataPath === "dma" ? " (dma)" : "");
  return `${spec.transport}${opt} on ${spec.profile}, ${what}`;
}

/** Notes for the table: every job that failed, with its reason. */
export function failureNotes(outcomes: readonly Outcome[]): string[] {
  return outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok).map((o) => `failed: ${describe(o.spec)}: ${o.error}`);
}

/** Nanoseconds per I/O of a result. */
export function nsPerIo(r: JobResult): number {
  return r.price.ns / r.ios;
}
