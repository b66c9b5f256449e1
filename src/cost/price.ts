// THE function that turns counters into cycles and time. Linear in the counters: every
// result is a sum of counter x coefficient, the coefficients coming from the pricing table
// (how many primitives per event) and the profile (cycles per primitive). Prices CPU work
// summed over all CPUs; elapsed virtual time, with overlap, comes from src/sim.
import { copyBucketCycles, copyCycles, type Profile } from "./profile.ts";
import { COMPONENTS, type Component, type Primitive } from "./primitives.ts";
import { PRICING, type PricingTable } from "./pricing-table.ts";
import { COUNTER_SLOTS, counterName } from "./counter-names.ts";

export type PricedPrimitive = Primitive | "copy";

export interface Price {
  profile: string;
  clockGHz: number;
  /** Total cycles at the profile's clock, and the same in nanoseconds. */
  cycles: number;
  ns: number;
  byComponent: Record<Component, number>;
  byPrimitive: Partial<Record<PricedPrimitive, number>>;
  byComponentPrimitive: Record<Component, Partial<Record<PricedPrimitive, number>>>;
  /** Cycles charged on each counter (by layout name), counters that cost nothing left out. */
  byCounter: Record<string, number>;
  /** Non-zero counters that have no pricing entry (a new counter waiting for its line). */
  unpriced: string[];
}

interface Term {
  id: number;
  coef: number | null; // null: the profile says the primitive does not apply
  primitive: PricedPrimitive;
  component: Component;
}

const compiled = new WeakMap<Profile, WeakMap<PricingTable, Term[]>>();

function terms(profile: Profile, table: PricingTable): Term[] {
  let byTable = compiled.get(profile);
  if (!byTable) compiled.set(profile, (byTable = new WeakMap()));
  let t = byTable.get(table);
  if (t) return t;
  t = [];
  for (const e of [...table.values()].sort((a, b) => a.id - b.id)) {
    for (const c of e.charges) {
      let per: number | null;
      if (c.copyBucket) {
        const b = copyBucketCycles(profile, c.copyBucket.k);
        per = c.copyBucket.per === "op" ? b.perOp : b.perByte;
      } else if (c.primitive === "copy") {
        const size = c.copySize!;
        per = copyCycles(profile, size) / size;
      } else {
        per = profile.primitives[c.primitive].cycles;
      }
      t.push({ id: e.id, coef: per === null ? null : per * c.times, primitive: c.primitive, component: c.component });
    }
  }
  byTable.set(table, t);
  return t;
}

function checkCounters(counters: ArrayLike<number>): void {
  if (counters.length !== COUNTER_SLOTS) {
    throw new RangeError(`counters must have ${COUNTER_SLOTS} slots (the Wasm counters block), got ${counters.length}`);
  }
  for (let i = 0; i < counters.length; i++) {
    if (!Number.isFinite(counters[i]!)) throw new RangeError(`counter ${counterName(i)} is not a finite number: ${counters[i]}`);
  }
}

/** Prices a counters snapshot (or a difference of two) under a profile. */
export function price(counters: ArrayLike<number>, profile: Profile, table: PricingTable = PRICING): Price {
  checkCounters(counters);
  const byComponent = Object.fromEntries(COMPONENTS.map((c) => [c, 0])) as Record<Component, number>;
  const byComponentPrimitive = Object.fromEntries(COMPONENTS.map((c) => [c, {}])) as Price["byComponentPrimitive"];
  const byPrimitive: Price["byPrimitive"] = {};
  const byCounter: Record<string, number> = {};
  let total = 0;
  for (const t of terms(profile, table)) {
    const n = counters[t.id]!;
    if (n === 0) continue;
    if (t.coef === null) {
      throw new Error(
        `profile ${profile.name}: ${counterName(t.id)} = ${n} needs primitive '${t.primitive}', ` +
          `which does not apply to ${profile.arch} (${profile.primitives[t.primitive as Primitive].why})`,
      );
    }
    const cyc = n * t.coef;
    total += cyc;
    byComponent[t.component] += cyc;
    byPrimitive[t.primitive] = (byPrimitive[t.primitive] ?? 0) + cyc;
    const cp = byComponentPrimitive[t.component];
    cp[t.primitive] = (cp[t.primitive] ?? 0) + cyc;
    const name = counterName(t.id);
    byCounter[name] = (byCounter[name] ?? 0) + cyc;
  }
  const unpriced: string[] = [];
  for (let id = 0; id < counters.length; id++) if (counters[id] !== 0 && !table.has(id)) unpriced.push(counterName(id));
  return {
    profile: profile.name,
    clockGHz: profile.clockGHz,
    cycles: total,
    ns: total / profile.clockGHz,
    byComponent,
    byPrimitive,
    byComponentPrimitive,
    byCounter,
    unpriced,
  };
}
