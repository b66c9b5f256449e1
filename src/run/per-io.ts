// The per-I/O mechanism counts a reader compares transports by, from a counters delta. One
// mapping for every consumer (timed runs, sweeps, re-priced recordings).
import * as L from "../wasm/layout.ts";
import type { PerIo } from "./result.ts";

const sum = (c: ArrayLike<number>, ids: number[]) => ids.reduce((s, id) => s + c[id]!, 0);

/** What each counter of PerIo is made of (layout counter ids, summed). */
export const PER_IO_COUNTERS: Record<keyof PerIo, number[]> = {
  copies: [L.CNT_TR_COPIES_GUEST, L.CNT_TR_COPIES_HV, L.CNT_TR_COPIES_BACKEND],
  copiesGuest: [L.CNT_TR_COPIES_GUEST],
  copiesHv: [L.CNT_TR_COPIES_HV],
  copiesBackend: [L.CNT_TR_COPIES_BACKEND],
  copyBytes: [L.CNT_TR_COPY_BYTES_GUEST, L.CNT_TR_COPY_BYTES_HV, L.CNT_TR_COPY_BYTES_BACKEND],
  // Elements of grant_table_op (a batch of 8 maps is 8), not hypercalls.
  grantOps: [L.CNT_GNT_MAPS, L.CNT_GNT_UNMAPS, L.CNT_GNT_COPIES],
  maps: [L.CNT_GNT_MAPS, L.CNT_FOREIGN_MAPS],
  unmaps: [L.CNT_GNT_UNMAPS, L.CNT_FOREIGN_UNMAPS],
  // Removing a foreign entry flushes the mapper's TLBs (the pricing table charges it so).
  tlbFlushes: [L.CNT_GNT_TLB_FLUSHES, L.CNT_FOREIGN_UNMAPS],
  tlbFlushesElided: [L.CNT_GNT_TLB_FLUSHES_ELIDED],
  traps: [L.CNT_TR_REG_TRAPS],
  ioreqs: [L.CNT_IOREQ_SENT],
  hypercalls: [L.CNT_HYPERCALLS],
  notifications: [L.CNT_TR_NOTIFICATIONS],
  notificationsSuppressed: [L.CNT_VQ_NOTIFY_SUPPRESSED],
  interrupts: [L.CNT_TR_INTERRUPTS],
  evtchnSends: [L.CNT_EVTCHN_SENDS],
  atomics: [L.CNT_ATOMIC_OPS],
};

/** Mechanism counts per completed I/O from a counters delta (one value per slot). */
export function perIoFrom(counters: ArrayLike<number>, ios: number): PerIo {
  if (!(ios > 0) || !Number.isInteger(ios)) throw new RangeError(`perIoFrom: ios must be a positive integer, got ${ios}`);
  if (counters.length !== L.COUNTERS_SLOTS) throw new RangeError(`perIoFrom: counters must have ${L.COUNTERS_SLOTS} slots, got ${counters.length}`);
  const out = {} as PerIo;
  for (const [k, ids] of Object.entries(PER_IO_COUNTERS) as [keyof PerIo, number[]][]) out[k] = sum(counters, ids) / ios;
  return out;
}
