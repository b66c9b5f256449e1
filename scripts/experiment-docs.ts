// The experiment tables in docs/experiments.md are real runs: each output block follows a marker
// `<!-- vxsim experiment NAME [--quick] [--seed N] -->` and holds exactly what that command prints
// (formatTable). `npm run docs:experiments` rewrites the blocks; test/docs-experiments.test.ts
// fails when one differs from a fresh run, so the page cannot go stale.
import { readFileSync, writeFileSync } from "node:fs";
import { experimentByName, formatTable } from "../src/experiments/index.ts";
import { runJob } from "../src/run/run-job.ts";

export const DOC = new URL("../docs/experiments.md", import.meta.url);

export interface DocBlock {
  /** The marker's command, as written (`c1 --quick`). */
  command: string;
  name: string;
  quick: boolean;
  seed: number;
  /** The block's text between the fences, without the final newline. */
  text: string;
}

const MARKER = /<!-- vxsim experiment ([^>]*?) -->\n```\n([\s\S]*?)\n```/g;

function parseCommand(command: string): Omit<DocBlock, "command" | "text"> {
  const words = command.trim().split(/\s+/);
  const name = words.shift();
  if (!name) throw new Error(`docs/experiments.md: marker without an experiment name`);
  let quick = false;
  let seed = 1;
  while (words.length > 0) {
    const w = words.shift()!;
    if (w === "--quick") quick = true;
    else if (w === "--seed" && words.length > 0) seed = Number(words.shift());
    else throw new Error(`docs/experiments.md: marker '${command}': unknown word '${w}'`);
  }
  return { name, quick, seed };
}

export function docBlocks(doc = readFileSync(DOC, "utf8")): DocBlock[] {
  return [...doc.matchAll(MARKER)].map((m) => ({ command: m[1]!, ...parseCommand(m[1]!), text: m[2]! }));
}

/** What `vxsim experiment <command>` prints for the block (its table, notes and verdict). */
export function runBlock(b: Pick<DocBlock, "name" | "quick" | "seed">): string {
  return formatTable(experimentByName(b.name).run({ seed: b.seed, quick: b.quick, runJob: (spec) => runJob(spec) })).replace(/\n+$/, "");
}

/** The page with every marked block replaced by a fresh run. */
export function regenerate(doc = readFileSync(DOC, "utf8")): string {
  return doc.replace(MARKER, (_all, command: string) => `<!-- vxsim experiment ${command} -->\n\`\`\`\n${runBlock(parseCommand(command))}\n\`\`\``);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(DOC, regenerate());
  console.log(`docs/experiments.md: ${docBlocks().length} blocks regenerated`);
}
