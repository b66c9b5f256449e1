// A recorded run: the counters of one simulation plus what they were recorded under, so the
// run can be priced again under another profile without simulating it again. That is exact
// only where the simulation behaves the same: the architecture decides which mechanisms run
// (x86's ISA IRQ through the vIOAPIC against an Arm SPI dm_op, LSE single instructions against
// LL/SC loops, retries), so a run moves only between profiles of one behaviour class (e.g. two
// x86-64 boards with other figures). The class is the atomics model: it is what the simulation
// is told (runJob simulates x86-64, Arm v8.0, Arm v8.1 LSE or RISC-V from it); `arch` is free
// text and not compared.
import { ATOMICS_MODELS, type AtomicsModel } from "./primitives.ts";
import type { Profile } from "./profile.ts";
import { price, type Price } from "./price.ts";
import { PRICING, type PricingTable } from "./pricing-table.ts";
import { COUNTER_SLOTS, counterName } from "./counter-names.ts";

export const RUN_FORMAT = "vxsim-run/1";

export interface RecordedRun {
  format: typeof RUN_FORMAT;
  /** The profile the run was simulated under, its architecture and atomics model. */
  profile: string;
  arch: string;
  atomics: AtomicsModel;
  /** One value per counter slot, as the Wasm counters block (integers below 2^53). */
  counters: number[];
  /** Free-form description: scenario, seed, duration, transport... */
  meta: Record<string, string | number | boolean>;
}

export function recordRun(counters: ArrayLike<number>, profile: Profile, meta: RecordedRun["meta"] = {}): RecordedRun {
  if (counters.length !== COUNTER_SLOTS) {
    throw new RangeError(`counters must have ${COUNTER_SLOTS} slots, got ${counters.length}`);
  }
  return { format: RUN_FORMAT, profile: profile.name, arch: profile.arch, atomics: profile.atomics, counters: Array.from(counters), meta: { ...meta } };
}

/** The simulated architecture a profile's atomics model stands for. */
const SIMULATED: Record<AtomicsModel, string> = { "x86": "x86-64", "arm-llsc": "Arm v8.0", "arm-lse": "Arm v8.1 LSE", "riscv": "RISC-V" };

/** What decides a run's counts besides its inputs: the architecture simulated, named by the
 *  atomics model. Two profiles of one class simulate the same mechanism; only figures differ. */
export function behaviourClass(p: Pick<Profile, "atomics">): string {
  return SIMULATED[p.atomics];
}

/** Prices a recorded run under `profile`. Throws if the run was simulated under another
 *  behaviour class (architecture or atomics model): its counts are not the ones `profile`'s
 *  architecture would make, so it has to be simulated again. Within one class, entries marked
 *  `archDependent` (LL/SC retries) are the same model's counts too. */
export function repriceRun(run: RecordedRun, profile: Profile, table: PricingTable = PRICING): Price {
  if (behaviourClass(run) !== behaviourClass(profile)) {
    const dependent: string[] = [];
    for (const e of table.values()) {
      if (e.archDependent && run.counters[e.id] !== 0) dependent.push(`${counterName(e.id)}=${run.counters[e.id]}`);
    }
    throw new Error(
      `run recorded under ${run.profile} (simulated as ${behaviourClass(run)}, atomics ${run.atomics}) cannot be re-priced under ${profile.name} ` +
        `(simulated as ${behaviourClass(profile)}, atomics ${profile.atomics}): the architecture decides what the simulation does ` +
        `(interrupt paths, atomic instructions${dependent.length > 0 ? `; this run has ${dependent.join(", ")}` : ""}); simulate it under ${profile.name} instead`,
    );
  }
  return price(run.counters, profile, table);
}

export function runToJson(run: RecordedRun): string {
  return JSON.stringify(run);
}

/** Reads a run written by runToJson; `file` names it in errors. */
export function runFromJson(text: string, file: string): RecordedRun {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON: ${(e as Error).message}`);
  }
  const r = v as Partial<RecordedRun> | null;
  const bad = (field: string, what: string): never => {
    throw new Error(`${file}: ${field}: ${what}`);
  };
  if (r === null || typeof r !== "object" || Array.isArray(r)) return bad("(document)", "must be an object");
  if (r.format !== RUN_FORMAT) bad("format", `must be "${RUN_FORMAT}", got ${JSON.stringify(r.format)}`);
  for (const k of ["profile", "arch"] as const) if (typeof r[k] !== "string") bad(k, "must be a string");
  if (!(ATOMICS_MODELS as readonly unknown[]).includes(r.atomics)) bad("atomics", `must be one of ${ATOMICS_MODELS.join(", ")}`);
  if (!Array.isArray(r.counters) || r.counters.length !== COUNTER_SLOTS) bad("counters", `must be a list of ${COUNTER_SLOTS} numbers`);
  r.counters!.forEach((n, i) => {
    if (typeof n !== "number" || !Number.isFinite(n)) bad(`counters[${i}]`, "must be a finite number");
  });
  if (r.meta === null || typeof r.meta !== "object" || Array.isArray(r.meta)) bad("meta", "must be an object");
  return r as RecordedRun;
}
