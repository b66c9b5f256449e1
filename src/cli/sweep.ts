// Sweeps: run a grid's points (or one shard of them) and write one deterministic document of
// rows in index order; merge joins shard documents into exactly what the whole sweep writes.
// Documents carry no time, host or worker count, only the grid's hash, the job and the rows.
import { readFileSync } from "node:fs";
import type { Grid, GridPoint } from "./grid.ts";
import type { JobRef } from "./job-ref.ts";
import { fmt, flatten, textTable, type Printable } from "./output.ts";
import { runPool, type PoolOptions } from "./sweep-pool.ts";
import { UserError } from "./user-error.ts";

export const SWEEP_FORMAT = "vxsim-sweep/1";

export interface Shard {
  index: number;
  count: number;
}

export interface SweepRow {
  index: number;
  /** The point's axis values. */
  point: Record<string, unknown>;
  result?: unknown;
  error?: string;
}

export interface SweepDoc {
  format: typeof SWEEP_FORMAT;
  grid: string;
  gridHash: string;
  job: string;
  /** Points of the whole grid. */
  points: number;
  /** Present in the output of one shard only. */
  shard?: Shard;
  rows: SweepRow[];
}

/** `i/n` with 0 <= i < n. */
export function parseShard(text: string): Shard {
  const m = /^([0-9]+)\/([0-9]+)$/.exec(text.trim());
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.index >= shard.count || !Number.isSafeInteger(shard.count)) {
    throw new UserError(`--shard must be i/n with n >= 1 and 0 <= i < n, got '${text}'`);
  }
  return shard;
}

/** The points a shard runs: those whose index % n == i. */
export function shardPoints(points: readonly GridPoint[], shard?: Shard): GridPoint[] {
  return shard ? points.filter((p) => p.index % shard.count === shard.index) : [...points];
}

export interface SweepOptions extends PoolOptions {
  shard?: Shard;
}

export async function runSweep(grid: Grid, job: JobRef, opts: SweepOptions = {}): Promise<SweepDoc> {
  const points = shardPoints(grid.points, opts.shard);
  const outcomes = await runPool(points.map((p) => ({ index: p.index, spec: p.spec })), job, opts);
  const rows = points.map((p): SweepRow => {
    const o = outcomes.get(p.index)!;
    return o.ok ? { index: p.index, point: p.values, result: o.result } : { index: p.index, point: p.values, error: o.error };
  });
  return document(grid.name, grid.hash, job.label, grid.points.length, rows, opts.shard);
}

/** Builds a document with its keys in the one order every writer uses. */
function document(grid: string, gridHash: string, job: string, points: number, rows: SweepRow[], shard?: Shard): SweepDoc {
  return { format: SWEEP_FORMAT, grid, gridHash, job, points, ...(shard ? { shard } : {}), rows };
}

export function failedRows(doc: SweepDoc): number {
  return doc.rows.filter((r) => r.error !== undefined).length;
}

function readDoc(file: string): SweepDoc {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let doc: SweepDoc;
  try {
    doc = JSON.parse(text) as SweepDoc;
  } catch (e) {
    throw new UserError(`${file}: not JSON (${(e as Error).message})`);
  }
  if (doc?.format !== SWEEP_FORMAT || !Array.isArray(doc.rows) || typeof doc.gridHash !== "string" || !Number.isSafeInteger(doc.points)) {
    throw new UserError(`${file}: not a vxsim sweep output (expected format '${SWEEP_FORMAT}'; write one with vxsim sweep --json or --out)`);
  }
  return doc;
}

/** Joins shard outputs of one grid and job; every index exactly once. */
export function mergeFiles(files: readonly string[]): SweepDoc {
  const twice = files.find((f, i) => files.indexOf(f) !== i);
  if (twice !== undefined) throw new UserError(`${twice} is given twice`);
  const docs = files.map((f) => ({ file: f, doc: readDoc(f) }));
  const first = docs[0]!;
  const seenIn = new Map<number, string>();
  for (const { file, doc } of docs) {
    if (doc.gridHash !== first.doc.gridHash) {
      throw new UserError(`${file}: comes from a different grid than ${first.file} (grid hash ${doc.gridHash.slice(0, 12)} vs ${first.doc.gridHash.slice(0, 12)})`);
    }
    if (doc.job !== first.doc.job) throw new UserError(`${file}: ran job '${doc.job}', ${first.file} ran '${first.doc.job}'`);
    for (const r of doc.rows) {
      if (!Number.isSafeInteger(r.index) || r.index < 0 || r.index >= doc.points) {
        throw new UserError(`${file}: row index ${String(r.index)} is outside the grid's ${doc.points} points`);
      }
      const other = seenIn.get(r.index);
      if (other !== undefined) throw new UserError(`point ${r.index} is in both ${other} and ${file} (overlapping shards)`);
      seenIn.set(r.index, file);
    }
  }
  const total = first.doc.points;
  const missing: number[] = [];
  for (let i = 0; i < total && missing.length <= 10; i++) if (!seenIn.has(i)) missing.push(i);
  if (missing.length > 0) {
    const list = missing.length > 10 ? `${missing.slice(0, 10).join(", ")}, ...` : missing.join(", ");
    throw new UserError(`points missing from the merge: ${list} (of 0..${total - 1}; is a shard left out?)`);
  }
  const rows = docs.flatMap((d) => d.doc.rows).sort((a, b) => a.index - b.index);
  return document(first.doc.grid, first.doc.gridHash, first.doc.job, total, rows);
}

/** Result columns a table shows; --json and --csv give them all. */
const TABLE_RESULT_COLUMNS = 8;

/** What `sweep` and `merge` print: a table of rows, the document as JSON, or flat CSV rows. */
export function printableSweep(doc: SweepDoc): Printable {
  const rows = () => doc.rows.map((r) => ({ index: r.index, point: r.point, error: r.error ?? "", result: r.result }));
  const table = () => {
    const axes = [...new Set(doc.rows.flatMap((r) => Object.keys(r.point)))];
    const results = doc.rows.map((r) => flatten(r.result));
    const all = [...new Set(results.flatMap((r) => Object.keys(r)))];
    const cols = all.slice(0, TABLE_RESULT_COLUMNS);
    const body = doc.rows.map((r, i) => [
      r.index, ...axes.map((a) => fmt(r.point[a])), r.error ?? "ok", ...cols.map((c) => fmt(results[i]![c])),
    ]);
    const more = all.length > cols.length ? `\n(${all.length - cols.length} more result columns with --json or --csv)` : "";
    const shard = doc.shard ? `, shard ${doc.shard.index}/${doc.shard.count}` : "";
    return `sweep ${doc.grid}: ${doc.rows.length} of ${doc.points} points${shard}, job ${doc.job}\n` +
      textTable(["#", ...axes, "status", ...cols], body, 1 + axes.length + 1) + more;
  };
  return { json: doc, rows, table };
}
