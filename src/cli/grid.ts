// Sweep grids: a base job and axes (dotted job paths with their values). The points are the
// cartesian product of the axes in file order (first axis slowest), each a complete JobSpec
// validated before anything runs; errors name file, line and field like scenario files, and
// point at the axis value or base key that caused them.
//
//   base: { profile: x86-64, device: blk, workload: { kind: fio, rw: randread, iodepth: 16 }, ios: 2000, seed: 1 }
//   axes: { transport: [grant-map, grant-copy], workload.bs: [512, 4096] }
//
// `--seed` (GridOptions.seed) replaces base.seed before anything else, hash included, so
// shards run with different seeds do not merge.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import gridSchema from "./grid.schema.json" with { type: "json" };
import { SCENARIO_SCHEMA, schemaError } from "../scenario/schema-check.ts";
import { ConfigError, choices, closest } from "../scenario/config-error.ts";
import { parseXsmPolicy, XsmPolicyError } from "../xen/xsm-policy.ts";
import { YamlSource, type Path } from "../scenario/yaml-source.ts";
import { ARCHES, isArch } from "../scenario/vocabulary.ts";
import type { JobSpec } from "../run/result.ts";

/** More points than this is almost certainly a mistake in the axes. */
export const MAX_POINTS = 100_000;

export interface GridAxis {
  /** Dotted job path, e.g. `workload.bs`. */
  path: string;
  values: unknown[];
}

export interface GridPoint {
  index: number;
  /** The axes' values of this point, by axis path. */
  values: Record<string, unknown>;
  spec: JobSpec;
}

export interface Grid {
  file: string;
  name: string;
  /** sha256 of the canonical base and axes: shard outputs of one grid carry the same hash. */
  hash: string;
  axes: GridAxis[];
  points: GridPoint[];
}

interface RawGrid {
  name?: string;
  base: Record<string, unknown>;
  axes: Record<string, unknown[]>;
}

let validators: { grid: ValidateFunction; job: ValidateFunction } | undefined;

function compiled(): { grid: ValidateFunction; job: ValidateFunction } {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true });
    ajv.addSchema(SCENARIO_SCHEMA).addSchema(gridSchema);
    validators = { grid: ajv.getSchema("urn:vxsim:grid")!, job: ajv.getSchema("urn:vxsim:grid#/definitions/job")! };
  }
  return validators;
}

export interface GridOptions {
  /** Every point's seed (`--seed`): replaces base.seed, so it is part of the grid's hash. */
  seed?: number;
}

export function loadGrid(path: string, opts: GridOptions = {}): Grid {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(path, 0, "", `cannot read the grid file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseGrid(text, path, opts);
}

/** Parses a grid (YAML, or JSON, which YAML reads too). */
export function parseGrid(text: string, file: string, opts: GridOptions = {}): Grid {
  const src = YamlSource.parse(text, file);
  const v = compiled();
  if (!v.grid(src.data)) throw schemaError(src, v.grid.errors ?? []);
  const raw = src.data as RawGrid;
  const axes = Object.entries(raw.axes).map(([path, values]) => ({ path, values }));
  if (axes.length === 0) throw src.error(["axes"], "needs at least one axis (a job path and its values, e.g. transport: [grant-map, grant-copy])", true);
  if (opts.seed !== undefined) {
    if (raw.axes.seed !== undefined) throw src.error(["axes", "seed"], `is an axis, so --seed ${opts.seed} cannot set every point's seed`, true);
    raw.base.seed = opts.seed;
  }
  for (const a of axes) checkAxisPath(src, a.path);
  const total = axes.reduce((n, a) => n * a.values.length, 1);
  if (total > MAX_POINTS) throw src.error(["axes"], `the grid has ${total} points (at most ${MAX_POINTS})`, true);

  const points: GridPoint[] = [];
  const once = onceMemo();
  const errors: ConfigError[] = [];
  for (let index = 0; index < total; index++) {
    const picks = pick(axes, index);
    const spec = structuredClone(raw.base);
    const values: Record<string, unknown> = {};
    axes.forEach((a, i) => {
      values[a.path] = a.values[picks[i]!];
      setPath(spec, a.path.split("."), structuredClone(a.values[picks[i]!]));
    });
    const where = (jobPath: readonly string[]): Path => sourcePath(axes, picks, jobPath);
    const problems = v.job(spec) ? semanticErrors(src, spec as unknown as JobSpec, where, once) : jobSchemaErrors(src, v.job.errors ?? [], axes, where);
    errors.push(...problems);
    points.push({ index, values, spec: spec as unknown as JobSpec });
  }
  if (errors.length > 0) throw unique(errors);
  return { file, name: raw.name ?? file.replace(/^.*[/\\]/, "").replace(/\.(ya?ml|json)$/, ""), hash: gridHash(raw), axes, points };
}

/** The value index of each axis for point `index` (the last axis varies fastest). */
function pick(axes: GridAxis[], index: number): number[] {
  const out = new Array<number>(axes.length);
  for (let i = axes.length - 1; i >= 0; i--) {
    const n = axes[i]!.values.length;
    out[i] = index % n;
    index = Math.floor(index / n);
  }
  return out;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const seg of path.slice(0, -1)) {
    if (typeof o[seg] !== "object" || o[seg] === null || Array.isArray(o[seg])) o[seg] = {};
    o = o[seg] as Record<string, unknown>;
  }
  o[path[path.length - 1]!] = value;
}

/** Where a job path's value was written: the axis value that set it (or a parent of it), else base. */
function sourcePath(axes: GridAxis[], picks: number[], jobPath: readonly string[]): Path {
  for (let i = 0; i < axes.length; i++) {
    const segs = axes[i]!.path.split(".");
    if (segs.length <= jobPath.length && segs.every((s, k) => s === jobPath[k])) {
      return ["axes", axes[i]!.path, picks[i]!, ...jobPath.slice(segs.length)];
    }
  }
  return ["base", ...jobPath];
}

/** The keys a job path may name, from the job schema (a workload's keys are all kinds' keys). */
function keysAt(prefix: readonly string[]): string[] | undefined {
  const defs = gridSchema.definitions;
  if (prefix.length === 0) return Object.keys(defs.job.properties);
  if (prefix.length === 1 && prefix[0] === "workload") {
    return [...new Set([...Object.keys(defs.fio.properties), ...Object.keys(defs.netperf.properties), ...Object.keys(defs.rng.properties)])];
  }
  if (prefix.length === 1 && prefix[0] === "options") return Object.keys(defs.job.properties.options.properties);
  return undefined;
}

function checkAxisPath(src: YamlSource, path: string): void {
  const segs = path.split(".");
  for (let i = 0; i < segs.length; i++) {
    const keys = keysAt(segs.slice(0, i));
    const here = segs.slice(0, i + 1).join(".");
    if (!keys) throw src.error(["axes", path], `unknown job path '${path}' ('${segs.slice(0, i).join(".")}' has no keys)`, true);
    if (!keys.includes(segs[i]!)) {
      const prefix = i === 0 ? "" : `${segs.slice(0, i).join(".")}.`;
      const known = keys.map((k) => prefix + k);
      const guess = closest(here, known);
      throw src.error(["axes", path], `unknown job path '${path}' (${guess ? `did you mean '${guess}'? ` : ""}expected one of: ${choices(known)})`, true);
    }
  }
}

/** Job schema errors, moved to the base key or axis value that caused them. */
function jobSchemaErrors(src: YamlSource, errors: readonly ErrorObject[], axes: GridAxis[], where: (p: readonly string[]) => Path): ConfigError[] {
  const out: ConfigError[] = [];
  const moved: ErrorObject[] = [];
  for (const e of errors) {
    if (e.keyword === "if") continue; // the failing `then` is reported on its own
    const jobPath = e.instancePath === "" ? [] : e.instancePath.slice(1).split("/");
    if (e.keyword === "additionalProperties") {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const axis = axes.find((a) => a.path === [...jobPath, key].join("."));
      if (axis) {
        const kind = (e.data as { kind?: unknown }).kind;
        const allowed = Object.keys((e.parentSchema as { properties: object }).properties);
        out.push(src.error(["axes", axis.path], `${typeof kind === "string" ? `a ${kind} workload` : jobPath.join(".") || "a job"} has no '${key}' (expected one of: ${choices(allowed)})`, true));
        continue;
      }
    }
    const to = where(jobPath);
    moved.push({ ...e, instancePath: "/" + to.map((s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1")).join("/") });
  }
  if (moved.length > 0) out.push(...schemaError(src, moved).all);
  return out;
}

const DEVICE_OF: Record<string, string> = { fio: "blk", netperf: "net", rng: "rng" };

/** A check made once per grid for each thing it checks (its problem, or undefined). */
type Once = (key: string, check: () => string | undefined) => string | undefined;

function onceMemo(): Once {
  const checked = new Map<string, string | undefined>();
  return (key, check) => {
    if (!checked.has(key)) checked.set(key, check());
    return checked.get(key);
  };
}

function semanticErrors(src: YamlSource, spec: JobSpec, where: (p: readonly string[]) => Path, once: Once): ConfigError[] {
  const out: ConfigError[] = [];
  const p = spec.profile;
  if (!isArch(p) && !/[/\\.]/.test(p)) {
    const guess = closest(p, ARCHES);
    out.push(src.error(where(["profile"]), `unknown profile '${p}' (${guess ? `did you mean '${guess}'? ` : ""}expected one of: ${choices(ARCHES)}, or the path of a profile file)`));
  }
  const want = DEVICE_OF[spec.workload.kind]!;
  if (spec.device !== want) out.push(src.error(where(["device"]), `a ${spec.workload.kind} workload needs device ${want}, got '${spec.device}'`));
  // What each point would only find out when it runs: its disk image and its Flask policy
  // (each distinct one checked once; every point that uses a bad one is reported at its place).
  const image = spec.blk?.image;
  const noImage = image === undefined ? undefined : once(`image ${image}`, () =>
    statSync(image, { throwIfNoEntry: false })?.isFile() ? undefined : `no raw image file '${image}' (the path is taken from where vxsim runs)`);
  if (noImage) out.push(src.error(where(["blk", "image"]), noImage));
  const xsm = spec.options?.xsm;
  const badPolicy = xsm?.module !== "flask" ? undefined : once(`policy ${xsm.file}\n${xsm.policy}`, () => {
    try {
      parseXsmPolicy(xsm.policy, xsm.file);
      return undefined;
    } catch (e) {
      if (!(e instanceof XsmPolicyError)) throw e;
      return `the Flask policy (from ${xsm.file}) does not parse: ${e.message}`;
    }
  });
  if (badPolicy) out.push(src.error(where(["options", "xsm", "policy"]), badPolicy));
  return out;
}

function unique(errors: ConfigError[]): ConfigError {
  const seen = new Set<string>();
  return ConfigError.many(errors.flatMap((e) => e.all).filter((e) => !seen.has(e.message) && seen.add(e.message)));
}

/** JSON with object keys sorted, so equal grids hash equal however their keys were written. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

function gridHash(raw: RawGrid): string {
  // Axis order decides point indexes, so axes go in as a list, in file order.
  const text = canonical({ base: raw.base, axes: Object.entries(raw.axes) });
  return createHash("sha256").update(text).digest("hex");
}
