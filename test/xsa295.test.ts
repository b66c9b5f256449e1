// XSA-295: a guest storing to the reservation granule of a word Xen updates with LL/SC can
// keep Xen's store-exclusive failing forever; Xen's guest-safe helpers bound the loop, pause
// the sharing domain and redo. Shown per architecture, at engine level and through GuestAtomics.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { Machine } from "../src/wasm/machine.ts";
import type { Isa } from "../src/wasm/arch-atomics.ts";
import {
  ArmLseGuestAtomics, ArmV80GuestAtomics, AtomicStarvationError, EmulatedGuestAtomics, RiscvGuestAtomics,
  X86EmulatedGuestAtomics, X86GuestAtomics, guestAtomicsFor, type ArchName, type GuestAtomics,
} from "../src/xen/atomics.ts";
import { Hypervisor } from "../src/xen/hypervisor.ts";
import { ENGINE_KINDS, counts, rig } from "./arch-atomics-fixture.ts";

const D1 = 1;
const D2 = 2;

describe.each(ENGINE_KINDS)("XSA-295 in the engine (%s)", (kind) => {
  /** Xen (agent 0) does one cmpxchg on the word at 8 of a page shared with d1, whose vCPU
   *  (agent 1) stores to the next word, same granule, in a loop. Seed 7, lockstep. */
  const attack = (isa: Isa, guestSafe: boolean, size: 2 | 4 = 4) => {
    const r = rig(kind, { seed: 7 });
    r.engine.setAgent(0, { isa, op: "cmpxchg", size, mfn: r.mfn, off: 8, a: 0, b: 5, guestSafe, sharer: D1 });
    r.engine.setAgent(1, { isa, op: "store", mfn: r.mfn, off: 12, a: 0x77, domid: D1, repeat: "forever" });
    return r;
  };

  it("Arm v8.0 without the mitigation: Xen's LDXR/STXR loop never completes (reported, not hung)", () => {
    const r = attack("arm-llsc", false);
    expect(r.engine.run(10_000_000)).toEqual({ status: "starved", steps: 65536, starved: 0 });
    expect(r.engine.agent(0)).toMatchObject({ starved: true, done: false, opsDone: 0, llsc: 6554, scFails: 6553, cleared: 6554 });
    expect(r.u32(8)).toBe(0);
    expect(r.counts()).toEqual(counts({ llsc: 6554, scFails: 6553, clears: 6554, xenSteps: 32768 }));
  });

  it("Arm v8.0 with the guest-safe helper: 128 bounded attempts, pause d1, one more, unpause", () => {
    const r = attack("arm-llsc", true);
    expect(r.engine.run(10_000_000)).toEqual({ status: "done", steps: 1284, starved: -1 });
    expect(r.engine.agent(0)).toMatchObject({ done: true, result: 0n, llsc: 129, scFails: 128, cleared: 128, pauses: 1, steps: 645 });
    expect(r.engine.agent(1)).toMatchObject({ paused: false, opsDone: 639 });
    expect(r.u32(8)).toBe(5);
    expect(r.counts()).toEqual(counts({ ops: 1, llsc: 129, scFails: 128, clears: 128, pauses: 1, xenSteps: 645 }));
  });

  it("RISC-V without the mitigation: LR/SC starves the same way", () => {
    const r = attack("riscv", false);
    expect(r.engine.run(10_000_000)).toEqual({ status: "starved", steps: 65536, starved: 0 });
    expect(r.engine.agent(0)).toMatchObject({ opsDone: 0, llsc: 8192, scFails: 8192 });
    expect(r.counts()).toEqual(counts({ llsc: 8192, scFails: 8192, clears: 8192, xenSteps: 32768 }));
  });

  it("RISC-V with the mitigation completes", () => {
    const r = attack("riscv", true);
    expect(r.engine.run(10_000_000)).toEqual({ status: "done", steps: 1027, starved: -1 });
    expect(r.u32(8)).toBe(5);
    expect(r.counts()).toEqual(counts({ ops: 1, llsc: 129, scFails: 128, clears: 128, pauses: 1, xenSteps: 516 }));
  });

  it("RISC-V 16-bit cmpxchg (grant flags) is masked LR.W/SC.W: starvable, and rescued", () => {
    const bare = attack("riscv", false, 2);
    expect(bare.engine.run(10_000_000).status).toBe("starved");
    const safe = attack("riscv", true, 2);
    expect(safe.engine.run(10_000_000).status).toBe("done");
    expect(safe.counts()).toEqual(counts({ ops: 1, llsc: 129, scFails: 128, clears: 128, subword: 1, pauses: 1, xenSteps: 7 * 129 }));
    expect(safe.u32(8)).toBe(5);
  });

  it.each([["x86", 0], ["arm-lse", 1]] as const)("%s is immune: one instruction, nothing to retry", (isa, lse) => {
    for (const guestSafe of [false, true]) {
      const r = attack(isa, guestSafe);
      expect(r.engine.run(10_000_000)).toEqual({ status: "done", steps: 2, starved: -1 });
      expect(r.engine.agent(0)).toMatchObject({ steps: 1, llsc: 0, scFails: 0, pauses: 0 });
      expect(r.u32(8)).toBe(5);
      expect(r.counts()).toEqual(counts({ ops: 1, lse, xenSteps: 1 }));
    }
  });

  it("bit operations: Arm v8.0 loops starve, RISC-V AMOOR.W/AMOAND.W do not", () => {
    for (const [isa, starves] of [["arm-llsc", true], ["riscv", false], ["arm-lse", false], ["x86", false]] as const) {
      const r = rig(kind, { seed: 7 });
      r.engine.setAgent(0, { isa, op: "test-set-bit", mfn: r.mfn, off: 8, a: 5, sharer: D1 });
      r.engine.setAgent(1, { isa, op: "store", mfn: r.mfn, off: 12, a: 1, domid: D1, repeat: "forever" });
      expect(r.engine.run(10_000_000).status).toBe(starves ? "starved" : "done");
      expect(r.u32(8)).toBe(starves ? 0 : 32);
    }
  });

  it("the sharer stays paused only while Xen redoes the operation", () => {
    const r = attack("arm-llsc", true);
    let seen = false;
    while (r.engine.run(1).status === "budget") {
      if (r.engine.agent(0).pauses === 1 && !r.engine.agent(0).done) {
        expect(r.engine.agent(1).paused).toBe(true);
        seen = true;
      }
    }
    expect(seen).toBe(true);
    expect(r.engine.agent(1).paused).toBe(false);
    // The hostile vCPU runs again after the unpause.
    r.engine.setAgent(2, { isa: "arm-llsc", op: "load", mfn: r.mfn, off: 0, domid: D2, repeat: 10 });
    const before = r.engine.agent(1).opsDone;
    expect(r.engine.run(1000).status).toBe("done");
    expect(r.engine.agent(1).opsDone).toBeGreaterThan(before);
  });

  it("a second hostile domain defeats the pause: the scheme needs a page shared with one domain (SILO)", () => {
    const r = attack("arm-llsc", true);
    r.engine.setAgent(2, { isa: "arm-llsc", op: "store", mfn: r.mfn, off: 0, a: 1, domid: D2, repeat: "forever" });
    expect(r.engine.run(10_000_000).status).toBe("starved");
    expect(r.engine.agent(0)).toMatchObject({ pauses: 1, starved: true, opsDone: 0 });
    expect(r.engine.agent(1).paused).toBe(true);
    expect(r.engine.agent(2).paused).toBe(false);
    expect(r.u32(8)).toBe(0);
  });

  it("a store to another granule does not interfere at all", () => {
    const r = rig(kind, { seed: 7 });
    r.engine.setAgent(0, { isa: "arm-llsc", op: "cmpxchg", mfn: r.mfn, off: 8, a: 0, b: 5, sharer: D1 });
    r.engine.setAgent(1, { isa: "arm-llsc", op: "store", mfn: r.mfn, off: 64, a: 1, domid: D1, repeat: "forever" });
    expect(r.engine.run(10_000_000).status).toBe("done");
    expect(r.engine.agent(0)).toMatchObject({ llsc: 1, scFails: 0 });
  });

  it("RISC-V: a guest's 16-bit revoke and Xen's 32-bit pin of the same grant entry exclude each other", () => {
    const outcomes = new Set<number>();
    const combo = (D2 << 16) | 1; // domid = grantee d2, flags = GTF_permit_access
    for (let seed = 0; seed < 24; seed++) {
      const r = rig(kind, { seed, policy: seed % 2 ? "random" : "lockstep" });
      r.setU32(0, combo);
      r.engine.setAgent(0, { isa: "riscv", op: "cmpxchg", mfn: r.mfn, off: 0, a: combo, b: combo | 0x18, guestSafe: true, sharer: D1 });
      r.engine.setAgent(1, { isa: "riscv", op: "cmpxchg", size: 2, mfn: r.mfn, off: 0, a: 1, b: 0, domid: D1 });
      expect(r.engine.run(100_000).status).toBe("done");
      const word = r.u32(0);
      const xenWon = r.engine.agent(0).result === BigInt(combo);
      const guestWon = r.engine.agent(1).result === 1n;
      expect(xenWon !== guestWon).toBe(true);
      expect(word).toBe(xenWon ? (combo | 0x18) >>> 0 : D2 << 16);
      outcomes.add(word);
    }
    expect(outcomes.size).toBe(2);
  });
});

// ---- through the GuestAtomics interface the Xen model uses ----------------------------------

const ARCHES: ArchName[] = ["x86-64", "arm64-v8.0", "arm64-v8.1-lse", "riscv64"];
const GTF_permit_access = 1;
const GTF_readonly = 0x4;
const GTF_reading = 0x8;
const GTF_writing = 0x10;
const GNTST_okay = 0;
const GNTST_general_error = -1;

/** Xen's _set_status_v1 (reference 1.7): up to 5 guest-safe cmpxchg attempts on {flags, domid}. */
function setStatusV1(at: GuestAtomics, granter: number, mfn: number, off: number, grantee: number, readonly: boolean): number {
  const dv = (m: Machine) => new DataView(m.readMfn(mfn, off, 4).buffer);
  let combo = dv(machineOf.get(at)!).getUint32(0, true);
  for (let attempt = 1; ; attempt++) {
    const flags = combo & 0xffff;
    if ((flags & 3) !== GTF_permit_access || combo >>> 16 !== grantee) return GNTST_general_error;
    if (!readonly && (flags & GTF_readonly) !== 0) return GNTST_general_error;
    const next = (combo | GTF_reading | (readonly ? 0 : GTF_writing)) >>> 0;
    const prev = at.cmpxchg(granter, mfn, off, 4, combo, next);
    if (prev === combo) return GNTST_okay;
    if (attempt === 5) return GNTST_general_error;
    combo = prev;
  }
}
const machineOf = new Map<GuestAtomics, Machine>();

function setup(arch: ArchName | "x86-plain", opts: { guestSafe?: boolean } = {}) {
  const m = new Machine();
  m.createDomain(D1, 16);
  const mfn = m.populate(D1, 0);
  const at: GuestAtomics = arch === "x86-plain" ? new X86GuestAtomics(m) : guestAtomicsFor(arch, m, { seed: 7, ...opts });
  machineOf.set(at, m);
  const u32 = (off: number) => new DataView(m.readMfn(mfn, off, 4).buffer).getUint32(0, true);
  const set32 = (off: number, v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    m.writeMfn(mfn, off, b);
  };
  return { m, mfn, at, u32, set32 };
}

describe("per-architecture GuestAtomics", () => {
  it("the factory and the classes give each architecture its instruction set", () => {
    const m = new Machine();
    const classes = [X86EmulatedGuestAtomics, ArmV80GuestAtomics, ArmLseGuestAtomics, RiscvGuestAtomics];
    ARCHES.forEach((arch, k) => {
      const at = guestAtomicsFor(arch, m);
      expect(at).toBeInstanceOf(classes[k]);
      expect(at.arch).toBe(arch);
      expect(new classes[k]!(m).isa).toBe(at.isa);
    });
    expect(guestAtomicsFor("riscv64", m).isa).toBe("riscv");
    expect(() => guestAtomicsFor("mips" as ArchName, m)).toThrow(/unknown architecture mips/);
    expect(() => new EmulatedGuestAtomics(m, "sparc" as ArchName)).toThrow(/unknown architecture sparc/);
  });

  it.each(ARCHES)("%s returns what X86GuestAtomics returns for the operations Xen does", (arch) => {
    const ref = setup("x86-plain");
    const emu = setup(arch);
    const script = (s: typeof ref) => {
      const out: unknown[] = [];
      s.set32(0, (D1 << 16) | GTF_permit_access);
      out.push(s.at.cmpxchg(D1, s.mfn, 0, 4, (D1 << 16) | 1, (D1 << 16) | 0x19));
      out.push(s.at.cmpxchg(D1, s.mfn, 0, 4, 0, 7)); // stale expected: no store
      out.push(s.at.cmpxchg(D1, s.mfn, 0, 2, 0x19, 0x1)); // 16-bit flags clear (masked on RISC-V)
      out.push(s.at.cmpxchg(D1, s.mfn, 8, 8, 0, 2 ** 40 + 3));
      for (const op of ["or", "and", "xor", "add", "xchg"] as const) out.push(s.at.fetchOp(D1, s.mfn, 16, 4, op, 0x0f0f));
      out.push(s.at.fetchOp(D1, s.mfn, 20, 2, "add", 0xffff), s.at.fetchOp(D1, s.mfn, 22, 2, "or", 0x8000));
      for (const bit of [0, 5, 31, 5]) out.push(s.at.testAndSet(D1, s.mfn, 24, bit));
      for (const bit of [5, 5, 0]) out.push(s.at.testAndClear(D1, s.mfn, 24, bit));
      out.push([0, 4, 8, 12, 16, 20, 24].map(s.u32));
      return out;
    };
    expect(script(emu)).toEqual(script(ref));
    expect(emu.m.counter(L.CNT_ATOMIC_OPS)).toBe(ref.m.counter(L.CNT_ATOMIC_OPS));
  });

  it("counts per architecture what the same operations cost", () => {
    const cost = (arch: ArchName) => {
      const s = setup(arch);
      s.at.cmpxchg(D1, s.mfn, 0, 2, 0, 1);
      s.at.testAndSet(D1, s.mfn, 4, 3);
      s.at.fetchOp(D1, s.mfn, 8, 4, "add", 1);
      return [L.CNT_ATOMIC_OPS, L.CNT_ATOMIC_LLSC_ATTEMPTS, L.CNT_ATOMIC_SUBWORD, L.CNT_ATOMIC_LSE_OPS, L.CNT_ATOMIC_XEN_STEPS].map((c) => s.m.counter(c));
    };
    expect(cost("x86-64")).toEqual([3, 0, 0, 0, 3]);
    expect(cost("arm64-v8.0")).toEqual([3, 3, 0, 0, 5 + 4 + 4]);
    expect(cost("arm64-v8.1-lse")).toEqual([3, 0, 0, 3, 3]);
    expect(cost("riscv64")).toEqual([3, 1, 1, 0, 7 + 1 + 1]);
  });

  it.each(["arm64-v8.0", "riscv64"] as const)("%s: a granter rewriting its entry starves the pin without the helpers", (arch) => {
    const s = setup(arch, { guestSafe: false });
    s.set32(0, (7 << 16) | GTF_permit_access);
    (s.at as EmulatedGuestAtomics).hostile(D1, s.mfn, 4, { value: 0x1234 }); // rewrites `frame`, same granule
    expect(() => setStatusV1(s.at, D1, s.mfn, 0, 7, false)).toThrow(AtomicStarvationError);
    const err = (() => {
      try {
        s.at.cmpxchg(D1, s.mfn, 0, 4, (7 << 16) | 1, (7 << 16) | 0x19);
      } catch (e) {
        return e as AtomicStarvationError;
      }
      throw new Error("the operation completed");
    })();
    expect(err).toBeInstanceOf(AtomicStarvationError);
    expect([err.arch, err.sharer, err.mfn, err.off]).toEqual([arch, D1, s.mfn, 0]);
    expect(err.stats.scFails).toBeGreaterThan(1000);
    expect(err.stats.paused).toBe(false);
    expect(err.message).toMatch(/made no progress \(starved after 6553\d steps/);
    expect(s.u32(0)).toBe((7 << 16) | GTF_permit_access);
    expect(s.m.counter(L.CNT_ATOMIC_PAUSES)).toBe(0);
  });

  it.each(["arm64-v8.0", "riscv64"] as const)("%s: with them the pin succeeds, pausing the granter once per operation", (arch) => {
    const s = setup(arch);
    const at = s.at as EmulatedGuestAtomics;
    const paused: number[] = [];
    at.onPause = (d) => paused.push(d);
    s.set32(0, (7 << 16) | GTF_permit_access);
    at.hostile(D1, s.mfn, 4, { value: 0x1234, flip: 1 });
    expect(setStatusV1(at, D1, s.mfn, 0, 7, false)).toBe(GNTST_okay);
    expect(s.u32(0)).toBe((7 << 16) | GTF_permit_access | GTF_reading | GTF_writing);
    expect(at.lastOp).toMatchObject({ llsc: 129, scFails: 128, paused: true });
    // Release (gnttab_clear_flags: a guest-safe clear of the 16-bit flags) pays the same again.
    expect(at.fetchOp(D1, s.mfn, 0, 2, "and", 0xffff & ~(GTF_reading | GTF_writing))).toBe(0x19);
    expect(s.u32(0)).toBe((7 << 16) | GTF_permit_access);
    expect(paused).toEqual(arch === "riscv64" ? [D1] : [D1, D1]); // RISC-V clears the mask with one AMOAND.W
    expect(s.m.counter(L.CNT_ATOMIC_PAUSES)).toBe(paused.length);
    at.calm();
    expect(at.cmpxchg(D1, s.mfn, 0, 4, (7 << 16) | 1, 0)).toBe((7 << 16) | 1);
    expect(at.lastOp).toMatchObject({ llsc: 1, scFails: 0, paused: false });
    expect(() => at.calm(1)).toThrow(/no hostile agent in slot 1/);
  });

  it.each(["x86-64", "arm64-v8.1-lse"] as const)("%s: immune, with or without the helpers", (arch) => {
    for (const guestSafe of [false, true]) {
      const s = setup(arch, { guestSafe });
      const at = s.at as EmulatedGuestAtomics;
      s.set32(0, (7 << 16) | GTF_permit_access);
      at.hostile(D1, s.mfn, 4);
      at.hostile(D1, s.mfn, 0, { size: 2, value: GTF_permit_access });
      expect(setStatusV1(at, D1, s.mfn, 0, 7, true)).toBe(GNTST_okay);
      expect(at.lastOp).toMatchObject({ xenSteps: 1, llsc: 0, paused: false });
      expect(s.m.counter(L.CNT_ATOMIC_PAUSES)).toBe(0);
    }
  });

  it.each(ARCHES)("%s: a granter that keeps changing the value makes the pin give up after 5 attempts", (arch) => {
    const s = setup(arch);
    let calls = 0;
    s.at.interferer = (mfn, off) => {
      calls++;
      s.set32(off, s.u32(off) ^ 0x20); // flips GTF_PWT before every attempt
      expect(mfn).toBe(s.mfn);
    };
    s.set32(0, (7 << 16) | GTF_permit_access);
    expect(setStatusV1(s.at, D1, s.mfn, 0, 7, false)).toBe(GNTST_general_error);
    expect(calls).toBe(5);
    expect(s.m.counter(L.CNT_ATOMIC_PAUSES)).toBe(0);
    expect(s.m.counter(L.CNT_ATOMIC_SC_FAILS)).toBe(0); // the compare fails: no store-exclusive at all
  });

  it("plugs into the hypervisor model", () => {
    const machine = new Machine();
    const hv = new Hypervisor({ machine, atomics: guestAtomicsFor("arm64-v8.0", machine) });
    expect(hv.atomics.arch).toBe("arm64-v8.0");
    const d = hv.createDomain({ name: "guest", ramPages: 4 });
    const mfn = machine.populate(d.domid, 0);
    expect(hv.atomics.testAndSet(d.domid, mfn, 0, 9)).toBe(false);
    expect(hv.atomics.testAndSet(d.domid, mfn, 0, 9)).toBe(true);
    expect(hv.atomics.testAndClear(d.domid, mfn, 0, 9)).toBe(true);
    expect(() => hv.atomics.testAndSet(d.domid, mfn, 0, 32)).toThrow(/bad operand/);
    expect(() => hv.atomics.cmpxchg(d.domid, mfn, 2, 4, 0, 1)).toThrow(/not naturally aligned/);
    expect(() => hv.atomics.fetchOp(d.domid, mfn, 0, 2, "and", ~0x18)).toThrow(/operand -25/);
    expect(() => hv.atomics.cmpxchg(d.domid, mfn, 0, 4, 0.5, 1)).toThrow(/a non-negative integer/);
  });
});
