// The per-I/O model of each transport (docs/transports.md), as a function of what a run moved:
// the chains completed (their buffers, pages and the bytes the device touched) and the
// notifications, interrupts and interrupt handler runs the workload's shape implies. The
// matrix test compares the counters of a real run with these predictions.
import * as L from "../../src/wasm/layout.ts";

/** Every transport spelling the matrix covers. */
export const TRANSPORTS = [
  "kvm-ioeventfd", "mmio-foreign", "grant-map", "grant-copy", "grant-persistent", "argo:buffered", "argo:sg", "pv-p2m", "fat-virtqueue",
  "preshared-bounce",
] as const;

export interface Buf {
  len: number;
  write: boolean;
  /** Bytes the device read (readable) or wrote (writable) in it. */
  used: number;
}

export interface ChainShape {
  bufs: Buf[];
  /** Distinct guest pages the chain's buffers lie on. */
  pages: number;
}

export interface RunShape {
  chains: ChainShape[];
  /** Available-buffer notifications that reach the backend. */
  kicks: number;
  /** Interrupts raised towards guests (a raise while one is pending included). */
  irqs: number;
  /** Guest interrupt handler runs (each reads InterruptStatus and writes InterruptACK on a
   *  virtio-mmio window). */
  handlers: number;
  /** Queues the device has (virtio-net 2). */
  queues: number;
  /** Guests with the device (each its own transport instance and backend state). */
  guests: number;
  /** Rx buffers each guest keeps posted between I/Os (one page each; virtio-net 8, else 0). */
  rxPosted: number;
  /** argo: messages that found their destination domain's VIRQ_ARGO still pending (Xen's
   *  test_and_set of the pending bit finds it set: no selector or upcall work). */
  virqMerged: number;
  /** argo: of those, the ones read by the same receive pass as the message before them (same
   *  ring): that pass's one HYPERVISOR_argo_op(notify) covers both. */
  passMerged: number;
}

/** Guest RAM of the matrix's worlds (16 MiB): what a backend that may map any frame reaches. */
export const GUEST_RAM_PAGES = 4096;
/** A 256-entry split ring: descriptors 4096 B + avail 518 B + used 2054 B, each area from its
 *  own page: 3 pages per queue. */
const RING_PAGES_PER_QUEUE = 3;
/** pv-p2m's rings: 2^ring-page-order pages, the smallest power of two holding 3 per queue
 *  (world-transport.ts: order 2 for one queue, 3 for virtio-net's two). */
const pvRingPages = (queues: number) => 2 ** Math.ceil(Math.log2(Math.max(2, RING_PAGES_PER_QUEUE * queues)));
/** grant-persistent's pool of granted pages, mapped once (grant-map.ts `poolPages` default). */
const PERSISTENT_POOL_PAGES = 64;
/** fat-virtqueue's payload slots and preshared-bounce's bounce pool: 32 pages each by default. */
const SLOT_PAGES = 32;

export const COUNTERS = {
  guestCopies: L.CNT_TR_COPIES_GUEST, guestBytes: L.CNT_TR_COPY_BYTES_GUEST, hvCopies: L.CNT_TR_COPIES_HV, hvBytes: L.CNT_TR_COPY_BYTES_HV,
  backendCopies: L.CNT_TR_COPIES_BACKEND, backendBytes: L.CNT_TR_COPY_BYTES_BACKEND, grants: L.CNT_GM_GRANTS, grantMaps: L.CNT_GM_PAGES_MAPPED,
  grantUnmaps: L.CNT_GM_PAGES_UNMAPPED, tlbFlushes: L.CNT_GNT_TLB_FLUSHES, grantCopyOps: L.CNT_GC_COPY_OPS, foreignMaps: L.CNT_FOREIGN_MAPS,
  foreignUnmaps: L.CNT_FOREIGN_UNMAPS, exposedIo: L.CNT_TR_PAGES_EXPOSED_IO, traps: L.CNT_TR_REG_TRAPS, notifications: L.CNT_TR_NOTIFICATIONS,
  interrupts: L.CNT_TR_INTERRUPTS, interruptsMerged: L.CNT_TR_INTERRUPTS_MERGED, hypercalls: L.CNT_HYPERCALLS, ioreqs: L.CNT_IOREQ_SENT,
  evtchnSends: L.CNT_EVTCHN_SENDS, atomics: L.CNT_ATOMIC_OPS, notificationsSuppressed: L.CNT_VQ_NOTIFY_SUPPRESSED,
  tlbFlushesElided: L.CNT_GNT_TLB_FLUSHES_ELIDED,
} as const;

/** Gauges read as they stand after the run (between I/Os), not as a difference. */
export const GAUGES = { reachable: L.CNT_TR_EXPOSED_REACHABLE, mapped: L.CNT_TR_EXPOSED_MAPPED } as const;

export type Expect = Record<keyof typeof COUNTERS | keyof typeof GAUGES, number>;

const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
const readable = (c: ChainShape) => c.bufs.filter((b) => !b.write);
const writable = (c: ChainShape) => c.bufs.filter((b) => b.write);
const readBytes = (c: ChainShape) => sum(readable(c), (b) => b.used);
const writeBytes = (c: ChainShape) => sum(writable(c), (b) => b.used);

function zero(s: RunShape): Expect {
  return {
    guestCopies: 0, guestBytes: 0, hvCopies: 0, hvBytes: 0, backendCopies: 0, backendBytes: 0, grants: 0, grantMaps: 0, grantUnmaps: 0,
    tlbFlushes: 0, grantCopyOps: 0, foreignMaps: 0, foreignUnmaps: 0, exposedIo: 0, traps: 0, notifications: s.kicks,
    interrupts: 0, interruptsMerged: 0, hypercalls: 0, ioreqs: 0, evtchnSends: 0, atomics: 0,
    // At iodepth 1 the backend re-enables notifications after every pass before the guest
    // kicks again, so no kick is skipped: suppression needs requests already in flight.
    notificationsSuppressed: 0,
    // No world here turns A-bit elision on: every unmap batch that needs a flush flushes.
    tlbFlushesElided: 0,
    reachable: 0, mapped: 0,
  };
}

/** Xen's 2-level set-pending on a port nobody has taken yet (evtchn-2l.ts): test_and_set of the
 *  pending bit, of the vCPU's selector bit and of evtchn_upcall_pending, 3 atomic RMWs on
 *  shared_info. A merged one stops after the first. (The receiving kernel's scan clears the
 *  bits with plain stores in the scan kernel, so it adds none; Linux uses xchg there.) */
const SET_PENDING_ATOMICS = 3;
/** One grant used by Xen for one I/O (grant-core.ts, grant-guest.ts): Xen's cmpxchg of
 *  {flags, domid} setting GTF_reading/writing when it maps or copies, Xen's atomic clear of
 *  those flags when it unmaps or the copy ends, the guest's cmpxchg of flags to 0 in
 *  gnttab_end_foreign_access_ref: 3 atomic RMWs on the guest's grant entry. */
const GRANT_ATOMICS = 3;

/** A virtio-mmio window served by an IOREQ server: every trapped access is one ioreq. Xen
 *  marks the emulator's ioreq port pending (an upcall into the backend domain: 3 atomics), the
 *  emulator answers with EVTCHNOP_send on it (a hypercall; the port is Xen-consumed, it wakes
 *  the vCPU without shared_info bits). The line costs 2 dm_ops per handler run:
 *  set_irq_level(1) when InterruptStatus goes 0 -> 1, set_irq_level(0) at the guest's ACK. */
function ioreq(s: RunShape) {
  const ioreqs = s.kicks + 2 * s.handlers;
  return { ioreqs, evtchnSends: ioreqs, hypercalls: ioreqs + 2 * s.handlers, atomics: SET_PENDING_ATOMICS * ioreqs };
}
/** Event-channel transports: the guest's kick and the backend's interrupt are one EVTCHNOP_send
 *  each (a hypercall); the other side's kernel takes the upcall at once, so each send sets
 *  the port pending afresh (3 atomics). */
const sends = (s: RunShape) => ({ evtchnSends: s.kicks + s.irqs, hypercalls: s.kicks + s.irqs, atomics: SET_PENDING_ATOMICS * (s.kicks + s.irqs) });

/** Between I/Os, per guest: a backend that may map every frame reaches all RAM; `mapped` is
 *  what it holds mapped (rings, plus what the transport keeps mapped). */
const gauge = (s: RunShape, reachable: number, mapped: number) => ({ reachable: s.guests * reachable, mapped: s.guests * mapped });
const rings = (s: RunShape) => RING_PAGES_PER_QUEUE * s.queues;

/** Interrupt delivery: a virtio-mmio line (or argo's local flag) merges a raise while one is
 *  pending: one delivery per handler run, the rest merged. */
const line = (s: RunShape) => ({ interrupts: s.handlers, interruptsMerged: s.irqs - s.handlers });
/** Event-channel transports: every raise is one send (Xen merges the pending bit, not the
 *  count), and a kick on the device's one channel notifies every ready queue. */
const evtchn = (s: RunShape) => ({ interrupts: s.irqs, interruptsMerged: 0, notifications: s.kicks * s.queues });
/** Register window traps: QueueNotify per kick, InterruptStatus + InterruptACK per handler run. */
const window = (s: RunShape) => ({ traps: s.kicks + 2 * s.handlers });

/** argo: every chain is two messages, a request and its completion, each one
 *  HYPERVISOR_argo_op(sendv). Xen raises VIRQ_ARGO on the destination per message (set-pending:
 *  3 atomics, 1 when it finds the VIRQ pending). Each receive pass that reads messages ends with
 *  one argo_op(notify) (rx_ptr moved: Xen may wake a space waiter); a message read by the pass
 *  of the one before it shares that notify. No event-channel hypercalls, no ioreqs; the ring
 *  pointers are single-copy-atomic loads and stores, not RMWs. Nothing of the guest is mapped:
 *  the gauges stay 0. */
function argoSignals(s: RunShape) {
  const messages = 2 * s.chains.length;
  const passes = messages - s.passMerged;
  return { hypercalls: messages + passes, atomics: SET_PENDING_ATOMICS * (messages - s.virqMerged) + s.virqMerged };
}

/** Bounce-style frontends copy each buffer once, whole: readable ones in at submit, writable
 *  ones out at completion. */
const bounce = (s: RunShape) => ({ guestCopies: sum(s.chains, (c) => c.bufs.length), guestBytes: sum(s.chains, (c) => sum(c.bufs, (b) => b.len)) });

export const MODEL: Record<string, (s: RunShape) => Expect> = {
  // The VMM sees all guest RAM: nothing copied or mapped per I/O.
  // No hypervisor in the path: no hypercalls, ioreqs, event channels or shared_info atomics.
  "kvm-ioeventfd": (s) => ({ ...zero(s), ...window(s), ...line(s), ...gauge(s, GUEST_RAM_PAGES, GUEST_RAM_PAGES) }),
  // The chain's pages foreign-mapped for the request and unmapped after it.
  "mmio-foreign": (s) => {
    const pages = sum(s.chains, (c) => c.pages);
    // Hypercalls: the ioreq ones, one add_to_physmap_batch per chain, one remove_from_physmap
    // per page. Between I/Os the ring and every posted rx buffer stay mapped.
    const io = ioreq(s);
    return {
      ...zero(s), ...window(s), ...line(s), ...io, hypercalls: io.hypercalls + s.chains.length + pages, foreignMaps: pages, foreignUnmaps: pages,
      exposedIo: pages, ...gauge(s, GUEST_RAM_PAGES, rings(s) + s.rxPosted),
    };
  },
  // One grant per buffer page, one map and one unmap per page, one flush per chain's unmap batch.
  "grant-map": (s) => {
    const bufs = sum(s.chains, (c) => c.bufs.length);
    // Hypercalls: the ioreq ones, one GNTTABOP_map_grant_ref batch and one unmap batch per
    // chain. The backend reaches only what is granted, and maps all of it: the ring and the
    // posted rx buffers.
    const io = ioreq(s);
    return {
      ...zero(s), ...window(s), ...line(s), ...io, hypercalls: io.hypercalls + 2 * s.chains.length, atomics: io.atomics + GRANT_ATOMICS * bufs, grants: bufs,
      grantMaps: bufs, grantUnmaps: bufs, tlbFlushes: s.chains.length, exposedIo: bufs, ...gauge(s, rings(s) + s.rxPosted, rings(s) + s.rxPosted),
    };
  },
  // Grants as grant-map, then one GNTTABOP_copy op (a hypervisor copy) per buffer touched, in
  // one call per direction.
  "grant-copy": (s) => {
    const bufs = sum(s.chains, (c) => c.bufs.length);
    const touched = sum(s.chains, (c) => c.bufs.filter((b) => b.used > 0).length);
    const bytes = sum(s.chains, (c) => readBytes(c) + writeBytes(c));
    // Hypercalls: the ioreq ones and one GNTTABOP_copy per direction a chain is touched in: its
    // readable part copied in whole at the device's first read, what it wrote copied out when
    // it closes (blk: 2, header+data in or data+status out; net and rng: 1); every chain here
    // fits the 32-page bounce area. Posted rx buffers stay granted (reachable) but only the ring is mapped.
    const calls = sum(s.chains, (c) => Number(c.bufs.some((b) => !b.write && b.used > 0)) + Number(c.bufs.some((b) => b.write && b.used > 0)));
    const io = ioreq(s);
    return {
      ...zero(s), ...window(s), ...line(s), ...io, hypercalls: io.hypercalls + calls, atomics: io.atomics + GRANT_ATOMICS * bufs, grants: bufs,
      exposedIo: bufs, grantCopyOps: touched, hvCopies: touched, hvBytes: bytes, ...gauge(s, rings(s) + s.rxPosted, rings(s)),
    };
  },
  // The pool is mapped once: per I/O only the frontend's copies through it.
  // No grant operation per I/O, so only the ioreq counts; ring + pool granted and mapped.
  "grant-persistent": (s) => ({
    ...zero(s), ...window(s), ...line(s), ...bounce(s), ...ioreq(s), ...gauge(s, rings(s) + PERSISTENT_POOL_PAGES, rings(s) + PERSISTENT_POOL_PAGES),
  }),
  // Request: sender stages, Xen copies into the ring, the backend copies out (3 when there is
  // payload); completion the same way back.
  "argo:buffered": (s) => {
    const req = s.chains.filter((c) => readBytes(c) > 0);
    const done = s.chains.filter((c) => writeBytes(c) > 0);
    const rb = sum(req, readBytes);
    const wb = sum(done, writeBytes);
    return {
      ...zero(s), ...line(s), ...argoSignals(s), guestCopies: req.length + done.length, guestBytes: rb + wb, hvCopies: req.length + done.length, hvBytes: rb + wb,
      backendCopies: req.length + done.length, backendBytes: rb + wb,
    };
  },
  // Request: only Xen's copy (gathered from the driver's buffers, read in place in the ring);
  // completion: Xen's copy and the guest's copy into the driver's buffers.
  "argo:sg": (s) => {
    const req = s.chains.filter((c) => readBytes(c) > 0);
    const done = s.chains.filter((c) => writeBytes(c) > 0);
    const rb = sum(req, readBytes);
    const wb = sum(done, writeBytes);
    return { ...zero(s), ...line(s), ...argoSignals(s), guestCopies: done.length, guestBytes: wb, hvCopies: req.length + done.length, hvBytes: rb + wb };
  },
  // dom0 maps the machine frames of each chain's pages, unmaps them when it is done.
  "pv-p2m": (s) => {
    const pages = sum(s.chains, (c) => c.pages);
    // Hypercalls: the sends, one map batch per chain, one unmap per page. dom0 may map any
    // frame; between I/Os it holds the ring pages and each posted rx buffer.
    const sig = sends(s);
    return {
      ...zero(s), ...evtchn(s), ...sig, hypercalls: sig.hypercalls + s.chains.length + pages, foreignMaps: pages, foreignUnmaps: pages, exposedIo: pages,
      ...gauge(s, GUEST_RAM_PAGES, pvRingPages(s.queues) + s.rxPosted),
    };
  },
  // Only the sends; the ring with its slots (or the region with its pool) is mapped for good.
  "fat-virtqueue": (s) => ({ ...zero(s), ...evtchn(s), ...bounce(s), ...sends(s), ...gauge(s, rings(s) + SLOT_PAGES, rings(s) + SLOT_PAGES) }),
  "preshared-bounce": (s) => ({ ...zero(s), ...evtchn(s), ...bounce(s), ...sends(s), ...gauge(s, rings(s) + SLOT_PAGES, rings(s) + SLOT_PAGES) }),
};
