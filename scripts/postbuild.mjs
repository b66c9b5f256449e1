// tsc emits files as mode 644; the CLI entry must be executable for `npx vxsim`.
import { chmodSync, existsSync } from "node:fs";
const bin = new URL("../dist/cli/main.js", import.meta.url);
if (existsSync(bin)) chmodSync(bin, 0o755);
