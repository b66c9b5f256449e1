// `vxsim job`: one job from the command line, with the exports a profiling study wants: the
// Perfetto/Chrome trace of its virtual time (--trace) and the speedscope profile of its priced
// cycles (--speedscope). The rows are those of `run`.
import type { Command } from "commander";
import { jobLabel } from "../report/trace.ts";
import type { JobSpec } from "../run/result.ts";
import { TRANSPORT_SPELLINGS } from "../scenario/vocabulary.ts";
import { summarizeJob } from "./job-summary.ts";
import { addExportOptions, wantsTimeline, writeExports, type ExportOptions } from "./exports.ts";
import { checkProfileRef } from "./profile-ref.ts";
import { addOutputOptions, emit, fmt, textTable, type OutputOptions } from "./output.ts";
import type { RunJob } from "./run-job.ts";
import { UserError } from "./user-error.ts";

export interface JobCommandOptions extends OutputOptions, ExportOptions {
  transport: string;
  profile: string;
  device: string;
  rw: string;
  bs: number;
  iodepth: number;
  message: number;
  test: string;
  ios: number;
  seed: number;
  elision?: boolean;
}

const RWS = ["read", "write", "randread", "randwrite", "randrw"];

/** The JobSpec the options describe; a UserError names the option at fault. */
export function jobSpecOf(o: JobCommandOptions): JobSpec {
  const bad = (msg: string): never => {
    throw new UserError(`vxsim job: ${msg}`);
  };
  if (!TRANSPORT_SPELLINGS.includes(o.transport)) bad(`--transport must be one of ${TRANSPORT_SPELLINGS.join(", ")}, got '${o.transport}'`);
  let workload: JobSpec["workload"];
  switch (o.device) {
    case "blk":
      if (!RWS.includes(o.rw)) bad(`--rw must be one of ${RWS.join(", ")}, got '${o.rw}'`);
      workload = { kind: "fio", rw: o.rw as "randread", bs: o.bs, iodepth: o.iodepth };
      break;
    case "net":
      if (o.test !== "stream" && o.test !== "rr") bad(`--test must be stream or rr, got '${o.test}'`);
      workload = { kind: "netperf", test: o.test as "stream", messageSize: o.message };
      break;
    case "rng":
      workload = { kind: "rng", readSize: o.bs };
      break;
    default:
      return bad(`--device must be blk, net or rng, got '${o.device}'`);
  }
  return {
    transport: o.transport, profile: o.profile, device: o.device as "blk", workload, ios: o.ios, seed: o.seed,
    ...(o.elision ? { options: { tlbFlushElision: true } } : {}),
  };
}

export function jobCommand(o: JobCommandOptions, runJob: RunJob): number {
  const spec = jobSpecOf(o);
  checkProfileRef(spec.profile, "job");
  const r = runJob(spec, { trace: wantsTimeline(o) });
  writeExports("job", o, [{ name: jobLabel(r), result: r }], jobLabel(r));
  const { timeline: _t, ...result } = r;
  const s = summarizeJob(r);
  emit(o, {
    json: result,
    rows: () => [{ transport: spec.transport, device: spec.device, ...s }],
    table: () => textTable(
      ["transport", "device", "profile", "I/Os", "IOPS", "MB/s", "p50 ns", "p99 ns", "cycles/IO", "copies/IO", "maps/IO", "flushes/IO", "traps/IO", "hcalls/IO"],
      [[spec.transport, spec.device, r.profile, r.ios, r.iops, r.throughputMBps, r.latency.p50, r.latency.p99, r.cyclesPerIo, r.perIo.copies, r.perIo.maps,
        r.perIo.tlbFlushes, r.perIo.traps, r.perIo.hypercalls].map(fmt)],
      2,
    ),
  });
  return 0;
}

export function registerJob(program: Command, run: (command: () => Promise<number> | number) => Promise<void>, load: () => Promise<RunJob>, int: (name: string, min: number, max: number) => (v: string) => number): void {
  addOutputOptions(addExportOptions(
    program
      .command("job")
      .description("run one job (transport, profile, device, workload) and optionally export its trace and profile")
      .requiredOption("--transport <t>", "transport, as scenarios spell it (grant-map, argo:sg, ...)")
      .option("--profile <p>", "built-in profile or profile file", "x86-64")
      .option("--device <d>", "blk, net or rng", "blk")
      .option("--rw <rw>", "blk: read, write, randread, randwrite or randrw", "randread")
      .option("--bs <bytes>", "blk request size / rng read size", int("--bs", 1, 1 << 24), 4096)
      .option("--iodepth <n>", "blk requests in flight", int("--iodepth", 1, 256), 1)
      .option("--test <t>", "net: stream or rr", "stream")
      .option("--message <bytes>", "net message size", int("--message", 1, 65536), 1400)
      .option("--ios <n>", "I/Os to complete", int("--ios", 1, 10_000_000), 1000)
      .option("--seed <n>", "seed of the run", int("--seed", 0, 2 ** 31 - 1), 1)
      .option("--elision", "grant-map: skip the unmap TLB flush when no mapping was accessed"),
    "the run's",
  )).action(async (o: JobCommandOptions) => run(async () => jobCommand(o, await load())));
}
