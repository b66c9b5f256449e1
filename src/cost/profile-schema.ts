// The JSON schema of a profile file (structure, types, ranges, unknown fields). The rules that
// tie fields together (a figure has one value; a source or an estimate with its why; source
// keys exist; copy points ascend) are in profile-check.ts, which runs once this passes.
import { ATOMICS_MODELS, PRIMITIVE_NAMES } from "./primitives.ts";

export const PROFILE_FORMAT = 1;

// Fields every figure may carry to say where its number comes from.
const provenance = {
  source: { type: "string", minLength: 1 },
  tag: { enum: ["measured", "verified", "recalled"] },
  estimate: { type: "boolean" },
  based_on: { type: "string", minLength: 1 },
  why: { type: "string", minLength: 1 },
  note: { type: "string" },
} as const;

const primitiveFigure = {
  type: "object",
  properties: {
    cycles: { type: "number", minimum: 0 },
    ns: { type: "number", minimum: 0 },
    na: { type: "boolean" },
    ...provenance,
  },
  additionalProperties: false,
} as const;

const clockFigure = {
  type: "object",
  properties: { ghz: { type: "number", exclusiveMinimum: 0 }, ...provenance },
  required: ["ghz"],
  additionalProperties: false,
} as const;

const copyPoint = {
  type: "object",
  properties: {
    bytes: { type: "integer", minimum: 1 },
    cycles: { type: "number", exclusiveMinimum: 0 },
    ns: { type: "number", exclusiveMinimum: 0 },
    gb_per_s: { type: "number", exclusiveMinimum: 0 },
    ...provenance,
  },
  required: ["bytes"],
  additionalProperties: false,
} as const;

const source = {
  type: "object",
  properties: { cite: { type: "string", minLength: 1 }, where: { type: "string", minLength: 1 } },
  required: ["cite", "where"],
  additionalProperties: false,
} as const;

export const PROFILE_SCHEMA = {
  type: "object",
  properties: {
    vxsim_profile: { const: PROFILE_FORMAT },
    name: { type: "string", minLength: 1 },
    arch: { type: "string", minLength: 1 },
    atomics: { enum: [...ATOMICS_MODELS] },
    description: { type: "string" },
    clock_ghz: clockFigure,
    sources: { type: "object", additionalProperties: source },
    primitives: {
      type: "object",
      properties: Object.fromEntries(PRIMITIVE_NAMES.map((p) => [p, primitiveFigure])),
      required: PRIMITIVE_NAMES,
      additionalProperties: false,
    },
    copy: {
      type: "object",
      properties: { points: { type: "array", items: copyPoint, minItems: 1 } },
      required: ["points"],
      additionalProperties: false,
    },
  },
  required: ["vxsim_profile", "name", "arch", "atomics", "clock_ghz", "sources", "primitives", "copy"],
  additionalProperties: false,
} as const;
