// Validates scenario data against scenario.schema.json (ajv, draft-07) and turns every
// schema error into a ConfigError at the line of the key or value concerned, in words a
// user can act on.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import schema from "./scenario.schema.json" with { type: "json" };
import { ConfigError, choices, closest } from "./config-error.ts";
import type { Path, YamlSource } from "./yaml-source.ts";

export const SCENARIO_SCHEMA = schema;

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  // verbose: errors carry the schema that failed, for the lists of allowed keys.
  validator ??= new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true }).compile(schema);
  return validator;
}

/** Throws one ConfigError listing every schema violation of `src.data`. */
export function checkSchema(src: YamlSource): void {
  const v = validate();
  if (v(src.data)) return;
  throw schemaError(src, v.errors ?? []);
}

/** One ConfigError for ajv errors (run with verbose: true) about `src.data`. */
export function schemaError(src: YamlSource, ajvErrors: readonly ErrorObject[]): ConfigError {
  const errors = ajvErrors.map((e) => toConfigError(src, e));
  // allErrors may report the same thing twice (e.g. min and max properties); keep one.
  const seen = new Set<string>();
  const unique = errors.filter((e) => {
    if (seen.has(e.message)) return false;
    seen.add(e.message);
    return true;
  });
  return ConfigError.many(unique);
}

function pathOf(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function toConfigError(src: YamlSource, e: ErrorObject): ConfigError {
  const path: Path = pathOf(e.instancePath);
  const parent = e.parentSchema as { properties?: Record<string, unknown> } | undefined;
  const props = Object.keys(parent?.properties ?? {});
  switch (e.keyword) {
    case "additionalProperties": {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const guess = closest(key, props);
      return src.error([...path, key], `unknown key '${key}' (${guess ? `did you mean '${guess}'? ` : ""}expected one of: ${choices(props)})`, true);
    }
    case "required": {
      const key = (e.params as { missingProperty: string }).missingProperty;
      return src.error([...path, key], "missing (a required key)");
    }
    case "type":
      return src.error(path, `expected ${typeWords(e.schema as string | string[])}, got ${describe(e.data)}`);
    case "enum":
      return src.error(path, `unknown value ${describe(e.data)} (expected one of: ${choices((e.schema as unknown[]).map(String))})`);
    case "minimum":
      return src.error(path, `must be at least ${String(e.schema)}, got ${String(e.data)}`);
    case "maximum":
      return src.error(path, `must be at most ${String(e.schema)}, got ${String(e.data)}`);
    case "minLength":
      return src.error(path, "must not be empty");
    case "minItems":
      return src.error(path, `needs at least ${String(e.schema)} entr${e.schema === 1 ? "y" : "ies"}`);
    case "minProperties":
    case "maxProperties": {
      const found = Object.keys((e.data as object) ?? {});
      return src.error(path, `expected exactly one of: ${choices(props)}${found.length > 0 ? ` (found: ${choices(found)})` : ""}`);
    }
    default:
      return src.error(path, e.message ?? e.keyword);
  }
}

function typeWords(t: string | string[]): string {
  const words: Record<string, string> = {
    object: "a mapping", array: "a list", string: "a string", integer: "an integer", number: "a number", boolean: "true or false",
  };
  return (Array.isArray(t) ? t : [t]).map((x) => words[x] ?? x).join(" or ");
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `'${v}'`;
  return String(v);
}
