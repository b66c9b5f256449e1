// What the experiments share: the architectures swept, per-run seeds derived from the base
// seed, number formatting for table cells, progress reporting, and a plain-text table.
import { SHIPPED_PROFILES, loadShippedProfile, type Profile } from "../cost/profile.ts";
import { Rng } from "../sim/rng.ts";
import { ExperimentError, type Cell, type ExperimentTable, type RunOptions } from "./types.ts";

export type Arch = (typeof SHIPPED_PROFILES)[number];
export const ARCHES: readonly Arch[] = SHIPPED_PROFILES;

const profiles = new Map<Arch, Profile>();

/** The shipped profile of an architecture, read once. */
export function profileOf(arch: Arch): Profile {
  let p = profiles.get(arch);
  if (!p) profiles.set(arch, (p = loadShippedProfile(arch)));
  return p;
}

export function checkSeed(seed: unknown): number {
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new ExperimentError(`seed must be an integer in [0, 2^32), got ${String(seed)}`);
  }
  return seed;
}

/** `n` u32 seeds for the runs of one sweep, derived from the base seed and a label, so two
 *  experiments (or two parts of one) never share a stream. */
export function runSeeds(seed: number, label: string, n: number): number[] {
  const rng = new Rng(checkSeed(seed)).fork(label);
  return Array.from({ length: n }, () => rng.int(0, 0xffffffff) >>> 0);
}

/** The architectures a sweep covers: RunOptions.arches when given (each must be one the
 *  experiment sweeps), else the experiment's own list. */
export function archesOf(opts: Pick<RunOptions, "arches">, own: readonly Arch[]): readonly Arch[] {
  if (opts.arches === undefined) return own;
  const bad = opts.arches.filter((a) => !(own as readonly string[]).includes(a));
  if (bad.length > 0 || opts.arches.length === 0) {
    throw new ExperimentError(`arches must be a non-empty subset of ${own.join(", ")}, got ${opts.arches.length === 0 ? "none" : bad.join(", ")}`);
  }
  return own.filter((a) => opts.arches!.includes(a));
}

/** Rounds for a table cell: `digits` decimals, and no "-0". */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r;
}

/** Counts progress over a sweep of known size. */
export function progress(opts: Pick<RunOptions, "onProgress">, total: number): () => void {
  let done = 0;
  return () => opts.onProgress?.(++done, total);
}

/** Difference of two counter snapshots, as the plain array price() takes. */
export function counterDelta(after: ArrayLike<number>, before: ArrayLike<number>): number[] {
  return Array.from({ length: after.length }, (_, i) => after[i]! - before[i]!);
}

function cellText(c: Cell): string {
  return typeof c === "number" ? String(c) : c;
}

/** The table as aligned text: title, claim, columns, rows, notes and the verdict. */
export function formatTable(t: ExperimentTable): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(cellText))];
  const widths = t.columns.map((_, k) => Math.max(...cells.map((r) => (r[k] ?? "").length)));
  const line = (r: string[]) => r.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join("  ").trimEnd();
  const out = [`${t.name.toUpperCase()}: ${t.title}`, `claim: ${t.claim}`, "", line(cells[0]!), line(widths.map((w) => "-".repeat(w)))];
  for (const r of cells.slice(1)) out.push(line(r));
  if (t.notes && t.notes.length > 0) out.push("", ...t.notes.map((n) => `note: ${n}`));
  out.push("", `verdict: ${t.verdict.holds ? "HOLDS" : "DOES NOT HOLD"}: ${t.verdict.text}`);
  return out.join("\n");
}
