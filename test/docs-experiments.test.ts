// docs/experiments.md shows real runs: every marked block equals what its command prints now
// (scripts/experiment-docs.ts; `npm run docs:experiments` rewrites them after a model change).
import { describe, expect, it } from "vitest";
import { docBlocks, regenerate, runBlock } from "../scripts/experiment-docs.ts";
import { EXPERIMENTS } from "../src/experiments/index.ts";

const blocks = docBlocks();

describe("docs/experiments.md tables", () => {
  it("has one marked run per experiment", () => {
    expect(blocks.map((b) => b.name).sort()).toEqual(EXPERIMENTS.map((e) => e.name).sort());
  });

  it.each(blocks.map((b) => [b.command, b] as const))("`vxsim experiment %s` prints the block", (_c, b) => {
    expect(b.text).toBe(runBlock(b));
  });

  it("regenerating a stale page puts the run back", () => {
    const stale = "x\n<!-- vxsim experiment c6 --quick -->\n```\nold numbers\n```\ny";
    expect(regenerate(stale)).toBe(`x\n<!-- vxsim experiment c6 --quick -->\n\`\`\`\n${runBlock({ name: "c6", quick: true, seed: 1 })}\n\`\`\`\ny`);
  });

  it("refuses a marker it cannot read", () => {
    expect(() => docBlocks("<!-- vxsim experiment c6 --fast -->\n```\n\n```")).toThrow("marker 'c6 --fast': unknown word '--fast'");
  });
});
