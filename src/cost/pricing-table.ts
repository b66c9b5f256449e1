// THE table from counter id to what one counted event costs: which primitives, how many of
// each, charged to which component. Mechanism facts only (how many cache lines a descriptor
// spans, which counter already includes which bytes); the cycles come from the profile.
//
// Rules:
//  - Each real cost is charged on exactly one counter. Where two counters count the same
//    thing (CNT_COPY_BYTES includes Argo's payload), the more specific entry moves the charge
//    with a pair of opposite charges, so totals stay exact.
//  - Every named counter has an entry: a priced one, or `free(id, why)` saying where its cost
//    is (or why it has none). test/pricing.test.ts fails for a counter without an entry, so a
//    new counter needs one line here.
//  - `archDependent` marks counts that depend on the architecture simulated (LL/SC retries):
//    a run with such counts cannot be re-priced for another atomics model.
import * as L from "../wasm/layout.ts";
import type { Component, Primitive } from "./primitives.ts";

export interface Charge {
  primitive: Primitive | "copy";
  component: Component;
  /** Primitives per counted event; negative to move a charge counted elsewhere. */
  times: number;
  /** For "copy": the counter counts bytes, priced at the per-byte time of a copy of this size. */
  copySize?: number;
}

export interface PricingEntry {
  id: number;
  charges: readonly Charge[];
  /** Why the entry is free, or the assumption behind its multipliers. */
  why?: string;
  archDependent?: boolean;
}

export type PricingTable = ReadonlyMap<number, PricingEntry>;

/** Copy counters give bytes, not sizes: bytes are priced as if every copy were a page. */
export const DEFAULT_COPY_SIZE = 4096;

export function charge(primitive: Primitive, component: Component, times = 1): Charge {
  return { primitive, component, times };
}

export function copyBytes(component: Component, times = 1, copySize = DEFAULT_COPY_SIZE): Charge {
  return { primitive: "copy", component, times, copySize };
}

export function priced(id: number, charges: Charge[], why?: string, archDependent = false): PricingEntry {
  return { id, charges, why, archDependent };
}

/** One primitive per event: the common case. */
export function each(id: number, primitive: Primitive, component: Component, why?: string): PricingEntry {
  return priced(id, [charge(primitive, component)], why);
}

export function free(id: number, why: string): PricingEntry {
  return { id, charges: [], why };
}

/** Free entries for every id in [from, to): a range counted by code, without names. */
export function range(from: number, to: number, why: string): PricingEntry[] {
  const out: PricingEntry[] = [];
  for (let id = from; id < to; id++) out.push(free(id, why));
  return out;
}

/** Builds a table; a duplicate id is a programming error. */
export function makeTable(entries: PricingEntry[]): PricingTable {
  const t = new Map<number, PricingEntry>();
  for (const e of entries) {
    if (t.has(e.id)) throw new Error(`pricing table: counter ${e.id} has two entries`);
    t.set(e.id, e);
  }
  return t;
}

/** A copy of `base` with entries replaced or added (a transport that knows who copies). */
export function withEntries(base: PricingTable, entries: PricingEntry[]): PricingTable {
  const t = new Map(base);
  for (const e of entries) t.set(e.id, e);
  return t;
}

const PLAIN_ACCESS = "plain loads and stores inside work that is priced on its own counter (ring ops, copies, hypercalls); a copy transport's backend reads the same bytes";
const REFUSED = "a refused access is reported to the model that tried it, which prices the outcome";
const SUBSET = "a subset of a priced counter";
const VQ_NOTIFY = "the notification's mechanism (MMIO trap, event channel, Argo notify) is counted and priced by the transport";

export const PRICING: PricingTable = makeTable([
  // ---- machine
  free(L.CNT_GUEST_READS, PLAIN_ACCESS),
  free(L.CNT_GUEST_READ_BYTES, PLAIN_ACCESS),
  free(L.CNT_GUEST_WRITES, PLAIN_ACCESS),
  free(L.CNT_GUEST_WRITE_BYTES, PLAIN_ACCESS),
  free(L.CNT_COPIES, "the per-copy overhead is inside the per-byte price of a DEFAULT_COPY_SIZE copy (CNT_COPY_BYTES)"),
  priced(L.CNT_COPY_BYTES, [copyBytes("guest")], "gpa_copy serves guest-side bounce copies; subsystem copies are moved to their component by their own entries"),
  free(L.CNT_FRAMES_POPULATED, "populate-on-demand is a simulator artefact: the RAM exists on the real machine"),
  free(L.CNT_FRAMES_FREED, "populate-on-demand is a simulator artefact"),
  free(L.CNT_ACCESS_REFUSED, REFUSED),
  free(L.CNT_REFUSED_NOT_MAPPED, REFUSED),
  free(L.CNT_REFUSED_READ_ONLY, REFUSED),
  free(L.CNT_REFUSED_NOT_OWNER, REFUSED),
  free(L.CNT_REFUSED_NO_DOMAIN, REFUSED),
  free(L.CNT_REFUSED_RANGE, REFUSED),
  each(L.CNT_P2M_MAPS, "pte_update", "hypervisor", "every p2m entry written (grant, foreign, Xen frames); subsystem counters do not charge it again"),
  each(L.CNT_P2M_UNMAPS, "pte_update", "hypervisor", "every p2m entry removed; its TLB flush is counted by the subsystem that issues it"),
  free(L.CNT_MFN_READ_BYTES, PLAIN_ACCESS),
  free(L.CNT_MFN_WRITE_BYTES, PLAIN_ACCESS),

  // ---- virtqueues. Cache lines are 64 bytes on all four architectures: a 16-byte descriptor
  // is a quarter of a line; one line per chain for the avail (device) or used (driver) entry
  // and index the other side wrote, an upper bound that batching lowers.
  priced(L.CNT_VQ_CHAINS_ADDED, [charge("vq_chain_add", "guest")]),
  priced(L.CNT_VQ_DESCS_ADDED, [charge("vq_desc_add", "guest")]),
  priced(L.CNT_VQ_CHAINS_POPPED, [charge("vq_chain_pop", "backend"), charge("cacheline_transfer", "backend")]),
  priced(L.CNT_VQ_DESCS_POPPED, [charge("vq_desc_pop", "backend"), charge("cacheline_transfer", "backend", 0.25)]),
  each(L.CNT_VQ_INDIRECT_TABLES, "vq_indirect", "backend"),
  free(L.CNT_VQ_BYTES_READABLE, "a size: the bytes move by copies or by the device, priced there"),
  free(L.CNT_VQ_BYTES_WRITABLE, "a size: the bytes move by copies or by the device, priced there"),
  each(L.CNT_VQ_USED_PUSHED, "vq_used_push", "backend"),
  free(L.CNT_VQ_USED_BYTES, "a size, not work"),
  priced(L.CNT_VQ_CHAINS_RECLAIMED, [charge("vq_reclaim", "guest"), charge("cacheline_transfer", "guest")]),
  free(L.CNT_VQ_NOTIFY_SENT, VQ_NOTIFY),
  free(L.CNT_VQ_NOTIFY_SUPPRESSED, "no notification was sent; the check is part of the add"),
  free(L.CNT_VQ_IRQ_SENT, VQ_NOTIFY),
  free(L.CNT_VQ_IRQ_SUPPRESSED, "no notification was sent; the check is part of the push"),
  free(L.CNT_VQ_ERRORS, "an error outcome; the pop that found it is priced"),
  ...range(L.CNT_VIRTQ_ERR_BASE, L.CNT_XEN_BASE, "errors by code (CNT_VIRTQ_ERR_BASE + VQ_E*): an error outcome"),

  // ---- guest atomics
  each(L.CNT_ATOMIC_OPS, "cas", "hypervisor", "every completed guest-atomic RMW at the CAS price (x86 locked RMWs cost alike: A5, Schweizer 2015)"),

  // ---- Argo
  each(L.CNT_ARGO_OPS, "hv_op_work", "hypervisor", "the hypercall itself is CNT_HYPERCALLS"),
  free(L.CNT_ARGO_OP_REGISTER, SUBSET),
  free(L.CNT_ARGO_OP_UNREGISTER, SUBSET),
  free(L.CNT_ARGO_OP_SENDV, SUBSET),
  free(L.CNT_ARGO_OP_NOTIFY, SUBSET),
  free(L.CNT_ARGO_OP_UNKNOWN, SUBSET),
  free(L.CNT_ARGO_OP_ERRORS, SUBSET),
  free(L.CNT_ARGO_MESSAGES, "the 16-byte header is written in the same pass as the payload copy"),
  priced(L.CNT_ARGO_BYTES_SENT, [copyBytes("hypervisor"), copyBytes("guest", -1)], "Xen's copy into the ring; the kernel also counted these bytes in CNT_COPY_BYTES, so the charge moves from guest to hypervisor"),
  free(L.CNT_ARGO_RING_BYTES, "payload plus headers; the payload is priced on CNT_ARGO_BYTES_SENT"),
  free(L.CNT_ARGO_EAGAIN, "a refused sendv: its hypercall is priced"),
  free(L.CNT_ARGO_EBUSY, "a refused wait: its hypercall is priced"),
  free(L.CNT_ARGO_WAITERS_QUEUED, "list work inside the hypercall"),
  free(L.CNT_ARGO_WAITERS_WOKEN, "list work inside the notify; the VIRQ is delivered by the event-channel model"),
  free(L.CNT_ARGO_WAITERS_DROPPED, "list work inside the hypercall or teardown"),
  free(L.CNT_ARGO_VIRQ_RAISED, "delivered by the event-channel model, which counts and prices the upcall"),
  free(L.CNT_ARGO_RINGS_REGISTERED, "set-up work inside the register hypercall"),
  free(L.CNT_ARGO_RINGS_REREGISTERED, "set-up work inside the register hypercall"),
  free(L.CNT_ARGO_RINGS_REMOVED, "teardown work"),
  each(L.CNT_ARGO_NOTIFY_QUERIES, "hv_op_work", "hypervisor", "each ring_data entry is a ring lookup and an XSM check"),
  each(L.CNT_ARGO_PTR_LOADS, "cacheline_transfer", "hypervisor", "rx_ptr was last written by the receiver's CPU"),
  each(L.CNT_ARGO_PTR_STORES, "cacheline_transfer", "hypervisor", "the receiver holds tx_ptr's line; the store takes it back"),
  free(L.CNT_ARGO_EFAULT, "an error outcome; its hypercall is priced"),

  // ---- XSM
  free(L.CNT_XSM_DENIED, "a denial ends the operation early; its hypercall is priced"),
  free(L.CNT_XSM_DENIED_ARGO_ENABLE, SUBSET),
  free(L.CNT_XSM_DENIED_ARGO_REGISTER_SINGLE, SUBSET),
  free(L.CNT_XSM_DENIED_ARGO_REGISTER_ANY, SUBSET),
  free(L.CNT_XSM_DENIED_ARGO_SEND, SUBSET),

  // ---- xenstore (xenstored runs in the control/backend domain)
  each(L.CNT_XS_REQUESTS, "xenstore_message", "backend"),
  free(L.CNT_XS_ERRORS, SUBSET),
  free(L.CNT_XS_RING_REQ_MSGS, "ring traffic of a message priced on CNT_XS_REQUESTS"),
  free(L.CNT_XS_RING_REQ_BYTES, "ring traffic of a message priced on CNT_XS_REQUESTS"),
  free(L.CNT_XS_RING_RSP_MSGS, "ring traffic of replies and events priced on CNT_XS_REQUESTS / CNT_XS_WATCH_EVENTS"),
  free(L.CNT_XS_RING_RSP_BYTES, "ring traffic of replies and events priced on CNT_XS_REQUESTS / CNT_XS_WATCH_EVENTS"),
  each(L.CNT_XS_WATCH_EVENTS, "xenstore_message", "backend", "formatting and queueing an event is a message's work"),
  free(L.CNT_XS_WATCH_SUPPRESSED, "a permission check inside the change that fired it"),
  free(L.CNT_XS_READ_OPS, SUBSET),
  free(L.CNT_XS_WRITE_OPS, SUBSET),
  free(L.CNT_XS_RM_OPS, SUBSET),
  free(L.CNT_XS_WATCH_OPS, SUBSET),
  free(L.CNT_XS_TX_STARTED, SUBSET),
  free(L.CNT_XS_TX_EAGAIN, "the retried requests are counted again"),
  free(L.CNT_XS_QUOTA_DENIED, "a refused request, priced on CNT_XS_REQUESTS"),
  free(L.CNT_XS_EVTCHN_NOTIFY, "kicks are priced where the event-channel model counts them (evtchn_send, upcall)"),

  // ---- hypercalls
  each(L.CNT_HYPERCALLS, "hypercall", "hypervisor", "every hypercall's round trip; the work it does is priced on its subsystem's counters"),
]);
