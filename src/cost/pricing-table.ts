// THE table from counter id to what one counted event costs: which primitives, how many of
// each, charged to which component. Mechanism facts only (how many cache lines a descriptor
// spans, which counter already includes which bytes); the cycles come from the profile.
//
// Rules:
//  - Each real cost is charged on exactly one counter. Where two counters count the same
//    thing (the guest-charged gpa_copy histogram includes a backend's own copies), the more specific entry moves the charge
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
  /** For "copy": the counter counts the copies (`op`) or bytes (`byte`) of size bucket `k`,
   *  priced with copyBucketCycles (profile.ts). */
  copyBucket?: { k: number; per: "op" | "byte" };
}

export interface PricingEntry {
  id: number;
  charges: readonly Charge[];
  /** Why the entry is free, or the assumption behind its multipliers. */
  why?: string;
  archDependent?: boolean;
}

export type PricingTable = ReadonlyMap<number, PricingEntry>;

/** Copies are priced by size on the bucket counters (CNT_CPU_COPIES_*, CNT_HV_COPIES_* and their
 *  bytes). The byte counters that carry no sizes (the device's payload bytes, and the move of
 *  a backend's gpa_copy bytes from the guest to the backend) are priced as if every copy were
 *  a page. */
export const DEFAULT_COPY_SIZE = 4096;

export function charge(primitive: Primitive, component: Component, times = 1): Charge {
  return { primitive, component, times };
}

export function copyBytes(component: Component, times = 1, copySize = DEFAULT_COPY_SIZE): Charge {
  return { primitive: "copy", component, times, copySize };
}

/** Entries for a copy-size histogram (ops at opsBase + k, bytes at bytesBase + k), charged to
 *  the component that makes those copies. */
export function copyHistogram(opsBase: number, bytesBase: number, component: Component, why: string): PricingEntry[] {
  const out: PricingEntry[] = [];
  for (let k = 0; k < L.COPY_SIZE_BUCKETS; k++) {
    out.push(priced(opsBase + k, [{ primitive: "copy", component, times: 1, copyBucket: { k, per: "op" } }], why));
    out.push(priced(bytesBase + k, [{ primitive: "copy", component, times: 1, copyBucket: { k, per: "byte" } }], why));
  }
  return out;
}

/** A histogram of copies counted in another one too: each bucket takes its price off `from` and
 *  charges it to `to` (the total is unchanged and the split exact). */
export function movedCopyHistogram(opsBase: number, bytesBase: number, from: Component, to: Component, why: string): PricingEntry[] {
  const out: PricingEntry[] = [];
  for (let k = 0; k < L.COPY_SIZE_BUCKETS; k++) {
    for (const [id, per] of [[opsBase + k, "op"], [bytesBase + k, "byte"]] as const) {
      out.push(priced(id, [
        { primitive: "copy", component: to, times: 1, copyBucket: { k, per } },
        { primitive: "copy", component: from, times: -1, copyBucket: { k, per } },
      ], why));
    }
  }
  return out;
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
  free(L.CNT_COPIES, "priced by size on CNT_CPU_COPIES_* (gpa_copy) and CNT_HV_COPIES_* (Argo's ring copy)"),
  free(L.CNT_COPY_BYTES, "priced by size on CNT_CPU_COPY_BYTES_* (gpa_copy) and CNT_HV_COPY_BYTES_* (Argo's ring copy)"),
  ...copyHistogram(L.CNT_CPU_COPIES_BASE, L.CNT_CPU_COPY_BYTES_BASE, "guest",
    "gpa_copy by size: guest-side bounce copies; a backend's own (argo) are moved to it by CNT_BE_COPY_BYTES_*"),
  ...copyHistogram(L.CNT_HV_COPIES_BASE, L.CNT_HV_COPY_BYTES_BASE, "hypervisor", "Xen's copies by size: GNTTABOP_copy elements and Argo ring copies"),
  ...movedCopyHistogram(L.CNT_BE_COPIES_BASE, L.CNT_BE_COPY_BYTES_BASE, "guest", "backend",
    "a backend's own gpa_copy (argo's staging and copy-out), also in CNT_CPU_COPIES_* by the same length: its cost moves from the guest to the backend, bucket by bucket"),
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
  free(L.CNT_ATOMIC_LLSC_ATTEMPTS, "one per operation (priced on CNT_ATOMIC_OPS) plus one per failed store-exclusive (CNT_ATOMIC_SC_FAILS)"),
  priced(L.CNT_ATOMIC_SC_FAILS, [charge("llsc_retry", "hypervisor")], "a failed store-exclusive and the loop back to the load-exclusive", true),
  free(L.CNT_ATOMIC_MONITOR_CLEARS, "the cause of store-exclusive failures, priced there"),
  priced(L.CNT_ATOMIC_SUBWORD, [charge("masked_llsc_subword", "hypervisor"), charge("cas", "hypervisor", -1)], "replaces the plain CAS price of its operation with the masked LR/SC sequence", true),
  free(L.CNT_ATOMIC_LSE_OPS, "a subset of CNT_ATOMIC_OPS: the LSE profile's cas is the single instruction"),
  priced(L.CNT_ATOMIC_PAUSES, [charge("domain_pause", "hypervisor"), charge("domain_unpause", "hypervisor")], "XSA-295: pause the sharing domain, redo, unpause", true),
  free(L.CNT_ATOMIC_XEN_STEPS, "instruction steps inside operations priced on CNT_ATOMIC_OPS and CNT_ATOMIC_SC_FAILS"),

  // ---- grant tables: each element of a batched grant_table_op; the hypercall itself is
  // CNT_HYPERCALLS, p2m entries are CNT_P2M_MAPS/UNMAPS, the flags|domid cmpxchg is CNT_ATOMIC_OPS.
  each(L.CNT_GNT_OP_SETUP_TABLE, "hv_op_work", "hypervisor"),
  each(L.CNT_GNT_OP_QUERY_SIZE, "hv_op_work", "hypervisor"),
  free(L.CNT_GNT_OP_MAP, "a call count; each element is priced on CNT_GNT_MAPS"),
  free(L.CNT_GNT_OP_UNMAP, "a call count; each element is priced on CNT_GNT_UNMAPS"),
  free(L.CNT_GNT_OP_COPY, "a call count; each element is priced on CNT_GNT_COPIES"),
  free(L.CNT_GNT_OP_UNSUPPORTED, "refused at once; its hypercall is priced"),
  priced(L.CNT_GNT_MAPS, [charge("hv_op_work", "hypervisor"), charge("grant_entry_update", "hypervisor")]),
  priced(L.CNT_GNT_UNMAPS, [charge("hv_op_work", "hypervisor"), charge("grant_entry_update", "hypervisor")]),
  priced(L.CNT_GNT_COPIES, [charge("hv_op_work", "hypervisor"), charge("grant_entry_update", "hypervisor", 2)], "pin and release of both sides' entries"),
  free(L.CNT_GNT_COPY_BYTES, "Xen's memcpy between the two frames, priced by size on CNT_HV_COPY_BYTES_*"),
  each(L.CNT_GNT_TLB_FLUSHES, "tlb_flush_remote", "hypervisor", "one shootdown of the grantee's dirty CPUs per unmap batch"),
  free(L.CNT_GNT_TLB_FLUSHES_ELIDED, "no flush was issued"),
  free(L.CNT_GNT_CMPXCHG, "each attempt is a guest-atomic operation priced on CNT_ATOMIC_OPS"),
  free(L.CNT_GNT_CMPXCHG_RETRIES, "each retry is a guest-atomic operation priced on CNT_ATOMIC_OPS"),
  free(L.CNT_GNT_UNSTABLE, "an error outcome after retries priced on CNT_ATOMIC_OPS"),
  free(L.CNT_GNT_FLAG_CLEARS, "each clear is a guest-atomic operation priced on CNT_ATOMIC_OPS"),
  free(L.CNT_GNT_MAPTRACK_IN_USE, "a gauge, not work"),
  free(L.CNT_GNT_PAGES_MAPPED, "a gauge, not work"),
  free(L.CNT_GNT_TABLE_FRAMES, "a gauge, not work"),
  free(L.CNT_GNT_FAILED, "an error outcome; the op's work until the failure is inside its hypercall"),
  ...range(L.CNT_GNT_ST_GENERAL_ERROR, L.CNT_GNT_ST_NO_SPACE + 1, "failed grant ops by status: error outcomes"),
  free(L.CNT_GNT_HC_ERRORS, "an error outcome; its hypercall is priced"),
  each(L.CNT_GNT_GUEST_GRANTS, "grant_entry_update", "guest", "the frontend fills an entry and issues a write barrier"),
  free(L.CNT_GNT_GUEST_END_OK, "the revoking cmpxchg is priced on CNT_GNT_GUEST_CMPXCHG"),
  free(L.CNT_GNT_GUEST_END_BUSY, "the failed revoke's cmpxchg is priced on CNT_GNT_GUEST_CMPXCHG"),
  priced(L.CNT_GNT_GUEST_CMPXCHG, [charge("cas", "guest"), charge("cas", "hypervisor", -1)], "the guest's own cmpxchg goes through the guest-atomics interface (counted in CNT_ATOMIC_OPS): its charge moves to the guest"),
  free(L.CNT_GNT_TABLE_MAPS, "set-up: the p2m entry is priced on CNT_P2M_MAPS"),
  free(L.CNT_GNT_COPY_REFUSED, "an error outcome (stays 0 when the model checks first)"),

  // ---- event channels: the hypercall is CNT_HYPERCALLS; bit operations are CNT_ATOMIC_OPS
  each(L.CNT_EVTCHN_OPS, "hv_op_work", "hypervisor"),
  free(L.CNT_EVTCHN_OP_ERRORS, SUBSET),
  each(L.CNT_EVTCHN_SENDS, "evtchn_send", "hypervisor"),
  free(L.CNT_EVTCHN_SEND_DROPPED, "dropped inside a priced send hypercall"),
  free(L.CNT_EVTCHN_SET_PENDING, "bit operations priced on CNT_ATOMIC_OPS"),
  free(L.CNT_EVTCHN_PENDING_MERGED, "no new event"),
  free(L.CNT_EVTCHN_MASKED, "no upcall"),
  free(L.CNT_EVTCHN_SEL_MERGED, "no new upcall"),
  priced(L.CNT_EVTCHN_UPCALLS, [charge("upcall", "guest"), charge("ipi", "hypervisor")], "injection into a vCPU running elsewhere: an IPI to its pCPU, then the guest's handler"),
  free(L.CNT_EVTCHN_UPCALL_MERGED, "no new upcall"),
  free(L.CNT_EVTCHN_UNMASK_RAISED, "the upcall it raises is priced on CNT_EVTCHN_UPCALLS"),
  free(L.CNT_EVTCHN_VIRQS, "Xen-internal set-pending; the upcall is priced on CNT_EVTCHN_UPCALLS"),
  each(L.CNT_EVTCHN_XEN_NOTIFY, "sched_decision", "hypervisor", "a Xen-consumed channel wakes a blocked vCPU (IOREQ completion)"),
  free(L.CNT_EVTCHN_BOUND, "set-up work inside its hypercall"),
  free(L.CNT_EVTCHN_CLOSED, "teardown work inside its hypercall"),
  free(L.CNT_EVTCHN_SCANS, "part of the guest's upcall handler (priced on CNT_EVTCHN_UPCALLS)"),
  free(L.CNT_EVTCHN_DISPATCHED, "part of the guest's upcall handler (priced on CNT_EVTCHN_UPCALLS)"),

  // ---- IOREQ and dm_op
  each(L.CNT_IOREQ_DM_OPS, "hv_op_work", "hypervisor", "the hypercall itself is CNT_HYPERCALLS"),
  free(L.CNT_IOREQ_DM_OP_ERRORS, SUBSET),
  free(L.CNT_IOREQ_DM_OP_DENIED, SUBSET),
  free(L.CNT_IOREQ_SERVERS_CREATED, "set-up work inside its dm_op"),
  free(L.CNT_IOREQ_SERVERS_DESTROYED, "teardown work"),
  each(L.CNT_IOREQ_MMIO_TRAPS, "mmio_trap", "hypervisor", "exit, decode and dispatch of the guest's access"),
  priced(L.CNT_IOREQ_SENT, [charge("sched_decision", "hypervisor"), charge("ioreq_wake", "backend"), charge("cacheline_transfer", "backend")], "the vCPU blocks, the emulator is woken and pulls the slot's line"),
  free(L.CNT_IOREQ_READS, SUBSET),
  free(L.CNT_IOREQ_WRITES, SUBSET),
  free(L.CNT_IOREQ_VCPU_BLOCKED, "the block is priced on CNT_IOREQ_SENT"),
  priced(L.CNT_IOREQ_COMPLETIONS, [charge("cacheline_transfer", "hypervisor")], "Xen pulls the slot back; the wake-up is CNT_EVTCHN_XEN_NOTIFY"),
  free(L.CNT_IOREQ_UNCLAIMED, "handled inside the priced trap"),
  free(L.CNT_IOREQ_FAULTS, "an error outcome inside the priced trap"),
  free(L.CNT_IOREQ_BAD_STATE, "an error outcome: the guest is crashed"),
  free(L.CNT_IOREQ_IRQ_ASSERTIONS, "work inside its dm_op"),
  each(L.CNT_IOREQ_IRQ_RAISED, "upcall", "guest", "an SPI raised to the guest: injection and the guest's handler"),
  free(L.CNT_IOREQ_ISA_IRQ_ASSERTIONS, "work inside its dm_op"),
  priced(L.CNT_IOREQ_ISA_IRQ_RAISED, [charge("upcall", "guest"), charge("vm_exit", "hypervisor")],
    "an x86 ISA IRQ raised through the vIOAPIC: injection and the guest's handler, and the exit its EOI of a level-triggered vector takes (Xen's vIOAPIC re-checks the line)"),
  free(L.CNT_IOREQ_EMU_HANDLED, "the emulator's work is priced by the device and transport counters"),

  // ---- foreign mapping
  each(L.CNT_FOREIGN_MAPS, "hv_op_work", "hypervisor", "lookup and page reference per entry; the p2m entry is CNT_P2M_MAPS"),
  priced(L.CNT_FOREIGN_UNMAPS, [charge("hv_op_work", "hypervisor"), charge("tlb_flush_remote", "hypervisor")], "removing a foreign entry flushes the mapper's TLBs"),
  free(L.CNT_FOREIGN_DENIED, "an error outcome inside its hypercall"),
  free(L.CNT_FOREIGN_ERRORS, "an error outcome inside its hypercall"),
  free(L.CNT_FOREIGN_BATCHES, "a call count; the hypercall is CNT_HYPERCALLS"),
  free(L.CNT_FOREIGN_TEARDOWN, "teardown work"),

  // ---- Argo
  each(L.CNT_ARGO_OPS, "hv_op_work", "hypervisor", "the hypercall itself is CNT_HYPERCALLS"),
  free(L.CNT_ARGO_OP_REGISTER, SUBSET),
  free(L.CNT_ARGO_OP_UNREGISTER, SUBSET),
  free(L.CNT_ARGO_OP_SENDV, SUBSET),
  free(L.CNT_ARGO_OP_NOTIFY, SUBSET),
  free(L.CNT_ARGO_OP_UNKNOWN, SUBSET),
  free(L.CNT_ARGO_OP_ERRORS, SUBSET),
  free(L.CNT_ARGO_MESSAGES, "the 16-byte header is written in the same pass as the payload copy"),
  free(L.CNT_ARGO_BYTES_SENT, "Xen's copy into the ring, priced by size on CNT_HV_COPY_BYTES_* (one copy per message)"),
  free(L.CNT_ARGO_RING_BYTES, "payload plus headers; the copy is priced by size on CNT_HV_COPY_BYTES_*"),
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

  // ---- hypercalls and domain lifecycle
  each(L.CNT_HYPERCALLS, "hypercall", "hypervisor", "every hypercall's round trip; the work it does is priced on its subsystem's counters"),
  free(L.CNT_HC_UNKNOWN, "refused at once (-ENOSYS); its round trip is priced on CNT_HYPERCALLS"),
  each(L.CNT_HC_MEMORY_OPS, "hv_op_work", "hypervisor", "argument copy-in and dispatch; the entries it changes are priced on their own counters"),
  free(L.CNT_HC_MEMORY_OP_ERRORS, SUBSET),
  priced(L.CNT_DOMAIN_PAUSES, [charge("domain_pause", "hypervisor"), charge("domain_unpause", "hypervisor")], "a pause is always undone by an unpause; the XSA-295 helpers' share is taken back by CNT_DOMAIN_PAUSES_XSA295"),
  // One XSA-295 pause bumps CNT_ATOMIC_PAUSES (the engine, with or without a Hypervisor) and,
  // through Hypervisor.pause(), CNT_DOMAIN_PAUSES: the engine's count carries the price, this
  // subset of CNT_DOMAIN_PAUSES takes its charge back, so the pause is priced once.
  priced(L.CNT_DOMAIN_PAUSES_XSA295, [charge("domain_pause", "hypervisor", -1), charge("domain_unpause", "hypervisor", -1)],
    "a subset of CNT_DOMAIN_PAUSES already priced on CNT_ATOMIC_PAUSES: the second charge is taken back", true),
  free(L.CNT_DOMAINS_CREATED, "set-up, outside the measured I/O"),
  free(L.CNT_DOMAINS_DESTROYED, "teardown, outside the measured I/O"),
  free(L.CNT_DOMAINS_CRASHED, "an outcome, not work"),

  // ---- transports (src/transports). Traps, notifications and interrupts are priced where the
  // hypervisor model counts them (CNT_IOREQ_*, CNT_EVTCHN_*, CNT_KVM_*); the common block
  // restates them per transport. A backend copy made with the machine's gpa_copy was charged to
  // the guest on CNT_COPY_BYTES: its entry moves the charge.
  free(L.CNT_TR_REG_TRAPS, "restates the hypervisor's trap counters (CNT_IOREQ_MMIO_TRAPS, CNT_KVM_EXITS_*), priced there"),
  free(L.CNT_TR_REG_TRAPS_NOTIFY, SUBSET),
  free(L.CNT_TR_REG_TRAPS_ISR, SUBSET),
  free(L.CNT_TR_NOTIFICATIONS, "the mechanism (ioreq, eventfd, event channel) is priced on its own counters"),
  free(L.CNT_TR_INTERRUPTS, "the injection is priced where it happens (CNT_KVM_IRQ_INJECTIONS, CNT_IOREQ_IRQ_RAISED, CNT_EVTCHN_UPCALLS)"),
  free(L.CNT_TR_INTERRUPTS_MERGED, "no new delivery"),
  free(L.CNT_TR_COPIES_GUEST, "the per-copy overhead is inside the per-byte price"),
  free(L.CNT_TR_COPY_BYTES_GUEST, "guest copies go through the machine's gpa_copy (every transport, argo included), priced by size on CNT_CPU_COPY_BYTES_*"),
  free(L.CNT_TR_COPIES_HV, "the per-copy overhead is inside the per-byte price"),
  free(L.CNT_TR_COPY_BYTES_HV, "hypervisor copies (grant copy elements, Argo's ring copies, argo's 16-byte transport header per message included) are priced by size on CNT_HV_COPY_BYTES_*, beside the hypercall that makes them"),
  free(L.CNT_TR_COPIES_BACKEND, "the per-copy overhead is inside the per-byte price"),
  free(L.CNT_TR_COPY_BYTES_BACKEND, "a backend copy made with gpa_copy: charged by size on CNT_CPU_COPY_BYTES_* and moved to the backend by CNT_BE_COPY_BYTES_*"),
  priced(L.CNT_TR_DEV_READ_BYTES, [copyBytes("backend")], "the device consumes every payload byte once (pwrite from the buffer, packet copy): the same in every transport"),
  priced(L.CNT_TR_DEV_WRITE_BYTES, [copyBytes("backend")], "the device produces every payload byte once (pread into the buffer): the same in every transport"),
  free(L.CNT_TR_PAGES_EXPOSED_IO, "an exposure measure; the mapping or granting work is priced on its own counters"),
  free(L.CNT_TR_EXPOSED_REACHABLE, "a gauge, not work"),
  free(L.CNT_TR_EXPOSED_MAPPED, "a gauge, not work"),
  free(L.CNT_TR_IO_ERRORS, "an error outcome; the work until the failure is priced"),
  free(L.CNT_TR_BACKEND_PASSES, "a count of service passes; their work is priced per chain"),
  // kvm-ioeventfd: nothing else counts KVM's work, so these entries carry it.
  each(L.CNT_KVM_EXITS_IOEVENTFD, "mmio_trap", "hypervisor", "exit, decode, ioeventfd match and resume, all in the kernel"),
  priced(L.CNT_KVM_EXITS_USER, [charge("mmio_trap", "hypervisor"), charge("vm_exit", "backend")], "the exit plus the return of KVM_RUN to the VMM, its emulation and re-entry (estimated as a second trap round trip)"),
  free(L.CNT_KVM_EVENTFD_SIGNALS, "inside the ioeventfd exit; the wake-up it causes is CNT_KVM_BACKEND_WAKEUPS"),
  free(L.CNT_KVM_EVENTFD_MERGED, "no wake-up"),
  each(L.CNT_KVM_BACKEND_WAKEUPS, "ioreq_wake", "backend", "the VMM's I/O thread is woken by the eventfd and runs"),
  each(L.CNT_KVM_IRQFD_SIGNALS, "hypercall", "backend", "the backend's write() to the irqfd: a system call round trip (priced as a hypercall, an estimate)"),
  priced(L.CNT_KVM_IRQ_INJECTIONS, [charge("upcall", "guest"), charge("ipi", "hypervisor")], "irqfd injection into a vCPU running elsewhere: an IPI to its pCPU, then the guest's handler"),
  // mmio-foreign: hypercalls, p2m entries, foreign maps and SPIs are priced on the Xen counters.
  free(L.CNT_MF_MAP_CALLS, "its hypercall is CNT_HYPERCALLS, each entry CNT_FOREIGN_MAPS"),
  free(L.CNT_MF_PAGES_MAPPED, "priced on CNT_FOREIGN_MAPS"),
  free(L.CNT_MF_PAGES_UNMAPPED, "priced on CNT_FOREIGN_UNMAPS and CNT_HYPERCALLS"),
  free(L.CNT_MF_CACHE_HITS, "no mapping work"),
  free(L.CNT_MF_CACHE_MISSES, "the mapping it causes is priced on CNT_FOREIGN_MAPS"),
  free(L.CNT_MF_CACHE_EVICTIONS, "the unmapping it causes is priced on CNT_FOREIGN_UNMAPS"),
  free(L.CNT_MF_RING_PAGES_MAPPED, "set-up; priced on CNT_FOREIGN_MAPS"),
  free(L.CNT_MF_IRQ_LEVEL_OPS, "each is a dm_op priced on CNT_IOREQ_DM_OPS and CNT_HYPERCALLS"),
  free(L.CNT_MF_ISA_IRQ_OPS, "each is a dm_op priced on CNT_IOREQ_DM_OPS and CNT_HYPERCALLS"),
  free(L.CNT_GM_GRANTS, "a guest store into its own grant entry, priced on CNT_GNT_GUEST_GRANTS"),
  free(L.CNT_GM_END_ACCESS, "priced on CNT_GNT_GUEST_CMPXCHG"),
  free(L.CNT_GM_END_BUSY, "a refused revocation; its cmpxchg attempt is priced on CNT_GNT_GUEST_CMPXCHG"),
  free(L.CNT_GM_MAP_CALLS, "its hypercall is CNT_HYPERCALLS, each entry CNT_GNT_MAPS"),
  free(L.CNT_GM_PAGES_MAPPED, "priced on CNT_GNT_MAPS"),
  free(L.CNT_GM_UNMAP_CALLS, "its hypercall is CNT_HYPERCALLS, flushes CNT_GNT_TLB_FLUSHES"),
  free(L.CNT_GM_PAGES_UNMAPPED, "priced on CNT_GNT_UNMAPS"),
  free(L.CNT_GM_MAP_FAILS, "a failed op, priced on CNT_GNT_FAILED"),
  free(L.CNT_GM_RING_GRANTS, "set-up; priced on CNT_GNT_GUEST_GRANTS"),
  free(L.CNT_GM_RING_PAGES_MAPPED, "set-up; priced on CNT_GNT_MAPS"),
  free(L.CNT_GM_IRQ_LEVEL_OPS, "each is a dm_op priced on CNT_IOREQ_DM_OPS and CNT_HYPERCALLS"),
  free(L.CNT_GM_ISA_IRQ_OPS, "each is a dm_op priced on CNT_IOREQ_DM_OPS and CNT_HYPERCALLS"),
  free(L.CNT_GP_POOL_GRANTS, "set-up; priced on CNT_GNT_GUEST_GRANTS"),
  free(L.CNT_GP_POOL_PAGES_MAPPED, "set-up; priced on CNT_GNT_MAPS"),
  free(L.CNT_GP_POOL_TAKES, "bookkeeping; the copy it implies is priced on CNT_TR_COPY_BYTES_GUEST"),
  free(L.CNT_GP_POOL_EXHAUSTED, "bookkeeping; the fallback's grants, maps and unmaps are priced on CNT_GNT_*"),
  free(L.CNT_GC_COPY_CALLS, "its hypercall is CNT_HYPERCALLS, each op CNT_GNT_COPIES"),
  free(L.CNT_GC_COPY_OPS, "priced on CNT_GNT_COPIES and, by size, CNT_HV_COPY_BYTES_*"),
  free(L.CNT_GC_COPY_FAILS, "a failed op, priced on CNT_GNT_FAILED"),
  // argo: the hypercalls, ring copies and VIRQs are priced on the Argo and hypercall counters,
  // the transport's own copies (gpa_copy) by size on CNT_CPU_COPY_BYTES_*, moved to the backend by CNT_BE_COPY_BYTES_*.
  free(L.CNT_AR_REQUESTS_SENT, "each is a sendv priced on CNT_HYPERCALLS and the Argo ring-copy counters"),
  free(L.CNT_AR_COMPLETIONS_SENT, "each is a sendv priced on CNT_HYPERCALLS and the Argo ring-copy counters"),
  free(L.CNT_AR_SEND_EAGAIN, "the refused sendv is priced on CNT_HYPERCALLS"),
  free(L.CNT_AR_SPACE_WAITS, "each is a notify priced on CNT_HYPERCALLS"),
  free(L.CNT_AR_VIRQS_TAKEN, "the VIRQ is priced on the event-channel counters"),
  free(L.CNT_AR_MESSAGES_RECEIVED, "the copy out is a gpa_copy (CNT_COPY_BYTES, moved to the backend for its own) or the device's reads in place"),
  // pv-p2m: maps and unmaps are priced on CNT_FOREIGN_*, kicks and interrupts on CNT_EVTCHN_SENDS.
  free(L.CNT_PP_PFN_TO_MFN, "a lookup in the guest's own p2m table: plain loads inside the request's set-up"),
  free(L.CNT_PP_MAP_CALLS, "its hypercall is CNT_HYPERCALLS, each entry CNT_FOREIGN_MAPS"),
  free(L.CNT_PP_PAGES_MAPPED, "priced on CNT_FOREIGN_MAPS"),
  free(L.CNT_PP_PAGES_UNMAPPED, "priced on CNT_FOREIGN_UNMAPS and CNT_HYPERCALLS"),
  free(L.CNT_PP_RING_PAGES_MAPPED, "set-up; priced on CNT_FOREIGN_MAPS"),
  free(L.CNT_PP_KICKS, "an event-channel send, priced on CNT_EVTCHN_SENDS and CNT_HYPERCALLS"),
  free(L.CNT_PP_IRQS, "an event-channel send, priced on CNT_EVTCHN_SENDS and CNT_HYPERCALLS"),
  free(L.CNT_PP_BAD_MFN, "an error outcome, not work"),
  free(L.CNT_PP_SWIOTLB_BOUNCES, "bookkeeping; the bounce is a guest gpa_copy, priced by size on CNT_CPU_COPY_BYTES_*"),
  free(L.CNT_PP_SWIOTLB_BYTES, "a guest gpa_copy, priced by size on CNT_CPU_COPY_BYTES_*"),
  // fat-virtqueue: the slot copies are gpa_copy calls (CNT_COPY_BYTES), kicks and interrupts
  // event-channel sends, the ring a set-up foreign map.
  free(L.CNT_FV_SLOT_COPIES_IN, "the per-copy overhead is inside the per-byte price"),
  free(L.CNT_FV_SLOT_BYTES_IN, "a gpa_copy by the guest, priced by size on CNT_CPU_COPY_BYTES_*"),
  free(L.CNT_FV_SLOT_COPIES_OUT, "the per-copy overhead is inside the per-byte price"),
  free(L.CNT_FV_SLOT_BYTES_OUT, "a gpa_copy by the guest, priced by size on CNT_CPU_COPY_BYTES_*"),
  free(L.CNT_FV_RING_PAGES_MAPPED, "set-up; grant maps priced on CNT_GNT_MAPS"),
  free(L.CNT_FV_KICKS, "an event-channel send, priced on CNT_EVTCHN_SENDS and CNT_HYPERCALLS"),
  free(L.CNT_FV_IRQS, "an event-channel send, priced on CNT_EVTCHN_SENDS and CNT_HYPERCALLS"),
  free(L.CNT_FV_OVERSIZE, "a refusal, not work"),
  free(L.CNT_FV_SLOTS_EXHAUSTED, "a refusal, not work"),
  // preshared-bounce: the bounces are gpa_copy calls (CNT_CPU_COPY_BYTES_*), kicks and interrupts
  // event-channel sends (CNT_EVTCHN_SENDS, CNT_HYPERCALLS), the region a set-up foreign map.
  free(L.CNT_PB_BOUNCE_IN_COPIES, "the per-copy overhead is inside the per-byte price"),
  free(L.CNT_PB_BOUNCE_IN_BYTES, "a gpa_copy by the guest, priced by size on CNT_CPU_COPY_BYTES_*"),
  free(L.CNT_PB_BOUNCE_OUT_COPIES, "the per-copy overhead is inside the per-byte price"),
  free(L.CNT_PB_BOUNCE_OUT_BYTES, "a gpa_copy by the guest, priced by size on CNT_CPU_COPY_BYTES_*"),
  free(L.CNT_PB_REGION_PAGES_MAPPED, "set-up; priced on CNT_FOREIGN_MAPS"),
  free(L.CNT_PB_KICKS, "an event-channel send, priced on CNT_EVTCHN_SENDS and CNT_HYPERCALLS"),
  free(L.CNT_PB_IRQS, "an event-channel send, priced on CNT_EVTCHN_SENDS and CNT_HYPERCALLS"),
  free(L.CNT_PB_POOL_EXHAUSTED, "an error outcome, not work"),
]);
