// The priced primitives: the steps whose cost differs between architectures. Every profile
// gives a figure for each (or says it does not apply); the pricing table says how many of
// each a counted event implies. Figures are incremental: `evtchn_send` is what a send adds to
// the hypercall that carries it, so one event is never charged twice.

export const PRIMITIVES = {
  // traps and calls
  hypercall: "no-op hypercall round trip (guest -> hypervisor -> guest)",
  vm_exit: "trap round trip: world switch out of the guest and back, no handling",
  mmio_trap: "stage-2 abort / EPT violation on an emulated register: exit, decode, dispatch, resume",
  hv_op_work: "bookkeeping a non-trivial hypercall adds to the no-op round trip (argument copy-in, lookup, lock)",
  // IOREQ
  ioreq_wake: "waking the device model for a request: notification to the backend until it runs",
  sched_decision: "one hypervisor scheduling decision (a vCPU blocks or wakes)",
  // notification
  evtchn_send: "EVTCHNOP_send work beyond the hypercall: set pending, kick the target vCPU",
  upcall: "virtual interrupt injection plus guest handler entry and completion",
  ipi: "physical inter-processor interrupt, send to handler entry",
  // memory management
  tlb_flush_local: "TLB flush on the current CPU, including the refill misses it causes",
  tlb_flush_remote: "TLB shootdown of other CPUs (IPI or broadcast invalidate, wait for completion)",
  pte_update: "one page-table / p2m entry written for a map or unmap, under the table lock",
  grant_entry_update: "hypervisor bookkeeping for one grant map or release (active entry, pin, maptrack); the shared-entry atomic is priced as an atomic",
  // caches
  cacheline_transfer: "one cache line moved from another CPU's cache",
  // atomics (uncontended: line already owned; contended: another CPU writes the same line)
  cas: "compare-and-swap as the hypervisor's guest-atomic helper executes it, uncontended",
  cas_contended: "compare-and-swap on a line another CPU is writing",
  fetch_add: "fetch-and-add (or and/or/xor), uncontended",
  fetch_add_contended: "fetch-and-add on a contended line",
  xchg: "atomic exchange, uncontended",
  xchg_contended: "atomic exchange on a contended line",
  llsc_iteration: "one load-exclusive/store-exclusive (LR/SC) pair that succeeds, uncontended",
  llsc_iteration_contended: "one LL/SC pair on a contended line",
  llsc_retry: "a failed store-exclusive: the loop goes round again",
  lse_op: "single-instruction atomic (Arm LSE CAS/LDADD/SWP, RISC-V AMO*), uncontended",
  lse_op_contended: "single-instruction atomic on a contended line",
  masked_llsc_subword: "8/16-bit CAS emulated by a masked LL/SC on the containing 32-bit word, uncontended",
  masked_llsc_subword_contended: "masked sub-word LL/SC on a contended line",
  // domains and daemons
  domain_pause: "pausing a running domain (wait until its vCPUs are descheduled)",
  domain_unpause: "unpausing a domain (wake its vCPUs)",
  context_switch: "switching a pCPU from one domain's vCPU to another's",
  xenstore_message: "xenstored processing one request or watch event (kicks priced separately)",
  // virtqueue processing (the CPU work; cross-CPU line traffic is cacheline_transfer)
  vq_desc_pop: "device: read and validate one descriptor of a chain",
  vq_chain_pop: "device: per-chain work of a pop beyond its descriptors",
  vq_indirect: "device: following one indirect descriptor table",
  vq_used_push: "device: write one used entry",
  vq_chain_add: "driver: per-chain work of adding a buffer",
  vq_desc_add: "driver: write one descriptor",
  vq_reclaim: "driver: reclaim one completed chain",
} as const;

export type Primitive = keyof typeof PRIMITIVES;
export const PRIMITIVE_NAMES = Object.keys(PRIMITIVES) as Primitive[];

export function isPrimitive(name: string): name is Primitive {
  return Object.prototype.hasOwnProperty.call(PRIMITIVES, name);
}

/** Who spends the CPU time: the guest (frontend driver), the hypervisor, or the backend. */
export const COMPONENTS = ["guest", "hypervisor", "backend"] as const;
export type Component = (typeof COMPONENTS)[number];

/** How the atomics of an architecture behave (what the simulation of contention depends on). */
export const ATOMICS_MODELS = ["x86", "arm-llsc", "arm-lse", "riscv"] as const;
export type AtomicsModel = (typeof ATOMICS_MODELS)[number];
