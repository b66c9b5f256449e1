// Wrapper over the instruction-granular atomics engine (assembly/atomics): agents that run
// atomic operations as their architecture's instruction sequences on machine words, with
// exclusive monitors and a seeded interleaving scheduler. The types here are shared with the
// plain-TS reference (ts-arch-atomics.ts); both implement ArchAtomicsEngine.
import type { Machine } from "./machine.ts";
import * as L from "./layout.ts";

export type Isa = "x86" | "arm-llsc" | "arm-lse" | "riscv";
export const ISA_CODES: Readonly<Record<Isa, number>> = {
  x86: L.AT_ISA_X86,
  "arm-llsc": L.AT_ISA_ARM_LLSC,
  "arm-lse": L.AT_ISA_ARM_LSE,
  riscv: L.AT_ISA_RISCV,
};

export type EngineOp =
  | "cmpxchg" | "fetch-add" | "fetch-or" | "fetch-and" | "fetch-xor" | "xchg"
  | "test-set-bit" | "test-clear-bit" | "cas-inc" | "load" | "store";
export const OP_CODES: Readonly<Record<EngineOp, number>> = {
  cmpxchg: L.AT_OP_CMPXCHG,
  "fetch-add": L.AT_OP_FETCH_ADD,
  "fetch-or": L.AT_OP_FETCH_OR,
  "fetch-and": L.AT_OP_FETCH_AND,
  "fetch-xor": L.AT_OP_FETCH_XOR,
  xchg: L.AT_OP_XCHG,
  "test-set-bit": L.AT_OP_TEST_SET_BIT,
  "test-clear-bit": L.AT_OP_TEST_CLEAR_BIT,
  "cas-inc": L.AT_OP_CAS_INC,
  load: L.AT_OP_LOAD,
  store: L.AT_OP_STORE,
};

export type SchedPolicy = "lockstep" | "random" | "script";
const POLICY_CODES: Readonly<Record<SchedPolicy, number>> = {
  lockstep: L.AT_SCHED_LOCKSTEP,
  random: L.AT_SCHED_RANDOM,
  script: L.AT_SCHED_SCRIPT,
};

export type OperandSize = 1 | 2 | 4 | 8;

export interface EngineConfig {
  /** Seed of the scheduler's PRNG (u32). */
  seed: number;
  /** lockstep (default): rounds in which every runnable agent steps once, in a random order;
   *  random: every step goes to a runnable agent drawn at random; script: setScript() order. */
  policy?: SchedPolicy;
  /** Exclusive reservation granule in bytes (Arm ERG, RISC-V reservation set): 8..4096. */
  granule?: number;
  /** Chance in [0, 1] that a store-exclusive whose monitor holds fails anyway (allowed by
   *  both architectures); drawn from the seeded PRNG. */
  spurious?: number;
  /** guest_safe_atomic_max: failed store-exclusives a guest-safe helper tolerates before it
   *  pauses the sharing domain. Xen calibrates it to 1 us of LDXR/ADD/STXR iterations. */
  safeMax?: number;
  /** Steps without completing an operation after which an agent is reported starved. */
  window?: number;
}

/** Defaults. safeMax is an estimate (about 1 us of ~15-cycle iterations at 2 GHz), not a
 *  measured figure; the granule is the common 64-byte cache line. */
export const ENGINE_DEFAULTS = { policy: "lockstep", granule: 64, spurious: 0, safeMax: 128, window: 65536 } as const;

export interface ResolvedConfig {
  seed: number;
  policy: SchedPolicy;
  granule: number;
  /** Spurious-failure chance in 1/65536 units, as the engines use it. */
  spurious64k: number;
  safeMax: number;
  window: number;
}

export interface AgentSpec {
  isa: Isa;
  op: EngineOp;
  /** Operand size in bytes (default 4). */
  size?: OperandSize;
  mfn: number;
  /** Byte offset of the operand in the frame (naturally aligned). */
  off: number;
  /** cmpxchg: expected; fetch-*: operand; xchg/store: value; *-bit: bit number; cas-inc: addend. */
  a?: number | bigint;
  /** cmpxchg: desired; store: xor applied to the value after each store. */
  b?: number | bigint;
  /** The domain the agent runs in (default DOMID_XEN: the hypervisor). */
  domid?: number;
  /** Guest-safe helper (XSA-295): bounded attempts, then pause `sharer` and redo. */
  guestSafe?: boolean;
  sharer?: number;
  /** Operations to run (default 1); "forever" for a loop that never ends (a hostile guest). */
  repeat?: number | "forever";
}

export interface AgentStats {
  active: boolean;
  done: boolean;
  starved: boolean;
  paused: boolean;
  /** Exclusive monitor (reservation) currently held. */
  monitor: boolean;
  /** Old value of the operand field from the last completed operation (loaded value for load). */
  result: bigint;
  opsDone: number;
  steps: number;
  /** Load-exclusives executed (LL/SC attempts). */
  llsc: number;
  scFails: number;
  spurious: number;
  /** Times another agent's store cleared this agent's monitor. */
  cleared: number;
  /** Times this guest-safe agent paused its sharer. */
  pauses: number;
  /** The micro-op program (AT_U_* codes) this agent steps through. */
  program: number[];
}

export type RunStatus = "done" | "budget" | "starved" | "stuck";
const RUN_STATUS: Record<number, RunStatus> = {
  [L.AT_RUN_DONE]: "done",
  [L.AT_RUN_BUDGET]: "budget",
  [L.AT_RUN_STARVED]: "starved",
  [L.AT_RUN_STUCK]: "stuck",
};

export interface RunResult {
  status: RunStatus;
  /** Steps executed by this run. */
  steps: number;
  /** The starved agent's index, -1 if none. */
  starved: number;
}

export interface ArchAtomicsEngine {
  readonly config: ResolvedConfig;
  /** Steps executed since the context was set up. */
  readonly totalSteps: number;
  setAgent(i: number, spec: AgentSpec): void;
  clearAgent(i: number): void;
  /** CLREX on agent i's CPU (what an exception or context switch does to its monitor). */
  clrex(i: number): void;
  /** Agent indices, one per step, used before lockstep takes over (policy "script"). */
  setScript(order: readonly number[]): void;
  run(budget: number): RunResult;
  agent(i: number): AgentStats;
}

const STATUS_NAMES: Record<number, string> = {
  [L.ATS_BAD_CTX]: "not an initialised atomics context frame",
  [L.ATS_BAD_AGENT]: "agent index out of range",
  [L.ATS_BAD_ISA]: "unknown instruction set",
  [L.ATS_BAD_OP]: "unknown operation",
  [L.ATS_BAD_SIZE]: "operand size not allowed for the operation",
  [L.ATS_MISALIGNED]: "operand not naturally aligned",
  [L.ATS_BAD_OPERAND]: "bad operand, repeat count, domid or flags",
  [L.ATS_BAD_CONFIG]: "bad engine configuration",
  [L.MST_BAD_MFN]: "machine frame not allocated",
  [L.MST_RANGE]: "offset outside the frame",
};

/** An operation the engine refused, with its status (ATS_* or MST_*). */
export class AtomicsError extends Error {
  readonly status: number;
  constructor(what: string, status: number) {
    super(`${what}: ${STATUS_NAMES[status] ?? "status"} (${status})`);
    this.name = "AtomicsError";
    this.status = status;
  }
}

function u32(name: string, v: number, min = 0): number {
  if (!Number.isInteger(v) || v < min || v > 0xffffffff) throw new AtomicsError(`${name} must be an integer in [${min}, 2^32), got ${v}`, L.ATS_BAD_CONFIG);
  return v;
}

/** Checks a configuration and fills in the defaults; the errors name the field. */
export function resolveConfig(cfg: EngineConfig): ResolvedConfig {
  const policy = cfg.policy ?? ENGINE_DEFAULTS.policy;
  if (!(policy in POLICY_CODES)) throw new AtomicsError(`policy must be lockstep, random or script, got ${policy}`, L.ATS_BAD_CONFIG);
  const granule = u32("granule", cfg.granule ?? ENGINE_DEFAULTS.granule);
  if (granule < 8 || granule > L.PAGE_SIZE || (granule & (granule - 1)) !== 0) {
    throw new AtomicsError(`granule must be a power of two in [8, 4096], got ${granule}`, L.ATS_BAD_CONFIG);
  }
  const spurious = cfg.spurious ?? ENGINE_DEFAULTS.spurious;
  if (!(spurious >= 0 && spurious <= 1)) throw new AtomicsError(`spurious must be a chance in [0, 1], got ${spurious}`, L.ATS_BAD_CONFIG);
  return {
    seed: u32("seed", cfg.seed),
    policy,
    granule,
    spurious64k: Math.round(spurious * 65536),
    safeMax: u32("safeMax", cfg.safeMax ?? ENGINE_DEFAULTS.safeMax, 1),
    window: u32("window", cfg.window ?? ENGINE_DEFAULTS.window, 1),
  };
}

export function policyCode(p: SchedPolicy): number {
  return POLICY_CODES[p];
}

export interface EncodedAgent {
  isa: number;
  op: number;
  size: number;
  mfn: number;
  off: number;
  a: bigint;
  b: bigint;
  domid: number;
  sharer: number;
  flags: number;
  repeat: number;
}

function operand(name: string, v: number | bigint = 0): bigint {
  const ok = typeof v === "bigint" ? v >= 0n && v < 1n << 64n : Number.isSafeInteger(v) && v >= 0;
  if (!ok) throw new AtomicsError(`operand ${name} must be an integer in [0, 2^64) (a number below 2^53), got ${v}`, L.ATS_BAD_OPERAND);
  return BigInt(v);
}

/** Turns a spec into the numbers both engines take; names are checked here, numbers by the
 *  engines (they return statuses in the same order). */
export function encodeAgent(spec: AgentSpec): EncodedAgent {
  const isa = ISA_CODES[spec.isa];
  if (isa === undefined) throw new AtomicsError(`isa ${spec.isa}`, L.ATS_BAD_ISA);
  const op = OP_CODES[spec.op];
  if (op === undefined) throw new AtomicsError(`op ${spec.op}`, L.ATS_BAD_OP);
  const repeat = spec.repeat === "forever" ? L.AT_FOREVER : (spec.repeat ?? 1);
  const ints: [string, number][] = [["size", spec.size ?? 4], ["mfn", spec.mfn], ["off", spec.off], ["repeat", repeat],
    ["domid", spec.domid ?? L.DOMID_XEN], ["sharer", spec.sharer ?? L.DOMID_INVALID]];
  for (const [name, v] of ints) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new AtomicsError(`${name} must be a u32, got ${v}`, L.ATS_BAD_OPERAND);
  }
  return {
    isa, op, size: spec.size ?? 4, mfn: spec.mfn, off: spec.off,
    a: operand("a", spec.a), b: operand("b", spec.b),
    domid: spec.domid ?? L.DOMID_XEN, sharer: spec.sharer ?? L.DOMID_INVALID,
    flags: spec.guestSafe ? L.AGF_GUEST_SAFE : 0, repeat,
  };
}

export function runStatus(code: number): RunStatus {
  const s = RUN_STATUS[code];
  if (s === undefined) throw new Error(`unknown run status ${code}`);
  return s;
}

const lo = (x: bigint): number => Number(x & 0xffffffffn);
const hi = (x: bigint): number => Number(x >> 32n);

interface ArchExports {
  arch_ctx_init(ctx: number, seed: number, policy: number, granule: number, spurious: number, safeMax: number, window: number): number;
  arch_agent_set(ctx: number, i: number, isa: number, op: number, size: number, mfn: number, off: number,
    aLo: number, aHi: number, bLo: number, bHi: number, domid: number, sharer: number, flags: number, repeat: number): number;
  arch_agent_clear(ctx: number, i: number): number;
  arch_clrex(ctx: number, i: number): number;
  arch_script_set(ctx: number, len: number): number;
  arch_run(ctx: number, budget: number): number;
  arch_xen_op(ctx: number, isa: number, op: number, size: number, mfn: number, off: number,
    aLo: number, aHi: number, bLo: number, bHi: number, sharer: number, guestSafe: number, budget: number): number;
}

function check(what: string, st: number): number {
  if (st < 0) throw new AtomicsError(what, st);
  return st;
}

/** The Wasm engine: one context frame (a hypervisor frame) of `machine`. */
export class WasmArchAtomics implements ArchAtomicsEngine {
  readonly machine: Machine;
  readonly config: ResolvedConfig;
  /** mfn of the context frame. */
  readonly ctx: number;
  private readonly base: number;
  private readonly x: ArchExports;

  constructor(machine: Machine, cfg: EngineConfig) {
    this.config = resolveConfig(cfg);
    this.machine = machine;
    this.x = machine.raw<ArchExports>();
    this.ctx = machine.allocXenFrame();
    this.base = machine.frameAddr(this.ctx);
    const c = this.config;
    check("atomics context", this.x.arch_ctx_init(this.ctx, c.seed, policyCode(c.policy), c.granule, c.spurious64k, c.safeMax, c.window));
  }

  /** Returns the context frame to the machine; the engine is unusable afterwards. */
  dispose(): void {
    this.machine.freeXenFrame(this.ctx);
  }

  get totalSteps(): number {
    return Number(this.machine.dv.getBigUint64(this.base + L.ACTX_STEPS, true));
  }

  setAgent(i: number, spec: AgentSpec): void {
    const e = encodeAgent(spec);
    check(`agent ${i} (${spec.isa} ${spec.op} size ${e.size} at mfn ${e.mfn}+${e.off})`, this.x.arch_agent_set(
      this.ctx, i, e.isa, e.op, e.size, e.mfn, e.off, lo(e.a), hi(e.a), lo(e.b), hi(e.b), e.domid, e.sharer, e.flags, e.repeat));
  }

  clearAgent(i: number): void {
    check(`clear agent ${i}`, this.x.arch_agent_clear(this.ctx, i));
  }

  clrex(i: number): void {
    check(`clrex agent ${i}`, this.x.arch_clrex(this.ctx, i));
  }

  setScript(order: readonly number[]): void {
    if (order.length > L.AT_SCRIPT_MAX) throw new AtomicsError(`script of ${order.length} steps (max ${L.AT_SCRIPT_MAX})`, L.ATS_BAD_CONFIG);
    const u8 = this.machine.u8;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (!Number.isInteger(i) || i < 0 || i >= L.AT_MAX_AGENTS) throw new AtomicsError(`script step ${k}: agent ${i}`, L.ATS_BAD_AGENT);
      u8[this.base + L.ACTX_SCRIPT + k] = i;
    }
    check("script", this.x.arch_script_set(this.ctx, order.length));
  }

  run(budget: number): RunResult {
    const before = this.totalSteps;
    const st = check("run", this.x.arch_run(this.ctx, u32("budget", budget)));
    return this.result(st, before);
  }

  /** One hypervisor operation (agent 0, DOMID_XEN, once) run with the installed agents.
   *  Numbers only: operands up to 2^53. */
  xenOp(isa: number, op: number, size: number, mfn: number, off: number, a: number, b: number,
    sharer: number, guestSafe: boolean, budget: number): RunResult {
    for (const v of [a, b]) {
      if (!Number.isSafeInteger(v) || v < 0) throw new AtomicsError(`xen op operand ${v} (a non-negative integer below 2^53)`, L.ATS_BAD_OPERAND);
    }
    const before = this.totalSteps;
    const st = this.x.arch_xen_op(this.ctx, isa, op, size, mfn, off, a >>> 0, Math.floor(a / 4294967296),
      b >>> 0, Math.floor(b / 4294967296), sharer, guestSafe ? 1 : 0, budget);
    if (st < 0) throw new AtomicsError(`xen op ${op} size ${size} at mfn ${mfn}+${off}`, st);
    return this.result(st, before);
  }

  private result(st: number, before: number): RunResult {
    return {
      status: runStatus(st),
      steps: this.totalSteps - before,
      starved: this.machine.dv.getInt32(this.base + L.ACTX_STARVED, true),
    };
  }

  /** Result of agent i's last operation as a number (exact below 2^53). */
  resultOf(i: number): number {
    const ag = this.base + L.ACTX_AGENTS + i * L.AGT_RECORD_SIZE;
    const dv = this.machine.dv;
    return dv.getUint32(ag + L.AGT_RESULT, true) + dv.getUint32(ag + L.AGT_RESULT + 4, true) * 4294967296;
  }

  agent(i: number): AgentStats {
    if (!Number.isInteger(i) || i < 0 || i >= L.AT_MAX_AGENTS) throw new AtomicsError(`agent ${i}`, L.ATS_BAD_AGENT);
    const ag = this.base + L.ACTX_AGENTS + i * L.AGT_RECORD_SIZE;
    const dv = this.machine.dv;
    const flags = dv.getUint32(ag + L.AGT_FLAGS, true);
    const len = dv.getUint8(ag + L.AGT_SEQ_LEN);
    return {
      active: (flags & L.AGF_ACTIVE) !== 0,
      done: (flags & L.AGF_DONE) !== 0,
      starved: (flags & L.AGF_STARVED) !== 0,
      paused: dv.getUint8(ag + L.AGT_PAUSED) !== 0,
      monitor: dv.getUint8(ag + L.AGT_MON_VALID) !== 0,
      result: dv.getBigUint64(ag + L.AGT_RESULT, true),
      opsDone: dv.getUint32(ag + L.AGT_OPS_DONE, true),
      steps: dv.getUint32(ag + L.AGT_STEPS, true),
      llsc: dv.getUint32(ag + L.AGT_LLSC, true),
      scFails: dv.getUint32(ag + L.AGT_SC_FAILS, true),
      spurious: dv.getUint32(ag + L.AGT_SPURIOUS, true),
      cleared: dv.getUint32(ag + L.AGT_CLEARED, true),
      pauses: dv.getUint32(ag + L.AGT_PAUSES, true),
      program: Array.from(this.machine.u8.subarray(ag + L.AGT_SEQ, ag + L.AGT_SEQ + len)),
    };
  }
}
