import { SPEEDSCOPE_SCHEMA } from "../../src/report/profile.ts";

// The parts of speedscope's file format (its file-format-spec: File, Frame, SampledProfile)
// this exporter writes, with every field the viewer requires, written as a JSON schema here.
export const SPEEDSCOPE_FILE_SCHEMA = {
  type: "object",
  required: ["$schema", "shared", "profiles"],
  properties: {
    $schema: { const: SPEEDSCOPE_SCHEMA },
    shared: {
      type: "object", required: ["frames"],
      properties: {
        frames: {
          type: "array",
          items: {
            type: "object", required: ["name"], additionalProperties: false,
            properties: { name: { type: "string" }, file: { type: "string" }, line: { type: "number" }, col: { type: "number" } },
          },
        },
      },
    },
    profiles: {
      type: "array", minItems: 1,
      items: {
        type: "object", required: ["type", "name", "unit", "startValue", "endValue", "samples", "weights"], additionalProperties: false,
        properties: {
          type: { const: "sampled" },
          name: { type: "string" },
          unit: { enum: ["none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"] },
          startValue: { type: "number" },
          endValue: { type: "number" },
          samples: { type: "array", items: { type: "array", items: { type: "integer", minimum: 0 } } },
          weights: { type: "array", items: { type: "number", minimum: 0 } },
        },
      },
    },
    name: { type: "string" },
    activeProfileIndex: { type: "integer", minimum: 0 },
    exporter: { type: "string" },
  },
};
