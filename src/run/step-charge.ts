// Which CPU pays for one step's priced mechanism. A step is one piece of functional code run
// by one side (the guest's submit+kick or interrupt handler, the backend's service pass); its
// counters delta is priced, and the price is split by component:
//  - the side's own component and the hypervisor work its traps and hypercalls cause run on
//    the side's vCPU (Xen and KVM run on the pCPU of the vCPU that entered them);
//  - the other side's component is the other side's work: the device model answering a
//    trapped register access, the VMM's exit handling, the guest's interrupt handler entry,
//    the guest's receive pass that argo's service() performs. It runs on the other side's
//    vCPU, and an upcall raised by a guest step is the receiving backend kernel's entry.
// When the guest's step forwarded an access to a device model (an ioreq, a KVM exit to the
// VMM) the guest vCPU is blocked until the answer: that part is synchronous. Otherwise the
// other side pays it when it next runs.
import * as L from "../wasm/layout.ts";
import type { Component } from "../cost/primitives.ts";
import type { Price } from "../cost/price.ts";

export type Side = "guest" | "backend";

export interface CpuPart {
  component: Component;
  cycles: number;
}

export interface StepCharge {
  /** Work on the acting side's vCPU, in order (own component, then the hypervisor's). */
  own: CpuPart[];
  /** Work of the other side. */
  peer: CpuPart[];
  /** The actor waits for `peer` to finish (a device-model round trip). */
  peerSync: boolean;
}

/** Rounding of opposite charges may leave a component a hair below zero; more is a bug. */
const TOLERANCE = 1e-6;

function nonNegative(c: number, what: string): number {
  if (c < -TOLERANCE) throw new Error(`step charge: ${what} is negative (${c} cycles): a pricing entry moves a charge that was never made`);
  return Math.max(c, 0);
}

/** Splits the price of one step taken by `actor`; `delta` is the step's counters delta. */
export function splitStep(p: Price, delta: ArrayLike<number>, actor: Side): StepCharge {
  const peerSide: Side = actor === "guest" ? "backend" : "guest";
  // An upcall raised by a guest step is delivered to the backend's domain.
  const upcall = actor === "guest" ? (p.byComponentPrimitive.guest.upcall ?? 0) : 0;
  const own: CpuPart[] = [];
  const peer: CpuPart[] = [];
  const add = (list: CpuPart[], component: Component, cycles: number) => {
    const c = nonNegative(cycles, `${component} of a ${actor} step`);
    if (c > 0) list.push({ component, cycles: c });
  };
  add(own, actor, p.byComponent[actor] - upcall);
  add(own, "hypervisor", p.byComponent.hypervisor);
  add(peer, peerSide, p.byComponent[peerSide]);
  if (upcall > 0) add(peer, "guest", upcall);
  const peerSync = actor === "guest" && (delta[L.CNT_IOREQ_SENT]! > 0 || delta[L.CNT_KVM_EXITS_USER]! > 0);
  return { own, peer, peerSync };
}
