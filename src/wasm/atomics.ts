// Wrapper over the Wasm guest-atomic kernels (x86 semantics for now; see assembly/atomics).
import { MachineError, type Machine } from "./machine.ts";
import { MST_RANGE } from "./layout.ts";

interface AtomicsExports {
  atomic_cmpxchg(mfn: number, off: number, size: number, expected: number, desired: number): number;
  atomic_fetch_op(mfn: number, off: number, size: number, op: number, v: number): number;
}

export type AtomicSize = 2 | 4 | 8;
export const enumFetchOp = { or: 0, and: 1, xor: 2, add: 3, xchg: 4 } as const;
export type FetchOp = keyof typeof enumFetchOp;

export class WasmAtomics {
  private readonly x: AtomicsExports;
  constructor(machine: Machine) {
    this.x = machine.raw<AtomicsExports>();
  }

  /** Compare-and-swap; returns the value found (the swap happened iff it equals `expected`). */
  cmpxchg(mfn: number, off: number, size: AtomicSize, expected: number, desired: number): number {
    const old = this.x.atomic_cmpxchg(mfn, off, size, expected, desired);
    if (old < 0) throw new MachineError(`atomic cmpxchg mfn ${mfn}+${off}/${size}`, MST_RANGE);
    return old;
  }

  fetchOp(mfn: number, off: number, size: AtomicSize, op: FetchOp, v: number): number {
    const old = this.x.atomic_fetch_op(mfn, off, size, enumFetchOp[op], v);
    if (old < 0) throw new MachineError(`atomic ${op} mfn ${mfn}+${off}/${size}`, MST_RANGE);
    return old;
  }
}
