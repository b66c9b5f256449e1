// Which function a sweep runs for each point: a module and an export name, so the sweep
// machinery knows nothing of the simulation and a test (or a user) can plug in another job.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { JobSpec } from "../run/result.ts";
import { UserError } from "./user-error.ts";

export type JobFunction = (spec: JobSpec) => unknown;

export interface JobRef {
  /** file: URL of the module. */
  module: string;
  exportName: string;
  /** How sweep outputs name the job; merge refuses outputs of different jobs. */
  label: string;
}

export interface Task {
  index: number;
  spec: JobSpec;
}

export type TaskDone = { index: number; ok: true; json: string } | { index: number; ok: false; error: string };

/** Sources run as .ts (tsx, vitest) or compiled .js (dist); sibling modules share the extension. */
export const SOURCE_EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";

/** vxsim's own job: runJob, summarised (sweep-job.ts). */
export const DEFAULT_JOB: JobRef = {
  module: new URL(`./sweep-job${SOURCE_EXT}`, import.meta.url).href,
  exportName: "sweepJob",
  label: "vxsim:runJob",
};

/** `--job path/to/module.ts#exportName` (export `job` when left out), path relative to cwd. */
export function parseJobRef(text: string): JobRef {
  const hash = text.lastIndexOf("#");
  const file = hash < 0 ? text : text.slice(0, hash);
  const exportName = hash < 0 ? "job" : text.slice(hash + 1);
  if (file === "" || !/^[A-Za-z_$][\w$]*$/.test(exportName)) throw new UserError(`--job must be <module file>[#<export name>], got '${text}'`);
  return { module: pathToFileURL(file).href, exportName, label: text };
}

export const isTypeScript = (url: string): boolean => /\.[cm]?ts$/.test(url);

/** file: URL of tsx's ESM loader API, which lets a thread import TypeScript. */
export function tsxLoaderUrl(why: string): string {
  let api: string;
  try {
    api = createRequire(import.meta.url).resolve("tsx/esm/api");
  } catch {
    throw new UserError(`${why} needs tsx to load TypeScript (npm install tsx)`);
  }
  return pathToFileURL(api.replace(/index\.cjs$/, "index.mjs")).href;
}

let tsxRegistered = SOURCE_EXT === ".ts"; // sources that are .ts already run under a TS loader

/** Imports the job function; a module that does not load or export a function is an error
 *  (the user's when they named the module, vxsim's own for the default job). */
export async function importJob(ref: JobRef): Promise<JobFunction> {
  const Err = ref.module === DEFAULT_JOB.module ? Error : UserError;
  let mod: Record<string, unknown>;
  if (isTypeScript(ref.module) && !tsxRegistered) {
    ((await import(tsxLoaderUrl(`job module ${ref.label}`))) as { register: () => void }).register();
    tsxRegistered = true;
  }
  try {
    mod = (await import(ref.module)) as Record<string, unknown>;
  } catch (e) {
    throw new Err(`job module ${ref.label}: cannot load it (${(e as Error).message})`);
  }
  const fn = mod[ref.exportName];
  if (typeof fn !== "function") {
    const fns = Object.keys(mod).filter((k) => typeof mod[k] === "function");
    throw new Err(`job module ${ref.label}: no exported function '${ref.exportName}' (it exports: ${fns.join(", ") || "no functions"})`);
  }
  return fn as JobFunction;
}
