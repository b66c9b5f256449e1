// C2: "if you know how to do shared memory, it is still faster than data copying in enough
// cases" (x86). Shared-memory transports (persistent grants; grant-map with the unmap flush
// elided) against copying ones (grant copy, pre-shared bounce, Argo) on x86-64 across request
// sizes, and the size above which sharing wins: the crossover.
import { round, runSeeds } from "./common.ts";
import { BLK_RWS, blkSpec, failureNotes, iosPerJob, requireRunJob, runJobs, sizes, type BlkRw, type Outcome } from "./jobs.ts";
import type { JobSpec } from "../run/result.ts";
import type { Experiment, ExperimentTable, RunOptions, Verdict } from "./types.ts";

interface Variant {
  label: string;
  transport: string;
  options?: JobSpec["options"];
}

export const SHARED_VARIANTS: readonly Variant[] = [
  { label: "grant-persistent", transport: "grant-persistent" },
  { label: "grant-map+elision", transport: "grant-map", options: { tlbFlushElision: true } },
];
export const COPY_VARIANTS: readonly Variant[] = [
  { label: "grant-copy", transport: "grant-copy" },
  { label: "preshared-bounce", transport: "preshared-bounce" },
  { label: "argo:buffered", transport: "argo:buffered" },
];
const ALL = [...SHARED_VARIANTS, ...COPY_VARIANTS];

/** One size of one workload: cycles per I/O by variant label (null: the job failed). */
export interface C2Row {
  rw: BlkRw;
  bs: number;
  cycles: Record<string, number | null>;
}

/** The best (cheapest) of a group, among the variants that ran. */
export function best(row: C2Row, group: readonly Variant[]): [string, number] | undefined {
  let b: [string, number] | undefined;
  for (const v of group) {
    const c = row.cycles[v.label];
    if (c != null && (!b || c < b[1])) b = [v.label, c];
  }
  return b;
}

export interface CrossPoint {
  bs: number;
  /** Cycles per I/O of the best shared-memory and the best copying transport. */
  shared: number;
  copy: number;
}

export type Crossover =
  | { kind: "always" }
  | { kind: "at"; firstWin: number; interpolated: number; earlierWins: number[] }
  | { kind: "none"; earlierWins: number[] };

/** Where sharing starts to win for good: the smallest size from which the best shared
 *  transport is strictly cheaper at every larger size of the sweep. `interpolated` is where
 *  the difference crosses zero between the last losing and the first winning size, linear in
 *  log2(size). Sizes where sharing won but lost again later are reported as earlierWins. */
export function findCrossover(points: readonly CrossPoint[]): Crossover {
  const ps = [...points].sort((a, b) => a.bs - b.bs);
  if (ps.length === 0) return { kind: "none", earlierWins: [] };
  let k = ps.length;
  while (k > 0 && ps[k - 1]!.shared < ps[k - 1]!.copy) k--;
  if (k === 0) return { kind: "always" };
  const earlierWins = ps.slice(0, k).filter((p) => p.shared < p.copy).map((p) => p.bs);
  if (k === ps.length) return { kind: "none", earlierWins };
  const lo = ps[k - 1]!;
  const hi = ps[k]!;
  const dLo = lo.shared - lo.copy; // >= 0
  const dHi = hi.shared - hi.copy; // < 0
  const x = Math.log2(lo.bs) + (dLo / (dLo - dHi)) * (Math.log2(hi.bs) - Math.log2(lo.bs));
  return { kind: "at", firstWin: hi.bs, interpolated: 2 ** x, earlierWins };
}

export function c2Rows(outcomes: readonly Outcome[]): C2Row[] {
  const rows = new Map<string, C2Row>();
  for (const o of outcomes) {
    const w = o.spec.workload;
    if (w.kind !== "fio" || (w.rw !== "randread" && w.rw !== "randwrite")) continue;
    const v = ALL.find((x) => x.transport === o.spec.transport && !!x.options?.tlbFlushElision === !!o.spec.options?.tlbFlushElision);
    if (!v) continue;
    const key = `${w.rw}/${w.bs}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { rw: w.rw, bs: w.bs, cycles: {} }));
    row.cycles[v.label] = o.ok ? o.result.cyclesPerIo : null;
  }
  return [...rows.values()];
}

function crossText(rw: string, c: Crossover): string {
  const earlier = (c.kind !== "always" && c.earlierWins.length > 0) ? ` (it also won at ${c.earlierWins.join(", ")} B, then lost again)` : "";
  if (c.kind === "always") return `${rw}: shared memory is cheaper at every size, so the crossover is at or below the smallest size`;
  if (c.kind === "none") return `${rw}: no crossover in range: copying is still cheaper at the largest size${earlier}`;
  return `${rw}: shared memory wins from ${c.firstWin} B on (crossover about ${Math.round(c.interpolated)} B)${earlier}`;
}

/** Holds iff for every workload sharing wins for good somewhere in the range. */
export function c2Verdict(rows: readonly C2Row[]): Verdict {
  if (rows.length === 0) return { holds: false, text: "no rows: nothing was measured" };
  const parts: string[] = [];
  let holds = true;
  for (const rw of BLK_RWS) {
    const rs = rows.filter((r) => r.rw === rw);
    if (rs.length === 0) continue;
    const points: CrossPoint[] = [];
    for (const r of rs) {
      const s = best(r, SHARED_VARIANTS);
      const c = best(r, COPY_VARIANTS);
      if (s && c) points.push({ bs: r.bs, shared: s[1], copy: c[1] });
    }
    if (points.length < rs.length) {
      holds = false;
      parts.push(`${rw}: cannot compare at ${rs.length - points.length} size(s) (every job of a side failed)`);
      continue;
    }
    const x = findCrossover(points);
    if (x.kind === "none") holds = false;
    parts.push(crossText(rw, x));
  }
  return { holds, text: parts.join("; ") };
}

export function c2Table(rows: readonly C2Row[], notes: string[]): ExperimentTable {
  return {
    name: "c2",
    title: C2.title,
    claim: C2.claim,
    columns: ["rw", "bs", ...ALL.map((v) => `${v.label} cyc/IO`), "best shared", "best copying", "winner"],
    rows: rows.map((r) => {
      const s = best(r, SHARED_VARIANTS);
      const c = best(r, COPY_VARIANTS);
      const winner = !s || !c ? "n/a" : s[1] < c[1] ? "shared" : "copying";
      return [r.rw, r.bs, ...ALL.map((v) => (r.cycles[v.label] == null ? "failed" : round(r.cycles[v.label]!, 0))),
        s ? s[0] : "n/a", c ? c[0] : "n/a", winner];
    }),
    verdict: c2Verdict(rows),
    notes,
  };
}

export const C2: Experiment = {
  name: "c2",
  slug: "x86-shared-crossover",
  title: "On x86, shared memory against copying, and the crossover size",
  claim: "on x86-64, shared memory (persistent grants, or grant-map with TLB-flush elision) beats copying (grant copy, pre-shared bounce, Argo) above a crossover request size",
  run(opts: RunOptions): ExperimentTable {
    const runJob = requireRunJob(opts, "c2");
    const [seed] = runSeeds(opts.seed, "c2", 1);
    const ios = iosPerJob(opts.quick);
    const specs = BLK_RWS.flatMap((rw) => sizes(opts.quick).flatMap((bs) =>
      ALL.map((v) => blkSpec(v.transport, "x86-64", rw, bs, ios, seed!, v.options))));
    const outcomes = runJobs(runJob, specs, opts);
    return c2Table(c2Rows(outcomes), [
      `blk ${BLK_RWS.join(" and ")} on x86-64, iodepth 1, ${ios} I/Os per job, every transport with the same seed`,
      "a size counts for sharing when the cheapest shared transport costs strictly fewer cycles per I/O than the cheapest copying one; the crossover is the smallest size from which that holds at every larger size, interpolated in log2(size) from the last losing size",
      ...failureNotes(outcomes),
    ]);
  },
};
