// Runs sweep points on worker threads. Each worker imports the job function once and takes
// one point at a time; results are stored by point index, so nothing about the output depends
// on which worker finished first. A job that throws gives an error outcome for its point; a
// worker that dies takes only its current point with it and is replaced.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { SOURCE_EXT, isTypeScript, tsxLoaderUrl, type JobRef, type Task, type TaskDone } from "./job-ref.ts";

export type Outcome = { ok: true; result: unknown } | { ok: false; error: string };

export interface PoolOptions {
  /** Worker threads (default: one per available CPU); never more than the tasks. */
  jobs?: number;
  /** Called after each finished task with the count done so far and whether it failed. */
  onDone?: (done: number, failed: boolean) => void;
}

export function poolSize(tasks: number, jobs?: number): number {
  return Math.max(0, Math.min(jobs ?? availableParallelism(), tasks));
}

const WORKER = new URL(`./sweep-worker${SOURCE_EXT}`, import.meta.url).href;

/** The worker's first code: TypeScript sources (ours under tsx or vitest, or a .ts job
 *  module) need tsx's loader registered in the thread before they are imported. */
function bootstrap(job: JobRef): string {
  const loader = isTypeScript(WORKER) || isTypeScript(job.module)
    ? `(await import(${JSON.stringify(tsxLoaderUrl(`job module ${job.label} in a worker thread`))})).register();`
    : "";
  return `(async () => { ${loader} await import(${JSON.stringify(WORKER)}); })();`;
}

/** Runs every task; resolves with one outcome per task index. */
export function runPool(tasks: readonly Task[], job: JobRef, opts: PoolOptions = {}): Promise<Map<number, Outcome>> {
  const outcomes = new Map<number, Outcome>();
  const size = poolSize(tasks.length, opts.jobs);
  if (size === 0) return Promise.resolve(outcomes);
  const code = bootstrap(job);
  let next = 0;
  let live = 0;
  return new Promise((resolve) => {
    const finish = (index: number, o: Outcome) => {
      if (outcomes.has(index)) return;
      outcomes.set(index, o);
      opts.onDone?.(outcomes.size, !o.ok);
    };
    const start = () => {
      live++;
      let current: number | undefined;
      let ready = false;
      let died = "";
      const w = new Worker(code, { eval: true, workerData: job });
      const feed = () => {
        if (next < tasks.length) {
          const t = tasks[next++]!;
          current = t.index;
          w.postMessage(t);
        } else {
          current = undefined;
          void w.terminate();
        }
      };
      w.on("message", (m: TaskDone | "ready") => {
        ready = true;
        if (m !== "ready") finish(m.index, m.ok ? { ok: true, result: JSON.parse(m.json) } : { ok: false, error: m.error });
        feed();
      });
      w.on("error", (e) => {
        died = e.message;
        if (current !== undefined) finish(current, { ok: false, error: `worker thread died: ${e.message}` });
        current = undefined;
      });
      w.on("exit", () => {
        live--;
        if (current !== undefined) finish(current, { ok: false, error: "worker thread exited while running this point" });
        if (!ready) {
          // It could not even load the job: so would any other worker. Every point not yet
          // handed out fails with the reason.
          while (next < tasks.length) finish(tasks[next++]!.index, { ok: false, error: `worker thread failed to start: ${died || "it exited"}` });
        }
        // A worker that died leaves tasks behind: a fresh one takes over.
        if (next < tasks.length) start();
        else if (live === 0) resolve(outcomes);
      });
    };
    for (let i = 0; i < size; i++) start();
  });
}
