import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as L from "../src/wasm/layout.ts";
import { price, type Price } from "../src/cost/price.ts";
import { PRICING, charge, each, free, makeTable, priced, withEntries } from "../src/cost/pricing-table.ts";
import { COUNTER_IDS, COUNTER_SLOTS, counterName } from "../src/cost/counter-names.ts";
import { SHIPPED_PROFILES, copyCycles, loadShippedProfile, type Profile } from "../src/cost/profile.ts";
import { COMPONENTS } from "../src/cost/primitives.ts";
import { recordRun, repriceRun, runFromJson, runToJson } from "../src/cost/run.ts";
import { Rng } from "../src/sim/rng.ts";
import { BUF, world } from "./helpers/argo-world.ts";

const profiles = Object.fromEntries(SHIPPED_PROFILES.map((n) => [n, loadShippedProfile(n)])) as Record<string, Profile>;
const x86 = profiles["x86-64"]!;
const arm = profiles["arm64-v8.0"]!;

function snapshot(values: Record<number, number>): Float64Array {
  const c = new Float64Array(COUNTER_SLOTS);
  for (const [id, v] of Object.entries(values)) c[Number(id)] = v;
  return c;
}

describe("pricing table", () => {
  it("has an entry for every named counter (a new counter needs one line in src/cost/pricing-table.ts)", () => {
    const missing = COUNTER_IDS.filter((id) => !PRICING.has(id)).map((id) => `${counterName(id)} (${id})`);
    expect(missing).toEqual([]);
  });

  it("prices only counters that exist, and says why a counter is free", () => {
    for (const e of PRICING.values()) {
      const named = COUNTER_IDS.includes(e.id);
      const vqErr = e.id >= L.CNT_VIRTQ_ERR_BASE && e.id < L.CNT_XEN_BASE;
      expect(named || vqErr, `entry for unknown counter ${e.id}`).toBe(true);
      if (e.charges.length === 0) expect(e.why, counterName(e.id)).toBeTruthy();
    }
  });

  it("refuses two entries for one counter", () => {
    expect(() => makeTable([free(1, "a"), free(1, "b")])).toThrow("pricing table: counter 1 has two entries");
  });
});

describe("price", () => {
  it("prices a hand-made snapshot: hypercalls, p2m updates, guest copies", () => {
    // two 4 KiB gpa_copy calls: bucket 2, (512, 4096]
    const p = price(snapshot({ [L.CNT_HYPERCALLS]: 3, [L.CNT_P2M_MAPS]: 2, [L.CNT_COPY_BYTES]: 8192, [L.CNT_CPU_COPIES_4K]: 2, [L.CNT_CPU_COPY_BYTES_4K]: 8192 }), x86);
    const copy = 2 * copyCycles(x86, 4096);
    expect(p.cycles).toBeCloseTo(3 * 1228 + 2 * 1000 + copy, 9);
    expect(p.ns).toBeCloseTo(p.cycles / 2.0, 9);
    expect(p.byComponent).toEqual({ guest: copy, hypervisor: 3 * 1228 + 2 * 1000, backend: 0 });
    expect(p.byPrimitive).toEqual({ hypercall: 3684, pte_update: 2000, copy });
    expect(p.byComponentPrimitive.hypervisor).toEqual({ hypercall: 3684, pte_update: 2000 });
    expect(p.byCounter.CNT_HYPERCALLS).toBe(3684);
    expect(p.byCounter.CNT_P2M_MAPS).toBe(2000);
    expect(p.byCounter.CNT_CPU_COPIES_4K! + p.byCounter.CNT_CPU_COPY_BYTES_4K!).toBeCloseTo(copy, 9);
    expect(p.byCounter.CNT_COPY_BYTES).toBeUndefined(); // the sizes carry the price
    expect(p.unpriced).toEqual([]);
    expect(p.profile).toBe("x86-64");
    expect(p.clockGHz).toBe(2);
  });

  it("multi-charge entries: a popped chain is CPU work plus one cache line transfer", () => {
    const p = price(snapshot({ [L.CNT_VQ_CHAINS_POPPED]: 10, [L.CNT_VQ_DESCS_POPPED]: 20 }), x86);
    const line = x86.primitives.cacheline_transfer.cycles!;
    expect(p.byPrimitive.cacheline_transfer).toBeCloseTo(10 * line + 20 * 0.25 * line, 9);
    expect(p.byComponent.backend).toBeCloseTo(p.cycles, 9);
  });

  it("charges the CPU's copies to the guest and Xen's (Argo's ring copy, grant copy) to the hypervisor, each at its size", () => {
    // one 400-byte gpa_copy, one 600-byte Argo message (also in CNT_COPY_BYTES), one 64 KiB grant copy worth of pages
    const p = price(snapshot({
      [L.CNT_COPY_BYTES]: 1000, [L.CNT_ARGO_BYTES_SENT]: 600, [L.CNT_GNT_COPY_BYTES]: 65536,
      [L.CNT_CPU_COPIES_512]: 1, [L.CNT_CPU_COPY_BYTES_512]: 400,
      [L.CNT_HV_COPIES_4K]: 17, [L.CNT_HV_COPY_BYTES_4K]: 600 + 65536,
    }), arm);
    expect(p.byComponent.guest).toBeCloseTo(copyCycles(arm, 400), 9);
    expect(p.byComponent.hypervisor).toBeCloseTo(copyCycles(arm, 600) + 16 * copyCycles(arm, 4096), 9);
    expect(p.byCounter.CNT_ARGO_BYTES_SENT).toBeUndefined();
    expect(p.byCounter.CNT_GNT_COPY_BYTES).toBeUndefined();
  });

  it("refuses a primitive the profile marks not applicable, naming counter and reason", () => {
    const t = withEntries(PRICING, [each(L.CNT_ATOMIC_OPS, "llsc_retry", "hypervisor")]);
    expect(() => price(snapshot({ [L.CNT_ATOMIC_OPS]: 2 }), x86, t)).toThrow(
      "profile x86-64: CNT_ATOMIC_OPS = 2 needs primitive 'llsc_retry', which does not apply to x86-64 (A locked x86 RMW never fails and retries.)",
    );
    expect(price(snapshot({}), x86, t).cycles).toBe(0); // a zero count needs no figure
  });

  it("lists non-zero counters that have no entry", () => {
    const t = makeTable([each(L.CNT_HYPERCALLS, "hypercall", "hypervisor")]);
    const p = price(snapshot({ [L.CNT_HYPERCALLS]: 1, [L.CNT_COPIES]: 2, [L.CNT_VIRTQ_ERR_BASE + 3]: 1 }), x86, t);
    expect(p.unpriced).toEqual(["CNT_COPIES", `counter ${L.CNT_VIRTQ_ERR_BASE + 3}`]);
    expect(p.cycles).toBe(1228);
  });

  it("checks the snapshot's shape and values", () => {
    expect(() => price(new Float64Array(10), x86)).toThrow("counters must have 1024 slots (the Wasm counters block), got 10");
    expect(() => price(snapshot({ [L.CNT_HYPERCALLS]: NaN }), x86)).toThrow("counter CNT_HYPERCALLS is not a finite number: NaN");
    expect(() => price(snapshot({ [L.CNT_COPY_BYTES]: Infinity }), x86)).toThrow("counter CNT_COPY_BYTES is not a finite number: Infinity");
  });
});

// ---- linearity ------------------------------------------------------------------------------

/** Counters with a price on `prof` (an architecture-dependent count such as a failed
 *  store-exclusive cannot occur where its primitive does not apply, e.g. on x86). */
function countersFor(prof: Profile) {
  const ids = [...PRICING.values()]
    .filter((e) => e.charges.length > 0)
    .filter((e) => e.charges.every((c) => c.primitive === "copy" || prof.primitives[c.primitive].cycles !== null))
    .map((e) => e.id);
  return fc.array(fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 0, max: 1_000_000 })), { maxLength: 30 }).map((pairs) => {
    const c = new Float64Array(COUNTER_SLOTS);
    for (const [id, v] of pairs) c[id] = v;
    return c;
  });
}

function flatten(p: Price): Map<string, number> {
  const m = new Map<string, number>([["cycles", p.cycles], ["ns", p.ns]]);
  for (const c of COMPONENTS) {
    m.set(`component.${c}`, p.byComponent[c]);
    for (const [k, v] of Object.entries(p.byComponentPrimitive[c])) m.set(`cp.${c}.${k}`, v!);
  }
  for (const [k, v] of Object.entries(p.byPrimitive)) m.set(`primitive.${k}`, v!);
  for (const [k, v] of Object.entries(p.byCounter)) m.set(`counter.${k}`, v);
  return m;
}

function expectSameTotals(a: Map<string, number>, b: Map<string, number>): void {
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k) ?? 0;
    const y = b.get(k) ?? 0;
    expect(Math.abs(x - y), k).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x), Math.abs(y)));
  }
}

it("the linearity properties draw the copy-size counters too", () => {
  const drawn = new Set([...PRICING.values()].filter((e) => e.charges.length > 0).map((e) => e.id));
  for (let k = 0; k < L.COPY_SIZE_BUCKETS; k++) {
    for (const base of [L.CNT_CPU_COPIES_BASE, L.CNT_CPU_COPY_BYTES_BASE, L.CNT_HV_COPIES_BASE, L.CNT_HV_COPY_BYTES_BASE]) {
      expect(drawn.has(base + k), counterName(base + k)).toBe(true);
    }
  }
});

describe.each(SHIPPED_PROFILES)("pricing is linear in the counters (%s)", (name) => {
  const prof = profiles[name]!;
  const counters = countersFor(prof);

  it("price(a + b) = price(a) + price(b)", () => {
    fc.assert(
      fc.property(counters, counters, (a, b) => {
        const sum = a.map((v, i) => v + b[i]!);
        const pa = flatten(price(a, prof));
        const pb = flatten(price(b, prof));
        const added = new Map(pa);
        for (const [k, v] of pb) added.set(k, (added.get(k) ?? 0) + v);
        expectSameTotals(flatten(price(sum, prof)), added);
      }),
      { seed: 4242, numRuns: 200 },
    );
  });

  it("price(k * a) = k * price(a)", () => {
    fc.assert(
      fc.property(counters, fc.double({ min: 0, max: 1000, noNaN: true }), (a, k) => {
        const scaled = new Map([...flatten(price(a, prof))].map(([key, v]) => [key, k * v]));
        expectSameTotals(flatten(price(a.map((v) => k * v), prof)), scaled);
      }),
      { seed: 4243, numRuns: 200 },
    );
  });

  it("price(0) = 0", () => {
    const p = price(new Float64Array(COUNTER_SLOTS), prof);
    expect(p.cycles).toBe(0);
    expect(p.byComponent).toEqual({ guest: 0, hypervisor: 0, backend: 0 });
  });
});

// ---- recorded runs and re-pricing ----------------------------------------------------------

/** A deterministic Argo workload: dom1 sends seeded-size messages to dom0, which consumes them. */
function argoRun(seed: number): Float64Array {
  const w = world({ domUs: 1 });
  const rng = new Rng(seed);
  const ring = w.ring(0, { aport: 7, partner: 1, len: 16 * 4096 });
  expect(w.guest(0).register(ring)).toBe(0);
  for (let i = 0; i < 40; i++) {
    const payload = rng.bytes(new Uint8Array(rng.int(1, 3000)));
    const rc = w.guest(1).send({ domid: 0, aport: 7 }, payload, BUF);
    expect(rc).toBeGreaterThan(0);
    if (i % 8 === 7) w.guest(0).consume(ring);
  }
  expect(w.machine.tryCopy(1, BUF, 1, BUF + 8192, 5000)).toBeGreaterThanOrEqual(0);
  return w.machine.counters();
}

describe("recorded runs", () => {
  it("re-pricing a run recorded under x86-64 equals pricing it under another x86 profile, and is refused under the other architectures", () => {
    const recorded = recordRun(argoRun(7), x86, { scenario: "argo 40 sends", seed: 7 });
    const back = runFromJson(runToJson(recorded), "run.json");
    expect(back).toEqual(recorded);
    const x86b = { ...x86, name: "x86-64-b", clockGHz: 3 }; // another board, same mechanism
    expect(repriceRun(back, x86b)).toEqual(price(argoRun(7), x86b));
    for (const name of SHIPPED_PROFILES.filter((n) => n !== "x86-64")) {
      expect(() => repriceRun(back, profiles[name]!), name).toThrow(/cannot be re-priced under/);
    }
    const armRun = recordRun(argoRun(7), arm);
    const p = repriceRun(armRun, arm);
    expect(p.unpriced).toEqual([]);
    expect(p.byCounter.CNT_ARGO_BYTES_SENT).toBeUndefined(); // the ring copy is priced by size on the HV buckets
    expect(p.byComponentPrimitive.hypervisor.copy).toBeGreaterThan(0);
    expect(p.byComponentPrimitive.guest.copy).toBeCloseTo(copyCycles(arm, 5000), 6); // only the gpa_copy, at its size
    expect(p.byCounter.CNT_HYPERCALLS).toBeGreaterThan(0);
  });

  it("keeps what the run was recorded under", () => {
    const r = recordRun(new Float64Array(COUNTER_SLOTS), arm, { seed: 1 });
    expect(r).toMatchObject({ format: "vxsim-run/1", profile: "arm64-v8.0", arch: "arm64", atomics: "arm-llsc", meta: { seed: 1 } });
    expect(() => recordRun(new Float64Array(3), arm)).toThrow("counters must have 1024 slots, got 3");
  });

  it("refuses another atomics model, naming architecture-dependent counts; the same model is fine", () => {
    const t = withEntries(PRICING, [priced(L.CNT_ATOMIC_OPS, [charge("cas", "hypervisor")], "test", true)]);
    const run = recordRun(snapshot({ [L.CNT_ATOMIC_OPS]: 5, [L.CNT_HYPERCALLS]: 1 }), x86);
    expect(() => repriceRun(run, arm, t)).toThrow(
      "run recorded under x86-64 (simulated as x86-64, atomics x86) cannot be re-priced under arm64-v8.0 (simulated as Arm v8.0, atomics arm-llsc): " +
        "the architecture decides what the simulation does (interrupt paths, atomic instructions; this run has CNT_ATOMIC_OPS=5); simulate it under arm64-v8.0 instead",
    );
    expect(repriceRun(run, x86, t).cycles).toBeGreaterThan(0); // same model: fine
    const quiet = recordRun(snapshot({ [L.CNT_HYPERCALLS]: 1 }), x86);
    expect(() => repriceRun(quiet, arm, t)).toThrow(/cannot be re-priced under arm64-v8\.0/); // no dependent count: still another architecture
  });

  it("reading a run names the file and the field", () => {
    const good = JSON.parse(runToJson(recordRun(new Float64Array(COUNTER_SLOTS), x86)));
    const bad = (patch: object) => () => runFromJson(JSON.stringify({ ...good, ...patch }), "r.json");
    expect(() => runFromJson("{", "r.json")).toThrow(/^r\.json: not JSON: /);
    expect(() => runFromJson("[]", "r.json")).toThrow("r.json: (document): must be an object");
    expect(bad({ format: "x" })).toThrow('r.json: format: must be "vxsim-run/1", got "x"');
    expect(bad({ profile: 3 })).toThrow("r.json: profile: must be a string");
    expect(bad({ arch: null })).toThrow("r.json: arch: must be a string");
    expect(bad({ atomics: "mips" })).toThrow("r.json: atomics: must be one of x86, arm-llsc, arm-lse, riscv");
    expect(bad({ counters: [1, 2] })).toThrow("r.json: counters: must be a list of 1024 numbers");
    const c = [...good.counters];
    c[5] = "many";
    expect(bad({ counters: c })).toThrow("r.json: counters[5]: must be a finite number");
    expect(bad({ meta: [] })).toThrow("r.json: meta: must be an object");
  });
});
