// Split virtqueue, device side: reset, enable (QueueReady = 1, validating E1-E3), state restore
// and the host-controlled flags.
import {
  Q_FLAGS, Q_RING_DOMID, Q_SIZE, Q_ERROR, Q_DESC, Q_DRIVER, Q_DEVICE, Q_NEXT_AVAIL, Q_NEXT_USED,
  Q_NUM_ADDED, Q_MAX_SEGS, Q_IN_FLIGHT, Q_BUF_DOMID, Q_AUX, Q_SIGNALLED, Q_SIGNALLED_VALID, Q_TLB,
  QTLB_ENTRIES, QTLB_ENTRY_SIZE, QUEUE_STATE_SIZE, QF_READY, QF_EVENT_IDX, QF_INDIRECT, QF_IN_ORDER,
  QF_BROKEN, QF_STRICT_E14, QF_STRICT_E16, QF_STRICT_E19, QF_DRIVER_OK, QS_MAX_SIZE, QS_MAX_INDIRECT,
  QS_STATUS, QS_NOTIFY_ON, QS_AUX_BYTES_PER_SLOT, DOMID_INVALID, VIRTQ_MAX_SIZE, VQ_OK, VQ_E1_BAD_SIZE,
  VQ_E2_MISALIGNED, VQ_E3_RING_OUTSIDE_RAM,
} from "../layout";
import { qBlock } from "./common";
import { broke, rangeAccessible } from "./split-check";

/** Flags the host may choose at enable time (features and strictness policy). */
const ENABLE_FLAGS: u32 = QF_EVENT_IDX | QF_INDIRECT | QF_IN_ORDER | QF_STRICT_E14 | QF_STRICT_E16 | QF_STRICT_E19;

export function splitDevReset(q: u32, ringDomid: u32, maxSize: u32, aux: u32): void {
  const qb = qBlock(q);
  memory.fill(qb, 0, QUEUE_STATE_SIZE);
  store<u32>(qb, ringDomid, Q_RING_DOMID);
  store<u32>(qb, maxSize, QS_MAX_SIZE);
  store<u32>(qb, aux, Q_AUX);
  store<u32>(qb, DOMID_INVALID, Q_BUF_DOMID);
  store<u32>(qb, 1, QS_NOTIFY_ON);
}

/** Puts the ring state in place and validates it (QueueReady = 1). Fresh indices, as after a
 *  reset. On E1-E3 the queue is broken and stays not ready. */
export function splitDevEnable(
  q: u32, size: u32, desc: u64, avail: u64, used: u64, features: u32, bufDomid: u32, maxSegs: u32, maxIndirect: u32,
): u32 {
  const qb = qBlock(q);
  let flags = load<u32>(qb, Q_FLAGS);
  if (flags & QF_BROKEN) {
    store<u32>(qb, load<u32>(qb, Q_ERROR), QS_STATUS);
    return load<u32>(qb, Q_ERROR);
  }
  flags = (flags & ~(ENABLE_FLAGS | QF_READY)) | (features & ENABLE_FLAGS);
  store<u32>(qb, flags, Q_FLAGS);
  store<u32>(qb, size, Q_SIZE);
  store<u64>(qb, desc, Q_DESC);
  store<u64>(qb, avail, Q_DRIVER);
  store<u64>(qb, used, Q_DEVICE);
  store<u32>(qb, bufDomid, Q_BUF_DOMID);
  store<u32>(qb, maxSegs, Q_MAX_SEGS);
  store<u32>(qb, maxIndirect, QS_MAX_INDIRECT);
  store<u16>(qb, 0, Q_NEXT_AVAIL);
  store<u16>(qb, 0, Q_NEXT_USED);
  store<u16>(qb, 0, Q_NUM_ADDED);
  store<u32>(qb, 0, Q_IN_FLIGHT);
  store<u16>(qb, 0, Q_SIGNALLED);
  store<u8>(qb, 0, Q_SIGNALLED_VALID);
  store<u32>(qb, 1, QS_NOTIFY_ON);
  memory.fill(qb + Q_TLB, 0, QTLB_ENTRIES * QTLB_ENTRY_SIZE);
  if (size == 0 || (size & (size - 1)) != 0 || size > VIRTQ_MAX_SIZE || size > load<u32>(qb, QS_MAX_SIZE)) {
    return broke(qb, VQ_E1_BAD_SIZE);
  }
  if ((desc & 15) != 0 || (avail & 1) != 0 || (used & 3) != 0) return broke(qb, VQ_E2_MISALIGNED);
  const dom = load<u32>(qb, Q_RING_DOMID);
  if (!rangeAccessible(dom, desc, size << 4, false) || !rangeAccessible(dom, avail, 6 + (size << 1), false) ||
      !rangeAccessible(dom, used, 6 + (size << 3), true)) {
    return broke(qb, VQ_E3_RING_OUTSIDE_RAM);
  }
  memory.fill(<usize>load<u32>(qb, Q_AUX), 0, size * QS_AUX_BYTES_PER_SLOT);
  store<u32>(qb, flags | QF_READY, Q_FLAGS);
  store<u32>(qb, VQ_OK, QS_STATUS);
  return VQ_OK;
}

/** Restores the ring indices of an enabled queue with nothing in flight (migration, as QEMU's
 *  virtio_queue_set_last_avail_idx or rust-vmm's set_next_avail/set_next_used). The next
 *  notification decision is unconditional. */
export function splitDevRestore(q: u32, nextAvail: u32, nextUsed: u32): void {
  const qb = qBlock(q);
  store<u16>(qb, <u16>nextAvail, Q_NEXT_AVAIL);
  store<u16>(qb, <u16>nextUsed, Q_NEXT_USED);
  store<u16>(qb, 0, Q_NUM_ADDED);
  store<u32>(qb, 0, Q_IN_FLIGHT);
  store<u8>(qb, 0, Q_SIGNALLED_VALID);
  memory.fill(<usize>load<u32>(qb, Q_AUX), 0, load<u32>(qb, Q_SIZE) * QS_AUX_BYTES_PER_SLOT);
}

/** Host-controlled flags after enable: DRIVER_OK and the strictness policy. */
export function splitSetFlags(q: u32, set: u32, clear: u32): void {
  const qb = qBlock(q);
  const allowed = QF_DRIVER_OK | QF_STRICT_E14 | QF_STRICT_E16 | QF_STRICT_E19;
  store<u32>(qb, (load<u32>(qb, Q_FLAGS) & ~(clear & allowed)) | (set & allowed), Q_FLAGS);
}
