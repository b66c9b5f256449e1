// Every TypeScript example in README.md, docs/api.md and docs/reports.md runs, against the sources
// behind the "vxsim" entry point (their assert lines are the checks; the reports.md ones write their
// files to a temporary directory of their own).
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const examplesOf = (doc: string) =>
  [...readFileSync(new URL(`../${doc}`, import.meta.url), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => [doc, m[1]!] as const);
const examples = [...examplesOf("README.md"), ...examplesOf("docs/api.md"), ...examplesOf("docs/reports.md")];
const entry = new URL("../src/index.ts", import.meta.url).pathname;

describe("README, docs/api.md and docs/reports.md examples", { timeout: 120_000 }, () => {
  it("has at least one example", () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it("docs/api.md has an example per section", () => {
    expect(examples.filter(([d]) => d === "docs/api.md").length).toBeGreaterThanOrEqual(5);
  });

  it("docs/reports.md has its three examples: report, trace, profile", () => {
    expect(examples.filter(([d]) => d === "docs/reports.md").map(([, code]) => code.match(/\b(renderReport|buildTrace|buildProfile)\(/)?.[1])).toEqual(["renderReport", "buildTrace", "buildProfile"]);
  });

  it.each(examples.map(([doc, code], i) => [doc, i + 1, code] as const))("%s example %i runs", async (_doc, _i, code) => {
    const dir = mkdtempSync(join(new URL(".", import.meta.url).pathname, ".readme-"));
    try {
      const file = join(dir, "example.ts");
      writeFileSync(file, code.replaceAll(`from "vxsim"`, `from ${JSON.stringify(entry)}`));
      await expect(import(file)).resolves.toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
