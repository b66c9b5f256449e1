// Split virtqueue, device side: pop + validate + complete at queue size 256, batches of 64
// chains, chain lengths 1, 4 and mixed 1-4 (the shape of cost-figures.md A3 "device-only").
// A resident set of 64 chains is republished each batch (one avail.idx store) and the device
// pops them (full validation, buffers checked against the guest's RAM, EVENT_IDX), completes
// them with their writable length and makes the interrupt decision: three calls per batch.
// Compared: the Wasm kernel, the TS reference (same algorithm), and the same algorithm in C
// (bench/native/split.c, gcc -O2, run as a child process that times itself).
//
// The C baseline runs before and after the JS tasks and the lower of its two medians is kept,
// so that load from other processes at one moment does not decide the ratio alone.
//
//   npx tsx bench/split.bench.ts            (or: npm run bench -- split)
import { Bench } from "tinybench";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Machine } from "../src/wasm/machine.ts";
import { SplitDevice } from "../src/wasm/split.ts";
import { SplitRefDevice } from "../src/virtio/split-ref.ts";
import { newHostCounters } from "../src/wasm/ts-guest-memory.ts";
import * as L from "../src/wasm/layout.ts";

const GUEST = 1;
const SIZE = 256;
const RESIDENT = 64;
const BATCH = 64;
const ROUNDS = 16; // batches per timed iteration (keeps the timer overhead out of the figure)
const RING = { size: SIZE, desc: 0x10000, avail: 0x11000, used: 0x12000 };
const RUST_VMM_LEN1 = 13.1e6; // chains/s, rust-vmm virtio-queue 0.7.1 device loop (cost-figures A4)

type Mode = "len1" | "len4" | "mixed";
const MODES: Mode[] = ["len1", "len4", "mixed"];
const chainLen = (mode: Mode, c: number) => (mode === "len1" ? 1 : mode === "len4" ? 4 : 1 + (c & 3));

/** A guest with the resident chains in its ring (the same layout as split.c). */
function guest(mode: Mode): { m: Machine; idxAddr: number } {
  const m = new Machine();
  m.createDomain(GUEST, 1024);
  const heads: number[] = [];
  let at = 0;
  for (let c = 0; c < RESIDENT; c++) {
    const n = chainLen(mode, c);
    heads.push(at);
    for (let i = 0; i < n; i++) {
      const d = new DataView(new ArrayBuffer(16));
      d.setBigUint64(0, BigInt(0x100000 + c * 0x4000 + i * 0x1000), true);
      d.setUint32(8, 512, true);
      const write = n === 1 || i + 1 === n ? L.VRING_DESC_F_WRITE : 0;
      d.setUint16(12, (i + 1 < n ? L.VRING_DESC_F_NEXT : 0) | write, true);
      d.setUint16(14, at + i + 1, true);
      m.write(GUEST, RING.desc + (at + i) * 16, new Uint8Array(d.buffer));
    }
    at += n;
  }
  const slots = new DataView(new ArrayBuffer(2 * SIZE));
  for (let s = 0; s < SIZE; s++) slots.setUint16(2 * s, heads[s % RESIDENT]!, true);
  m.write(GUEST, RING.avail + 4, new Uint8Array(slots.buffer));
  m.write(GUEST, RING.used, new Uint8Array(8 + 8 * SIZE)); // populate the used ring's page
  return { m, idxAddr: m.translate(GUEST, RING.avail >> 12, true) + 2 };
}

function wasmDevice(mode: Mode): () => number {
  const { m, idxAddr } = guest(mode);
  const dev = new SplitDevice(m, 0, GUEST, SIZE);
  if (dev.enable(RING, { eventIdx: true, indirect: true }, { bufDomid: GUEST }) !== L.VQ_OK) throw new Error("enable failed");
  dev.setDriverOk(true);
  let idx = 0;
  return () => {
    const dv = m.dv;
    let n = 0;
    for (let r = 0; r < ROUNDS; r++) {
      idx = (idx + BATCH) & 0xffff;
      dv.setUint16(idxAddr, idx, true);
      const k = dev.popRaw(BATCH);
      dev.pushChainsRaw(L.IO_BASE, k);
      dev.needInterrupt();
      n += k;
    }
    if (n !== ROUNDS * BATCH || dev.broken) throw new Error(`wasm device: ${n} chains, error ${dev.error}`);
    return n;
  };
}

function tsDevice(mode: Mode): () => number {
  const { m, idxAddr } = guest(mode);
  const ref = new SplitRefDevice(m, GUEST, SIZE, newHostCounters());
  const f = L.QF_EVENT_IDX | L.QF_INDIRECT;
  if (ref.enable(SIZE, RING.desc, RING.avail, RING.used, f, GUEST, 0, 0) !== L.VQ_OK) throw new Error("enable failed");
  ref.setFlags(L.QF_DRIVER_OK, 0);
  const out = new DataView(new ArrayBuffer(BATCH * (16 + 4 * 16)));
  let idx = 0;
  return () => {
    const dv = m.dv;
    let n = 0;
    for (let r = 0; r < ROUNDS; r++) {
      idx = (idx + BATCH) & 0xffff;
      dv.setUint16(idxAddr, idx, true);
      const k = ref.pop(out, 0, out.byteLength, BATCH);
      ref.push(out, 0, k, true);
      ref.needIrq();
      n += k;
    }
    if (n !== ROUNDS * BATCH || ref.broken) throw new Error(`ts device: ${n} chains, error ${ref.error}`);
    return n;
  };
}

/** Builds the C version into a temporary directory; returns a function that runs it (median
 *  ns/chain per mode), or undefined when gcc is missing. */
interface Figure { median: number; min: number }

function native(): { run(): Record<Mode, Figure>; done(): void } | undefined {
  const dir = mkdtempSync(join(tmpdir(), "vxsim-split-"));
  const exe = join(dir, "split");
  try {
    const src = fileURLToPath(new URL("native/split.c", import.meta.url));
    execFileSync("gcc", ["-O2", "-o", exe, src], { stdio: "pipe" });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    console.log(`(C baseline skipped: ${(err as Error).message.split("\n")[0]})`);
    return undefined;
  }
  return {
    run() {
      const out = execFileSync(exe, ["2000", "21"], { encoding: "utf8" });
      const res: Partial<Record<Mode, Figure>> = {};
      for (const line of out.trim().split("\n")) {
        const [name, median, min] = line.split(" ");
        res[name as Mode] = { median: Number(median), min: Number(min) };
      }
      return res as Record<Mode, Figure>;
    },
    done() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Both implementations pop the same records for one batch (a sanity check, not timed). */
function crossCheck(mode: Mode): void {
  const a = guest(mode);
  const b = guest(mode);
  const dev = new SplitDevice(a.m, 0, GUEST, SIZE);
  dev.enable(RING, { eventIdx: true, indirect: true }, { bufDomid: GUEST });
  dev.setDriverOk(true);
  const ref = new SplitRefDevice(b.m, GUEST, SIZE, newHostCounters());
  ref.enable(SIZE, RING.desc, RING.avail, RING.used, L.QF_EVENT_IDX | L.QF_INDIRECT, GUEST, 0, 0);
  ref.setFlags(L.QF_DRIVER_OK, 0);
  a.m.dv.setUint16(a.idxAddr, BATCH, true);
  b.m.dv.setUint16(b.idxAddr, BATCH, true);
  const out = new DataView(new ArrayBuffer(BATCH * (16 + 4 * 16)));
  const n = dev.popRaw(BATCH);
  if (ref.pop(out, 0, out.byteLength, BATCH) !== n) throw new Error("cross-check: chain counts differ");
  const w = a.m.u8.subarray(L.IO_BASE, L.IO_BASE + out.byteLength);
  const t = new Uint8Array(out.buffer);
  for (let i = 0; i < t.length; i++) if (w[i] !== t[i]) throw new Error(`cross-check: record byte ${i} differs`);
}

const cProgram = native();
const cBefore = cProgram?.run();
const bench = new Bench({ time: 1500, warmupTime: 300 });
for (const mode of MODES) {
  crossCheck(mode);
  bench.add(`wasm ${mode}`, wasmDevice(mode));
  bench.add(`ts ${mode}`, tsDevice(mode));
}
await bench.run();
const nsPerChain = (name: string): Figure => {
  const r = bench.getTask(name)!.result;
  if (r.state !== "completed") throw new Error(`${name}: ${r.state}`);
  const per = (ms: number) => (ms * 1e6) / (ROUNDS * BATCH);
  return { median: per(r.latency.p50), min: per(r.latency.min) };
};
const cAfter = cProgram?.run();
cProgram?.done();
const c = cBefore && cAfter
  ? Object.fromEntries(MODES.map((m) => [m, {
    median: Math.min(cBefore[m].median, cAfter[m].median), min: Math.min(cBefore[m].min, cAfter[m].min),
  }])) as Record<Mode, Figure>
  : undefined;

const rows = MODES.map((mode) => {
  const wasm = nsPerChain(`wasm ${mode}`);
  const ts = nsPerChain(`ts ${mode}`);
  const cn = c?.[mode];
  return {
    chains: mode === "mixed" ? "mixed 1-4" : mode === "len1" ? "length 1" : "length 4",
    "wasm ns/chain": wasm.median.toFixed(1),
    "ts ns/chain": ts.median.toFixed(1),
    "C ns/chain": cn === undefined ? "-" : cn.median.toFixed(1),
    "wasm/C": cn === undefined ? "-" : (cn.median / wasm.median).toFixed(2),
    "wasm/ts": (ts.median / wasm.median).toFixed(2),
    "best wasm/C": cn === undefined ? "-" : (cn.min / wasm.min).toFixed(2),
    "wasm Mchains/s": (1e3 / wasm.median).toFixed(1),
    "x rust-vmm": mode === "len1" ? (1e9 / wasm.median / RUST_VMM_LEN1).toFixed(1) : "",
  };
});
console.log(`split virtqueue, device side: queue ${SIZE}, batch ${BATCH}, median of per-iteration times (${ROUNDS} batches each); load ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]}`);
console.table(rows);
console.log(`rust-vmm virtio-queue 0.7.1 anchor: ${(RUST_VMM_LEN1 / 1e6).toFixed(1)} M chains/s at length 1 (cost-figures A4)`);
console.log("ratios are speed ratios of medians (C time / wasm time); \"best\" uses each side's fastest iteration");
console.log("goals: wasm >= 0.8x C, >= 3x TS, >= 4x rust-vmm");
