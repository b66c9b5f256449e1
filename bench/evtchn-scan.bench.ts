// Guest upcall-handler scan: the Wasm kernel against its plain-TS reference, on a shared_info
// with every selector word flagged and a quarter of the 4096 ports pending (half of those masked).
import { Bench } from "tinybench";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { evtchn2lScan, type Evtchn2lGpas } from "../src/wasm/evtchn.ts";
import { evtchn2lScanRef } from "../src/wasm/evtchn-scan-ref.ts";

const m = new Machine();
m.createDomain(1, 16, 64);
const mfn = m.allocXenFrame();
m.p2mMap(1, 20, mfn, L.P2M_XEN);
const image = new Uint8Array(4096);
const dv = new DataView(image.buffer);
for (let i = 0; i < 128; i++) {
  dv.setUint32(L.SHARED_INFO_EVTCHN_PENDING + i * 4, 0x11111111 * ((i % 15) + 1), true);
  dv.setUint32(L.SHARED_INFO_EVTCHN_MASK + i * 4, 0x0f0f0f0f, true);
}
dv.setUint32(L.VCPU_INFO_EVTCHN_PENDING_SEL, 0xffffffff, true);
dv.setUint32(L.VCPU_INFO_EVTCHN_PENDING_SEL + 4, 0xffffffff, true);
const g: Evtchn2lGpas = { vcpuInfo: 20 * 4096, pending: 20 * 4096 + L.SHARED_INFO_EVTCHN_PENDING, mask: 20 * 4096 + L.SHARED_INFO_EVTCHN_MASK };

const run = (scan: () => number[] | number) => () => {
  m.writeMfn(mfn, 0, image);
  const r = scan();
  if (typeof r === "number" || r.length === 0) throw new Error(`scan failed: ${String(r)}`);
};

const bench = new Bench({ time: 1000 });
bench.add("wasm: full 2-level scan", run(() => evtchn2lScan(m, 1, g)));
bench.add("ts reference: full 2-level scan", run(() => evtchn2lScanRef(m, 1, g)));
await bench.run();
console.table(bench.table());
const [w, t] = bench.tasks.map((x) => x.result);
const mean = (r: unknown): number => (r as { latency?: { mean: number }; mean?: number }).latency?.mean ?? (r as { mean: number }).mean;
if (w && t) console.log(`wasm speed-up over the TS reference: ${(mean(t) / mean(w)).toFixed(1)}x`);
