// The `vxsim exposure` table in docs/transports.md is a real run: `npm run docs:exposure`
// rewrites the block between its markers with the command's output; test/exposure.test.ts
// fails when the page differs from a fresh run.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const DOC = new URL("../docs/transports.md", import.meta.url);
const BLOCK = /(<!-- vxsim exposure: begin -->\n```text\n)[\s\S]*?\n(```\n<!-- vxsim exposure: end -->)/;

const out = execFileSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "exposure", "--quiet"], { encoding: "utf8" });
const doc = readFileSync(DOC, "utf8");
if (!BLOCK.test(doc)) throw new Error("docs/transports.md: the vxsim exposure markers are missing");
writeFileSync(DOC, doc.replace(BLOCK, (_m, open: string, close: string) => `${open}${out.replace(/\n$/, "")}\n${close}`));
console.log("docs/transports.md: exposure table regenerated");
