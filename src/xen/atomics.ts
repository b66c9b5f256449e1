// The one interface through which Xen (and a guest, in tests) does read-modify-write on
// guest-shared memory: grant flags, event-channel bits, ring indices. X86GuestAtomics is a
// locked operation that always completes; the emulated classes below run each architecture's
// real instruction sequences (LL/SC loops, LSE, masked RISC-V sub-word) in the Wasm engine,
// with Xen's XSA-295 guest-safe helpers, so a hostile guest can be modelled racing them.
import type { Machine } from "../wasm/machine.ts";
import { WasmAtomics, type AtomicSize, type FetchOp } from "../wasm/atomics.ts";
import {
  ISA_CODES, WasmArchAtomics, type EngineConfig, type Isa, type OperandSize, type RunStatus,
} from "../wasm/arch-atomics.ts";
import {
  AT_MAX_AGENTS, AT_OP_CMPXCHG, AT_OP_FETCH_ADD, AT_OP_FETCH_AND, AT_OP_FETCH_OR, AT_OP_FETCH_XOR,
  AT_OP_TEST_CLEAR_BIT, AT_OP_TEST_SET_BIT, AT_OP_XCHG,
} from "../wasm/layout.ts";

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
   *  architecture lets a guest starve them. */
  load(sharer: number, mfn: number, off: number): number;
  store(sharer: number, mfn: number, off: number, v: number): void;
  /** Optional test hook: a guest racing Xen on the word, called before each operation. */
  interferer?: Interferer | undefined;
  /** Told after an operation during which Xen's XSA-295 guest-safe helper paused `domid`
   *  (and unpaused it); the Hypervisor installs its bookkeeping here. */
  onPause?: ((domid: number) => void) | undefined;
}

/** Called just before each atomic step: lets a test play a guest that races Xen on the word. */
export type Interferer = (mfn: number, off: number) => void;

/** A plain aligned 32-bit access: single-copy atomic on every modelled architecture. */
function loadWord(machine: Machine, mfn: number, off: number): number {
  const b = machine.readMfn(mfn, off, 4);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

function storeWord(machine: Machine, mfn: number, off: number, v: number): void {
  machine.writeMfn(mfn, off, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff));
}

export class X86GuestAtomics implements GuestAtomics {
  readonly arch = "x86-64";
  private readonly ops: WasmAtomics;
  private readonly machine: Machine;
  interferer: Interferer | undefined;
  /** Never called: a locked x86 operation always completes, nothing is paused. */
  onPause: ((domid: number) => void) | undefined;

  constructor(machine: Machine) {
    this.ops = new WasmAtomics(machine);
    this.machine = machine;
  }

  load(_sharer: number, mfn: number, off: number): number {
    this.interferer?.(mfn, off);
    return loadWord(this.machine, mfn, off);
  }

  store(_sharer: number, mfn: number, off: number, v: number): void {
    this.interferer?.(mfn, off);
    storeWord(this.machine, mfn, off, v);
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

// ---- per-architecture guest atomics over the instruction-granular engine ----------------

export type ArchName = "x86-64" | "arm64-v8.0" | "arm64-v8.1-lse" | "riscv64";

/** The instruction set Xen's guest atomics use on each architecture. "arm64-v8.1-lse" is a Xen
 *  built with LSE atomics; upstream Xen (per its sources) still runs LL/SC on LSE hardware,
 *  which is "arm64-v8.0" here. */
export const ARCH_ISA: Readonly<Record<ArchName, Isa>> = {
  "x86-64": "x86",
  "arm64-v8.0": "arm-llsc",
  "arm64-v8.1-lse": "arm-lse",
  riscv64: "riscv",
};

export interface EmulatedAtomicsOptions extends Partial<EngineConfig> {
  /** XSA-295 mitigation: Xen's guest-safe helpers try guest_safe_atomic_max times, then pause
   *  the sharing domain and redo the operation. Default true (Xen since 2019). */
  guestSafe?: boolean;
  /** Steps one operation may run (other agents' steps included) before it is abandoned. */
  budget?: number;
}

/** What the last hypervisor operation cost. */
export interface GuestOpStats {
  /** Steps of the whole machine while it ran (the hypervisor's and every other agent's). */
  steps: number;
  /** The hypervisor's own instruction steps. */
  xenSteps: number;
  llsc: number;
  scFails: number;
  paused: boolean;
}

/** A hypervisor atomic that never completed: on hardware, a CPU spinning forever in Xen. */
export class AtomicStarvationError extends Error {
  readonly arch: ArchName;
  readonly sharer: number;
  readonly mfn: number;
  readonly off: number;
  readonly stats: GuestOpStats;
  constructor(arch: ArchName, sharer: number, mfn: number, off: number, status: RunStatus, stats: GuestOpStats) {
    super(`${arch}: hypervisor atomic on mfn ${mfn}+${off} shared with d${sharer} made no progress ` +
      `(${status} after ${stats.steps} steps, ${stats.llsc} load-exclusives, ${stats.scFails} failed store-exclusives)`);
    this.name = "AtomicStarvationError";
    this.arch = arch;
    this.sharer = sharer;
    this.mfn = mfn;
    this.off = off;
    this.stats = stats;
  }
}

const FETCH_CODES: Readonly<Record<FetchOp, number>> = {
  or: AT_OP_FETCH_OR, and: AT_OP_FETCH_AND, xor: AT_OP_FETCH_XOR, add: AT_OP_FETCH_ADD, xchg: AT_OP_XCHG,
};

/** Guest atomics run as the architecture's instruction sequences in the Wasm engine. Each call
 *  is agent 0 (the hypervisor) interleaved with any hostile agents installed with hostile().
 *  Counts: CNT_ATOMIC_OPS per operation plus the engine's LL/SC, LSE, sub-word and pause counts. */
export class EmulatedGuestAtomics implements GuestAtomics {
  readonly arch: ArchName;
  readonly isa: Isa;
  readonly engine: WasmArchAtomics;
  /** XSA-295 guest-safe helpers on or off. */
  guestSafe: boolean;
  /** Called just before each operation (same contract as X86GuestAtomics). */
  interferer: Interferer | undefined;
  /** Told after an operation during which a guest-safe helper paused `domid` (and unpaused it). */
  onPause: ((domid: number) => void) | undefined;
  private readonly isaCode: number;
  private readonly budget: number;
  private readonly slots = new Set<number>();
  private readonly machine: Machine;

  constructor(machine: Machine, arch: ArchName, opts: EmulatedAtomicsOptions = {}) {
    this.machine = machine;
    const isa = ARCH_ISA[arch];
    if (isa === undefined) throw new Error(`unknown architecture ${arch}; expected one of ${Object.keys(ARCH_ISA).join(", ")}`);
    this.arch = arch;
    this.isa = isa;
    this.isaCode = ISA_CODES[isa];
    this.guestSafe = opts.guestSafe ?? true;
    this.budget = opts.budget ?? 0x7fffffff;
    this.engine = new WasmArchAtomics(machine, { ...opts, seed: opts.seed ?? 0 });
  }

  load(_sharer: number, mfn: number, off: number): number {
    this.interferer?.(mfn, off);
    return loadWord(this.machine, mfn, off);
  }

  store(_sharer: number, mfn: number, off: number, v: number): void {
    this.interferer?.(mfn, off);
    storeWord(this.machine, mfn, off, v);
  }

  cmpxchg(sharer: number, mfn: number, off: number, size: AtomicSize, expected: number, desired: number): number {
    return this.op(sharer, mfn, off, size, AT_OP_CMPXCHG, expected, desired);
  }

  fetchOp(sharer: number, mfn: number, off: number, size: AtomicSize, op: FetchOp, v: number): number {
    const code = FETCH_CODES[op];
    if (code === undefined) throw new Error(`unknown fetch op ${op}`);
    return this.op(sharer, mfn, off, size, code, v, 0);
  }

  testAndSet(sharer: number, mfn: number, off: number, bit: number): boolean {
    return ((this.op(sharer, mfn, off, 4, AT_OP_TEST_SET_BIT, bit, 0) >>> bit) & 1) === 1;
  }

  testAndClear(sharer: number, mfn: number, off: number, bit: number): boolean {
    return ((this.op(sharer, mfn, off, 4, AT_OP_TEST_CLEAR_BIT, bit, 0) >>> bit) & 1) === 1;
  }

  /** A hostile vCPU of `domid` storing to mfn+off in a loop (one store per step) for as long
   *  as it is installed and its domain is not paused. Returns its agent slot. */
  hostile(domid: number, mfn: number, off: number, opts: { size?: OperandSize; value?: number; flip?: number } = {}): number {
    let slot = 1;
    while (this.slots.has(slot)) slot++;
    if (slot >= AT_MAX_AGENTS) throw new Error(`at most ${AT_MAX_AGENTS - 1} hostile agents`);
    this.engine.setAgent(slot, {
      isa: this.isa, op: "store", size: opts.size ?? 4, mfn, off, a: opts.value ?? 0, b: opts.flip ?? 0,
      domid, repeat: "forever",
    });
    this.slots.add(slot);
    return slot;
  }

  /** Removes one hostile agent, or all of them. */
  calm(slot?: number): void {
    for (const s of slot === undefined ? [...this.slots] : [slot]) {
      if (!this.slots.delete(s)) throw new Error(`no hostile agent in slot ${s}`);
      this.engine.clearAgent(s);
    }
  }

  /** Cost of the last operation. */
  get lastOp(): GuestOpStats {
    const a = this.engine.agent(0);
    return { steps: this.lastSteps, xenSteps: a.steps, llsc: a.llsc, scFails: a.scFails, paused: a.pauses > 0 };
  }

  private lastSteps = 0;

  private op(sharer: number, mfn: number, off: number, size: number, op: number, a: number, b: number): number {
    this.interferer?.(mfn, off);
    const r = this.engine.xenOp(this.isaCode, op, size, mfn, off, a, b, sharer, this.guestSafe, this.budget);
    this.lastSteps = r.steps;
    if (r.status !== "done") throw new AtomicStarvationError(this.arch, sharer, mfn, off, r.status, this.lastOp);
    if (this.onPause && this.engine.agent(0).pauses > 0) this.onPause(sharer);
    return this.engine.resultOf(0);
  }
}

/** x86-64 through the engine: one locked instruction per operation, like X86GuestAtomics. */
export class X86EmulatedGuestAtomics extends EmulatedGuestAtomics {
  constructor(machine: Machine, opts: EmulatedAtomicsOptions = {}) {
    super(machine, "x86-64", opts);
  }
}

/** Arm v8.0: LDXR/STXR loops, starvable by a guest storing to the granule (XSA-295). */
export class ArmV80GuestAtomics extends EmulatedGuestAtomics {
  constructor(machine: Machine, opts: EmulatedAtomicsOptions = {}) {
    super(machine, "arm64-v8.0", opts);
  }
}

/** Arm v8.1 with LSE: CASAL, LDADDAL, LDSETAL, LDCLRAL, LDEORAL, SWPAL, one step each. */
export class ArmLseGuestAtomics extends EmulatedGuestAtomics {
  constructor(machine: Machine, opts: EmulatedAtomicsOptions = {}) {
    super(machine, "arm64-v8.1-lse", opts);
  }
}

/** RISC-V (RV64A): LR/SC for cmpxchg, AMOs for the rest; 8/16-bit operations on the aligned
 *  32-bit word that contains them. */
export class RiscvGuestAtomics extends EmulatedGuestAtomics {
  constructor(machine: Machine, opts: EmulatedAtomicsOptions = {}) {
    super(machine, "riscv64", opts);
  }
}

/** The guest atomics of an architecture, by its profile name. */
export function guestAtomicsFor(arch: ArchName, machine: Machine, opts: EmulatedAtomicsOptions = {}): EmulatedGuestAtomics {
  switch (arch) {
    case "x86-64": return new X86EmulatedGuestAtomics(machine, opts);
    case "arm64-v8.0": return new ArmV80GuestAtomics(machine, opts);
    case "arm64-v8.1-lse": return new ArmLseGuestAtomics(machine, opts);
    case "riscv64": return new RiscvGuestAtomics(machine, opts);
    default: throw new Error(`unknown architecture ${String(arch)}; expected one of ${Object.keys(ARCH_ISA).join(", ")}`);
  }
}
