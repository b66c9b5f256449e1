// Output every command shares: a table for people (the default), `--json` for programs,
// `--csv` for spreadsheets (nested fields flattened to dotted column names), and `--out` to
// write the result to a file instead of stdout (JSON unless --csv).
import { writeFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { stringify } from "csv-stringify/sync";
import Table from "cli-table3";

export interface OutputOptions {
  json?: boolean;
  csv?: boolean;
  out?: string;
  quiet?: boolean;
}

/** Adds --json, --csv (exclusive) and --quiet; with `file`, also --out <file>. */
export function addOutputOptions(cmd: Command, file = true): Command {
  cmd.addOption(new Option("--json", "print JSON instead of a table").conflicts("csv"));
  cmd.addOption(new Option("--csv", "print CSV (nested fields as dotted columns) instead of a table"));
  if (file) cmd.option("--out <file>", "write the result to a file instead of stdout (JSON unless --csv)");
  cmd.option("--quiet", "print only the result: no progress and no summary on stderr");
  return cmd;
}

export interface Printable {
  /** The document --json prints. */
  json: unknown;
  /** The rows --csv prints, one object each (flattened here). */
  rows: () => readonly object[];
  /** The text printed by default. */
  table: () => string;
}

/** Prints (or writes to --out) the result in the chosen form. */
export function emit(o: OutputOptions, p: Printable): void {
  if (o.out !== undefined) {
    writeFileSync(o.out, o.csv ? toCsv(p.rows()) : toJson(p.json));
  } else if (o.csv) {
    process.stdout.write(toCsv(p.rows()));
  } else if (o.json) {
    process.stdout.write(toJson(p.json));
  } else {
    process.stdout.write(p.table() + "\n");
  }
}

/** Two-space JSON with a final newline: the one spelling of every JSON file vxsim writes. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, null, 2) + "\n";
}

/** `{ a: { b: 1 }, c: [2, 3] }` -> `{ "a.b": 1, "c.0": 2, "c.1": 3 }`; empty objects and arrays vanish. */
export function flatten(v: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix === "" ? k : `${prefix}.${k}`, out);
  } else if (prefix !== "") {
    out[prefix] = v;
  }
  return out;
}

/** CSV with a header: the union of the flattened rows' columns in first-seen order. */
export function toCsv(rows: readonly object[]): string {
  const flat = rows.map((r) => flatten(r));
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of flat) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) columns.push(k);
      seen.add(k);
    }
  }
  if (columns.length === 0) return "";
  return stringify(flat, { header: true, columns, cast: { boolean: (b) => String(b) } });
}

/** An aligned table in the style of every vxsim table. */
export function textTable(head: string[], rows: (string | number)[][], leftColumns = 1): string {
  const table = new Table({
    head,
    colAligns: head.map((_, i) => (i < leftColumns ? "left" : "right")),
    style: { head: [], border: [], compact: true },
  });
  for (const r of rows) table.push(r.map(String));
  return table.toString();
}

/** A number for tables: integers as they are, others to 4 significant digits. */
export function fmt(v: unknown): string {
  if (typeof v !== "number") return v === undefined ? "" : String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}
