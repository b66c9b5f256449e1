// Every TypeScript example in README.md and docs/api.md runs, against the sources behind the
// "vxsim" entry point (their assert lines are the checks).
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const examplesOf = (doc: string) =>
  [...readFileSync(new URL(`../${doc}`, import.meta.url), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => [doc, m[1]!] as const);
const examples = [...examplesOf("README.md"), ...examplesOf("docs/api.md")];
const entry = new URL("../src/index.ts", import.meta.url).pathname;

describe("README and docs/api.md examples", () => {
  it("has at least one example", () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it("docs/api.md has an example per section", () => {
    expect(examples.filter(([d]) => d === "docs/api.md").length).toBeGreaterThanOrEqual(5);
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
