// Shared set-up for the grant-table tests: a hypervisor with dom0 and two guests, each with
// its table placed above RAM and a scratch area for hypercall arguments.
import { Machine } from "../src/wasm/machine.ts";
import type { Build } from "../src/wasm/module.ts";
import { Hypervisor } from "../src/xen/hypervisor.ts";
import { GrantTables, type GrantOptions } from "../src/xen/grant-table.ts";
import { GuestGrants } from "../src/xen/grant-guest.ts";
import type { XsmPolicy } from "../src/xen/xsm.ts";

export const RAM = 256;
export const TABLE_GFN = RAM + 16; // table frames live here
export const WINDOW_GFN = RAM + 256; // grant mappings go here and above
export const SCRATCH_GPA = (RAM - 8) * 4096; // 8 pages of argument space at the top of RAM

export const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 7 + 1) & 0xff);

export interface World {
  m: Machine;
  hv: Hypervisor;
  gt: GrantTables;
  g: GuestGrants[]; // by domid: 0 = dom0, 1 and 2 = guests
}

export function world(build: Build = "release", opts: GrantOptions = {}, xsm?: XsmPolicy, guests = 2): World {
  const m = new Machine({ build });
  const hv = new Hypervisor({ machine: m, xsm });
  const gt = new GrantTables(hv, opts);
  hv.createDomain({ name: "dom0", ramPages: RAM, control: true });
  for (let i = 1; i <= guests; i++) hv.createDomain({ name: `guest${i}`, ramPages: RAM });
  const g: GuestGrants[] = [];
  for (let d = 0; d <= guests; d++) {
    g[d] = new GuestGrants(gt, d, { baseGfn: TABLE_GFN, scratchGpa: SCRATCH_GPA, scratchBytes: 8 * 4096 });
    if (g[d]!.setup(1) !== 0) throw new Error(`setup d${d}`);
  }
  return { m, hv, gt, g };
}

/** A guest's RAM page filled with a pattern; returns the gfn. */
export function fillPage(w: World, domid: number, gfn: number, seed: number): number {
  w.m.write(domid, gfn * 4096, pattern(4096, seed));
  return gfn;
}
