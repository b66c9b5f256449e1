// The ONE place that loads the compiled Wasm. Each build is compiled once per process;
// every Machine is a fresh instance of it (its own linear memory).
import { readFileSync } from "node:fs";

export type Build = "release" | "debug";

const compiled = new Map<Build, WebAssembly.Module>();

export function wasmModule(build: Build): WebAssembly.Module {
  let mod = compiled.get(build);
  if (!mod) {
    const url = new URL(`../../build/${build}.wasm`, import.meta.url);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(url));
    } catch (err) {
      throw new Error(`vxsim: ${url.pathname} is missing; run \`npm run asbuild\` (${(err as Error).message})`);
    }
    mod = new WebAssembly.Module(bytes);
    compiled.set(build, mod);
  }
  return mod;
}

/** Reads an AssemblyScript string (UTF-16, byte length stored just before it). */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return "";
  const bytes = new DataView(memory.buffer).getUint32(ptr - 4, true);
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, bytes >>> 1));
}

export function instantiate(build: Build): WebAssembly.Instance {
  let memory: WebAssembly.Memory | undefined;
  const instance = new WebAssembly.Instance(wasmModule(build), {
    env: {
      abort(msg: number, file: number, line: number, col: number): never {
        const m = memory ? readAsString(memory, msg) : "";
        const f = memory ? readAsString(memory, file) : "";
        throw new Error(`vxsim wasm abort: ${m} (${f}:${line}:${col})`);
      },
    },
  });
  memory = instance.exports.memory as WebAssembly.Memory;
  (instance.exports._start as () => void)();
  return instance;
}
