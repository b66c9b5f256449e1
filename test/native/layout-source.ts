// Reads constant names out of assembly/layout.ts, so the native tests can demand that every
// constant of a section is checked against the real headers.
import { readFileSync } from "node:fs";

/** Names exported in the section whose header line starts with `// ---- <title>` (up to the next section). */
export function layoutSection(title: string): string[] {
  const text = readFileSync(new URL("../../assembly/layout.ts", import.meta.url), "utf8");
  const start = text.indexOf(`// ---- ${title} `);
  if (start < 0) throw new Error(`assembly/layout.ts has no section "${title}"`);
  const next = text.indexOf("\n// ---- ", start + 1);
  const body = text.slice(start, next < 0 ? undefined : next);
  return [...body.matchAll(/^export const (\w+):/gm)].map((m) => m[1]!);
}
