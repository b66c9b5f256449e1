// Builds an atomics engine of either kind (Wasm release/debug, or the plain-TS reference) over
// a fresh machine with two guests, and reads back what tests compare.
import { Machine } from "../src/wasm/machine.ts";
import { WasmArchAtomics, type ArchAtomicsEngine, type EngineConfig } from "../src/wasm/arch-atomics.ts";
import { TsArchAtomics } from "../src/wasm/ts-arch-atomics.ts";
import * as L from "../src/wasm/layout.ts";

export type EngineKind = "release" | "debug" | "ts";
export const ENGINE_KINDS: EngineKind[] = ["release", "debug", "ts"];

export interface Rig {
  machine: Machine;
  engine: ArchAtomicsEngine;
  /** Guest frames of d1 (gfn 0 and 1), populated. */
  mfn: number;
  mfn2: number;
  /** The engine's counters 192..199 (CNT_ATOMIC_OPS .. CNT_ATOMIC_XEN_STEPS). */
  counts(): number[];
  /** Counter by id. */
  count(id: number): number;
  u32(off: number, mfn?: number): number;
  u16(off: number, mfn?: number): number;
  setU32(off: number, v: number, mfn?: number): void;
}

export function rig(kind: EngineKind, cfg: EngineConfig): Rig {
  const machine = new Machine({ build: kind === "ts" ? "release" : kind });
  machine.createDomain(1, 16);
  machine.createDomain(2, 16);
  const mfn = machine.populate(1, 0);
  const mfn2 = machine.populate(1, 1);
  const engine: ArchAtomicsEngine = kind === "ts" ? new TsArchAtomics(machine, cfg) : new WasmArchAtomics(machine, cfg);
  const counter = (id: number): number => (engine instanceof TsArchAtomics ? engine.counters[id]! : machine.counter(id));
  const word = (off: number, m: number, n: number): DataView => new DataView(machine.readMfn(m, off, n).buffer);
  return {
    machine, engine, mfn, mfn2,
    counts: () => Array.from({ length: 8 }, (_, k) => counter(L.CNT_ATOMIC_OPS + k)),
    count: counter,
    u32: (off, m = mfn) => word(off, m, 4).getUint32(0, true),
    u16: (off, m = mfn) => word(off, m, 2).getUint16(0, true),
    setU32: (off, v, m = mfn) => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, v >>> 0, true);
      machine.writeMfn(m, off, b);
    },
  };
}

/** Counter vector in the order of rig.counts(): ops, llsc, scFails, clears, subword, lse, pauses, xenSteps. */
export function counts(p: Partial<{ ops: number; llsc: number; scFails: number; clears: number; subword: number; lse: number; pauses: number; xenSteps: number }>): number[] {
  return [p.ops ?? 0, p.llsc ?? 0, p.scFails ?? 0, p.clears ?? 0, p.subword ?? 0, p.lse ?? 0, p.pauses ?? 0, p.xenSteps ?? 0];
}
