// C6: RISC-V has LR/SC and AMOs on 32/64-bit words only, so a 16-bit ring field (a packed
// ring's event-suppression {off_wrap, flags}, a grant entry's {flags, domid}) is updated with
// a masked LR.W/SC.W loop on the containing word, which the neighbouring halfword's writer
// also hits. Measures that against native 16-bit atomics (Arm LSE CASH/LDADDH, x86 LOCK
// CMPXCHG/XADD with a 16-bit operand), alone and with a benign agent updating the neighbour.
import { price } from "../cost/price.ts";
import { PRICING, charge, priced, withEntries, type PricingTable } from "../cost/pricing-table.ts";
import { Rng } from "../sim/rng.ts";
import { WasmArchAtomics, type EngineOp, type Isa } from "../wasm/arch-atomics.ts";
import * as L from "../wasm/layout.ts";
import { Machine } from "../wasm/machine.ts";
import { ARCH_ISA } from "../xen/atomics.ts";
import { type Arch, counterDelta, profileOf, progress, round, runSeeds } from "./common.ts";
import type { Experiment, ExperimentTable, RunOptions, Verdict } from "./types.ts";

/** RISC-V, the native-16-bit architectures it is compared with, and Arm v8.0 for reference
 *  (LDXRH/STXRH: native 16-bit, but an LL/SC loop). */
export const C6_ARCHES: readonly Arch[] = ["riscv64", "arm64-v8.1-lse", "x86-64", "arm64-v8.0"];
export const NATIVE_16: readonly Arch[] = ["arm64-v8.1-lse", "x86-64"];

export interface C6Op {
  id: string;
  op: EngineOp;
  what: string;
}

/** Both add 1 to the field per operation, so the final value checks every update landed. */
export const C6_OPS: readonly C6Op[] = [
  { id: "cas-loop", op: "cas-inc", what: "read the u16, compare-and-swap it to +1, retry on mismatch" },
  { id: "fetch-add", op: "fetch-add", what: "atomic add of 1 to the u16 (an index bump)" },
];

export type C6Case = "uncontended" | "contended";
export const C6_CASES: readonly C6Case[] = ["uncontended", "contended"];

const GUEST = 1;

/** Under contention the line is being written by another CPU: atomics are priced at the
 *  profile's contended figures (cas_contended; masked_llsc_subword_contended replacing it). */
export const CONTENDED_PRICING: PricingTable = withEntries(PRICING, [
  priced(L.CNT_ATOMIC_OPS, [charge("cas_contended", "hypervisor")], "every RMW on a line another CPU writes"),
  priced(L.CNT_ATOMIC_SUBWORD, [charge("masked_llsc_subword_contended", "hypervisor"), charge("cas_contended", "hypervisor", -1)],
    "replaces the contended CAS price with the contended masked LR/SC sequence", true),
]);

/** What one run (architecture, op, case, seed) measured, for agent 0 and both agents. */
export interface C6Run {
  arch: Arch;
  op: string;
  case: C6Case;
  seed: number;
  /** Operations completed by agent 0 (and by the neighbour's agent, when contended). */
  ops: number;
  neighbourOps: number;
  /** Agent 0's instruction steps, load-reserved / load-exclusives and failed SCs. */
  steps: number;
  llsc: number;
  scFails: number;
  /** RMWs of the run that were masked sub-word sequences (both agents). */
  subword: number;
  /** Priced cycles and ns of every agent's operations, and how many there were. */
  cycles: number;
  ns: number;
  pricedOps: number;
  /** Field, neighbour halfword and the words around the containing word all as expected. */
  correct: boolean;
}

export interface C6Row {
  arch: Arch;
  op: string;
  case: C6Case;
  runs: number;
  instructionsPerOp: number;
  llscPerOp: number;
  retriesPerOp: number;
  maskedShare: number;
  cyclesPerOp: number;
  nsPerOp: number;
  correct: number;
}

function u32At(m: Machine, mfn: number, off: number): number {
  return new DataView(m.readMfn(mfn, off, 4).buffer).getUint32(0, true);
}

function setU32(m: Machine, mfn: number, off: number, v: number): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  m.writeMfn(mfn, off, b);
}

function runOnce(arch: Arch, op: C6Op, c: C6Case, seed: number, n: number): C6Run {
  const rng = new Rng(seed).fork("c6-layout");
  const machine = new Machine();
  machine.createDomain(GUEST, 16);
  const mfn = machine.populate(GUEST, 0);
  const isa: Isa = ARCH_ISA[arch];
  const engine = new WasmArchAtomics(machine, { seed });
  // The containing word somewhere in the page, guarded by sentinel words on both sides; the
  // field is its low or high halfword, the neighbour the other one.
  const word = 4 * rng.int(1, L.PAGE_SIZE / 4 - 2);
  const fieldOff = word + 2 * rng.int(0, 1);
  const neighbourOff = fieldOff ^ 2;
  const sentinels = [rng.int(0, 0xffffffff) >>> 0, rng.int(0, 0xffffffff) >>> 0];
  const field0 = rng.int(0, 0xffff);
  const neighbour0 = rng.int(0, 0xffff);
  setU32(machine, mfn, word - 4, sentinels[0]!);
  setU32(machine, mfn, word + 4, sentinels[1]!);
  const shift = (o: number) => (o - word) * 8;
  setU32(machine, mfn, word, ((field0 << shift(fieldOff)) | (neighbour0 << shift(neighbourOff))) >>> 0);
  engine.setAgent(0, { isa, op: op.op, size: 2, mfn, off: fieldOff, a: 1, repeat: n });
  if (c === "contended") engine.setAgent(1, { isa, op: op.op, size: 2, mfn, off: neighbourOff, a: 1, domid: GUEST, repeat: n });
  const before = machine.counters();
  const r = engine.run(0xffffffff);
  if (r.status !== "done") throw new Error(`c6: ${arch} ${op.id} ${c} seed ${seed} did not finish (${r.status})`);
  const delta = counterDelta(machine.counters(), before);
  const p = price(delta, profileOf(arch), c === "contended" ? CONTENDED_PRICING : PRICING);
  const a0 = engine.agent(0);
  const a1 = c === "contended" ? engine.agent(1).opsDone : 0;
  const w = u32At(machine, mfn, word);
  const half = (o: number) => (w >>> shift(o)) & 0xffff;
  const correct = half(fieldOff) === ((field0 + a0.opsDone) & 0xffff) && half(neighbourOff) === ((neighbour0 + a1) & 0xffff) &&
    u32At(machine, mfn, word - 4) === sentinels[0] && u32At(machine, mfn, word + 4) === sentinels[1];
  return {
    arch, op: op.id, case: c, seed, ops: a0.opsDone, neighbourOps: a1,
    steps: a0.steps, llsc: a0.llsc, scFails: a0.scFails, subword: delta[L.CNT_ATOMIC_SUBWORD]!,
    cycles: p.cycles, ns: p.ns, pricedOps: delta[L.CNT_ATOMIC_OPS]!, correct,
  };
}

export function c6Rows(runs: readonly C6Run[]): C6Row[] {
  const rows: C6Row[] = [];
  for (const arch of C6_ARCHES) {
    for (const op of C6_OPS) {
      for (const c of C6_CASES) {
        const rs = runs.filter((r) => r.arch === arch && r.op === op.id && r.case === c);
        if (rs.length === 0) continue;
        const sum = (f: (r: C6Run) => number) => rs.reduce((s, r) => s + f(r), 0);
        const ops = sum((r) => r.ops);
        const priced = sum((r) => r.pricedOps);
        rows.push({
          arch, op: op.id, case: c, runs: rs.length,
          instructionsPerOp: sum((r) => r.steps) / ops,
          llscPerOp: sum((r) => r.llsc) / ops,
          retriesPerOp: sum((r) => r.scFails) / ops,
          maskedShare: sum((r) => r.subword) / priced,
          cyclesPerOp: sum((r) => r.cycles) / priced,
          nsPerOp: sum((r) => r.ns) / priced,
          correct: rs.filter((r) => r.correct).length,
        });
      }
    }
  }
  return rows;
}

/** The verdict, from the rows alone: for every op and case RISC-V ran masked LR/SC and needed
 *  more instructions per 16-bit op than each native-16-bit architecture; under contention it
 *  also went round its LR/SC loop more than once per op while the natives never retried; and
 *  every run left the field, the neighbour and the surrounding words right. */
export function c6Verdict(rows: readonly C6Row[]): Verdict {
  const failures: string[] = [];
  const costs: string[] = [];
  const wrong = rows.filter((r) => r.correct !== r.runs);
  for (const r of wrong) failures.push(`${r.arch} ${r.op} ${r.case}: ${r.runs - r.correct}/${r.runs} runs left a wrong value`);
  for (const op of C6_OPS) {
    for (const c of C6_CASES) {
      const rv = rows.find((r) => r.arch === "riscv64" && r.op === op.id && r.case === c);
      const natives = NATIVE_16.map((a) => rows.find((r) => r.arch === a && r.op === op.id && r.case === c));
      if (!rv || natives.some((n) => n === undefined)) {
        failures.push(`${op.id} ${c}: rows missing`);
        continue;
      }
      if (rv.maskedShare < 1) failures.push(`riscv64 ${op.id} ${c}: only ${round(rv.maskedShare * 100)}% of ops were masked sub-word sequences`);
      for (const nat of natives as C6Row[]) {
        if (!(rv.instructionsPerOp > nat.instructionsPerOp)) {
          failures.push(`${op.id} ${c}: riscv64 ${round(rv.instructionsPerOp, 2)} instructions/op, not more than ${nat.arch} ${round(nat.instructionsPerOp, 2)}`);
        }
        if (c === "contended" && nat.retriesPerOp !== 0) failures.push(`${nat.arch} ${op.id}: ${round(nat.retriesPerOp, 2)} retries/op`);
      }
      if (c === "contended" && !(rv.llscPerOp > 1)) failures.push(`riscv64 ${op.id} contended: ${round(rv.llscPerOp, 2)} LR/SC iterations/op`);
      const fastest = (natives as C6Row[]).reduce((a, b) => (a.nsPerOp <= b.nsPerOp ? a : b));
      costs.push(`${op.id} ${c}: riscv64 ${round(rv.instructionsPerOp, 1)} instr, ${round(rv.llscPerOp, 2)} LR/SC, ` +
        `${round(rv.nsPerOp, 1)} ns/op vs ${fastest.arch} ${round(fastest.instructionsPerOp, 1)} instr, ${round(fastest.nsPerOp, 1)} ns/op ` +
        `(x${round(rv.nsPerOp / fastest.nsPerOp, 2)})`);
    }
  }
  if (failures.length > 0) return { holds: false, text: failures.join("; ") };
  return { holds: true, text: `RISC-V's 16-bit updates are masked LR.W/SC.W loops, neighbours preserved in every run; ${costs.join("; ")}` };
}

export function c6Table(rows: readonly C6Row[], notes: string[]): ExperimentTable {
  return {
    name: "c6",
    title: C6.title,
    claim: C6.claim,
    columns: ["arch", "op", "width", "case", "runs", "instructions/op", "LR/SC iterations/op", "SC retries/op",
      "masked ops", "cycles/op", "ns/op", "correct"],
    rows: rows.map((r) => [r.arch, r.op, 16, r.case, r.runs, round(r.instructionsPerOp, 2), round(r.llscPerOp, 2),
      round(r.retriesPerOp, 2), `${round(r.maskedShare * 100, 0)}%`, round(r.cyclesPerOp, 1), round(r.nsPerOp, 1), `${r.correct}/${r.runs}`]),
    verdict: c6Verdict(rows),
    notes,
  };
}

/** The sweep; `arches` narrows it (tests). */
export function runC6Sweep(opts: RunOptions, arches: readonly Arch[] = C6_ARCHES): { runs: C6Run[]; table: ExperimentTable } {
  const seeds = runSeeds(opts.seed, "c6", opts.quick ? 2 : 8);
  const n = opts.quick ? 32 : 128;
  const tick = progress(opts, arches.length * C6_OPS.length * C6_CASES.length * seeds.length);
  const runs: C6Run[] = [];
  for (const arch of arches) {
    for (const op of C6_OPS) {
      for (const c of C6_CASES) {
        for (const s of seeds) {
          runs.push(runOnce(arch, op, c, s, n));
          tick();
        }
      }
    }
  }
  const notes = [
    `each run: ${n} updates of a u16 field by one agent; contended: a second agent makes ${n} of the same updates to the other halfword of the same 32-bit word (lockstep interleaving, seeded)`,
    ...C6_OPS.map((o) => `${o.id}: ${o.what}`),
    "instructions, LR/SC iterations and retries are the first agent's, per completed op; cycles and ns are every agent's priced ops over their number",
    "uncontended ops priced at cas / masked_llsc_subword, contended at cas_contended / masked_llsc_subword_contended, failed SCs at llsc_retry; ns at each profile's clock (cycles are not comparable across clocks)",
    "correct: the field and its neighbour end at start + their agents' completed ops (mod 2^16) and the words on both sides are untouched",
    "RISC-V bit operations on a u16 (or/and/xor) need no loop: a widened AMO*.W leaves the neighbour alone",
  ];
  return { runs, table: c6Table(c6Rows(runs), notes) };
}

export const C6: Experiment = {
  name: "c6",
  slug: "riscv-subword",
  title: "RISC-V masked LR/SC for 16-bit ring fields vs native 16-bit atomics",
  claim: "on RISC-V, 16-bit ring fields need masked LR/SC on the containing word, which costs more than native 16-bit atomics",
  run: (opts) => runC6Sweep(opts).table,
};
