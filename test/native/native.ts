// Compiles and runs the C programs in this folder for the native differential and layout tests.
// A missing compiler or header is an error, never a skip: these tests are how vxsim knows its
// ABI constants match the real headers.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const INSTALL_HINT = "install gcc / linux-libc-dev / libxen-dev; .ci/run does this";
const CFLAGS = ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"];

interface ExecError extends Error {
  code?: string;
  status?: number | null;
  stderr?: Buffer | string;
}

function stderrOf(err: ExecError): string {
  return err.stderr ? err.stderr.toString().trim() : "";
}

/** Runs gcc; turns "no gcc" and "no such header" into errors that say what to install. */
function gcc(args: string[], what: string, input?: string): string {
  try {
    return execFileSync("gcc", args, { input, encoding: "utf8", maxBuffer: 64 << 20, stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    const err = e as ExecError;
    if (err.code === "ENOENT") throw new Error(`native test: gcc not found (${INSTALL_HINT})`);
    const msg = stderrOf(err);
    const header = /fatal error: ([\w./-]+): No such file or directory/.exec(msg);
    if (header) throw new Error(`native test: ${what}: header <${header[1]}> is missing (${INSTALL_HINT})\n${msg}`);
    throw new Error(`native test: ${what}: gcc failed\n${msg}`);
  }
}

/** Path of a file in test/native. */
export function nativeFile(name: string): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

/** Compiles test/native/<name> into a temporary directory, runs it with `input` on stdin and
 *  returns its stdout. Throws (so the calling test fails) if anything is missing or goes wrong. */
export function runC(name: string, input?: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "vxsim-native-"));
  try {
    const exe = join(dir, name.replace(/\.c$/, ""));
    gcc([...CFLAGS, nativeFile(name), "-o", exe], `cannot compile test/native/${name}`);
    try {
      return execFileSync(exe, [], { input, encoding: "utf8", maxBuffer: 64 << 20, stdio: ["pipe", "pipe", "pipe"] });
    } catch (e) {
      const err = e as ExecError;
      throw new Error(`native test: test/native/${name} exited with ${err.status ?? err.code}\n${stderrOf(err)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The object-like macros the preprocessor sees after including `headers` (name -> body), with
 *  `defines` placed before the includes. Used to check that a test covers a whole macro family. */
export function cMacros(headers: string[], defines: string[] = []): Map<string, string> {
  const src = [...defines.map((d) => `#define ${d}`), "#include <stdint.h>", ...headers.map((h) => `#include <${h}>`), ""].join("\n");
  const out = gcc(["-dM", "-E", "-x", "c", "-"], `cannot preprocess ${headers.join(", ")}`, src);
  const macros = new Map<string, string>();
  for (const line of out.split("\n")) {
    const m = /^#define (\w+) ?(.*)$/.exec(line); // function-like macros have "(" right after the name
    if (m) macros.set(m[1]!, m[2]!);
  }
  return macros;
}

/** Runs `f` the first time the result is asked for and remembers the result or the error, so
 *  every test that needs a native result fails with the same message (none is skipped). */
export function once<T>(f: () => T): () => T {
  let done = false;
  let value: T;
  let error: unknown;
  return () => {
    if (!done) {
      done = true;
      try {
        value = f();
      } catch (e) {
        error = e;
      }
    }
    if (error !== undefined) throw error;
    return value;
  };
}
