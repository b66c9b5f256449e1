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
  /** Single-copy-atomic load / store of an aligned 32-bit word (Xen's read_atomic /
   *  write_atomic, used for Argo rx_ptr/tx_ptr): plain accesses, never an RMW loop, so no
   *  architecture lets a guest starve them. Optional so that an implementation without them
   *  still type-checks; callers then fall back to a plain hypervisor access. */
  load?(sharer: number, mfn: number, off: number): number;
  store?(sharer: number, mfn: number, off: number, v: number): void;
}

/** Called just before each atomic step: lets a test play a guest that races Xen on the word. */
export type Interferer = (mfn: number, off: number) => void;

export class X86GuestAtomics implements GuestAtomics {
  readonly arch = "x86-64";
  private readonly ops: WasmAtomics;
  private readonly machine: Machine;
  interferer: Interferer | undefined;

  constructor(machine: Machine) {
    this.ops = new WasmAtomics(machine);
    this.machine = machine;
  }

  load(_sharer: number, mfn: number, off: number): number {
    this.interferer?.(mfn, off);
    const b = this.machine.readMfn(mfn, off, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  store(_sharer: number, mfn: number, off: number, v: number): void {
    this.interferer?.(mfn, off);
    this.machine.writeMfn(mfn, off, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff));
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
