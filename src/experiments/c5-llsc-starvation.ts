// C5: LL/SC on guest-shared memory can be starved by a hostile guest on Arm v8.0 and RISC-V;
// Xen's XSA-295 mitigation (bounded retries, then pause the sharing domain and redo) bounds
// it; LSE and x86 are immune. Runs Xen's grant pin and release (the {flags,domid} cmpxchg and
// the 16-bit flags clear) as each architecture's instruction sequences in the atomics engine,
// with and without a guest vCPU storing to the entry's reservation granule in a loop.
import { price } from "../cost/price.ts";
import { Rng } from "../sim/rng.ts";
import * as L from "../wasm/layout.ts";
import { Machine } from "../wasm/machine.ts";
import { AtomicStarvationError, guestAtomicsFor, type EmulatedGuestAtomics } from "../xen/atomics.ts";
import { ARCHES, type Arch, counterDelta, profileOf, progress, round, runSeeds } from "./common.ts";
import type { Experiment, ExperimentTable, RunOptions, Verdict } from "./types.ts";

export type C5CaseId = "calm" | "hostile" | "hostile+mitigation";

export interface C5Case {
  id: C5CaseId;
  /** A guest vCPU stores to the grant entry's reservation granule in a loop. */
  hostile: boolean;
  /** Xen's XSA-295 guest-safe helpers (bounded retries, pause, redo). */
  guestSafe: boolean;
}

export const C5_CASES: readonly C5Case[] = [
  { id: "calm", hostile: false, guestSafe: true },
  { id: "hostile", hostile: true, guestSafe: false },
  { id: "hostile+mitigation", hostile: true, guestSafe: true },
];

/** Architectures whose guest atomics are LL/SC loops (starvable), and the immune ones. */
export const LLSC_ARCHES: readonly Arch[] = ["arm64-v8.0", "riscv64"];
export const IMMUNE_ARCHES: readonly Arch[] = ["arm64-v8.1-lse", "x86-64"];

/** Grant map+unmap pairs Xen does per run: a pin (32-bit cmpxchg) and a release (16-bit clear). */
const IOS_PER_RUN = 4;
const GUEST = 1;
const BACKEND = 0;
const GRANULE = 64;

/** What one run (one architecture, one case, one seed) measured. */
export interface C5Run {
  arch: Arch;
  case: C5CaseId;
  seed: number;
  attempted: number;
  done: number;
  starved: boolean;
  llsc: number;
  scFails: number;
  pauses: number;
  /** The most instruction steps Xen spent on one operation (the bound the mitigation gives). */
  maxXenSteps: number;
  xenSteps: number;
  cycles: number;
  ns: number;
}

/** One table row: the runs of one architecture and case, summed over seeds. */
export interface C5Row {
  arch: Arch;
  case: C5CaseId;
  runs: number;
  completed: number;
  starved: number;
  attempted: number;
  done: number;
  retriesPerOp: number;
  /** Failed store-exclusives beyond those of the calm run with the same seed, per op. */
  hostileRetriesPerOp: number;
  pauses: number;
  maxXenSteps: number;
  cyclesPerOp: number;
  nsPerOp: number;
}

function runOnce(arch: Arch, c: C5Case, seed: number): C5Run {
  const rng = new Rng(seed).fork("c5-layout");
  const machine = new Machine();
  machine.createDomain(BACKEND, 16);
  machine.createDomain(GUEST, 16);
  const mfn = machine.populate(GUEST, 0); // the guest's grant-table frame shared with Xen
  const at: EmulatedGuestAtomics = guestAtomicsFor(arch, machine, { seed, guestSafe: c.guestSafe });
  let pauses = 0;
  at.onPause = () => pauses++;
  // A grant entry somewhere in the frame; the hostile vCPU rewrites another word of the same
  // granule (the entry's own frame field or a neighbour entry): it never changes the
  // {flags,domid} word itself, so every compare Xen makes succeeds.
  const entry = rng.int(0, L.PAGE_SIZE / L.GRANT_ENTRY_V1_SIZE - 1) * L.GRANT_ENTRY_V1_SIZE;
  const granule = entry - (entry % GRANULE);
  let target = granule + 4 * rng.int(0, GRANULE / 4 - 2);
  if (target >= entry) target += 4;
  const combo = (BACKEND << 16) | L.GTF_PERMIT_ACCESS;
  machine.writeMfn(mfn, entry, Uint8Array.of(combo & 0xff, (combo >>> 8) & 0xff, (combo >>> 16) & 0xff, combo >>> 24));
  if (c.hostile) at.hostile(GUEST, mfn, target, { value: rng.int(0, 0xffff), flip: 1 });
  const before = machine.counters();
  let done = 0;
  let attempted = 0;
  let maxXenSteps = 0;
  let starved = false;
  const pinned = (combo | L.GTF_READING | L.GTF_WRITING) >>> 0;
  const ops: (() => void)[] = [
    () => at.cmpxchg(GUEST, mfn, entry + L.GRANT_ENTRY_V1_FLAGS, 4, combo, pinned),
    () => at.fetchOp(GUEST, mfn, entry + L.GRANT_ENTRY_V1_FLAGS, 2, "and", 0xffff & ~(L.GTF_READING | L.GTF_WRITING)),
  ];
  try {
    for (let io = 0; io < IOS_PER_RUN; io++) {
      for (const op of ops) {
        attempted++;
        op();
        maxXenSteps = Math.max(maxXenSteps, at.lastOp.xenSteps);
        done++;
      }
    }
  } catch (e) {
    if (!(e instanceof AtomicStarvationError)) throw e;
    // On hardware this CPU would spin in Xen for ever; the engine gave up after its window.
    starved = true;
    maxXenSteps = Math.max(maxXenSteps, e.stats.xenSteps);
  }
  const delta = counterDelta(machine.counters(), before);
  const p = price(delta, profileOf(arch));
  return {
    arch, case: c.id, seed, attempted, done, starved, pauses,
    llsc: delta[L.CNT_ATOMIC_LLSC_ATTEMPTS]!, scFails: delta[L.CNT_ATOMIC_SC_FAILS]!,
    xenSteps: delta[L.CNT_ATOMIC_XEN_STEPS]!, maxXenSteps, cycles: p.cycles, ns: p.ns,
  };
}

/** Sums the runs of each architecture and case into a row. */
export function c5Rows(runs: readonly C5Run[]): C5Row[] {
  const rows: C5Row[] = [];
  const calm = new Map(runs.filter((r) => r.case === "calm").map((r) => [`${r.arch}/${r.seed}`, r.scFails]));
  for (const arch of ARCHES) {
    for (const id of C5_CASES.map((c) => c.id)) {
      const rs = runs.filter((r) => r.arch === arch && r.case === id);
      if (rs.length === 0) continue;
      const sum = (f: (r: C5Run) => number) => rs.reduce((s, r) => s + f(r), 0);
      const attempted = sum((r) => r.attempted);
      const hostileRetries = sum((r) => r.scFails - (calm.get(`${r.arch}/${r.seed}`) ?? 0));
      rows.push({
        arch, case: id, runs: rs.length,
        completed: rs.filter((r) => !r.starved && r.done === r.attempted).length,
        starved: rs.filter((r) => r.starved).length,
        attempted, done: sum((r) => r.done),
        retriesPerOp: sum((r) => r.scFails) / attempted,
        hostileRetriesPerOp: hostileRetries / attempted,
        pauses: sum((r) => r.pauses),
        maxXenSteps: Math.max(...rs.map((r) => r.maxXenSteps)),
        cyclesPerOp: sum((r) => r.cycles) / attempted,
        nsPerOp: sum((r) => r.ns) / attempted,
      });
    }
  }
  return rows;
}

/** The verdict, from the rows alone. */
export function c5Verdict(rows: readonly C5Row[]): Verdict {
  const row = (arch: Arch, id: C5CaseId) => rows.find((r) => r.arch === arch && r.case === id);
  const failures: string[] = [];
  const found: string[] = [];
  for (const arch of LLSC_ARCHES) {
    const bare = row(arch, "hostile");
    const safe = row(arch, "hostile+mitigation");
    if (!bare || !safe) {
      failures.push(`${arch}: hostile cases missing from the sweep`);
      continue;
    }
    if (bare.starved === bare.runs) found.push(`${arch}: starved without the mitigation in ${bare.starved}/${bare.runs} runs`);
    else failures.push(`${arch}: the unmitigated hostile case completed in ${bare.runs - bare.starved}/${bare.runs} runs`);
    if (safe.completed === safe.runs && safe.pauses > 0) {
      found.push(`completed with it in ${safe.completed}/${safe.runs} (${safe.pauses} pauses, at most ${safe.maxXenSteps} Xen steps per op)`);
    } else {
      failures.push(`${arch}: with the mitigation ${safe.completed}/${safe.runs} runs completed, ${safe.pauses} pauses`);
    }
  }
  for (const arch of IMMUNE_ARCHES) {
    const rs = C5_CASES.map((c) => row(arch, c.id));
    if (rs.some((r) => r === undefined)) {
      failures.push(`${arch}: cases missing from the sweep`);
      continue;
    }
    const bad = rs.filter((r) => r!.completed !== r!.runs || r!.hostileRetriesPerOp !== 0);
    if (bad.length === 0) found.push(`${arch}: every case completed with 0 retries caused by the hostile guest`);
    else for (const r of bad) failures.push(`${arch} ${r!.case}: ${r!.completed}/${r!.runs} completed, ${round(r!.hostileRetriesPerOp, 2)} hostile retries per op`);
  }
  return failures.length === 0
    ? { holds: true, text: found.join("; ") }
    : { holds: false, text: failures.join("; ") };
}

export function c5Table(rows: readonly C5Row[], notes: string[]): ExperimentTable {
  return {
    name: "c5",
    title: C5.title,
    claim: C5.claim,
    columns: ["arch", "case", "runs", "completed", "starved", "ops done/attempted", "SC retries/op",
      "retries from hostile/op", "pauses", "max Xen steps/op", "cycles/op", "ns/op"],
    rows: rows.map((r) => [r.arch, r.case, r.runs, r.completed, r.starved, `${r.done}/${r.attempted}`,
      round(r.retriesPerOp, 2), round(r.hostileRetriesPerOp, 2), r.pauses, r.maxXenSteps,
      round(r.cyclesPerOp, 0), round(r.nsPerOp, 0)]),
    verdict: c5Verdict(rows),
    notes,
  };
}

/** The sweep: architectures x cases x seeds. `cases` replaces the case definitions (tests use
 *  it to show the verdict follows the measurements). */
export function runC5Sweep(opts: RunOptions, cases: readonly C5Case[] = C5_CASES): { runs: C5Run[]; table: ExperimentTable } {
  const seeds = runSeeds(opts.seed, "c5", opts.quick ? 2 : 12);
  const tick = progress(opts, ARCHES.length * cases.length * seeds.length);
  const runs: C5Run[] = [];
  for (const arch of ARCHES) {
    for (const c of cases) {
      for (const s of seeds) {
        runs.push(runOnce(arch, c, s));
        tick();
      }
    }
  }
  const notes = [
    `each run: ${IOS_PER_RUN} grant pins (32-bit {flags,domid} cmpxchg) and releases (16-bit flags clear) by Xen on an entry of a page shared with the guest; lockstep interleaving, seeded`,
    "hostile: a guest vCPU stores to another word of the entry's 64-byte reservation granule in a loop; a starved operation is abandoned after the engine's window of 65536 steps without progress (on hardware: never), its cycles counted up to there",
    "mitigation: Xen's guest-safe helpers, 128 failed store-exclusives (guest_safe_atomic_max, an estimate of 1 us) then pause the guest, redo, unpause",
    "cycles: the run's counters priced by the architecture's shipped profile (cas, llsc_retry, domain_pause + domain_unpause)",
  ];
  return { runs, table: c5Table(c5Rows(runs), notes) };
}

export const C5: Experiment = {
  name: "c5",
  slug: "llsc-starvation",
  title: "LL/SC starvation by a hostile guest, and the XSA-295 bound",
  claim: "LL/SC on guest-shared memory can be starved by a hostile guest on Arm v8.0 and RISC-V, and is bounded by the mitigation; Arm LSE and x86 are immune",
  run: (opts) => runC5Sweep(opts).table,
};
