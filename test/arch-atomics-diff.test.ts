// Differential: the Wasm engine and the plain-TS reference run the same random scenarios
// (agents, instruction sets, sizes, offsets, schedules, spurious failures, guest-safe pauses)
// and must agree on every step: run outcomes, memory, per-agent statistics and counters.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { AgentSpec, EngineConfig, EngineOp, Isa, OperandSize } from "../src/wasm/arch-atomics.ts";
import { rig, type EngineKind } from "./arch-atomics-fixture.ts";

const ISAS: Isa[] = ["x86", "arm-llsc", "arm-lse", "riscv"];
const OPS: EngineOp[] = ["cmpxchg", "fetch-add", "fetch-or", "fetch-and", "fetch-xor", "xchg", "test-set-bit", "test-clear-bit", "cas-inc", "load", "store"];
const DOMIDS = [0x7ff2, 1, 2];

interface Scenario {
  cfg: EngineConfig;
  init: Uint8Array;
  agents: { slot: number; spec: Omit<AgentSpec, "mfn">; frame: 0 | 1 }[];
  script: number[];
  budgets: number[];
  clrex: number;
}

const agentArb = fc.record({
  slot: fc.nat(15),
  frame: fc.constantFrom(0 as const, 1 as const),
  isa: fc.constantFrom(...ISAS),
  op: fc.constantFrom(...OPS),
  size: fc.constantFrom<OperandSize>(1, 2, 4, 8),
  word: fc.nat(15),
  a: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  small: fc.nat(3),
  b: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  domid: fc.constantFrom(...DOMIDS),
  guestSafe: fc.boolean(),
  sharer: fc.constantFrom(1, 2),
  repeat: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constant("forever" as const)),
}).map((g) => {
  const bit = g.op === "test-set-bit" || g.op === "test-clear-bit";
  const size = bit ? 4 : g.size;
  // Offsets crowd a few words so agents collide on words, halves and granules.
  const off = (g.word * 4) & ~(size - 1);
  // Small operands make compares succeed now and then (the field starts at a small value).
  const a = bit ? g.a % 32n : g.small > 0 ? BigInt(g.small - 1) : g.a;
  return {
    slot: g.slot,
    frame: g.frame,
    spec: { isa: g.isa, op: g.op, size, off, a, b: g.b, domid: g.domid, guestSafe: g.guestSafe, sharer: g.sharer, repeat: g.repeat },
  };
});

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  cfg: fc.record({
    seed: fc.nat(0xffffffff),
    policy: fc.constantFrom("lockstep" as const, "random" as const, "script" as const),
    granule: fc.constantFrom(8, 16, 64, 4096),
    spurious: fc.constantFrom(0, 0.25, 0.9),
    safeMax: fc.integer({ min: 1, max: 6 }),
    window: fc.constantFrom(200, 3000),
  }),
  init: fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => b.map((x) => x & 3)),
  agents: fc.array(agentArb, { minLength: 1, maxLength: 6 }),
  script: fc.array(fc.nat(15), { maxLength: 60 }),
  budgets: fc.array(fc.integer({ min: 0, max: 1500 }), { minLength: 1, maxLength: 3 }),
  clrex: fc.nat(15),
});

function play(kind: EngineKind, s: Scenario) {
  const r = rig(kind, s.cfg);
  const frames = [r.mfn, r.mfn2];
  for (const m of frames) r.machine.writeMfn(m, 0, s.init);
  for (const a of s.agents) r.engine.setAgent(a.slot, { ...a.spec, mfn: frames[a.frame]! });
  if (s.cfg.policy === "script") r.engine.setScript(s.script);
  const runs = s.budgets.map((b, k) => {
    if (k === 1) r.engine.clrex(s.clrex); // an exception on one CPU between two slices
    return r.engine.run(b);
  });
  return {
    runs,
    total: r.engine.totalSteps,
    memory: frames.map((m) => Array.from(r.machine.readMfn(m, 0, 64))),
    agents: Array.from({ length: 16 }, (_, i) => r.engine.agent(i)),
    counts: r.counts(),
  };
}

describe.each(["release", "debug"] as const)("Wasm (%s) vs TS reference atomics engine", (build) => {
  it("agree on random scenarios and schedules", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        expect(play(build, s)).toEqual(play("ts", s));
      }),
      { seed: 0xd1ff, numRuns: build === "release" ? 300 : 100 },
    );
  });

  it("agree when a scenario starves and when guest-safe pauses happen", () => {
    let starved = 0;
    let paused = 0;
    fc.assert(
      fc.property(scenarioArb, (s0) => {
        // A hostile store loop on the first word of frame 0 and a guest-safe Xen op beside it.
        const s: Scenario = { ...s0, agents: [...s0.agents,
          { slot: 14, frame: 0, spec: { isa: "arm-llsc", op: "store", size: 4, off: 0, a: 1n, b: 1n, domid: 1, repeat: "forever" } },
          { slot: 15, frame: 0, spec: { isa: s0.agents[0]!.spec.isa, op: "cmpxchg", size: 4, off: 4, a: 0n, b: 9n, guestSafe: true, sharer: 1 } }] };
        const w = play(build, s);
        expect(w).toEqual(play("ts", s));
        if (w.runs.some((r) => r.status === "starved")) starved++;
        if (w.counts[6]! > 0) paused++;
      }),
      { seed: 0x295, numRuns: 150 },
    );
    expect(starved).toBeGreaterThan(0);
    expect(paused).toBeGreaterThan(0);
  });
});
