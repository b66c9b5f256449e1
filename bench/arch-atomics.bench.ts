// Atomics engine: steps per second of the Wasm scheduler loop vs the plain-TS reference, on
// the XSA-295 starvation scenario (Arm v8.0 cmpxchg against a store loop, 65536 steps).
import { Bench } from "tinybench";
import { Machine } from "../src/wasm/machine.ts";
import { WasmArchAtomics, type ArchAtomicsEngine } from "../src/wasm/arch-atomics.ts";
import { TsArchAtomics } from "../src/wasm/ts-arch-atomics.ts";

function scenario(make: (m: Machine) => ArchAtomicsEngine): () => void {
  const m = new Machine();
  m.createDomain(1, 4);
  const mfn = m.populate(1, 0);
  return () => {
    const e = make(m);
    e.setAgent(0, { isa: "arm-llsc", op: "cmpxchg", mfn, off: 8, a: 0, b: 5, sharer: 1 });
    e.setAgent(1, { isa: "arm-llsc", op: "store", mfn, off: 12, a: 1, domid: 1, repeat: "forever" });
    const r = e.run(1 << 20);
    if (r.status !== "starved" || r.steps !== 65536) throw new Error(`unexpected ${r.status} after ${r.steps}`);
    if (e instanceof WasmArchAtomics) e.dispose();
  };
}

const bench = new Bench({ time: 1000 });
bench.add("wasm: 65536 steps (starvation run)", scenario((m) => new WasmArchAtomics(m, { seed: 7 })));
bench.add("ts reference: 65536 steps", scenario((m) => new TsArchAtomics(m, { seed: 7 })));
await bench.run();
console.table(bench.table());
const [w, t] = bench.tasks.map((x) => x.result);
const mean = (r: unknown): number => (r as { latency?: { mean: number }; mean?: number }).latency?.mean ?? (r as { mean: number }).mean;
if (w && t) console.log(`wasm speed-up over the TS reference: ${(mean(t) / mean(w)).toFixed(1)}x`);
