// C4: Argo copies. Buffered: the sender stages the data, Xen copies it into the receiver's
// ring, the receiver copies it out: 3 copies per I/O. Scatter-gather: Xen gathers straight
// from the sender's buffers, so the source side makes 1 copy. Counted per copier from the
// jobs' counters (payload bytes moved / request size), and what it costs per architecture.
import * as L from "../wasm/layout.ts";
import { ARGO_VARIANTS, type ArgoVariant } from "../transports/argo.ts";
import { ARCHES, archesOf, round, runSeeds } from "./common.ts";
import { BLK_RWS, blkSpec, failureNotes, iosPerJob, nsPerIo, requireRunJob, runJobs, type BlkRw, type Outcome } from "./jobs.ts";
import type { Experiment, ExperimentTable, RunOptions, Verdict } from "./types.ts";

/** Data copies per I/O by who makes them: payload bytes each copier moved per I/O over the
 *  request size (the blk header and status bytes ride along and are a rounding error). */
export interface DataCopies {
  guest: number;
  xen: number;
  backend: number;
}

export interface C4Row {
  arch: string;
  rw: BlkRw;
  bs: number;
  variant: ArgoVariant;
  /** Copy operations per I/O of every message (requests and completions), as the job counted. */
  copies: number;
  data: DataCopies;
  cycles: number;
  ns: number;
}

export function c4Sizes(quick: boolean | undefined): number[] {
  return quick ? [4096] : [512, 4096, 65536];
}

export function c4Rows(outcomes: readonly Outcome[]): C4Row[] {
  const rows: C4Row[] = [];
  for (const o of outcomes) {
    const w = o.spec.workload;
    if (!o.ok || w.kind !== "fio" || (w.rw !== "randread" && w.rw !== "randwrite")) continue;
    const variant = o.spec.transport.split(":")[1] as ArgoVariant;
    if (!ARGO_VARIANTS.includes(variant)) continue;
    const r = o.result;
    const per = (id: number) => r.counters[id]! / r.ios / w.bs;
    rows.push({
      arch: o.spec.profile, rw: w.rw, bs: w.bs, variant, copies: r.perIo.copies,
      data: { guest: per(L.CNT_TR_COPY_BYTES_GUEST), xen: per(L.CNT_TR_COPY_BYTES_HV), backend: per(L.CNT_TR_COPY_BYTES_BACKEND) },
      cycles: r.cyclesPerIo, ns: nsPerIo(r),
    });
  }
  return rows;
}

const total = (d: DataCopies) => d.guest + d.xen + d.backend;
/** Copies on the data's sending side: the sender's own staging plus Xen's copy out of it. */
const sourceSide = (r: C4Row) => (r.rw === "randwrite" ? r.data.guest : r.data.backend) + r.data.xen;

/** Holds iff every buffered row copies the data 3 times and every sg row once on the
 *  source side (both rounded to whole copies), with both variants measured everywhere. */
export function c4Verdict(rows: readonly C4Row[], failed = 0): Verdict {
  if (rows.length === 0) return { holds: false, text: "no rows: nothing was measured" };
  const misses: string[] = [];
  if (failed > 0) misses.push(`${failed} job(s) failed`);
  for (const r of rows) {
    const where = `${r.arch} ${r.rw} ${r.bs} B ${r.variant}`;
    if (r.variant === "buffered" && Math.round(total(r.data)) !== 3) misses.push(`${where}: ${round(total(r.data), 2)} data copies`);
    if (r.variant === "sg" && Math.round(sourceSide(r)) !== 1) misses.push(`${where}: ${round(sourceSide(r), 2)} source-side copies`);
  }
  if (misses.length > 0) return { holds: false, text: misses.join("; ") };
  const costs = ARCHES.flatMap((arch) => {
    const pairs = rows.filter((r) => r.arch === arch && r.variant === "buffered").map((b) => {
      const s = rows.find((r) => r.arch === arch && r.variant === "sg" && r.rw === b.rw && r.bs === b.bs);
      return s ? (b.cycles - s.cycles) / b.cycles : undefined;
    }).filter((x): x is number => x !== undefined);
    return pairs.length === 0 ? [] : [`${arch} ${round(Math.min(...pairs) * 100)}%..${round(Math.max(...pairs) * 100)}%`];
  });
  const sgRead = rows.filter((r) => r.variant === "sg" && r.rw === "randread").map((r) => Math.round(total(r.data)));
  const readNote = sgRead.length > 0 ? `; an sg read still totals ${Math.max(...sgRead)} (the guest copies out of its ring)` : "";
  return {
    holds: true,
    text: `buffered copies the data 3 times per I/O and sg once on the source side in every case${readNote}; sg saves ${costs.join(", ")} of cycles per I/O`,
  };
}

export function c4Table(rows: readonly C4Row[], notes: string[], failed = 0): ExperimentTable {
  return {
    name: "c4",
    title: C4.title,
    claim: C4.claim,
    columns: ["arch", "rw", "bs", "variant", "copy ops/IO", "data copies: guest", "Xen", "backend", "total", "cycles/IO", "ns/IO"],
    rows: rows.map((r) => [r.arch, r.rw, r.bs, r.variant, round(r.copies, 2), round(r.data.guest, 2), round(r.data.xen, 2),
      round(r.data.backend, 2), round(total(r.data), 2), round(r.cycles, 0), round(r.ns, 0)]),
    verdict: c4Verdict(rows, failed),
    notes,
  };
}

export const C4: Experiment = {
  name: "c4",
  slug: "argo-copies",
  title: "Argo buffered against scatter-gather: copies per I/O and their cost",
  claim: "Argo buffered copies the data 3 times per I/O, scatter-gather once on the source side; what that costs per architecture",
  run(opts: RunOptions): ExperimentTable {
    const runJob = requireRunJob(opts, "c4");
    const [seed] = runSeeds(opts.seed, "c4", 1);
    const ios = iosPerJob(opts.quick);
    const specs = archesOf(opts, ARCHES).flatMap((arch) => BLK_RWS.flatMap((rw) => c4Sizes(opts.quick).flatMap((bs) =>
      ARGO_VARIANTS.map((v) => blkSpec(`argo:${v}`, arch, rw, bs, ios, seed!)))));
    const outcomes = runJobs(runJob, specs, opts);
    const fails = failureNotes(outcomes);
    return c4Table(c4Rows(outcomes), [
      `blk ${BLK_RWS.join(" and ")}, iodepth 1, ${ios} I/Os per job, both variants on the same seed`,
      "copy ops/IO: copy operations of both messages (request and completion); data copies: payload bytes each copier moved per I/O over the request size",
      "source side: the sender's own copies plus Xen's (the guest sends a write's data, the backend a read's)",
      ...fails,
    ], fails.length);
  },
};
