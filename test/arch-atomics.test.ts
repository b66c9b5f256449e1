import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as L from "../src/wasm/layout.ts";
import { AtomicsError, type EngineOp, type Isa, type OperandSize } from "../src/wasm/arch-atomics.ts";
import { ENGINE_KINDS, counts, rig } from "./arch-atomics-fixture.ts";

const { AT_U_LX: LX, AT_U_ALU: ALU, AT_U_CHK: CHK, AT_U_SX: SX, AT_U_RETRY: RETRY, AT_U_AMO: AMO } = L;
const { AT_U_LD: LD, AT_U_ST: ST, AT_U_NEXT: NEXT } = L;
const D1 = 1;
const RMW_OPS: EngineOp[] = ["cmpxchg", "fetch-add", "fetch-or", "fetch-and", "fetch-xor", "xchg", "test-set-bit", "test-clear-bit"];
const ISAS: Isa[] = ["x86", "arm-llsc", "arm-lse", "riscv"];

/** What a single uncontended operation must do to a field: the new value (null = unchanged) and the result. */
function model(op: EngineOp, size: number, old: bigint, a: bigint, b: bigint): { next: bigint | null; result: bigint } {
  const mask = (1n << BigInt(size * 8)) - 1n;
  switch (op) {
    case "cmpxchg": return { next: old === (a & mask) ? b & mask : null, result: old };
    case "fetch-add": return { next: (old + a) & mask, result: old };
    case "fetch-or": return { next: (old | a) & mask, result: old };
    case "fetch-and": return { next: old & a & mask, result: old };
    case "fetch-xor": return { next: (old ^ a) & mask, result: old };
    case "xchg": return { next: a & mask, result: old };
    case "test-set-bit": return { next: old | (1n << a), result: old };
    case "test-clear-bit": return { next: old & ~(1n << a) & mask, result: old };
    case "cas-inc": return { next: (old + a) & mask, result: old };
    case "load": return { next: null, result: old };
    case "store": return { next: a & mask, result: 0n };
  }
}

const le = (bytes: Uint8Array, off: number, size: number): bigint => {
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[off + k]!);
  return v;
};

describe.each(ENGINE_KINDS)("atomics engine (%s)", (kind) => {
  it("gives each architecture its own instruction sequence", () => {
    const r = rig(kind, { seed: 1 });
    const prog = (isa: Isa, op: EngineOp, size: OperandSize = 4): number[] => {
      r.engine.setAgent(0, { isa, op, size, mfn: r.mfn, off: 0 });
      return r.engine.agent(0).program;
    };
    // Arm v8.0, as Xen's arm64 cmpxchg.h and bitops.c: ldxr{h}; cmp; b.ne; stxr{h}; cbnz.
    expect(prog("arm-llsc", "cmpxchg", 2)).toEqual([LX, ALU, CHK, SX, RETRY]);
    expect(prog("arm-llsc", "cmpxchg", 8)).toEqual([LX, ALU, CHK, SX, RETRY]);
    expect(prog("arm-llsc", "test-set-bit")).toEqual([LX, ALU, SX, RETRY]);
    expect(prog("arm-llsc", "fetch-add", 1)).toEqual([LX, ALU, SX, RETRY]);
    expect(prog("arm-llsc", "xchg", 8)).toEqual([LX, SX, RETRY]);
    // LSE and x86: one instruction whatever the size.
    for (const op of RMW_OPS) {
      expect(prog("arm-lse", op)).toEqual([AMO]);
      expect(prog("x86", op)).toEqual([AMO]);
    }
    expect(prog("arm-lse", "cmpxchg", 2)).toEqual([AMO]);
    // RISC-V: LR/SC only for cmpxchg, AMOs otherwise; 8/16 bits on the containing word.
    expect(prog("riscv", "cmpxchg", 4)).toEqual([LX, CHK, SX, RETRY]);
    expect(prog("riscv", "cmpxchg", 8)).toEqual([LX, CHK, SX, RETRY]);
    expect(prog("riscv", "fetch-add", 8)).toEqual([AMO]);
    expect(prog("riscv", "test-clear-bit")).toEqual([AMO]);
    expect(prog("riscv", "cmpxchg", 2)).toEqual([LX, ALU, CHK, ALU, ALU, SX, RETRY]);
    expect(prog("riscv", "xchg", 2)).toEqual([LX, ALU, ALU, SX, RETRY]);
    expect(prog("riscv", "fetch-add", 1)).toEqual([LX, ALU, ALU, ALU, ALU, SX, RETRY]);
    expect(prog("riscv", "fetch-or", 2)).toEqual([AMO]);
    expect(prog("riscv", "cas-inc", 2)).toEqual([LD, LX, ALU, CHK, ALU, ALU, SX, RETRY, NEXT]);
    expect(prog("x86", "cas-inc", 2)).toEqual([LD, AMO, NEXT]);
    expect(prog("riscv", "store", 2)).toEqual([ST]);
    expect(prog("riscv", "load", 1)).toEqual([LD]);
  });

  it("computes every operation on every size and position like a plain model (property)", () => {
    const sizes: OperandSize[] = [1, 2, 4, 8];
    const ops: EngineOp[] = [...RMW_OPS, "cas-inc", "load", "store"];
    fc.assert(
      fc.property(
        fc.constantFrom(...ISAS), fc.constantFrom(...ops), fc.constantFrom(...sizes), fc.nat(15),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(),
        (isa, op, size0, pos, a0, b0, init, matching) => {
          const bit = op === "test-set-bit" || op === "test-clear-bit";
          const size = bit ? 4 : size0;
          const off = 16 + (pos & ~(size - 1) & 15);
          const r = rig(kind, { seed: 3 });
          r.machine.writeMfn(r.mfn, 16, init);
          const old = le(init, off - 16, size);
          const a = bit ? a0 % 32n : op === "cmpxchg" && matching ? old : a0;
          r.engine.setAgent(0, { isa, op, size, mfn: r.mfn, off, a, b: b0 });
          expect(r.engine.run(100)).toEqual({ status: "done", steps: r.engine.agent(0).steps, starved: -1 });
          const want = model(op, size, old, a, b0);
          const after = r.machine.readMfn(r.mfn, 16, 16);
          expect(r.engine.agent(0).result).toBe(want.result);
          expect(le(after, off - 16, size)).toBe(want.next ?? old);
          // Bytes outside the operand never change (the masked RISC-V paths included).
          for (let k = 0; k < 16; k++) if (k < off - 16 || k >= off - 16 + size) expect(after[k]).toBe(init[k]);
          const masked = isa === "riscv" && size < 4 && op !== "load" && op !== "store";
          expect(r.count(L.CNT_ATOMIC_SUBWORD)).toBe(masked ? 1 : 0);
          expect(r.count(L.CNT_ATOMIC_OPS)).toBe(op === "load" || op === "store" ? 0 : 1);
        },
      ),
      { seed: 0x5eed, numRuns: kind === "ts" ? 300 : 150 },
    );
  });

  describe("exclusive monitors", () => {
    it("Arm v8.0: a foreign store to the granule clears the monitor, STXR fails, the retry succeeds", () => {
      const r = rig(kind, { seed: 1, policy: "script" });
      r.engine.setAgent(0, { isa: "arm-llsc", op: "cmpxchg", mfn: r.mfn, off: 0, a: 0, b: 5 });
      r.engine.setAgent(1, { isa: "arm-llsc", op: "store", mfn: r.mfn, off: 4, a: 9, domid: D1 });
      // ldxr | str (guest, other word, same granule) | cmp b.ne stxr(fails) cbnz | ldxr cmp b.ne stxr cbnz
      r.engine.setScript([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      expect(r.engine.run(100)).toEqual({ status: "done", steps: 11, starved: -1 });
      expect(r.engine.agent(0)).toMatchObject({ done: true, result: 0n, llsc: 2, scFails: 1, cleared: 1, steps: 10, monitor: false });
      expect([r.u32(0), r.u32(4)]).toEqual([5, 9]);
      expect(r.counts()).toEqual(counts({ ops: 1, llsc: 2, scFails: 1, clears: 1, xenSteps: 10 }));
    });

    it("RISC-V: the same with LR/SC", () => {
      const r = rig(kind, { seed: 1, policy: "script" });
      r.engine.setAgent(0, { isa: "riscv", op: "cmpxchg", mfn: r.mfn, off: 0, a: 0, b: 5 });
      r.engine.setAgent(1, { isa: "riscv", op: "store", mfn: r.mfn, off: 60, a: 9, domid: D1 });
      r.engine.setScript([0, 1, 0, 0, 0, 0, 0, 0, 0]); // lr | sw | bne sc(fails) bnez | lr bne sc bnez
      expect(r.engine.run(100)).toEqual({ status: "done", steps: 9, starved: -1 });
      expect(r.engine.agent(0)).toMatchObject({ llsc: 2, scFails: 1, cleared: 1, steps: 8 });
      expect(r.counts()).toEqual(counts({ ops: 1, llsc: 2, scFails: 1, clears: 1, xenSteps: 8 }));
    });

    it.each([[8, 0], [16, 1], [4096, 1]])("the granule decides: with %i-byte granules a store 8 bytes away clears %i monitors", (granule, clears) => {
      const r = rig(kind, { seed: 1, policy: "script", granule });
      r.engine.setAgent(0, { isa: "arm-llsc", op: "fetch-add", mfn: r.mfn, off: 0, a: 1 });
      r.engine.setAgent(1, { isa: "arm-llsc", op: "store", mfn: r.mfn, off: 8, a: 9, domid: D1 });
      r.engine.setScript([0, 1]);
      expect(r.engine.run(100).status).toBe("done");
      expect(r.engine.agent(0)).toMatchObject({ llsc: 1 + clears, scFails: clears, cleared: clears });
      expect(r.u32(0)).toBe(1);
    });

    it("a store to another frame, a plain load and another agent's load-exclusive clear nothing", () => {
      const r = rig(kind, { seed: 1, policy: "script" });
      r.engine.setAgent(0, { isa: "arm-llsc", op: "fetch-add", mfn: r.mfn, off: 0, a: 1 });
      r.engine.setAgent(1, { isa: "arm-llsc", op: "store", mfn: r.mfn2, off: 0, a: 9, domid: D1 });
      r.engine.setAgent(2, { isa: "arm-llsc", op: "load", mfn: r.mfn, off: 0, domid: D1 });
      r.engine.setAgent(3, { isa: "arm-llsc", op: "fetch-or", mfn: r.mfn, off: 4, a: 2, domid: D1 });
      // 0:ldxr 1:str(other frame) 2:ldr 3:ldxr 0:add 0:stxr(ok, clears 3) 0:cbnz 3:orr 3:stxr(fails) 3:cbnz ...
      r.engine.setScript([0, 1, 2, 3, 0, 0, 0, 3, 3, 3]);
      expect(r.engine.run(100).status).toBe("done");
      expect(r.engine.agent(0)).toMatchObject({ llsc: 1, scFails: 0, cleared: 0 });
      expect(r.engine.agent(3)).toMatchObject({ llsc: 2, scFails: 1, cleared: 1 });
      expect([r.u32(0), r.u32(4), r.u32(0, r.mfn2)]).toEqual([1, 2, 9]);
      expect(r.count(L.CNT_ATOMIC_MONITOR_CLEARS)).toBe(1);
    });

    it("CLREX (an exception on the agent's CPU) drops the monitor between LDXR and STXR", () => {
      const r = rig(kind, { seed: 1 });
      r.engine.setAgent(0, { isa: "arm-llsc", op: "xchg", mfn: r.mfn, off: 0, a: 7 });
      expect(r.engine.run(1)).toEqual({ status: "budget", steps: 1, starved: -1 });
      expect(r.engine.agent(0).monitor).toBe(true);
      r.engine.clrex(0);
      expect(r.engine.agent(0).monitor).toBe(false);
      expect(r.engine.run(100)).toEqual({ status: "done", steps: 5, starved: -1 });
      expect(r.engine.agent(0)).toMatchObject({ llsc: 2, scFails: 1, cleared: 0 });
      expect(r.u32(0)).toBe(7);
    });

    it("spurious store-exclusive failures are off by default, seeded when on, and always retried", () => {
      const quiet = rig(kind, { seed: 9 });
      quiet.engine.setAgent(0, { isa: "arm-llsc", op: "fetch-add", mfn: quiet.mfn, off: 0, a: 3, repeat: 200 });
      expect(quiet.engine.run(10_000).status).toBe("done");
      expect(quiet.engine.agent(0)).toMatchObject({ llsc: 200, scFails: 0, spurious: 0 });

      const noisy = rig(kind, { seed: 9, spurious: 0.5 });
      noisy.engine.setAgent(0, { isa: "arm-llsc", op: "fetch-add", mfn: noisy.mfn, off: 0, a: 3, repeat: 200 });
      noisy.engine.setAgent(1, { isa: "riscv", op: "cmpxchg", size: 8, mfn: noisy.mfn, off: 8, a: 0, b: 1, domid: D1 });
      expect(noisy.engine.run(10_000).status).toBe("done");
      const a = noisy.engine.agent(0);
      expect(a.spurious).toBeGreaterThan(100);
      expect(a.scFails).toBe(a.spurious);
      expect(a.llsc).toBe(200 + a.scFails);
      expect(noisy.u32(0)).toBe(600);
      expect(noisy.u32(8)).toBe(1);
    });

    it("spurious failures can time out a guest-safe helper with no attacker: it pauses and still completes", () => {
      const r = rig(kind, { seed: 4, spurious: 0.9, safeMax: 2 });
      r.engine.setAgent(0, { isa: "arm-llsc", op: "test-set-bit", mfn: r.mfn, off: 0, a: 3, guestSafe: true, sharer: D1, repeat: 20 });
      r.engine.setAgent(1, { isa: "arm-llsc", op: "load", mfn: r.mfn, off: 0, domid: D1, repeat: "forever" });
      expect(r.engine.run(100_000).status).toBe("done");
      const a = r.engine.agent(0);
      expect(a.pauses).toBeGreaterThan(0);
      expect(r.count(L.CNT_ATOMIC_PAUSES)).toBe(a.pauses);
      expect(r.engine.agent(1).paused).toBe(false);
      expect(r.u32(0)).toBe(8);
    });
  });

  describe("RISC-V sub-word emulation", () => {
    it("a 16-bit cmpxchg works on the containing word with shift (a&2)*8 and mask 0xFFFF<<shift", () => {
      const r = rig(kind, { seed: 1 });
      r.setU32(4, 0xbbbbaaaa);
      r.engine.setAgent(0, { isa: "riscv", op: "cmpxchg", size: 2, mfn: r.mfn, off: 6, a: 0xbbbb, b: 0x1234 });
      r.engine.run(100);
      expect(r.engine.agent(0).result).toBe(0xbbbbn);
      expect(r.u32(4)).toBe(0x1234aaaa);
      r.engine.setAgent(0, { isa: "riscv", op: "cmpxchg", size: 2, mfn: r.mfn, off: 4, a: 0xbbbb, b: 0x5678 });
      r.engine.run(100);
      expect(r.engine.agent(0).result).toBe(0xaaaan); // mismatch: nothing stored
      expect(r.u32(4)).toBe(0x1234aaaa);
      r.engine.setAgent(0, { isa: "riscv", op: "cmpxchg", size: 1, mfn: r.mfn, off: 5, a: 0xaa, b: 0x01 });
      r.engine.run(100);
      expect(r.u32(4)).toBe(0x123401aa);
      expect(r.count(L.CNT_ATOMIC_SUBWORD)).toBe(3);
      expect(r.count(L.CNT_ATOMIC_LLSC_ATTEMPTS)).toBe(3);
    });

    it("the neighbouring halfword shares the reservation: a store to it makes the 16-bit SC fail", () => {
      const r = rig(kind, { seed: 1, policy: "script" });
      r.engine.setAgent(0, { isa: "riscv", op: "cmpxchg", size: 2, mfn: r.mfn, off: 0, a: 0, b: 0x11 });
      r.engine.setAgent(1, { isa: "riscv", op: "store", size: 2, mfn: r.mfn, off: 2, a: 0x22, domid: D1 });
      r.engine.setScript([0, 0, 1]); // lr.w, and | sh to the other half | ...
      expect(r.engine.run(100).status).toBe("done");
      expect(r.engine.agent(0)).toMatchObject({ llsc: 2, scFails: 1, cleared: 1, steps: 14 });
      expect(r.u32(0)).toBe(0x00220011);
    });

    it("keeps the neighbour intact while other agents update or overwrite it concurrently (property)", () => {
      fc.assert(
        fc.property(
          fc.nat(0xffffffff), fc.constantFrom("lockstep", "random" as const), fc.integer({ min: 1, max: 12 }),
          fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.nat(0xffff), fc.nat(0xffff),
          fc.nat(0xffff), fc.nat(0xffff), fc.boolean(), fc.boolean(),
          (seed, policy, k1, k2, k3, d1, d2, v, flip, lowFirst, viaStore) => {
            const r = rig(kind, { seed, policy, spurious: 0.1 });
            r.setU32(0, 0x80017ffe);
            const lo = lowFirst ? 0 : 2;
            const hi = 2 - lo;
            // Agent 0: masked 16-bit CAS loop on one half; agent 1: masked 16-bit fetch-add on the
            // other, or (viaStore) plain 16-bit stores to it; agent 2: 32-bit AMOADD of 0 on the word.
            r.engine.setAgent(0, { isa: "riscv", op: "cas-inc", size: 2, mfn: r.mfn, off: lo, a: d1, repeat: k1 });
            if (viaStore) {
              if (k3 > 0) r.engine.setAgent(1, { isa: "riscv", op: "store", size: 2, mfn: r.mfn, off: hi, a: v, b: flip, domid: D1, repeat: k3 });
            } else {
              r.engine.setAgent(1, { isa: "riscv", op: "fetch-add", size: 2, mfn: r.mfn, off: hi, a: d2, domid: D1, repeat: k2 });
            }
            r.engine.setAgent(2, { isa: "riscv", op: "fetch-add", size: 4, mfn: r.mfn, off: 0, a: 0, domid: 2, repeat: k2 });
            const res = r.engine.run(1_000_000);
            expect(res.status).toBe("done");
            const init = (o: number): number => (o === 0 ? 0x7ffe : 0x8001);
            expect(r.u16(lo)).toBe((init(lo) + k1 * d1) & 0xffff);
            const hiWant = viaStore ? (k3 === 0 ? init(hi) : k3 % 2 === 1 ? v : v ^ flip) : (init(hi) + k2 * d2) & 0xffff;
            expect(r.u16(hi)).toBe(hiWant);
          },
        ),
        { seed: 0xa70c, numRuns: kind === "ts" ? 120 : 200 },
      );
    });
  });

  describe("Arm LSE", () => {
    it("every operation is one indivisible step: no lost update, no retry, whatever the interleaving", () => {
      for (const seed of [1, 2, 3]) {
        const r = rig(kind, { seed, policy: "random" });
        r.engine.setAgent(0, { isa: "arm-lse", op: "fetch-add", mfn: r.mfn, off: 0, a: 1, repeat: 300 });
        r.engine.setAgent(1, { isa: "arm-lse", op: "fetch-add", mfn: r.mfn, off: 0, a: 1000, domid: D1, repeat: 300 });
        r.engine.setAgent(2, { isa: "arm-lse", op: "cas-inc", size: 2, mfn: r.mfn, off: 4, a: 1, domid: 2, repeat: 300 });
        r.engine.setAgent(3, { isa: "arm-lse", op: "store", size: 2, mfn: r.mfn, off: 6, a: 0xffff, domid: D1, repeat: "forever" });
        expect(r.engine.run(1_000_000).status).toBe("done");
        expect(r.u32(0)).toBe(300 * 1001);
        expect(r.u16(4)).toBe(300);
        for (const i of [0, 1]) expect(r.engine.agent(i)).toMatchObject({ steps: 300, llsc: 0, scFails: 0 });
        expect(r.engine.agent(2).steps).toBe(300 * 3); // ldrh, casalh, compare: never a second CAS
        expect(r.count(L.CNT_ATOMIC_LSE_OPS)).toBe(900);
        expect(r.count(L.CNT_ATOMIC_LLSC_ATTEMPTS)).toBe(0);
      }
    });

    it("the same contention costs Arm v8.0 retries (and still loses no update)", () => {
      const r = rig(kind, { seed: 1, policy: "random" });
      r.engine.setAgent(0, { isa: "arm-llsc", op: "fetch-add", mfn: r.mfn, off: 0, a: 1, repeat: 300 });
      r.engine.setAgent(1, { isa: "arm-llsc", op: "fetch-add", mfn: r.mfn, off: 0, a: 1000, domid: D1, repeat: 300 });
      expect(r.engine.run(1_000_000).status).toBe("done");
      expect(r.u32(0)).toBe(300 * 1001);
      const fails = r.engine.agent(0).scFails + r.engine.agent(1).scFails;
      expect(fails).toBeGreaterThan(0);
      expect(r.count(L.CNT_ATOMIC_LLSC_ATTEMPTS)).toBe(600 + fails);
    });
  });

  describe("determinism", () => {
    const race = (seed: number, policy: "lockstep" | "random") => {
      const r = rig(kind, { seed, policy, spurious: 0.05 });
      for (let i = 0; i < 4; i++) {
        r.engine.setAgent(i, { isa: i % 2 ? "riscv" : "arm-llsc", op: "cmpxchg", mfn: r.mfn, off: 0, a: 0, b: i + 1, domid: i });
      }
      r.engine.setAgent(4, { isa: "riscv", op: "cas-inc", size: 2, mfn: r.mfn, off: 6, a: 1, domid: 1, repeat: 20 });
      r.engine.setAgent(5, { isa: "arm-llsc", op: "store", size: 2, mfn: r.mfn, off: 4, a: 1, b: 3, domid: 2, repeat: 25 });
      const res = r.engine.run(100_000);
      return {
        res, word: r.u32(0), word4: r.u32(4), counts: r.counts(),
        agents: Array.from({ length: 6 }, (_, i) => r.engine.agent(i)),
      };
    };

    it("the same seed gives the same interleaving, counters and memory", () => {
      for (const policy of ["lockstep", "random"] as const) {
        expect(race(77, policy)).toEqual(race(77, policy));
      }
    });

    it("different seeds can pick different winners", () => {
      const winners = new Set(Array.from({ length: 16 }, (_, s) => race(s, "lockstep").word));
      expect(winners.size).toBeGreaterThan(1);
      const random = new Set(Array.from({ length: 16 }, (_, s) => JSON.stringify(race(s, "random").counts)));
      expect(random.size).toBeGreaterThan(1);
    });

    it("running in slices is the same as running at once", () => {
      const once = rig(kind, { seed: 5, policy: "random" });
      const sliced = rig(kind, { seed: 5, policy: "random" });
      for (const r of [once, sliced]) {
        r.engine.setAgent(0, { isa: "arm-llsc", op: "cas-inc", mfn: r.mfn, off: 0, a: 1, repeat: 50 });
        r.engine.setAgent(1, { isa: "riscv", op: "cas-inc", mfn: r.mfn, off: 0, a: 2, domid: D1, repeat: 50 });
        r.engine.setAgent(2, { isa: "arm-llsc", op: "store", mfn: r.mfn, off: 8, a: 1, domid: 2, repeat: "forever" });
      }
      const a = once.engine.run(1_000_000);
      let steps = 0;
      let last;
      do {
        last = sliced.engine.run(7);
        steps += last.steps;
      } while (last.status === "budget");
      expect(last.status).toBe(a.status);
      expect(steps).toBe(a.steps);
      expect(sliced.engine.totalSteps).toBe(once.engine.totalSteps);
      expect(sliced.u32(0)).toBe(150);
      expect(once.u32(0)).toBe(150);
      expect(sliced.counts()).toEqual(once.counts());
      for (let i = 0; i < 3; i++) expect(sliced.engine.agent(i)).toEqual(once.engine.agent(i));
    });
  });

  describe("errors", () => {
    const code = (f: () => unknown): number => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(AtomicsError);
        return (e as AtomicsError).status;
      }
      throw new Error("no error");
    };

    it("refuses bad configurations, naming the field", () => {
      const r = rig(kind, { seed: 1 });
      const again = (cfg: object) => code(() => rig(kind, { seed: 1, ...cfg }));
      for (const granule of [4, 12, 8192]) expect(again({ granule })).toBe(L.ATS_BAD_CONFIG);
      expect(again({ spurious: 1.5 })).toBe(L.ATS_BAD_CONFIG);
      expect(again({ safeMax: 0 })).toBe(L.ATS_BAD_CONFIG);
      expect(again({ window: 0 })).toBe(L.ATS_BAD_CONFIG);
      expect(again({ seed: -1 })).toBe(L.ATS_BAD_CONFIG);
      expect(again({ policy: "fair" })).toBe(L.ATS_BAD_CONFIG);
      expect(() => rig(kind, { seed: 1, granule: 12 })).toThrow(/granule must be a power of two/);
      expect(code(() => r.engine.run(-1))).toBe(L.ATS_BAD_CONFIG);
      expect(code(() => r.engine.setScript(new Array(L.AT_SCRIPT_MAX + 1).fill(0)))).toBe(L.ATS_BAD_CONFIG);
      expect(code(() => r.engine.setScript([0, 16]))).toBe(L.ATS_BAD_AGENT);
    });

    it("refuses bad agents with exact statuses and leaves the slot as it was", () => {
      const r = rig(kind, { seed: 1 });
      const base = { isa: "arm-llsc" as Isa, op: "cmpxchg" as EngineOp, mfn: r.mfn, off: 0 };
      const set = (over: object, i = 0) => code(() => r.engine.setAgent(i, { ...base, ...over }));
      expect(set({}, 16)).toBe(L.ATS_BAD_AGENT);
      expect(set({}, -1)).toBe(L.ATS_BAD_AGENT);
      expect(set({ isa: "mips" })).toBe(L.ATS_BAD_ISA);
      expect(set({ op: "nand" })).toBe(L.ATS_BAD_OP);
      expect(set({ size: 3 })).toBe(L.ATS_BAD_SIZE);
      expect(set({ size: 16 })).toBe(L.ATS_BAD_SIZE);
      expect(set({ op: "test-set-bit", size: 2 })).toBe(L.ATS_BAD_SIZE);
      expect(set({ op: "test-clear-bit", a: 32 })).toBe(L.ATS_BAD_OPERAND);
      expect(set({ repeat: 0 })).toBe(L.ATS_BAD_OPERAND);
      expect(set({ domid: 0x10000 })).toBe(L.ATS_BAD_OPERAND);
      expect(set({ sharer: 0x10000 })).toBe(L.ATS_BAD_OPERAND);
      expect(set({ a: -1 })).toBe(L.ATS_BAD_OPERAND);
      expect(set({ b: 1n << 64n })).toBe(L.ATS_BAD_OPERAND);
      expect(set({ a: 0.5 })).toBe(L.ATS_BAD_OPERAND);
      expect(set({ mfn: 0 })).toBe(L.MST_BAD_MFN);
      expect(set({ mfn: 99999 })).toBe(L.MST_BAD_MFN);
      expect(set({ off: 4096 })).toBe(L.MST_RANGE);
      expect(set({ off: 2 })).toBe(L.ATS_MISALIGNED);
      expect(set({ size: 8, off: 4 })).toBe(L.ATS_MISALIGNED);
      expect(r.engine.agent(0).active).toBe(false);
      expect(code(() => r.engine.clearAgent(16))).toBe(L.ATS_BAD_AGENT);
      expect(code(() => r.engine.clrex(16))).toBe(L.ATS_BAD_AGENT);
      expect(code(() => r.engine.agent(16))).toBe(L.ATS_BAD_AGENT);
      expect(r.engine.run(10)).toEqual({ status: "done", steps: 0, starved: -1 });
    });

    it("refuses to run on a frame freed since setup", () => {
      const r = rig(kind, { seed: 1 });
      r.engine.setAgent(0, { isa: "riscv", op: "fetch-add", mfn: r.mfn, off: 0, a: 1 });
      r.machine.destroyDomain(1);
      expect(code(() => r.engine.run(10))).toBe(L.MST_BAD_MFN);
      r.engine.clearAgent(0);
      expect(r.engine.run(10).status).toBe("done");
    });
  });
});
