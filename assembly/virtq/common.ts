// Shared by the split and packed kernels: queue state blocks, ring memory access through a
// small per-queue translation cache, error reporting and the event-index test.
import {
  QUEUES_BASE, QUEUE_STATE_SIZE, Q_FLAGS, Q_ERROR, Q_RING_DOMID, Q_TLB, QTLB_ENTRY_SIZE, QTLB_TAG,
  QTLB_BASE, QTLB_GEN, QTLB_WRITABLE, QF_BROKEN, MACHINE_BASE, MACHINE_P2M_GEN, PAGE_SHIFT, PAGE_MASK,
  CNT_VQ_ERRORS, CNT_VIRTQ_ERR_BASE,
} from "../layout";
import { count } from "../counters";
import { translate } from "../machine/access";

/** A 64-bit address from the two u32 halves it crosses the host boundary in. */
@inline export function u64of(hi: u32, lo: u32): u64 {
  return (<u64>hi << 32) | <u64>lo;
}

@inline export function qBlock(q: u32): usize {
  return QUEUES_BASE + q * QUEUE_STATE_SIZE;
}

/** Records a ring-level error: the queue stops (device needs reset) and the code is counted.
 *  Only the first error is kept; returns the code for convenient `return fail(...)`. */
export function fail(qb: usize, code: u32): u32 {
  const flags = load<u32>(qb, Q_FLAGS);
  if ((flags & QF_BROKEN) == 0) {
    store<u32>(qb, flags | QF_BROKEN, Q_FLAGS);
    store<u32>(qb, code, Q_ERROR);
  }
  count(CNT_VQ_ERRORS);
  count(CNT_VIRTQ_ERR_BASE + code);
  return code;
}

/** Linear address of ring byte `gpa` (an access that does not cross a page), or 0 when the
 *  ring domain may not make this access. Four direct-mapped entries keyed by gfn; an entry is
 *  valid only while the machine's p2m generation is unchanged. */
export function ringAddr(qb: usize, gpa: u64, write: bool): usize {
  const gfn = <u32>(gpa >> PAGE_SHIFT);
  const e = qb + Q_TLB + ((gfn & 3) * QTLB_ENTRY_SIZE);
  const gen = load<u32>(MACHINE_BASE, MACHINE_P2M_GEN);
  if (load<u32>(e, QTLB_TAG) == gfn + 1 && load<u32>(e, QTLB_GEN) == gen && (!write || load<u32>(e, QTLB_WRITABLE) != 0)) {
    return load<u32>(e, QTLB_BASE) + (<u32>gpa & PAGE_MASK);
  }
  if ((gpa >> 32) != 0) return 0;
  const base = translate(load<u32>(qb, Q_RING_DOMID), gfn, write);
  if (base == 0) return 0;
  // translate() may have populated a frame and bumped the generation: re-read it.
  store<u32>(e, gfn + 1, QTLB_TAG);
  store<u32>(e, <u32>base, QTLB_BASE);
  store<u32>(e, load<u32>(MACHINE_BASE, MACHINE_P2M_GEN), QTLB_GEN);
  store<u32>(e, write ? 1 : 0, QTLB_WRITABLE);
  return base + (<u32>gpa & PAGE_MASK);
}

/** The uapi vring_need_event(): notify iff `event` lies in [old, new) modulo 2^16. */
@inline export function needEvent(event: u32, newIdx: u32, oldIdx: u32): bool {
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

/** Size in bytes of a legacy contiguous split ring (uapi vring_size()). */
export function vringSize(num: u32, align: u32): u32 {
  const availEnd = 16 * num + 2 * (3 + num);
  return ((availEnd + align - 1) & ~(align - 1)) + 2 * 3 + 8 * num;
}
