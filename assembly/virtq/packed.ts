// Packed virtqueue (VIRTIO_F_RING_PACKED, virtio.md section 2): what both sides share.
// The device side is in packed-device.ts, the driver side in packed-driver.ts.
//
// Cursors are slot indices in [0, Q) with a wrap counter beside them (Q_NEXT_AVAIL and
// Q_AVAIL_WRAP, Q_NEXT_USED and Q_USED_WRAP). Event offsets and the notification window are
// computed with free-running u16 arithmetic as Linux does: old = cursor - slots added since the
// last decision, which may be "negative" (wrapped) when the cursor itself wrapped.
import {
  Q_FLAGS, Q_SIZE, Q_DESC, Q_DRIVER, Q_DEVICE, Q_RING_DOMID, QF_READY, QF_BROKEN, QF_DRIVER_OK,
  QF_EVENT_IDX, VQ_OK, VQ_E1_BAD_SIZE, VQ_E2_MISALIGNED, VQ_E3_RING_OUTSIDE_RAM, VQ_E4_NOT_READY,
  VIRTQ_MAX_SIZE, VRING_PACKED_EVENT_FLAG_DESC, VRING_PACKED_EVENT_FLAG_DISABLE, P2M_MAX_GFNS, PAGE_SHIFT,
} from "../layout";
import { translate } from "../machine/access";
import { fail, needEvent } from "./common";

export const DESC_SIZE: u32 = 16;
export const D_ADDR: u32 = 0; // u64
export const D_LEN: u32 = 8; // u32
export const D_ID: u32 = 12; // u16
export const D_FLAGS: u32 = 14; // u16

const GPA_LIMIT: u64 = <u64>P2M_MAX_GFNS << PAGE_SHIFT;

/** Device test at its avail cursor: AVAIL differs from USED and AVAIL equals the wrap counter. */
@inline export function isAvail(flags: u32, wrap: u32): bool {
  return ((flags >> 7) & 1) == wrap && ((flags >> 15) & 1) != wrap;
}

/** Driver test at its used cursor: AVAIL and USED both equal the wrap counter. */
@inline export function isUsed(flags: u32, wrap: u32): bool {
  return ((flags >> 7) & 1) == wrap && ((flags >> 15) & 1) == wrap;
}

/** True when `domid` may make the access to every page of [gpa, gpa + len). A probe: nothing is
 *  populated or marked; refusals are counted by translate(). A range beyond what a p2m can map
 *  is refused without a translation (and so without a count). */
export function rangeOk(domid: u32, gpa: u64, len: u64, write: bool): bool {
  if (len == 0) return true;
  const last = gpa + len - 1;
  if (last < gpa || last >= GPA_LIMIT) return false;
  const end = <u32>(last >> PAGE_SHIFT);
  for (let g = <u32>(gpa >> PAGE_SHIFT); g <= end; g++) {
    if (translate(domid, g, write, true) == 0) return false;
  }
  return true;
}

/** Validates and records the ring of one side: E1 size (packed sizes need not be powers of
 *  two), E2 alignment (descriptor ring 16, event structures 4), E3 every area reachable with the
 *  rights this side needs: the descriptor ring is written by both sides (a writable page is also
 *  readable), the side's own event structure is written and the peer's is read. On success the
 *  queue is ready; on error it is broken. */
export function ringSetup(qb: usize, size: u32, desc: u64, driverArea: u64, deviceArea: u64, device: bool): u32 {
  if (size == 0 || size > VIRTQ_MAX_SIZE) return fail(qb, VQ_E1_BAD_SIZE);
  if ((desc & 15) != 0 || (driverArea & 3) != 0 || (deviceArea & 3) != 0) return fail(qb, VQ_E2_MISALIGNED);
  const dom = load<u32>(qb, Q_RING_DOMID);
  if (!rangeOk(dom, desc, <u64>size * DESC_SIZE, true) ||
      !rangeOk(dom, driverArea, 4, !device) || !rangeOk(dom, deviceArea, 4, device)) {
    return fail(qb, VQ_E3_RING_OUTSIDE_RAM);
  }
  store<u32>(qb, size, Q_SIZE);
  store<u64>(qb, desc, Q_DESC);
  store<u64>(qb, driverArea, Q_DRIVER);
  store<u64>(qb, deviceArea, Q_DEVICE);
  store<u32>(qb, load<u32>(qb, Q_FLAGS) | QF_READY, Q_FLAGS);
  return VQ_OK;
}

/** Gate of every device operation: false when the queue is broken (silently) or not usable yet
 *  (E4: not ready, or no DRIVER_OK). */
export function deviceLive(qb: usize): bool {
  const f = load<u32>(qb, Q_FLAGS);
  if ((f & QF_BROKEN) != 0) return false;
  if ((f & (QF_READY | QF_DRIVER_OK)) != (QF_READY | QF_DRIVER_OK)) {
    fail(qb, VQ_E4_NOT_READY);
    return false;
  }
  return true;
}

/** Gate of every driver operation (a driver queue needs no DRIVER_OK to be filled). */
export function driverLive(qb: usize): bool {
  const f = load<u32>(qb, Q_FLAGS);
  if ((f & QF_BROKEN) != 0) return false;
  if ((f & QF_READY) == 0) {
    fail(qb, VQ_E4_NOT_READY);
    return false;
  }
  return true;
}

/** The notification decision of virtio.md 2.4 against the peer's event suppression structure
 *  `snap` (off_wrap in the low half, flags in the high half): `cursor` is the sender's slot
 *  cursor now, `wrap` its wrap counter and `added` the slots it moved since the last decision.
 *  DESC counts only with EVENT_IDX; otherwise anything but DISABLE asks for a notification.
 *  A saturated `added` (0xffff) always notifies: the window is too wide to reason about. */
export function wantsNotify(qflags: u32, size: u32, snap: u32, cursor: u32, wrap: u32, added: u32): bool {
  const evFlags = (snap >> 16) & 3;
  if ((qflags & QF_EVENT_IDX) == 0 || evFlags != VRING_PACKED_EVENT_FLAG_DESC) {
    return evFlags != VRING_PACKED_EVENT_FLAG_DISABLE;
  }
  if (added >= 0xffff) return true;
  let off = snap & 0x7fff;
  if (((snap >> 15) & 1) != wrap) off = (off - size) & 0xffff; // the event is on the previous lap
  return needEvent(off, cursor, (cursor - added) & 0xffff);
}
