// Deferred completions: an extension of the VirtioDevice contract (types.ts) for devices that
// keep a chain after handle() returns and complete it later. virtio-net needs it for its
// receive queue: the driver posts empty rx buffers long before a frame arrives for them.
//
// Rules for the transport (the only side that pushes used entries):
//  1. handle() may return `{ written: 0, deferred: true }` (see isDeferred). The chain stays
//     outstanding: no used entry yet, and the `io` given with it must stay usable until the chain
//     comes back from takeCompletions() or the device is reset (the device writes through it
//     later, when a frame arrives).
//  2. takeCompletions() returns the parked chains the device has finished, in the order their
//     used entries must be pushed. Push all of one call's entries before publishing the used
//     index once: a device never splits one packet's buffers (virtio-net MRG_RXBUF) across calls.
//  3. Call takeCompletions() after every handle() call, whatever the queue (handling a tx chain
//     can complete rx chains: loopback), and whenever onCompletions fires.
//  4. onCompletions is a wake-up signal only. The device never calls it from inside its own
//     handle() (rule 3 covers that case), but it may call it from inside another device's
//     handle() (a frame crossing a bridge), so the transport should schedule the take rather
//     than assume it runs outside device code.
//  5. reset() forgets every parked chain without completing it (the spec forbids touching the
//     queues after reset); the transport releases whatever it holds for them.
import type { Chain, Completion, VirtioDevice } from "./types.ts";

/** handle()'s answer for a chain the device keeps: its used entry comes from takeCompletions(). */
export interface Deferred extends Completion {
  written: 0;
  deferred: true;
}

/** A parked chain the device has finished: push a used entry (chain.id, written) on queue q. */
export interface LateCompletion {
  q: number;
  chain: Chain;
  written: number;
}

export interface DeferringDevice extends VirtioDevice {
  /** Finished parked chains since the last call, in push order (possibly empty). */
  takeCompletions(): LateCompletion[];
  /** Set by the transport; called when takeCompletions() has something new. */
  onCompletions: (() => void) | null;
}

export const DEFERRED: Deferred = Object.freeze({ written: 0, deferred: true }) as Deferred;

export function isDeferred(c: Completion): c is Deferred {
  return (c as Partial<Deferred>).deferred === true;
}

export function defersCompletions(d: VirtioDevice): d is DeferringDevice {
  return typeof (d as Partial<DeferringDevice>).takeCompletions === "function";
}
