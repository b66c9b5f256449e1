// Where a job's cycles per I/O go: its data path (copies; maps and unmaps; TLB flushes), the
// device's own payload bytes, and the rest (control: traps, notifications, interrupts, ring
// work, atomics). Read from the priced counters of the measured phase (JobResult.price.byCounter),
// with the hypercall round trips of the map, unmap and copy calls moved from control to the data
// path they serve.
import * as L from "../wasm/layout.ts";
import { counterName } from "../cost/counter-names.ts";
import { primitiveCycles, type Profile } from "../cost/profile.ts";
import type { JobResult } from "../run/result.ts";

export interface DataPathSplit {
  /** Cycles per I/O of the transport's copies (every size bucket, grant-copy element work). */
  copy: number;
  /** ... of granting pages per I/O (the guest's entries and revokes, Xen's pins of them, for a
   *  grant copy too) and of grant and foreign maps and unmaps (entries, p2m writes), but not
   *  their flushes. */
  map: number;
  /** ... of the TLB flushes unmaps issue. */
  flush: number;
  /** ... of the device consuming or producing the payload (the same for every transport of a job). */
  device: number;
  /** Everything else: the control path. */
  control: number;
  total: number;
}

const ids = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);
const COPY_COUNTERS = [
  ...ids(L.CNT_CPU_COPIES_BASE, L.COPY_SIZE_BUCKETS), ...ids(L.CNT_CPU_COPY_BYTES_BASE, L.COPY_SIZE_BUCKETS),
  ...ids(L.CNT_HV_COPIES_BASE, L.COPY_SIZE_BUCKETS), ...ids(L.CNT_HV_COPY_BYTES_BASE, L.COPY_SIZE_BUCKETS),
  L.CNT_TR_COPY_BYTES_BACKEND, L.CNT_GNT_COPIES,
];
const MAP_COUNTERS = [L.CNT_GNT_GUEST_GRANTS, L.CNT_GNT_MAPS, L.CNT_GNT_UNMAPS, L.CNT_P2M_MAPS, L.CNT_P2M_UNMAPS, L.CNT_FOREIGN_MAPS, L.CNT_FOREIGN_UNMAPS];
const DEVICE_COUNTERS = [L.CNT_TR_DEV_READ_BYTES, L.CNT_TR_DEV_WRITE_BYTES];
/** Hypercalls made for maps and unmaps (one per batch, or per page where the transport unmaps so). */
const MAP_CALLS = [L.CNT_GM_MAP_CALLS, L.CNT_GM_UNMAP_CALLS, L.CNT_MF_MAP_CALLS, L.CNT_MF_PAGES_UNMAPPED, L.CNT_PP_MAP_CALLS, L.CNT_PP_PAGES_UNMAPPED];
const COPY_CALLS = [L.CNT_GC_COPY_CALLS];
/** Grant-entry atomics (Xen's pin cmpxchg and flag clear, the guest's revoke), priced on
 *  CNT_ATOMIC_OPS with the event-channel bit operations: taken out at one cas each. */
const GRANT_ATOMICS = [L.CNT_GNT_CMPXCHG, L.CNT_GNT_FLAG_CLEARS, L.CNT_GNT_GUEST_CMPXCHG];

/** The split of a result's cycles per I/O; `profile` is the one it was priced under. */
export function dataPathSplit(r: JobResult, profile: Profile): DataPathSplit {
  const per = (list: readonly number[]) => list.reduce((s, id) => s + (r.price.byCounter[counterName(id)] ?? 0), 0) / r.ios;
  const times = (list: readonly number[], prim: "hypercall" | "cas") => (list.reduce((s, id) => s + r.counters[id]!, 0) * primitiveCycles(profile, prim)) / r.ios;
  // A foreign unmap's entry carries the mapper's TLB shootdown: it belongs to flush, not map.
  const foreignFlush = (r.counters[L.CNT_FOREIGN_UNMAPS]! * primitiveCycles(profile, "tlb_flush_remote")) / r.ios;
  const flush = per([L.CNT_GNT_TLB_FLUSHES]) + foreignFlush;
  const copy = per(COPY_COUNTERS) + times(COPY_CALLS, "hypercall");
  const map = per(MAP_COUNTERS) - foreignFlush + times(MAP_CALLS, "hypercall") + times(GRANT_ATOMICS, "cas");
  const device = per(DEVICE_COUNTERS);
  const total = r.cyclesPerIo;
  return { copy, map, flush, device, control: total - copy - map - flush - device, total };
}

/** Cycles per I/O of the data path proper: copies, maps and unmaps, flushes. */
export function dataPathCycles(s: DataPathSplit): number {
  return s.copy + s.map + s.flush;
}
