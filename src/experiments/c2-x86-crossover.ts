// C2: "if you know how to do shared memory, it is still faster than data copying in enough
// cases" (Andy, x86); "if you can avoid mapping and unmapping all the time, e.g. well-known
// regions" (Marek); dom0 building a scatter-gather over granted guest memory it never touches
// (Andy). Sharing against copying on x86-64, each pair ON THE SAME CONTROL PATH, so that only
// the data path differs:
//  - virtio-mmio over IOREQ (the grant family): grant-map with the unmap flush elided and the
//    data moved by a disk's DMA (zero copy, a map per I/O), and grant-persistent (a well-known
//    region granted and mapped once, the guest copying into it), each against grant-copy (Xen
//    copies every segment);
//  - event channels: pv-p2m (zero copy: the privileged backend maps the guest's machine frames
//    per I/O) against preshared-bounce (the guest copies into a pool shared once).
// Argo is left out: its notification is the sendv hypercall that also copies, so no variant
// shares its control path. Per pair the crossover is the size from which sharing wins for good.
import { profileOf, round, runSeeds, type Arch } from "./common.ts";
import { dataPathSplit, type DataPathSplit } from "./data-path.ts";
import { BLK_RWS, blkSpec, failureNotes, requireRunJob, runJobs, type BlkRw, type Outcome } from "./jobs.ts";
import type { JobSpec } from "../run/result.ts";
import type { Experiment, ExperimentTable, RunOptions, Verdict } from "./types.ts";

const ARCH: Arch = "x86-64";

export interface C2Variant {
  label: string;
  transport: string;
  options?: JobSpec["options"];
}

export interface C2Pair {
  name: string;
  control: string;
  sharing: C2Variant;
  copying: C2Variant;
}

const GRANT_COPY: C2Variant = { label: "grant-copy", transport: "grant-copy" };
export const C2_PAIRS: readonly C2Pair[] = [
  {
    name: "map+elision/grant-copy", control: "virtio-mmio/IOREQ",
    sharing: { label: "grant-map+elision(dma)", transport: "grant-map", options: { tlbFlushElision: true, backendDataPath: "dma" } },
    copying: GRANT_COPY,
  },
  { name: "persistent/grant-copy", control: "virtio-mmio/IOREQ", sharing: { label: "grant-persistent", transport: "grant-persistent" }, copying: GRANT_COPY },
  {
    name: "pv-p2m/bounce", control: "event channels",
    sharing: { label: "pv-p2m", transport: "pv-p2m" }, copying: { label: "preshared-bounce", transport: "preshared-bounce" },
  },
];

/** Every distinct variant, in pair order. */
const VARIANTS: C2Variant[] = [];
for (const p of C2_PAIRS) for (const v of [p.sharing, p.copying]) if (!VARIANTS.includes(v)) VARIANTS.push(v);

/** Request sizes: up to 1 MiB (quick: 4 KiB, 64 KiB, 1 MiB). */
export function c2Sizes(quick: boolean | undefined): number[] {
  return quick ? [4096, 65536, 1 << 20] : [512, 4096, 16384, 65536, 131072, 262144, 1 << 20];
}

/** I/Os per job: at iodepth 1 every I/O of a job costs the same, so few are needed, and 1 MiB
 *  jobs keep the sweep under a minute. */
export function c2Ios(quick: boolean | undefined): number {
  return quick ? 16 : 64;
}

export interface C2Side {
  cycles: number;
  split: DataPathSplit;
}

/** One pair at one size of one workload; a side is null when its job failed. */
export interface C2Row {
  pair: string;
  rw: BlkRw;
  bs: number;
  sharing: C2Side | null;
  copying: C2Side | null;
}

const sameOptions = (a: JobSpec["options"], b: JobSpec["options"]) =>
  !!a?.tlbFlushElision === !!b?.tlbFlushElision && (a?.backendDataPath ?? "cpu") === (b?.backendDataPath ?? "cpu");
const isVariant = (v: C2Variant, s: JobSpec) => v.transport === s.transport && sameOptions(v.options, s.options);

export function c2Rows(outcomes: readonly Outcome[]): C2Row[] {
  const rows: C2Row[] = [];
  for (const p of C2_PAIRS) {
    for (const rw of BLK_RWS) {
      const bySize = new Map<number, C2Row>();
      for (const o of outcomes) {
        const w = o.spec.workload;
        if (w.kind !== "fio" || w.rw !== rw) continue;
        const side = isVariant(p.sharing, o.spec) ? "sharing" : isVariant(p.copying, o.spec) ? "copying" : null;
        if (!side) continue;
        let row = bySize.get(w.bs);
        if (!row) bySize.set(w.bs, (row = { pair: p.name, rw, bs: w.bs, sharing: null, copying: null }));
        row[side] = o.ok ? { cycles: o.result.cyclesPerIo, split: dataPathSplit(o.result, profileOf(ARCH)) } : null;
      }
      rows.push(...[...bySize.values()].sort((a, b) => a.bs - b.bs));
    }
  }
  return rows;
}

export interface CrossPoint {
  bs: number;
  /** Cycles per I/O of the sharing and the copying variant. */
  shared: number;
  copy: number;
}

export type Crossover =
  | { kind: "always" }
  | { kind: "at"; firstWin: number; interpolated: number; earlierWins: number[] }
  | { kind: "none"; earlierWins: number[] };

/** Where sharing starts to win for good: the smallest size from which the sharing variant is
 *  strictly cheaper at every larger size of the sweep. `interpolated` is where the difference
 *  crosses zero between the last losing and the first winning size, linear in log2(size).
 *  Sizes where sharing won but lost again later are reported as earlierWins. */
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

function crossText(c: Crossover, largest: number): string {
  const earlier = (c.kind !== "always" && c.earlierWins.length > 0) ? ` (it also won at ${c.earlierWins.join(", ")} B, then lost again)` : "";
  if (c.kind === "always") return "sharing is cheaper at every size measured";
  if (c.kind === "none") return `no crossover up to ${largest} B: copying is still cheaper there${earlier}`;
  return `sharing wins from ${c.firstWin} B on (crossover about ${Math.round(c.interpolated)} B)${earlier}`;
}

/** Per pair and workload, the crossover over the sizes where both sides ran. The claim ("in
 *  enough cases") holds iff for every workload at least one pair's sharing variant wins for
 *  good from some size in the range (a crossover, or cheaper everywhere). */
export function c2Verdict(rows: readonly C2Row[]): Verdict {
  if (rows.length === 0) return { holds: false, text: "no rows: nothing was measured" };
  const parts: string[] = [];
  let holds = true;
  for (const rw of BLK_RWS) {
    const wins: string[] = [];
    let measured = false;
    for (const p of C2_PAIRS) {
      const rs = rows.filter((r) => r.rw === rw && r.pair === p.name);
      if (rs.length === 0) continue;
      measured = true;
      const points: CrossPoint[] = rs.filter((r) => r.sharing && r.copying).map((r) => ({ bs: r.bs, shared: r.sharing!.cycles, copy: r.copying!.cycles }));
      const missing = rs.filter((r) => !r.sharing || !r.copying).map((r) => r.bs);
      const skip = missing.length > 0 ? `; not compared at ${missing.join(", ")} B (a job failed)` : "";
      if (points.length === 0) {
        parts.push(`${rw} ${p.name}: cannot compare (every size had a failed job)`);
        continue;
      }
      const x = findCrossover(points);
      if (x.kind !== "none") wins.push(p.name);
      parts.push(`${rw} ${p.name} (${p.control}): ${crossText(x, Math.max(...points.map((q) => q.bs)))}${skip}`);
    }
    if (!measured) continue;
    if (wins.length === 0) holds = false;
    parts.push(`${rw}: sharing wins for good in ${wins.length > 0 ? wins.join(", ") : "no pair"}`);
  }
  return { holds, text: parts.join("; ") };
}

const sideCells = (s: C2Side | null) => s === null
  ? ["failed", "failed", "failed", "failed", "failed"]
  : [round(s.cycles, 0), round(s.split.copy, 0), round(s.split.map, 0), round(s.split.flush, 0), round(s.split.control + s.split.device, 0)];

export function c2Table(rows: readonly C2Row[], notes: string[]): ExperimentTable {
  const sideCols = (s: string) => [`${s} cyc/IO`, `${s} copy`, `${s} grant/map/unmap`, `${s} flush`, `${s} control+device`];
  return {
    name: "c2",
    title: C2.title,
    claim: C2.claim,
    columns: ["pair", "control path", "rw", "bs", "sharing", ...sideCols("S"), "copying", ...sideCols("C"), "winner"],
    rows: rows.map((r) => {
      const p = C2_PAIRS.find((x) => x.name === r.pair)!;
      const winner = !r.sharing || !r.copying ? "n/a" : r.sharing.cycles < r.copying.cycles ? "sharing" : "copying";
      return [r.pair, p.control, r.rw, r.bs, p.sharing.label, ...sideCells(r.sharing), p.copying.label, ...sideCells(r.copying), winner];
    }),
    verdict: c2Verdict(rows),
    notes,
  };
}

export const C2: Experiment = {
  name: "c2",
  slug: "x86-shared-crossover",
  title: "On x86, sharing against copying on the same control path, and the crossover size",
  claim: "on x86-64, sharing guest memory with the backend (grant maps with the flush elided, persistent grants, foreign maps) beats copying the data (grant copy, a pre-shared bounce pool) on the same control path above a crossover request size, in enough cases",
  run(opts: RunOptions): ExperimentTable {
    const runJob = requireRunJob(opts, "c2");
    const [seed] = runSeeds(opts.seed, "c2", 1);
    const ios = c2Ios(opts.quick);
    const specs = BLK_RWS.flatMap((rw) => c2Sizes(opts.quick).flatMap((bs) =>
      VARIANTS.map((v) => blkSpec(v.transport, ARCH, rw, bs, ios, seed!, v.options))));
    const outcomes = runJobs(runJob, specs, opts);
    return c2Table(c2Rows(outcomes), [
      `blk ${BLK_RWS.join(" and ")} on ${ARCH}, iodepth 1, ${ios} I/Os per job, every variant with the same seed`,
      "pairs share a control path: the grant family rides virtio-mmio over IOREQ (register traps, ioreq wake-ups, an ISA IRQ back); pv-p2m and preshared-bounce use event channels both ways; argo has no partner (its sendv both notifies and copies)",
      "grant-map+elision(dma): the backend maps the granted pages per I/O and a disk DMAs them (never touched by its CPU), so the data pages' unmap flush is elided; grant-persistent: a region granted and mapped once, the guest copies into it",
      "S/C copy, grant/map/unmap, flush: cycles per I/O of the data path (copies at their sizes; the guest granting and revoking pages per I/O, grant and foreign map/unmap entries, p2m writes and their hypercalls; TLB flushes); control+device: the rest, including the device's payload bytes (the same on both sides)",
      "a size counts for sharing when the sharing variant costs strictly fewer cycles per I/O than its pair's copying one; the crossover is the smallest size from which that holds at every larger size, interpolated in log2(size); pairs are compared on the sizes where both ran",
      ...failureNotes(outcomes),
    ]);
  },
};
