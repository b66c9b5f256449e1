// Builds every asconfig target in one Node process (each `asc` CLI start costs seconds).
// Outputs are written to a temporary name and renamed, so a test run that loads build/*.wasm
// while a rebuild is in progress never sees a half-written file.
import asc from "assemblyscript/asc";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const targets = process.argv.slice(2).length ? process.argv.slice(2) : ["debug", "release"];
for (const target of targets) {
  const { error, stderr } = await asc.main(["--target", target], {
    writeFile(name, contents, baseDir) {
      const path = join(baseDir, name);
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, contents);
      renameSync(tmp, path);
    },
  });
  if (error) {
    process.stderr.write(stderr.toString());
    process.stderr.write(`asbuild: target ${target} failed: ${error.message}\n`);
    process.exit(1);
  }
}
