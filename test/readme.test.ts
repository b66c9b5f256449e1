// Every TypeScript example in README.md runs, against the sources behind the "vxsim" entry point.
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const entry = new URL("../src/index.ts", import.meta.url).pathname;

describe("README examples", () => {
  it("has at least one example", () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it.each(examples.map((code, i) => [i + 1, code] as const))("example %i runs", async (_i, code) => {
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
