// Twin machines for differential tests of the split virtqueue: the Wasm kernels run on one, the
// TS reference on the other, after identical setup. The reference counts into a HostCounters
// array, and the only Wasm-side counts on its machine come from populating frames on its
// behalf, so for every slot: wasm machine == reference machine + reference counters.
import { expect } from "vitest";
import { Machine } from "../../src/wasm/machine.ts";
import { newHostCounters, type HostCounters } from "../../src/wasm/ts-guest-memory.ts";
import * as L from "../../src/wasm/layout.ts";

export const GUEST = 1; // owns the ring and most buffers (256 pages of RAM)
export const OTHER = 2; // 16 pages of RAM, p2m room to 128 gfns, a read-only grant of a guest frame at gfn 40
export const RO_GFN = 40;

export function world(build: "release" | "debug"): Machine {
  const m = new Machine({ build });
  m.createDomain(GUEST, 256);
  m.createDomain(OTHER, 16, 128);
  const mfn = m.populate(GUEST, 0x50);
  expect(m.p2mMap(OTHER, RO_GFN, mfn, L.P2M_GRANT | L.P2MF_RO)).toBe(L.MST_OK);
  return m;
}

export interface Twins {
  a: Machine; // Wasm
  b: Machine; // TS reference
  host: HostCounters;
}

export function twins(build: "release" | "debug"): Twins {
  return { a: world(build), b: world(build), host: newHostCounters() };
}

/** Runs the same setup on both machines. */
export function both(t: Twins, f: (m: Machine) => void): void {
  f(t.a);
  f(t.b);
}

export function expectSameCounters(t: Twins, where: string): void {
  const a = t.a.counters();
  const b = t.b.counters();
  for (let i = 0; i < L.COUNTERS_SLOTS; i++) {
    if (a[i] !== b[i]! + t.host[i]!) {
      throw new Error(`${where}: counter slot ${i} differs: wasm ${a[i]}, reference ${b[i]! + t.host[i]!}`);
    }
  }
}

export function expectSameBytes(x: Uint8Array, y: Uint8Array, where: string): void {
  if (x.length !== y.length) throw new Error(`${where}: lengths differ: ${x.length} vs ${y.length}`);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) throw new Error(`${where}: byte ${i} differs: wasm ${x[i]}, reference ${y[i]}`);
  }
}

/** Compares guest memory of both machines without counting the reads (they would count the
 *  same on both anyway, but this keeps the check out of the counters). */
export function expectSameGuest(t: Twins, domid: number, gpa: number, len: number, where: string): void {
  const snap = (m: Machine) => {
    const before = m.counters();
    const bytes = m.read(domid, gpa, len);
    const after = m.counters();
    for (let i = 0; i < L.COUNTERS_SLOTS; i++) if (after[i] !== before[i]) m.bump(i, before[i]! - after[i]!);
    return bytes;
  };
  expectSameBytes(snap(t.a), snap(t.b), `${where}: guest d${domid} from 0x${gpa.toString(16)}`);
}
