// The charging rules on a scripted lane whose every step bumps known counters, so each span's
// CPU, component and length can be written down from the profile's figures.
import { describe, expect, it } from "vitest";
import * as L from "../src/wasm/layout.ts";
import { Machine } from "../src/wasm/machine.ts";
import { loadShippedProfile, primitiveCycles } from "../src/cost/profile.ts";
import type { Primitive } from "../src/cost/primitives.ts";
import { runTimed } from "../src/run/timed.ts";
import type { TimedLane } from "../src/run/timed-target.ts";
import type { Transport } from "../src/transports/types.ts";
import type { Completion, VirtioDriver } from "../src/virtio/driver.ts";
import type { GuestWorkload } from "../src/transports/harness.ts";

const profile = loadShippedProfile("arm64-v8.0");
const cyc = (...ps: Primitive[]) => ps.reduce((s, p) => s + primitiveCycles(profile, p), 0);
const ns = (c: number) => c / profile.clockGHz;

/** `n` requests, one at a time. The kick traps to a device model (an ioreq) when `ioreq`,
 *  else it is an event-channel send; the interrupt handler sends an upcall to the backend. */
function scriptedLane(m: Machine, n: number, ioreq: boolean): TimedLane<number> {
  const ring: number[] = [];
  const used: number[] = [];
  let inFlight = 0;
  let irq = false;
  let next = 0;
  const driver = {
    inFlight: () => inFlight,
    inFlightAll: () => inFlight,
    submit(_q: number, _bufs: unknown[], tag: number) {
      m.bump(L.CNT_VQ_CHAINS_ADDED);
      ring.push(tag);
      inFlight++;
      return true;
    },
    kick() {
      m.bump(L.CNT_HYPERCALLS);
      if (ioreq) m.bump(L.CNT_IOREQ_SENT);
      return true;
    },
    handleInterrupt(): Completion<number>[] | null {
      if (!irq) return null;
      irq = false;
      m.bump(L.CNT_EVTCHN_UPCALLS); // say the handler pokes the backend's domain
      const done = used.splice(0).map((tag) => ({ q: 0, tag, head: tag, written: 1, bufs: [] }));
      inFlight -= done.length;
      return done;
    },
  } as unknown as VirtioDriver<number>;
  const workload: GuestWorkload<number> = {
    submit(room) {
      let k = 0;
      for (; k < room && next < n; k++) driver.submit(0, [], next++);
      return k;
    },
    complete: () => {},
    get finished() {
      return next >= n;
    },
  };
  const transport = {
    service() {
      const k = ring.length;
      for (const t of ring.splice(0)) used.push(t);
      m.bump(L.CNT_VQ_CHAINS_POPPED, k);
      m.bump(L.CNT_TR_INTERRUPTS);
      irq = true;
      return k;
    },
  } as unknown as Transport;
  return { name: "s", driver, transport, workload, frontend: { name: "guest", domid: 1 }, backend: { name: "be", domid: 0 } };
}

describe("timed runner: charging rules", () => {
  it.each([false, true])("ioreq kick %s: each component on its CPU, synchronous only for a device-model round trip", (ioreq) => {
    const m = new Machine({ build: "release" });
    const r = runTimed({ machine: m, profile, lanes: [scriptedLane(m, 2, ioreq)] }, { trace: true });
    const spans = r.timeline!.map((s) => ({ cpu: s.cpu, c: s.component, label: s.label, dur: s.durNs }));
    const submit = { cpu: "d1v0", c: "guest", label: "submit", dur: ns(cyc("vq_chain_add")) };
    const kickHv = { cpu: "d1v0", c: "hypervisor", label: "kick", dur: ns(cyc("hypercall") + (ioreq ? cyc("sched_decision") : 0)) };
    const answer = { cpu: "d0v0", c: "backend", label: "kick", dur: ns(cyc("ioreq_wake", "cacheline_transfer")) };
    const pop = cyc("vq_chain_pop", "cacheline_transfer");
    const upcall = ns(cyc("upcall"));
    const irqHv = { cpu: "d1v0", c: "hypervisor", label: "interrupt", dur: ns(cyc("ipi")) };
    const want = [
      submit, kickHv, ...(ioreq ? [answer] : []),
      { cpu: "d0v0", c: "backend", label: "service", dur: ns(pop) },
      irqHv,
      submit, kickHv, ...(ioreq ? [answer] : []),
      // The first interrupt's upcall into the backend's domain runs when the backend next runs.
      { cpu: "d0v0", c: "guest", label: "service", dur: upcall },
      { cpu: "d0v0", c: "backend", label: "service", dur: ns(pop) },
      irqHv,
      // The last one has no later backend step: it runs at the end, not lost.
      { cpu: "d0v0", c: "guest", label: "deferred", dur: upcall },
    ];
    expect(spans.length).toBe(want.length);
    spans.forEach((s, i) => {
      expect({ ...s, dur: 0 }).toEqual({ ...want[i]!, dur: 0 });
      expect(s.dur).toBeCloseTo(want[i]!.dur, 9);
    });
    expect(r.ios).toBe(2);
    expect(r.chargedCycles).toBeCloseTo(r.price.cycles, 6);
    expect(r.elapsedNs).toBeCloseTo(r.timeline!.reduce((s, x) => s + x.durNs, 0), 6);
  });
});
