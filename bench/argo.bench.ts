// Argo ring insert: the Wasm kernel against its plain-TS reference (one sendv's copy each),
// for small and page-sized messages into a 64 KiB ring. The ring index just keeps wrapping
// (the kernel does not look at rx_ptr; the hypervisor model checks space before calling it).
import { Bench } from "tinybench";
import { Machine } from "../src/wasm/machine.ts";
import * as L from "../src/wasm/layout.ts";
import { WasmArgoCopier, allocRingTable, type ArgoRingCopier } from "../src/wasm/argo.ts";
import { TsArgoCopier } from "../src/wasm/argo-ref.ts";
import { ringPages } from "../src/xen/argo-ring.ts";

const m = new Machine();
m.createDomain(1, 64);
m.createDomain(2, 64);
const len = 64 * 1024 - 64;
const mfns = Array.from({ length: ringPages(len) }, (_, i) => m.populate(1, i + 32));
const tableMfn = allocRingTable(m, mfns);
for (let g = 0; g < 8; g++) m.write(2, g * L.PAGE_SIZE, new Uint8Array(L.PAGE_SIZE).fill(g));

const bench = new Bench({ time: 300 });
for (const [name, copier] of [["wasm", new WasmArgoCopier(m)], ["ts", new TsArgoCopier(m)]] as [string, ArgoRingCopier][]) {
  for (const size of [64, 4096]) {
    let tx = 0;
    const iovs = size === 64 ? [{ gpa: 100, len: 64 }] : [{ gpa: 2000, len: 2048 }, { gpa: 3 * L.PAGE_SIZE, len: 2048 }];
    bench.add(`${name} insert ${size} B`, () => {
      tx = copier.insert({ tableMfn, nmfns: mfns.length, owner: 1, ringLen: len, tx, srcDom: 2, srcAport: 1, msgType: 0, iovs });
      if (tx < 0) throw new Error(`insert failed: ${tx}`);
    });
  }
}
await bench.run();
console.table(bench.table());
