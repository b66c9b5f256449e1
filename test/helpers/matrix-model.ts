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
}

export const COUNTERS = {
  guestCopies: L.CNT_TR_COPIES_GUEST, guestBytes: L.CNT_TR_COPY_BYTES_GUEST, hvCopies: L.CNT_TR_COPIES_HV, hvBytes: L.CNT_TR_COPY_BYTES_HV,
  backendCopies: L.CNT_TR_COPIES_BACKEND, backendBytes: L.CNT_TR_COPY_BYTES_BACKEND, grants: L.CNT_GM_GRANTS, grantMaps: L.CNT_GM_PAGES_MAPPED,
  grantUnmaps: L.CNT_GM_PAGES_UNMAPPED, tlbFlushes: L.CNT_GNT_TLB_FLUSHES, grantCopyOps: L.CNT_GC_COPY_OPS, foreignMaps: L.CNT_FOREIGN_MAPS,
  foreignUnmaps: L.CNT_FOREIGN_UNMAPS, exposedIo: L.CNT_TR_PAGES_EXPOSED_IO, traps: L.CNT_TR_REG_TRAPS, notifications: L.CNT_TR_NOTIFICATIONS,
  interrupts: L.CNT_TR_INTERRUPTS, interruptsMerged: L.CNT_TR_INTERRUPTS_MERGED,
} as const;

export type Expect = Record<keyof typeof COUNTERS, number>;

const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
const readable = (c: ChainShape) => c.bufs.filter((b) => !b.write);
const writable = (c: ChainShape) => c.bufs.filter((b) => b.write);
const readBytes = (c: ChainShape) => sum(readable(c), (b) => b.used);
const writeBytes = (c: ChainShape) => sum(writable(c), (b) => b.used);

function zero(s: RunShape): Expect {
  return {
    guestCopies: 0, guestBytes: 0, hvCopies: 0, hvBytes: 0, backendCopies: 0, backendBytes: 0, grants: 0, grantMaps: 0, grantUnmaps: 0,
    tlbFlushes: 0, grantCopyOps: 0, foreignMaps: 0, foreignUnmaps: 0, exposedIo: 0, traps: 0, notifications: s.kicks,
    interrupts: 0, interruptsMerged: 0,
  };
}

/** Interrupt delivery: a virtio-mmio line (or argo's local flag) merges a raise while one is
 *  pending: one delivery per handler run, the rest merged. */
const line = (s: RunShape) => ({ interrupts: s.handlers, interruptsMerged: s.irqs - s.handlers });
/** Event-channel transports: every raise is one send (Xen merges the pending bit, not the
 *  count), and a kick on the device's one channel notifies every ready queue. */
const evtchn = (s: RunShape) => ({ interrupts: s.irqs, interruptsMerged: 0, notifications: s.kicks * s.queues });
/** Register window traps: QueueNotify per kick, InterruptStatus + InterruptACK per handler run. */
const window = (s: RunShape) => ({ traps: s.kicks + 2 * s.handlers });

/** Bounce-style frontends copy each buffer once, whole: readable ones in at submit, writable
 *  ones out at completion. */
const bounce = (s: RunShape) => ({ guestCopies: sum(s.chains, (c) => c.bufs.length), guestBytes: sum(s.chains, (c) => sum(c.bufs, (b) => b.len)) });

export const MODEL: Record<string, (s: RunShape) => Expect> = {
  // The VMM sees all guest RAM: nothing copied or mapped per I/O.
  "kvm-ioeventfd": (s) => ({ ...zero(s), ...window(s), ...line(s) }),
  // The chain's pages foreign-mapped for the request and unmapped after it.
  "mmio-foreign": (s) => {
    const pages = sum(s.chains, (c) => c.pages);
    return { ...zero(s), ...window(s), ...line(s), foreignMaps: pages, foreignUnmaps: pages, exposedIo: pages };
  },
  // One grant per buffer page, one map and one unmap per page, one flush per chain's unmap batch.
  "grant-map": (s) => {
    const bufs = sum(s.chains, (c) => c.bufs.length);
    return { ...zero(s), ...window(s), ...line(s), grants: bufs, grantMaps: bufs, grantUnmaps: bufs, tlbFlushes: s.chains.length, exposedIo: bufs };
  },
  // Grants as grant-map, then one GNTTABOP_copy op (a hypervisor copy) per buffer touched.
  "grant-copy": (s) => {
    const bufs = sum(s.chains, (c) => c.bufs.length);
    const touched = sum(s.chains, (c) => c.bufs.filter((b) => b.used > 0).length);
    const bytes = sum(s.chains, (c) => readBytes(c) + writeBytes(c));
    return { ...zero(s), ...window(s), ...line(s), grants: bufs, exposedIo: bufs, grantCopyOps: touched, hvCopies: touched, hvBytes: bytes };
  },
  // The pool is mapped once: per I/O only the frontend's copies through it.
  "grant-persistent": (s) => ({ ...zero(s), ...window(s), ...line(s), ...bounce(s) }),
  // Request: sender stages, Xen copies into the ring, the backend copies out (3 when there is
  // payload); completion the same way back.
  "argo:buffered": (s) => {
    const req = s.chains.filter((c) => readBytes(c) > 0);
    const done = s.chains.filter((c) => writeBytes(c) > 0);
    const rb = sum(req, readBytes);
    const wb = sum(done, writeBytes);
    return {
      ...zero(s), ...line(s), guestCopies: req.length + done.length, guestBytes: rb + wb, hvCopies: req.length + done.length, hvBytes: rb + wb,
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
    return { ...zero(s), ...line(s), guestCopies: done.length, guestBytes: wb, hvCopies: req.length + done.length, hvBytes: rb + wb };
  },
  // dom0 maps the machine frames of each chain's pages, unmaps them when it is done.
  "pv-p2m": (s) => {
    const pages = sum(s.chains, (c) => c.pages);
    return { ...zero(s), ...evtchn(s), foreignMaps: pages, foreignUnmaps: pages, exposedIo: pages };
  },
  "fat-virtqueue": (s) => ({ ...zero(s), ...evtchn(s), ...bounce(s) }),
  "preshared-bounce": (s) => ({ ...zero(s), ...evtchn(s), ...bounce(s) }),
};
