// C1: "measurements so far always demonstrated grant table is slower than any memcpy
// mechanisms" (on Arm). Every grant-based transport against every memcpy-based one, per I/O,
// on Arm v8.0 and v8.1, blk randread and randwrite, 512 B .. 64 KiB.
import type { Arch } from "./common.ts";
import { archesOf, round, runSeeds } from "./common.ts";
import { BLK_RWS, blkSpec, failureNotes, iosPerJob, requireRunJob, runJobs, sizes, type BlkRw, type Outcome } from "./jobs.ts";
import type { Experiment, ExperimentTable, RunOptions, Verdict } from "./types.ts";

export const C1_ARCHES: readonly Arch[] = ["arm64-v8.0", "arm64-v8.1-lse"];
export const GRANT_TRANSPORTS = ["grant-map", "grant-copy", "grant-persistent"] as const;
export const MEMCPY_TRANSPORTS = ["fat-virtqueue", "preshared-bounce", "argo:buffered"] as const;
const ALL = [...GRANT_TRANSPORTS, ...MEMCPY_TRANSPORTS];

/** One size of one workload on one architecture: cycles per I/O by transport (null: failed). */
export interface C1Row {
  arch: string;
  rw: BlkRw;
  bs: number;
  cycles: Record<string, number | null>;
}

export function c1Rows(outcomes: readonly Outcome[]): C1Row[] {
  const rows = new Map<string, C1Row>();
  for (const o of outcomes) {
    const w = o.spec.workload;
    if (w.kind !== "fio" || (w.rw !== "randread" && w.rw !== "randwrite")) continue;
    const key = `${o.spec.profile}/${w.rw}/${w.bs}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { arch: o.spec.profile, rw: w.rw, bs: w.bs, cycles: {} }));
    row.cycles[o.spec.transport] = o.ok ? o.result.cyclesPerIo : null;
  }
  return [...rows.values()];
}

/** Per row: the cheapest grant transport against the dearest memcpy one. */
export function c1Margin(row: C1Row): { grant: [string, number]; memcpy: [string, number] } | undefined {
  const pick = (ids: readonly string[], better: (a: number, b: number) => boolean) => {
    let best: [string, number] | undefined;
    for (const id of ids) {
      const c = row.cycles[id];
      if (c === null || c === undefined) return undefined; // a side is incomplete: no comparison
      if (!best || better(c, best[1])) best = [id, c];
    }
    return best;
  };
  const grant = pick(GRANT_TRANSPORTS, (a, b) => a < b);
  const memcpy = pick(MEMCPY_TRANSPORTS, (a, b) => a > b);
  return grant && memcpy ? { grant, memcpy } : undefined;
}

/** Holds iff in every row every grant transport costs more cycles per I/O than every memcpy one. */
export function c1Verdict(rows: readonly C1Row[]): Verdict {
  if (rows.length === 0) return { holds: false, text: "no rows: nothing was measured" };
  const incomplete: string[] = [];
  const counter: string[] = [];
  let minRatio = Infinity;
  for (const r of rows) {
    const m = c1Margin(r);
    const where = `${r.arch} ${r.rw} ${r.bs} B`;
    if (!m) {
      incomplete.push(where);
      continue;
    }
    minRatio = Math.min(minRatio, m.grant[1] / m.memcpy[1]);
    if (!(m.grant[1] > m.memcpy[1])) {
      counter.push(`${where}: ${m.grant[0]} ${round(m.grant[1], 0)} <= ${m.memcpy[0]} ${round(m.memcpy[1], 0)} cycles/IO`);
    }
  }
  if (counter.length > 0 || incomplete.length > 0) {
    const parts = [];
    if (counter.length > 0) parts.push(`a grant transport is not slower in ${counter.length}/${rows.length} cases: ${counter.join("; ")}`);
    if (incomplete.length > 0) parts.push(`cannot compare (a job failed) at ${incomplete.join(", ")}`);
    return { holds: false, text: parts.join("; ") };
  }
  return {
    holds: true,
    text: `in all ${rows.length} cases the cheapest grant transport costs more per I/O than the dearest memcpy one ` +
      `(at least x${round(minRatio, 2)})`,
  };
}

export function c1Table(rows: readonly C1Row[], notes: string[]): ExperimentTable {
  return {
    name: "c1",
    title: C1.title,
    claim: C1.claim,
    columns: ["arch", "rw", "bs", ...ALL.map((t) => `${t} cyc/IO`), "cheapest grant / dearest memcpy"],
    rows: rows.map((r) => {
      const m = c1Margin(r);
      return [r.arch, r.rw, r.bs, ...ALL.map((t) => (r.cycles[t] == null ? "failed" : round(r.cycles[t]!, 0))),
        m ? round(m.grant[1] / m.memcpy[1], 2) : "n/a"];
    }),
    verdict: c1Verdict(rows),
    notes,
  };
}

export const C1: Experiment = {
  name: "c1",
  slug: "arm-grants-vs-memcpy",
  title: "On Arm, grant transports against memcpy transports",
  claim: "on Arm (v8.0 and v8.1), grant-based transports (grant-map, grant-copy, grant-persistent) are slower per I/O than memcpy-based ones (fat-virtqueue, preshared-bounce, argo buffered) at every request size",
  run(opts: RunOptions): ExperimentTable {
    const runJob = requireRunJob(opts, "c1");
    const [seed] = runSeeds(opts.seed, "c1", 1);
    const ios = iosPerJob(opts.quick);
    const specs = archesOf(opts, C1_ARCHES).flatMap((arch) => BLK_RWS.flatMap((rw) => sizes(opts.quick).flatMap((bs) =>
      ALL.map((t) => blkSpec(t, arch, rw, bs, ios, seed!)))));
    const outcomes = runJobs(runJob, specs, opts);
    return c1Table(c1Rows(outcomes), [
      `blk ${BLK_RWS.join(" and ")}, iodepth 1, ${ios} I/Os per job, every transport with the same seed (same offsets)`,
      "cycles per I/O: the job's priced cycles over all CPUs (guest, hypervisor, backend) divided by completed I/Os",
      ...failureNotes(outcomes),
    ]);
  },
};
