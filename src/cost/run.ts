// A recorded run: the counters of one simulation plus what they were recorded under, so the
// run can be priced again under another profile without simulating it again. That is exact
// where behaviour does not depend on the architecture; counts that do (LL/SC retries, marked
// `archDependent` in the pricing table) refuse to move to another atomics model.
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

/** Prices a recorded run under `profile`. Throws if the run holds architecture-dependent
 *  counts simulated under a different atomics model: those need a new simulation. */
export function repriceRun(run: RecordedRun, profile: Profile, table: PricingTable = PRICING): Price {
  if (run.atomics !== profile.atomics) {
    const dependent: string[] = [];
    for (const e of table.values()) {
      if (e.archDependent && run.counters[e.id] !== 0) dependent.push(`${counterName(e.id)}=${run.counters[e.id]}`);
    }
    if (dependent.length > 0) {
      throw new Error(
        `run recorded under ${run.profile} (atomics ${run.atomics}) has architecture-dependent counts ` +
          `(${dependent.join(", ")}); simulate it under ${profile.name} (atomics ${profile.atomics}) instead of re-pricing`,
      );
    }
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
