// Issue #5: one XSA-295 pause is priced once. The atomics engine counts it (CNT_ATOMIC_PAUSES,
// priced pause + unpause); through the Hypervisor it is also a domain_pause (CNT_DOMAIN_PAUSES,
// priced the same), and CNT_DOMAIN_PAUSES_XSA295 takes that second charge back. A toolstack
// pause is priced once on CNT_DOMAIN_PAUSES.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { Machine } from "../src/wasm/machine.ts";
import { loadShippedProfile, primitiveCycles } from "../src/cost/profile.ts";
import { price } from "../src/cost/price.ts";
import { Hypervisor } from "../src/xen/hypervisor.ts";
import { EmulatedGuestAtomics } from "../src/xen/atomics.ts";

const profile = loadShippedProfile("arm64-v8.0");
const PAUSE = primitiveCycles(profile, "domain_pause");
const UNPAUSE = primitiveCycles(profile, "domain_unpause");
const D1 = 1;

function setup() {
  const machine = new Machine();
  const at = new EmulatedGuestAtomics(machine, "arm64-v8.0");
  const hv = new Hypervisor({ machine, atomics: at, arch: "arm64" });
  hv.createDomain({ name: "dom0", ramPages: 64, control: true });
  hv.createDomain({ name: "guest1", ramPages: 64 });
  const mfn = machine.populate(D1, 3);
  return { machine, at, hv, mfn };
}

/** Prices what `fn` counted. */
function priceOf(m: Machine, fn: () => void) {
  const before = m.counters();
  fn();
  const d = m.counters().map((v, i) => v - before[i]!);
  return { d, p: price(d, profile) };
}

describe("pause pricing (arm64-v8.0)", () => {
  it("the profile's figures are not zero (the checks below could not pass by accident)", () => {
    expect(PAUSE).toBeGreaterThan(0);
    expect(UNPAUSE).toBeGreaterThan(0);
  });

  it("an XSA-295 pause through the Hypervisor: three counters, one pause + unpause priced", () => {
    const s = setup();
    s.at.hostile(D1, s.mfn, 4, { value: 0x1234, flip: 1 }); // guest 1 stores next to the word
    const { d, p } = priceOf(s.machine, () => {
      expect(s.at.cmpxchg(D1, s.mfn, 0, 4, 0, 7)).toBe(0);
    });
    expect(s.at.lastOp.paused).toBe(true);
    expect([d[L.CNT_ATOMIC_PAUSES], d[L.CNT_DOMAIN_PAUSES], d[L.CNT_DOMAIN_PAUSES_XSA295]]).toEqual([1, 1, 1]);
    expect(s.hv.domain(D1)!.xsa295Pauses).toBe(1);
    expect(p.byPrimitive.domain_pause).toBeCloseTo(PAUSE, 9);
    expect(p.byPrimitive.domain_unpause).toBeCloseTo(UNPAUSE, 9);
    expect(p.byComponentPrimitive.hypervisor.domain_pause).toBeCloseTo(PAUSE, 9);
    // The engine's count carries it; the domain_pause charge is made and taken back.
    expect(p.byCounter.CNT_ATOMIC_PAUSES).toBeCloseTo(PAUSE + UNPAUSE, 9);
    expect(p.byCounter.CNT_DOMAIN_PAUSES! + p.byCounter.CNT_DOMAIN_PAUSES_XSA295!).toBeCloseTo(0, 9);
  });

  it("the toolstack's pause is priced once, on CNT_DOMAIN_PAUSES", () => {
    const s = setup();
    const { d, p } = priceOf(s.machine, () => {
      s.hv.pause(D1);
      s.hv.unpause(D1);
    });
    expect([d[L.CNT_ATOMIC_PAUSES], d[L.CNT_DOMAIN_PAUSES], d[L.CNT_DOMAIN_PAUSES_XSA295]]).toEqual([0, 1, 0]);
    expect(p.byPrimitive.domain_pause).toBeCloseTo(PAUSE, 9);
    expect(p.byPrimitive.domain_unpause).toBeCloseTo(UNPAUSE, 9);
  });

  it("a sharer that is not a modelled domain: the engine's count alone, priced once, nothing taken back", () => {
    const s = setup();
    s.at.hostile(77, s.mfn, 4, { value: 0x1234, flip: 1 });
    const { d, p } = priceOf(s.machine, () => {
      expect(s.at.cmpxchg(77, s.mfn, 0, 4, 0, 7)).toBe(0);
    });
    expect(s.at.lastOp.paused).toBe(true);
    expect([d[L.CNT_ATOMIC_PAUSES], d[L.CNT_DOMAIN_PAUSES], d[L.CNT_DOMAIN_PAUSES_XSA295]]).toEqual([1, 0, 0]);
    expect(p.byPrimitive.domain_pause).toBeCloseTo(PAUSE, 9);
    expect(p.byPrimitive.domain_unpause).toBeCloseTo(UNPAUSE, 9);
  });

  it("a toolstack pause held around an XSA-295 pause: two pauses, each priced once", () => {
    const s = setup();
    s.at.hostile(D1, s.mfn, 4, { value: 0x1234, flip: 1 });
    const { d, p } = priceOf(s.machine, () => {
      s.hv.pause(D1);
      expect(s.at.cmpxchg(D1, s.mfn, 0, 4, 0, 7)).toBe(0);
      s.hv.unpause(D1);
    });
    expect([d[L.CNT_ATOMIC_PAUSES], d[L.CNT_DOMAIN_PAUSES], d[L.CNT_DOMAIN_PAUSES_XSA295]]).toEqual([1, 2, 1]);
    expect(p.byPrimitive.domain_pause).toBeCloseTo(2 * PAUSE, 9);
    expect(p.byPrimitive.domain_unpause).toBeCloseTo(2 * UNPAUSE, 9);
  });
});
