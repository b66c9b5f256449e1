// --trace and --speedscope, for `job` and `run`: the Perfetto/Chrome trace of the jobs' virtual
// time and the speedscope profile of their priced cycles. Several jobs go into one file of
// each: a process per domain per job in the trace, the job's profiles side by side in speedscope.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { buildProfile, profileToJson } from "../report/profile.ts";
import { mergeProfiles } from "../report/profile-merge.ts";
import { buildTrace, traceToJson } from "../report/trace.ts";
import type { JobResult } from "../run/result.ts";

export interface ExportOptions {
  trace?: string;
  speedscope?: string;
  quiet?: boolean;
}

/** `whose`: "the run's", "the jobs'"; `several`: how several jobs share a file (help text). */
export function addExportOptions(c: Command, whose: string, several?: { trace: string; speedscope: string }): Command {
  return c
    .option("--trace <file>", `write the Chrome/Perfetto trace of ${whose} virtual time${several ? ` (${several.trace})` : ""}`)
    .option("--speedscope <file>", `write the speedscope profile of ${whose} priced cycles${several ? ` (${several.speedscope})` : ""}`);
}

/** Whether the jobs must record their timeline. */
export function wantsTimeline(o: ExportOptions): boolean {
  return o.trace !== undefined || o.speedscope !== undefined;
}

/** Writes the files asked for; `title` names the merged profile of several jobs. */
export function writeExports(command: string, o: ExportOptions, jobs: readonly { name: string; result: JobResult }[], title: string): void {
  if (o.trace !== undefined) writeFileSync(o.trace, traceToJson(buildTrace(jobs.map((j) => j.result), jobs.map((j) => j.name))));
  if (o.speedscope !== undefined) {
    const files = jobs.map((j) => ({ name: j.name, file: buildProfile(j.result) }));
    writeFileSync(o.speedscope, profileToJson(files.length === 1 ? files[0]!.file : mergeProfiles(files, title)));
  }
  if (o.quiet) return;
  if (o.trace !== undefined) console.error(`vxsim ${command}: trace written to ${o.trace} (open it in https://ui.perfetto.dev)`);
  if (o.speedscope !== undefined) console.error(`vxsim ${command}: profile written to ${o.speedscope} (open it in https://www.speedscope.app)`);
}
