#!/usr/bin/env node
// The `vxsim` command. Exit codes: 0 ok, 1 a failed job or internal error, 2 usage or input error.
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import Table from "cli-table3";
import { ProfileError } from "../cost/profile.ts";
import { ConfigError } from "../scenario/config-error.ts";
import { TransportSetupError } from "../transports/types.ts";
import { XenConfigError } from "../xen/config-error.ts";
import { registerExperiment } from "./cmd-experiment.ts";
import { registerExposure } from "./cmd-exposure.ts";
import { registerRun } from "./cmd-run.ts";
import { registerCompare } from "./cmd-compare.ts";
import { registerJob } from "./cmd-job.ts";
import { registerSweep } from "./cmd-sweep.ts";
import { runRingDemo, type DemoResult, type RingFormat } from "./demo.ts";
import { addOutputOptions, emit } from "./output.ts";
import { loadRunJob } from "./run-job.ts";
import { UserError } from "./user-error.ts";

function intOption(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}]`);
    return n;
  };
}

function demoTable(results: DemoResult[]): string {
  const names = Object.keys(results[0]!.counters);
  const table = new Table({
    head: ["counter", ...results.map((r) => `${r.format} ring`)],
    colAligns: ["left", ...results.map(() => "right" as const)],
    style: { head: [], border: [], compact: true },
  });
  table.push(["requests verified", ...results.map((r) => `${r.verified}/${r.requests}`)]);
  table.push(["payload bytes out / in", ...results.map((r) => `${r.bytesOut} / ${r.bytesIn}`)]);
  for (const n of names) table.push([n, ...results.map((r) => String(r.counters[n]))]);
  return table.toString();
}

// src/cli and dist/cli are both two levels below the package root.
const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command();
program
  .name("vxsim")
  .description("Deterministic simulator of VirtIO transports on Xen (and a KVM baseline)")
  .version(pkg.version, "-V, --version", "print the version of vxsim")
  .showHelpAfterError()
  // Usage errors exit with 2 (commands created below inherit this).
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

program
  .command("demo")
  .description("drive real chains through the split and packed rings between a guest and a backend domain")
  .option("--format <format>", "split, packed or both", "both")
  .option("--requests <n>", "requests per ring format", intOption("--requests", 1, 10_000_000), 1000)
  .option("--queue-size <n>", "queue size", intOption("--queue-size", 1, 256), 64)
  .option("--no-event-idx", "negotiate without VIRTIO_F_EVENT_IDX")
  .option("--seed <n>", "seed of the run", intOption("--seed", 0, 2 ** 31 - 1), 1);
addOutputOptions(program.commands.find((c) => c.name() === "demo")!, false)
  .action((o: { format: string; requests: number; queueSize: number; eventIdx: boolean; seed: number; json?: boolean; csv?: boolean }) => {
    const formats: RingFormat[] = o.format === "both" ? ["split", "packed"] : o.format === "split" || o.format === "packed" ? [o.format] : [];
    if (formats.length === 0) {
      console.error(`vxsim demo: --format must be split, packed or both, got '${o.format}'`);
      process.exit(2);
    }
    const queueSize = o.queueSize;
    const results = formats.map((format) => runRingDemo({ format, requests: o.requests, seed: o.seed, queueSize, eventIdx: o.eventIdx }));
    emit(o, {
      json: results,
      rows: () => results,
      table: () =>
        `vxsim ring demo: guest domain 1 -> backend domain 0 (foreign-mapped), ${o.requests} requests per format, queue size ${queueSize}, EVENT_IDX ${o.eventIdx ? "on" : "off"}, seed ${o.seed}\n` +
        demoTable(results),
    });
  });

/** Sets the exit code of a command: errors in what the user gave exit with 2 and print only
 *  their message; a job the model refuses to set up as asked (a transport's refusal, a domain
 *  too small for the transport's areas) is a failed job, 1 with its message; anything else is an
 *  internal error (1, with the stack). */
async function settle(command: () => Promise<number> | number): Promise<void> {
  try {
    process.exitCode = await command();
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UserError || e instanceof ProfileError) {
      console.error(e.message);
      process.exitCode = 2;
    } else if (e instanceof TransportSetupError || e instanceof XenConfigError) {
      console.error(`vxsim: the job cannot run as asked: ${e.message}`);
      process.exitCode = 1;
    } else {
      throw e;
    }
  }
}

registerSweep(program, settle, intOption);
registerRun(program, settle, loadRunJob, intOption);
registerCompare(program, settle, loadRunJob, intOption);
registerJob(program, settle, loadRunJob, intOption);
registerExperiment(program, settle, loadRunJob);
registerExposure(program, settle);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`vxsim: internal error: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
}
