// Validation of profile text: YAML syntax, then the schema (types, ranges, unknown fields),
// then the rules that tie fields together. Every issue names file, line and field.
import { LineCounter, parseDocument } from "yaml";
import { Ajv, type ErrorObject } from "ajv";
import { PROFILE_SCHEMA } from "./profile-schema.ts";
import { PRIMITIVE_NAMES, type AtomicsModel, type Primitive } from "./primitives.ts";
import { YamlLocator, fieldName, type Path } from "./yaml-locate.ts";
import type { CopyPoint, PrimitiveFigure, Profile, ProfileIssue, Provenance, Source } from "./profile.ts";

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile<unknown>(PROFILE_SCHEMA);

type Obj = Record<string, unknown>;

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  if (typeof v === "object") return "a map";
  return String(v);
}

const TYPE_WORDS: Record<string, string> = {
  object: "a map",
  array: "a list",
  number: "a number",
  integer: "an integer",
  string: "a string",
  boolean: "true or false",
};

function pointerPath(ptr: string): Path {
  if (ptr === "") return [];
  return ptr
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const seg of path) v = (v as Obj | unknown[] | undefined)?.[seg as never];
  return v;
}

/** One schema error as (path, message), in the words a profile author needs. */
function describe(e: ErrorObject, data: unknown): { path: Path; message: string } {
  const path = pointerPath(e.instancePath);
  const value = valueAt(data, path);
  const p = e.params as Obj;
  const inPrimitives = path.length === 1 && path[0] === "primitives";
  switch (e.keyword) {
    case "additionalProperties":
      return {
        path: [...path, p.additionalProperty as string],
        message: inPrimitives
          ? `unknown primitive '${String(p.additionalProperty)}' (see docs/profiles.md for the list)`
          : "unknown field",
      };
    case "required":
      return { path: [...path, p.missingProperty as string], message: inPrimitives ? "missing primitive" : "missing" };
    case "type":
      return { path, message: `must be ${TYPE_WORDS[p.type as string] ?? String(p.type)}, got ${show(value)}` };
    case "minimum":
      return { path, message: `must be >= ${String(p.limit)}, got ${show(value)}` };
    case "exclusiveMinimum":
      return { path, message: `must be > ${String(p.limit)}, got ${show(value)}` };
    case "minLength":
      return { path, message: "must not be empty" };
    case "minItems":
      return { path, message: `needs at least ${String(p.limit)} entry` };
    case "enum":
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).join(", ")}; got ${show(value)}` };
    case "const":
      return { path, message: `must be ${show(p.allowedValue)}, got ${show(value)}` };
    default:
      return { path, message: e.message ?? e.keyword };
  }
}

interface CheckResult {
  issues: ProfileIssue[];
  profile?: Profile;
}

export function checkProfileText(text: string, file: string): CheckResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      issues: sortIssues(doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0].line ?? 1,
        field: "(yaml)",
        message: e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
      }))),
    };
  }
  const loc = new YamlLocator(doc, lines);
  const issue = (path: Path, message: string): ProfileIssue => ({ file, line: loc.line(path), field: fieldName(path), message });
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (!validate(data)) {
    const seen = new Set<string>();
    const issues: ProfileIssue[] = [];
    for (const e of validate.errors ?? []) {
      const d = describe(e, data);
      const i = issue(d.path, d.message);
      const key = `${i.line}|${i.field}|${i.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      issues.push(i);
    }
    return { issues: sortIssues(issues) };
  }
  return new Builder(data as unknown as Obj, file, issue).build();
}

function sortIssues(issues: ProfileIssue[]): ProfileIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.field.localeCompare(b.field));
}

/** Applies the cross-field rules and converts figures to cycles. */
class Builder {
  private readonly issues: ProfileIssue[] = [];
  private readonly data: Obj;
  private readonly file: string;
  private readonly issue: (path: Path, message: string) => ProfileIssue;
  private readonly sources: Record<string, Source>;
  private readonly ghz: number;

  constructor(data: Obj, file: string, issue: (path: Path, message: string) => ProfileIssue) {
    this.data = data;
    this.file = file;
    this.issue = issue;
    this.sources = data.sources as Record<string, Source>;
    this.ghz = (data.clock_ghz as Obj).ghz as number;
  }

  private fail(path: Path, message: string): void {
    this.issues.push(this.issue(path, message));
  }

  /** The provenance rule: a source (with an optional tag), or `estimate: true` with a why. */
  private provenance(f: Obj, path: Path): Provenance {
    const known = Object.keys(this.sources).join(", ") || "none";
    const src = f.source as string | undefined;
    const est = f.estimate === true;
    if (src !== undefined && est) this.fail([...path, "estimate"], "a figure has either a source or estimate: true, not both (an estimate names its basis in based_on)");
    else if (src === undefined && !est) this.fail(path, "missing source (give source: <key>, or estimate: true with why)");
    if (src !== undefined && !(src in this.sources)) this.fail([...path, "source"], `unknown source '${src}' (known: ${known})`);
    if (est && f.why === undefined) this.fail([...path, "why"], "an estimate needs a why");
    if (f.based_on !== undefined && !est) this.fail([...path, "based_on"], "based_on is only for estimates");
    if (f.based_on !== undefined && !((f.based_on as string) in this.sources)) {
      this.fail([...path, "based_on"], `unknown source '${String(f.based_on)}' (known: ${known})`);
    }
    if (f.tag !== undefined && src === undefined) this.fail([...path, "tag"], "a tag qualifies a source; this figure has none");
    return {
      source: src,
      tag: f.tag as Provenance["tag"],
      estimate: est,
      basedOn: f.based_on as string | undefined,
      why: f.why as string | undefined,
      note: f.note as string | undefined,
      line: this.issue(path, "").line,
    };
  }

  private primitive(name: Primitive): PrimitiveFigure {
    const path: Path = ["primitives", name];
    const f = (this.data.primitives as Obj)[name] as Obj;
    if (f.na === true) {
      for (const k of ["cycles", "ns", "source", "estimate", "based_on", "tag"]) {
        if (f[k] !== undefined) this.fail([...path, k], "a primitive marked na: true has no figure");
      }
      if (f.why === undefined) this.fail([...path, "why"], "na: true needs a why");
      return { cycles: null, estimate: false, why: f.why as string, note: f.note as string | undefined, line: this.issue(path, "").line };
    }
    if (f.na === false) this.fail([...path, "na"], "na is either true or left out");
    const cycles = this.timeInCycles(f, path, ["cycles", "ns"]);
    return { ...this.provenance(f, path), cycles };
  }

  /** Exactly one of the time fields, converted to cycles at the profile's clock. */
  private timeInCycles(f: Obj, path: Path, fields: string[], bytes?: number): number {
    const given = fields.filter((k) => f[k] !== undefined);
    if (given.length !== 1) {
      this.fail(path, given.length === 0 ? `needs one of ${fields.join(", ")}` : `has ${given.join(" and ")}; give exactly one`);
      return 0;
    }
    const k = given[0]!;
    const v = f[k] as number;
    if (k === "cycles") return v;
    if (k === "ns") return v * this.ghz;
    return (bytes! / v) * this.ghz; // gb_per_s: bytes per ns
  }

  private copyPoints(): CopyPoint[] {
    const pts = ((this.data.copy as Obj).points as Obj[]).map((f, i) => {
      const path: Path = ["copy", "points", i];
      const cycles = this.timeInCycles(f, path, ["cycles", "ns", "gb_per_s"], f.bytes as number);
      return { ...this.provenance(f, path), bytes: f.bytes as number, cycles };
    });
    for (let i = 1; i < pts.length; i++) {
      if (pts[i]!.bytes <= pts[i - 1]!.bytes) this.fail(["copy", "points", i, "bytes"], `must be larger than the previous point's ${pts[i - 1]!.bytes}`);
      else if (pts[i]!.cycles < pts[i - 1]!.cycles) this.fail(["copy", "points", i], "a larger copy cannot take less time than a smaller one");
    }
    return pts;
  }

  build(): CheckResult {
    const d = this.data;
    const clock = this.provenance(d.clock_ghz as Obj, ["clock_ghz"]);
    const primitives = Object.fromEntries(PRIMITIVE_NAMES.map((p) => [p, this.primitive(p)])) as Record<Primitive, PrimitiveFigure>;
    const copy = this.copyPoints();
    if (this.issues.length > 0) return { issues: sortIssues(this.issues) };
    return {
      issues: [],
      profile: {
        file: this.file,
        name: d.name as string,
        arch: d.arch as string,
        atomics: d.atomics as AtomicsModel,
        description: (d.description as string | undefined) ?? "",
        clockGHz: this.ghz,
        clock,
        sources: this.sources,
        primitives,
        copy,
      },
    };
  }
}
