// Packed virtqueue, device side: pop + validate + push of a batch of 64 buffers at queue size
// 256, for chains of 1, 4 and mixed 1..4 descriptors (512-byte elements, the last writable),
// with buffer checks against the guest's p2m (E17) and ring access through the translation
// cache. Only the device call is timed (tinybench beforeEach republishes the batch with the
// Wasm driver, untimed). Compared: Wasm (one call per batch), the plain-TS reference, and the
// same algorithm in C (bench/native/packed.c, gcc -O2, timed by itself in a child process).
// Run: npx tsx bench/packed.bench.ts   (after `node scripts/asbuild.mjs`; BENCH_TIME_MS sets the
// time budget per task, default 1000). Figures: docs/benchmarks.md, section "packed virtqueue".
import { Bench } from "tinybench";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { WasmPackedDevice, WasmPackedDriver, type PackedSeg } from "../src/wasm/packed.ts";
import { RefPackedDevice } from "../src/virtio/packed-ref.ts";

const GUEST = 1;
const RING = 0x10000;
const BUF = 0x100000;
const Q = 256;
const BATCH = 64;
const MODES = [
  { name: "1", len: (_i: number) => 1 },
  { name: "4", len: (_i: number) => 4 },
  { name: "mixed", len: (i: number) => 1 + (i & 3) },
] as const;
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 1000);

/** The batch every implementation sees: element k of buffer i at BUF + (4i + k) * 512. */
function batch(len: (i: number) => number): PackedSeg[][] {
  return Array.from({ length: BATCH }, (_, i) => Array.from({ length: len(i) }, (_, k) => ({
    addr: BUF + (i * 4 + k) * 512, len: 512, write: k + 1 === len(i),
  })));
}

interface Rig { machine: Machine; drv: WasmPackedDriver; refill(): void }

function rig(bufs: PackedSeg[][]): Rig {
  const machine = new Machine();
  machine.createDomain(GUEST, 1024);
  machine.write(GUEST, BUF, new Uint8Array(64 * 4096)); // populate buffers up front
  const drv = new WasmPackedDriver(machine, { queue: 1, ringDomid: GUEST });
  if (drv.init(Q, RING, RING + Q * 16, RING + Q * 16 + 4) !== 0) throw new Error("driver init failed");
  return {
    machine, drv,
    refill() {
      drv.getUsed(Q);
      for (const b of bufs) if (drv.add(b) < 0) throw new Error("ring full: the device did not complete the batch");
    },
  };
}

function check(n: number, what: string): void {
  if (n !== BATCH) throw new Error(`${what}: completed ${n} of ${BATCH}`);
}

/** Builds and runs bench/native/packed.c; returns its median ns per chain by mode. */
function native(): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), "vxsim-packed-"));
  try {
    const header = Object.entries(L).map(([k, v]) => `#define ${k} ${v < 0 ? `(${v})` : `${v}u`}`).join("\n");
    writeFileSync(join(dir, "vxsim_layout.h"), `${header}\n`);
    const src = fileURLToPath(new URL("./native/packed.c", import.meta.url));
    const bin = join(dir, "packed");
    execFileSync("gcc", ["-O2", "-I", dir, "-o", bin, src], { stdio: "inherit" });
    const out = execFileSync(bin, [String(TIME_MS / 1000)], { encoding: "utf8" });
    const res = new Map<string, number>();
    for (const m of out.matchAll(/len=(\S+) ns_per_chain=([\d.]+)/g)) res.set(m[1]!, Number(m[2]));
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench = new Bench({ time: TIME_MS, warmupTime: 200, subtractTimerOverhead: true });
for (const mode of MODES) {
  const bufs = batch(mode.len);
  const w = rig(bufs);
  const wdev = new WasmPackedDevice(w.machine, { queue: 2, ringDomid: GUEST, bufDomid: GUEST });
  wdev.enable(Q, RING, RING + Q * 16, RING + Q * 16 + 4);
  wdev.driverOk();
  bench.add(`wasm len=${mode.name}`, () => check(wdev.popPush(BATCH), "wasm"), { beforeEach: () => w.refill() });

  const t = rig(bufs);
  const tdev = new RefPackedDevice(t.machine, { queue: 2, ringDomid: GUEST, bufDomid: GUEST });
  tdev.enable(Q, RING, RING + Q * 16, RING + Q * 16 + 4);
  tdev.driverOk();
  const out = new DataView(new ArrayBuffer(1 << 20));
  bench.add(`ts len=${mode.name}`, () => check(tdev.popPush(out, 0, out.byteLength, BATCH), "ts"), { beforeEach: () => t.refill() });
}

bench.runSync();
const c = native();
const perChain = (name: string) => {
  const task = bench.getTask(name);
  const p50 = task?.result && "latency" in task.result ? task.result.latency.p50 : NaN;
  return (p50 * 1e6) / BATCH;
};
const rows = MODES.map((m) => {
  const wasm = perChain(`wasm len=${m.name}`);
  const ts = perChain(`ts len=${m.name}`);
  const cc = c.get(m.name) ?? NaN;
  return {
    "chain length": m.name,
    "Wasm ns/chain": wasm.toFixed(1),
    "TS ns/chain": ts.toFixed(1),
    "C -O2 ns/chain": cc.toFixed(1),
    "Wasm speed / C": (cc / wasm).toFixed(2),
    "Wasm speed / TS": (ts / wasm).toFixed(2),
  };
});
console.log(`packed virtqueue, device pop+validate+push, Q=${Q}, batch ${BATCH}, medians (goals: Wasm/C >= 0.8, Wasm/TS >= 3)`);
console.table(rows);
