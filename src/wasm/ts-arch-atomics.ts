// Plain-TS reference of the atomics engine (assembly/atomics: program.ts, agents.ts, step.ts,
// sched.ts): the same programs, monitors, guest-safe pauses and scheduler over the same
// machine memory, with agent state in objects and counts in a host counters array. Used by
// differential tests (same seed -> same steps, memory, statistics and counters).
import type { Machine } from "./machine.ts";
import * as L from "./layout.ts";
import { newHostCounters, type HostCounters } from "./ts-guest-memory.ts";
import { Xoshiro128 } from "./xoshiro128.ts";
import {
  AtomicsError, encodeAgent, resolveConfig, runStatus, type AgentSpec, type AgentStats,
  type ArchAtomicsEngine, type EngineConfig, type ResolvedConfig, type RunResult,
} from "./arch-atomics.ts";

const M64 = (1n << 64n) - 1n;

class Agent {
  flags = 0;
  isa = 0;
  op = 0;
  size = 0;
  pc = 0;
  loopPc = 0;
  exitPc = 0;
  phase = 0;
  monValid = false;
  monAddr = 0;
  domid = 0;
  sharer = 0;
  mfn = 0;
  word = 0;
  wsize = 0;
  shift = 0n;
  paused = 0;
  sxst = 0;
  repeat = 0;
  a = 0n;
  b = 0n;
  old = 0n;
  result = 0n;
  expect = 0n;
  lastProgress = 0;
  opsDone = 0;
  steps = 0;
  llsc = 0;
  scFails = 0;
  cleared = 0;
  pauses = 0;
  tries = 0;
  spurious = 0;
  seq: number[] = [];
}

const isRmw = (op: number): boolean => op <= L.AT_OP_CAS_INC;
const fieldMask = (size: number): bigint => (size === 8 ? M64 : (1n << BigInt(size * 8)) - 1n);

/** Same instruction sequences as assembly/atomics/program.ts body(). */
function body(isa: number, op: number, masked: boolean): number[] {
  const { AT_U_LX: LX, AT_U_ALU: ALU, AT_U_CHK: CHK, AT_U_SX: SX, AT_U_RETRY: RETRY, AT_U_AMO: AMO } = L;
  if (isa === L.AT_ISA_X86 || isa === L.AT_ISA_ARM_LSE) return [AMO];
  const cas = op === L.AT_OP_CMPXCHG;
  if (isa === L.AT_ISA_RISCV) {
    if (!masked) return cas ? [LX, CHK, SX, RETRY] : [AMO];
    if (op === L.AT_OP_FETCH_OR || op === L.AT_OP_FETCH_AND || op === L.AT_OP_FETCH_XOR) return [AMO];
    if (cas) return [LX, ALU, CHK, ALU, ALU, SX, RETRY];
    if (op === L.AT_OP_XCHG) return [LX, ALU, ALU, SX, RETRY];
    return [LX, ALU, ALU, ALU, ALU, SX, RETRY];
  }
  if (cas) return [LX, ALU, CHK, SX, RETRY];
  if (op === L.AT_OP_XCHG) return [LX, SX, RETRY];
  return [LX, ALU, SX, RETRY];
}

function program(isa: number, op: number, masked: boolean): number[] {
  if (op === L.AT_OP_LOAD) return [L.AT_U_LD];
  if (op === L.AT_OP_STORE) return [L.AT_U_ST];
  if (op === L.AT_OP_CAS_INC) return [L.AT_U_LD, ...body(isa, L.AT_OP_CMPXCHG, masked), L.AT_U_NEXT];
  return body(isa, op, masked);
}

function newField(op: number, old: bigint, a: bigint, b: bigint, expect: bigint, mask: bigint): bigint {
  switch (op) {
    case L.AT_OP_CMPXCHG: return b & mask;
    case L.AT_OP_CAS_INC: return (expect + a) & mask;
    case L.AT_OP_FETCH_ADD: return (old + a) & mask;
    case L.AT_OP_FETCH_OR: return (old | a) & mask;
    case L.AT_OP_FETCH_AND: return old & a & mask;
    case L.AT_OP_FETCH_XOR: return (old ^ a) & mask;
    case L.AT_OP_TEST_SET_BIT: return old | (1n << a);
    case L.AT_OP_TEST_CLEAR_BIT: return old & ~(1n << a) & mask;
    default: return a & mask;
  }
}

const merge = (word: bigint, field: bigint, shift: bigint, mask: bigint): bigint =>
  ((word & ~(mask << shift)) | ((field & mask) << shift)) & M64;

export class TsArchAtomics implements ArchAtomicsEngine {
  readonly machine: Machine;
  readonly config: ResolvedConfig;
  readonly counters: HostCounters;
  private readonly rng: Xoshiro128;
  private readonly agents: Agent[] = Array.from({ length: L.AT_MAX_AGENTS }, () => new Agent());
  private readonly granuleShift: number;
  private steps = 0;
  private remaining = 0;
  private order: number[] = [];
  private roundPos = 0;
  private script: number[] = [];
  private scriptPos = 0;
  private starvedAgent = -1;

  constructor(machine: Machine, cfg: EngineConfig, counters: HostCounters = newHostCounters()) {
    this.config = resolveConfig(cfg);
    this.machine = machine;
    this.counters = counters;
    this.rng = new Xoshiro128(this.config.seed);
    this.granuleShift = Math.log2(this.config.granule);
  }

  get totalSteps(): number {
    return this.steps;
  }

  private count(id: number, n = 1): void {
    this.counters[id]! += n;
  }

  private frameLive(mfn: number): boolean {
    const dv = this.machine.dv;
    if (mfn === 0 || mfn >= dv.getUint32(L.MACHINE_BASE + L.MACHINE_NEXT_MFN, true)) return false;
    return dv.getUint8(L.FRAME_TABLE_BASE + mfn * L.FRAME_ENTRY_SIZE + L.FRAME_KIND) !== L.FRAME_FREE;
  }

  private loadWord(addr: number, size: number): bigint {
    const dv = this.machine.dv;
    if (size === 1) return BigInt(dv.getUint8(addr));
    if (size === 2) return BigInt(dv.getUint16(addr, true));
    if (size === 4) return BigInt(dv.getUint32(addr, true));
    return dv.getBigUint64(addr, true);
  }

  private storeWord(addr: number, size: number, v: bigint): void {
    const dv = this.machine.dv;
    if (size === 1) dv.setUint8(addr, Number(v & 0xffn));
    else if (size === 2) dv.setUint16(addr, Number(v & 0xffffn), true);
    else if (size === 4) dv.setUint32(addr, Number(v & 0xffffffffn), true);
    else dv.setBigUint64(addr, v & M64, true);
  }

  private pending(ag: Agent): boolean {
    return (ag.flags & (L.AGF_ACTIVE | L.AGF_FOREVER | L.AGF_DONE)) === L.AGF_ACTIVE;
  }

  private runnable(ag: Agent): boolean {
    return (ag.flags & (L.AGF_ACTIVE | L.AGF_DONE)) === L.AGF_ACTIVE && ag.paused === 0;
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= L.AT_MAX_AGENTS) throw new AtomicsError(`agent ${i}`, L.ATS_BAD_AGENT);
  }

  clearAgent(i: number): void {
    this.checkIndex(i);
    const ag = this.agents[i]!;
    if (this.pending(ag)) this.remaining--;
    if ((ag.flags & L.AGF_ACTIVE) !== 0 && ag.phase === 1) this.pauseDomain(i, ag.sharer, false);
    this.agents[i] = new Agent();
    this.order = [];
    this.roundPos = 0;
  }

  setAgent(i: number, spec: AgentSpec): void {
    const e = encodeAgent(spec);
    const fail = (st: number): never => {
      throw new AtomicsError(`agent ${i} (${spec.isa} ${spec.op} size ${e.size} at mfn ${e.mfn}+${e.off})`, st);
    };
    if (!Number.isInteger(i) || i < 0 || i >= L.AT_MAX_AGENTS) fail(L.ATS_BAD_AGENT);
    const { isa, op, size, off, a } = e;
    if (isa >= L.AT_ISAS) fail(L.ATS_BAD_ISA);
    if (op >= L.AT_OPS) fail(L.ATS_BAD_OP);
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) fail(L.ATS_BAD_SIZE);
    const bitop = op === L.AT_OP_TEST_SET_BIT || op === L.AT_OP_TEST_CLEAR_BIT;
    if (bitop && size !== 4) fail(L.ATS_BAD_SIZE);
    if (bitop && a >= 32n) fail(L.ATS_BAD_OPERAND);
    if (e.repeat === 0 || e.domid > 0xffff || e.sharer > 0xffff || (e.flags & ~L.AGF_GUEST_SAFE) !== 0) fail(L.ATS_BAD_OPERAND);
    if (!this.frameLive(e.mfn)) fail(L.MST_BAD_MFN);
    if (off >= L.PAGE_SIZE) fail(L.MST_RANGE);
    if ((off & (size - 1)) !== 0) fail(L.ATS_MISALIGNED);

    this.clearAgent(i);
    const ag = this.agents[i]!;
    const masked = isa === L.AT_ISA_RISCV && size < 4 && isRmw(op);
    const addr = L.POOL_BASE + e.mfn * L.PAGE_SIZE + off;
    ag.flags = e.flags | L.AGF_ACTIVE | (e.repeat === L.AT_FOREVER ? L.AGF_FOREVER : 0) | (masked ? L.AGF_MASKED : 0);
    Object.assign(ag, {
      isa, op, size, domid: e.domid, sharer: e.sharer, mfn: e.mfn, repeat: e.repeat,
      word: masked ? addr & ~3 : addr, wsize: masked ? 4 : size, shift: BigInt(masked ? (off & 3) * 8 : 0),
      a: e.a, b: e.b, expect: e.a & fieldMask(size), lastProgress: this.steps,
      seq: program(isa, op, masked),
    });
    ag.loopPc = ag.seq.findIndex((u) => u === L.AT_U_LX || u === L.AT_U_AMO);
    if (ag.loopPc < 0) ag.loopPc = 0;
    const r = ag.seq.findIndex((u) => u === L.AT_U_RETRY || u === L.AT_U_AMO);
    ag.exitPc = r < 0 ? ag.seq.length : r + 1;
    if (e.repeat !== L.AT_FOREVER) this.remaining++;
  }

  clrex(i: number): void {
    this.checkIndex(i);
    this.agents[i]!.monValid = false;
  }

  setScript(order: readonly number[]): void {
    if (order.length > L.AT_SCRIPT_MAX) throw new AtomicsError(`script of ${order.length} steps (max ${L.AT_SCRIPT_MAX})`, L.ATS_BAD_CONFIG);
    order.forEach((i, k) => {
      if (!Number.isInteger(i) || i < 0 || i >= L.AT_MAX_AGENTS) throw new AtomicsError(`script step ${k}: agent ${i}`, L.ATS_BAD_AGENT);
    });
    this.script = [...order];
    this.scriptPos = 0;
  }

  agent(i: number): AgentStats {
    this.checkIndex(i);
    const ag = this.agents[i]!;
    return {
      active: (ag.flags & L.AGF_ACTIVE) !== 0,
      done: (ag.flags & L.AGF_DONE) !== 0,
      starved: (ag.flags & L.AGF_STARVED) !== 0,
      paused: ag.paused !== 0,
      monitor: ag.monValid,
      result: ag.result,
      opsDone: ag.opsDone,
      steps: ag.steps,
      llsc: ag.llsc,
      scFails: ag.scFails,
      spurious: ag.spurious,
      cleared: ag.cleared,
      pauses: ag.pauses,
      program: [...ag.seq],
    };
  }

  // ---- monitors and pauses (agents.ts) ---------------------------------------------------

  private foreignStore(self: number, word: number): void {
    const g = Math.floor(word / 2 ** this.granuleShift);
    this.agents.forEach((ag, j) => {
      if (j !== self && ag.monValid && Math.floor(ag.monAddr / 2 ** this.granuleShift) === g) {
        ag.monValid = false;
        ag.cleared++;
        this.count(L.CNT_ATOMIC_MONITOR_CLEARS);
      }
    });
  }

  private pauseDomain(self: number, domid: number, pause: boolean): void {
    this.agents.forEach((ag, j) => {
      if (j === self || (ag.flags & L.AGF_ACTIVE) === 0 || ag.domid !== domid) return;
      if (pause) {
        ag.paused++;
        ag.monValid = false;
      } else if (ag.paused > 0) {
        ag.paused--;
        if (ag.paused === 0) ag.lastProgress = this.steps;
      }
    });
  }

  // ---- one instruction (step.ts) ---------------------------------------------------------

  private bodyDone(i: number, ag: Agent): void {
    ag.tries = 0;
    if (ag.phase === 1) {
      this.pauseDomain(i, ag.sharer, false);
      ag.phase = 0;
    }
  }

  private retry(i: number, ag: Agent): void {
    ag.scFails++;
    this.count(L.CNT_ATOMIC_SC_FAILS);
    if ((ag.flags & L.AGF_GUEST_SAFE) === 0 || ag.phase !== 0) return;
    ag.tries++;
    if (ag.tries < this.config.safeMax) return;
    ag.tries = 0;
    ag.phase = 1;
    ag.pauses++;
    this.count(L.CNT_ATOMIC_PAUSES);
    this.pauseDomain(i, ag.sharer, true);
  }

  private opDone(ag: Agent, now: number): void {
    ag.opsDone++;
    ag.lastProgress = now;
    ag.flags &= ~L.AGF_STARVED;
    if (isRmw(ag.op)) {
      this.count(L.CNT_ATOMIC_OPS);
      if ((ag.flags & L.AGF_MASKED) !== 0) this.count(L.CNT_ATOMIC_SUBWORD);
    }
    if ((ag.flags & L.AGF_FOREVER) !== 0) return;
    ag.repeat--;
    if (ag.repeat === 0) {
      ag.flags |= L.AGF_DONE;
      this.remaining--;
    }
  }

  private step(i: number, ag: Agent, now: number): void {
    let pc = ag.pc;
    const { op, word, wsize, shift } = ag;
    const mask = fieldMask(ag.size);
    const u = ag.seq[pc];
    if (u === L.AT_U_LD) {
      const f = (this.loadWord(word, wsize) >> shift) & mask;
      if (op === L.AT_OP_LOAD) ag.result = f;
      else ag.expect = f;
      pc++;
    } else if (u === L.AT_U_ST) {
      this.storeWord(word, wsize, ag.a & mask);
      this.foreignStore(i, word);
      ag.a ^= ag.b;
      pc++;
    } else if (u === L.AT_U_LX) {
      ag.old = this.loadWord(word, wsize);
      ag.monValid = true;
      ag.monAddr = word;
      ag.llsc++;
      this.count(L.CNT_ATOMIC_LLSC_ATTEMPTS);
      pc++;
    } else if (u === L.AT_U_ALU) {
      pc++;
    } else if (u === L.AT_U_CHK) {
      const f = (ag.old >> shift) & mask;
      if (f !== ag.expect) {
        ag.result = f;
        this.bodyDone(i, ag);
        pc = ag.exitPc;
      } else pc++;
    } else if (u === L.AT_U_SX) {
      let ok = ag.monValid && ag.monAddr === word;
      const spurious = this.config.spurious64k;
      if (ok && spurious !== 0 && this.rng.below(65536) < spurious) {
        ok = false;
        ag.spurious++;
      }
      ag.monValid = false;
      if (ok) {
        const f = newField(op, (ag.old >> shift) & mask, ag.a, ag.b, ag.expect, mask);
        this.storeWord(word, wsize, merge(ag.old, f, shift, mask));
        this.foreignStore(i, word);
      }
      ag.sxst = ok ? 0 : 1;
      pc++;
    } else if (u === L.AT_U_RETRY) {
      if (ag.sxst === 0) {
        ag.result = (ag.old >> shift) & mask;
        this.bodyDone(i, ag);
        pc++;
      } else {
        this.retry(i, ag);
        pc = ag.loopPc;
      }
    } else if (u === L.AT_U_AMO) {
      const old = this.loadWord(word, wsize);
      const f = (old >> shift) & mask;
      if ((op !== L.AT_OP_CMPXCHG && op !== L.AT_OP_CAS_INC) || f === ag.expect) {
        const nf = newField(op, f, ag.a, ag.b, ag.expect, mask);
        this.storeWord(word, wsize, merge(old, nf, shift, mask));
        this.foreignStore(i, word);
      }
      ag.result = f;
      if (ag.isa === L.AT_ISA_ARM_LSE) this.count(L.CNT_ATOMIC_LSE_OPS);
      this.bodyDone(i, ag);
      pc++;
    } else if (u === L.AT_U_NEXT) {
      if (ag.result === ag.expect) pc++;
      else {
        ag.expect = ag.result;
        pc = ag.loopPc;
      }
    }
    ag.steps++;
    if (ag.domid === L.DOMID_XEN) this.count(L.CNT_ATOMIC_XEN_STEPS);
    if (pc >= ag.seq.length) {
      pc = 0;
      ag.expect = ag.a & mask;
      this.opDone(ag, now);
    }
    ag.pc = pc;
  }

  // ---- scheduler (sched.ts) ----------------------------------------------------------------

  private collect(): number[] {
    const out: number[] = [];
    this.agents.forEach((ag, i) => {
      if (this.runnable(ag)) out.push(i);
    });
    return out;
  }

  private pick(): number {
    const policy = this.config.policy;
    if (policy === "script") {
      while (this.scriptPos < this.script.length) {
        const i = this.script[this.scriptPos++]!;
        if (this.runnable(this.agents[i]!)) return i;
      }
    } else if (policy === "random") {
      const live = this.collect();
      if (live.length === 0) return -1;
      return live[this.rng.below(live.length)]!;
    }
    for (;;) {
      while (this.roundPos < this.order.length) {
        const i = this.order[this.roundPos++]!;
        if (this.runnable(this.agents[i]!)) return i;
      }
      const o = this.collect();
      if (o.length === 0) {
        this.order = [];
        this.roundPos = 0;
        return -1;
      }
      for (let k = o.length - 1; k > 0; k--) {
        const j = this.rng.below(k + 1);
        [o[k], o[j]] = [o[j]!, o[k]!];
      }
      this.order = o;
      this.roundPos = 0;
    }
  }

  run(budget: number): RunResult {
    if (!Number.isInteger(budget) || budget < 0 || budget > 0xffffffff) throw new AtomicsError(`budget must be a u32, got ${budget}`, L.ATS_BAD_CONFIG);
    if (this.agents.some((ag) => (ag.flags & L.AGF_ACTIVE) !== 0 && !this.frameLive(ag.mfn))) throw new AtomicsError("run", L.MST_BAD_MFN);
    const before = this.steps;
    this.starvedAgent = -1;
    const status = runStatus(this.runLoop(budget));
    return { status, steps: this.steps - before, starved: this.starvedAgent };
  }

  private runLoop(budget: number): number {
    const window = this.config.window;
    let done = 0;
    for (;;) {
      if (this.remaining === 0) return L.AT_RUN_DONE;
      if (done >= budget) return L.AT_RUN_BUDGET;
      const i = this.pick();
      if (i < 0) return L.AT_RUN_STUCK;
      const ag = this.agents[i]!;
      const now = ++this.steps;
      this.step(i, ag, now);
      done++;
      if ((ag.flags & (L.AGF_FOREVER | L.AGF_DONE)) === 0 && now - ag.lastProgress >= window) {
        ag.flags |= L.AGF_STARVED;
        this.starvedAgent = i;
        return L.AT_RUN_STARVED;
      }
    }
  }
}
