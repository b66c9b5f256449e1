// Runs every bench/*.bench.ts (or those whose name contains an argument), one after another.
import { readdirSync } from "node:fs";

const filters = process.argv.slice(2);
const files = readdirSync(new URL(".", import.meta.url))
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
for (const f of files) {
  console.log(`\n## ${f}\n`);
  await import(new URL(f, import.meta.url).href);
}
