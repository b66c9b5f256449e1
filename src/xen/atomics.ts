// The one interface through which Xen (and a guest, in tests) does read-modify-write on
// guest-shared memory: grant flags, event-channel bits, ring indices. The x86 implementation
// is a locked operation that always completes; the architectures issue adds LL/SC and LSE.
import type { Machine } from "../wasm/machine.ts";
import { WasmAtomics, type AtomicSize, type FetchOp } from "../wasm/atomics.ts";

export interface GuestAtomics {
  readonly arch: string;
  /** Compare-and-swap on a word of frame `mfn` that `sharer` can also write. Returns the old value. */
  cmpxchg(sharer: number, mfn: number, off: number, size: AtomicSize, expected: number, desired: number): number;
  /** Fetch-and-op; returns the old value. */
  fetchOp(sharer: number, mfn: number, off: number, size: AtomicSize, op: FetchOp, v: number): number;
  /** Sets bit `bit` (0..31) of the 32-bit word at `off`; returns whether it was already set. */
  testAndSet(sharer: number, mfn: number, off: number, bit: number): boolean;
  /** Clears bit `bit` of the 32-bit word at `off`; returns whether it was set. */
  testAndClear(sharer: number, mfn: number, off: number, bit: number): boolean;
}

/** Called just before each atomic step: lets a test play a guest that races Xen on the word. */
export type Interferer = (mfn: number, off: number) => void;

export class X86GuestAtomics implements GuestAtomics {
  readonly arch = "x86-64";
  private readonly ops: WasmAtomics;
  interferer: Interferer | undefined;

  constructor(machine: Machine) {
    this.ops = new WasmAtomics(machine);
  }

  cmpxchg(_sharer: number, mfn: number, off: number, size: AtomicSize, expected: number, desired: number): number {
    this.interferer?.(mfn, off);
    return this.ops.cmpxchg(mfn, off, size, expected, desired);
  }

  fetchOp(_sharer: number, mfn: number, off: number, size: AtomicSize, op: FetchOp, v: number): number {
    this.interferer?.(mfn, off);
    return this.ops.fetchOp(mfn, off, size, op, v);
  }

  testAndSet(sharer: number, mfn: number, off: number, bit: number): boolean {
    return ((this.fetchOp(sharer, mfn, off, 4, "or", 2 ** bit) >>> bit) & 1) === 1;
  }

  testAndClear(sharer: number, mfn: number, off: number, bit: number): boolean {
    return ((this.fetchOp(sharer, mfn, off, 4, "and", 0xffffffff - 2 ** bit) >>> bit) & 1) === 1;
  }
}
