// Split virtqueue, driver side (the guest's view, as Linux virtio_ring.c): ring init with a
// private free list and adding a batch of chains (direct, or indirect with the table at a
// driver-given gpa). Publishing, reclaiming and notification control: split-reclaim.ts.
//
// The free list lives in the aux area, never in the shared descriptor table, so a device
// that scribbles on descriptors cannot corrupt it. With IN_ORDER, descriptors are taken in
// ring order from a cursor (Q_FREE_HEAD) and chains come back in that order.
import {
  Q_FLAGS, Q_RING_DOMID, Q_SIZE, Q_ERROR, Q_DESC, Q_DRIVER, Q_DEVICE, Q_NEXT_AVAIL, Q_NUM_ADDED,
  Q_IN_FLIGHT, Q_BUF_DOMID, Q_AUX, Q_FREE_HEAD, Q_NUM_FREE, QUEUE_STATE_SIZE, QF_READY,
  QF_EVENT_IDX, QF_INDIRECT, QF_IN_ORDER, QF_BROKEN, QS_STATUS, QS_AUX_ENTRY,
  QS_AUX_BYTES_PER_SLOT, QSA_DRV_NEXT, QSA_DRV_NDESCS, QSA_DRV_WRITABLE, QS_ADD_HDR_SIZE,
  QS_ADD_NSEGS, QS_ADD_HEAD, QS_ADD_TABLE, SEG_SIZE, SEG_ADDR, SEG_LEN, SEG_FLAGS, DOMID_INVALID,
  VIRTQ_MAX_SIZE, VQ_OK, VQ_E1_BAD_SIZE, VQ_E2_MISALIGNED, VQ_E3_RING_OUTSIDE_RAM, VQ_E4_NOT_READY,
  VQ_ENOSPC, VQ_SPLIT_BAD_ADD, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT,
  PAGE_MASK, PAGE_SIZE, CNT_VQ_CHAINS_ADDED, CNT_VQ_DESCS_ADDED,
} from "../layout";
import { count } from "../counters";
import { qBlock, ringAddr } from "./common";
import { broke, rangeAccessible } from "./split-check";

const DRV_FLAGS: u32 = QF_EVENT_IDX | QF_INDIRECT | QF_IN_ORDER;

/** Driver-side usability: broken or never initialised queues do nothing. */
export function usable(qb: usize): bool {
  const flags = load<u32>(qb, Q_FLAGS);
  if (flags & QF_BROKEN) {
    store<u32>(qb, load<u32>(qb, Q_ERROR), QS_STATUS);
    return false;
  }
  if ((flags & QF_READY) == 0) {
    store<u32>(qb, VQ_E4_NOT_READY, QS_STATUS);
    return false;
  }
  store<u32>(qb, VQ_OK, QS_STATUS);
  return true;
}

/** Writes a u16 ring field; false when the ring domain may not write it. */
@inline export function put16(qb: usize, gpa: u64, v: u32): bool {
  const a = ringAddr(qb, gpa, true);
  if (a == 0) return false;
  store<u16>(a, <u16>v);
  return true;
}

/** Reads a u16 ring field, or -1. */
@inline export function get16(qb: usize, gpa: u64): i32 {
  const a = ringAddr(qb, gpa, false);
  return a == 0 ? -1 : <i32>load<u16>(a);
}

/** Allocates the queue (the ring memory belongs to `ringDomid`) and zeroes the ring headers
 *  and event fields. E1-E3 break the queue. */
export function splitDrvInit(q: u32, ringDomid: u32, size: u32, desc: u64, avail: u64, used: u64, features: u32, aux: u32): u32 {
  const qb = qBlock(q);
  memory.fill(qb, 0, QUEUE_STATE_SIZE);
  store<u32>(qb, ringDomid, Q_RING_DOMID);
  store<u32>(qb, aux, Q_AUX);
  store<u32>(qb, DOMID_INVALID, Q_BUF_DOMID);
  store<u32>(qb, features & DRV_FLAGS, Q_FLAGS);
  store<u32>(qb, size, Q_SIZE);
  store<u64>(qb, desc, Q_DESC);
  store<u64>(qb, avail, Q_DRIVER);
  store<u64>(qb, used, Q_DEVICE);
  if (size == 0 || (size & (size - 1)) != 0 || size > VIRTQ_MAX_SIZE) return broke(qb, VQ_E1_BAD_SIZE);
  if ((desc & 15) != 0 || (avail & 1) != 0 || (used & 3) != 0) return broke(qb, VQ_E2_MISALIGNED);
  if (!rangeAccessible(ringDomid, desc, size << 4, true) || !rangeAccessible(ringDomid, avail, 6 + (size << 1), true) ||
      !rangeAccessible(ringDomid, used, 6 + (size << 3), true)) {
    return broke(qb, VQ_E3_RING_OUTSIDE_RAM);
  }
  const ok = put16(qb, avail, 0) && put16(qb, avail + 2, 0) && put16(qb, avail + 4 + (<u64>size << 1), 0) &&
    put16(qb, used, 0) && put16(qb, used + 2, 0) && put16(qb, used + 4 + (<u64>size << 3), 0);
  if (!ok) return broke(qb, VQ_E3_RING_OUTSIDE_RAM);
  const a = <usize>aux;
  memory.fill(a, 0, size * QS_AUX_BYTES_PER_SLOT);
  for (let i: u32 = 0; i < size; i++) store<u16>(a + i * QS_AUX_ENTRY, <u16>((i + 1) & (size - 1)), QSA_DRV_NEXT);
  store<u16>(qb, 0, Q_FREE_HEAD);
  store<u16>(qb, <u16>size, Q_NUM_FREE); // 32768 fits a u16
  store<u32>(qb, (features & DRV_FLAGS) | QF_READY, Q_FLAGS);
  store<u32>(qb, VQ_OK, QS_STATUS);
  return VQ_OK;
}

const descTmp: usize = memory.data(16);

/** Writes a 16-byte descriptor at `gpa` (any alignment, may straddle a page). */
function putDesc(qb: usize, gpa: u64, addr: u64, len: u32, flags: u32, next: u32): bool {
  const off = <u32>gpa & PAGE_MASK;
  if (off <= PAGE_SIZE - 16) {
    const d = ringAddr(qb, gpa, true);
    if (d == 0) return false;
    store<u64>(d, addr);
    store<u32>(d, len, 8);
    store<u16>(d, <u16>flags, 12);
    store<u16>(d, <u16>next, 14);
    return true;
  }
  const tmp = descTmp;
  store<u64>(tmp, addr);
  store<u32>(tmp, len, 8);
  store<u16>(tmp, <u16>flags, 12);
  store<u16>(tmp, <u16>next, 14);
  const first = PAGE_SIZE - off;
  const a = ringAddr(qb, gpa, true);
  if (a == 0) return false;
  const b = ringAddr(qb, gpa + first, true);
  if (b == 0) return false;
  memory.copy(a, tmp, first);
  memory.copy(b, tmp + first, 16 - first);
  return true;
}

/** Adds `n` request records (QS_ADD_* header + SEG_* segments) at `inp`. Each gets its head
 *  written back at QS_ADD_HEAD. Stops at the first record that does not fit (status
 *  VQ_ENOSPC) or is malformed (VQ_SPLIT_BAD_ADD). Nothing is visible to the device until
 *  splitDrvKick publishes avail.idx. Returns the number of chains added. */
export function splitDrvAdd(q: u32, inp: usize, n: u32): u32 {
  const qb = qBlock(q);
  if (!usable(qb)) return 0;
  const flags = load<u32>(qb, Q_FLAGS);
  const size = load<u32>(qb, Q_SIZE);
  const mask = size - 1;
  const descTable = load<u64>(qb, Q_DESC);
  const avail = load<u64>(qb, Q_DRIVER);
  const aux = <usize>load<u32>(qb, Q_AUX);
  const fifo = aux + size * QS_AUX_ENTRY;
  const inOrder = (flags & QF_IN_ORDER) != 0;
  const indirectOn = (flags & QF_INDIRECT) != 0;
  let shadow = <u32>load<u16>(qb, Q_NEXT_AVAIL);
  let added = <u32>load<u16>(qb, Q_NUM_ADDED);
  let freeHead = <u32>load<u16>(qb, Q_FREE_HEAD);
  let numFree = <u32>load<u16>(qb, Q_NUM_FREE);
  let inFlight = load<u32>(qb, Q_IN_FLIGHT);
  let descs: u64 = 0;
  let k: u32 = 0;
  let rec = inp;
  for (; k < n; k++) {
    const nsegs = <u32>load<u16>(rec, QS_ADD_NSEGS);
    const segs = rec + QS_ADD_HDR_SIZE;
    if (nsegs == 0) { store<u32>(qb, VQ_SPLIT_BAD_ADD, QS_STATUS); break; }
    let seenWrite = false;
    let wsum: u64 = 0;
    let total: u64 = 0;
    let bad = false;
    for (let i: u32 = 0; i < nsegs; i++) {
      const s = segs + i * SEG_SIZE;
      const len = <u64>load<u32>(s, SEG_LEN);
      if (load<u16>(s, SEG_FLAGS) & VRING_DESC_F_WRITE) { seenWrite = true; wsum += len; }
      else if (seenWrite) bad = true;
      total += len;
    }
    if (bad || total > 0xffff_ffff) { store<u32>(qb, VQ_SPLIT_BAD_ADD, QS_STATUS); break; }
    const useInd = indirectOn && nsegs > 1;
    const need: u32 = useInd ? 1 : nsegs;
    if (need > numFree) { store<u32>(qb, VQ_ENOSPC, QS_STATUS); break; }
    const head = freeHead;
    let last = head;
    if (useInd) {
      const table = load<u64>(rec, QS_ADD_TABLE);
      // All or nothing: the whole table must be writable before a byte of it is written.
      if (!rangeAccessible(load<u32>(qb, Q_RING_DOMID), table, nsegs << 4, true)) {
        store<u32>(qb, VQ_SPLIT_BAD_ADD, QS_STATUS);
        break;
      }
      for (let i: u32 = 0; i < nsegs; i++) {
        const s = segs + i * SEG_SIZE;
        const more = i + 1 < nsegs;
        putDesc(qb, table + (<u64>i << 4), load<u64>(s, SEG_ADDR), load<u32>(s, SEG_LEN),
          (<u32>load<u16>(s, SEG_FLAGS) & VRING_DESC_F_WRITE) | (more ? VRING_DESC_F_NEXT : 0), more ? i + 1 : 0);
      }
      const next = inOrder ? (head + 1) & mask : <u32>load<u16>(aux + head * QS_AUX_ENTRY, QSA_DRV_NEXT);
      if (!putDesc(qb, descTable + (<u64>head << 4), table, nsegs << 4, VRING_DESC_F_INDIRECT, next)) {
        broke(qb, VQ_E3_RING_OUTSIDE_RAM);
        break;
      }
      descs += nsegs + 1;
    } else {
      let i = head;
      let ok = true;
      for (let s: u32 = 0; s < nsegs; s++) {
        const sp = segs + s * SEG_SIZE;
        const next = inOrder ? (i + 1) & mask : <u32>load<u16>(aux + i * QS_AUX_ENTRY, QSA_DRV_NEXT);
        const more = s + 1 < nsegs;
        if (!putDesc(qb, descTable + (<u64>i << 4), load<u64>(sp, SEG_ADDR), load<u32>(sp, SEG_LEN),
          (<u32>load<u16>(sp, SEG_FLAGS) & VRING_DESC_F_WRITE) | (more ? VRING_DESC_F_NEXT : 0), next)) { ok = false; break; }
        last = i;
        if (more) i = next;
      }
      if (!ok) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); break; }
      descs += nsegs;
    }
    freeHead = inOrder ? (last + 1) & mask : <u32>load<u16>(aux + last * QS_AUX_ENTRY, QSA_DRV_NEXT);
    if (!put16(qb, avail + 4 + (<u64>(shadow & mask) << 1), head)) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); break; }
    numFree -= need;
    const e = aux + head * QS_AUX_ENTRY;
    store<u16>(e, <u16>need, QSA_DRV_NDESCS);
    store<u32>(e, <u32>wsum, QSA_DRV_WRITABLE);
    store<u16>(fifo + ((shadow & mask) << 1), <u16>head);
    store<u16>(rec, <u16>head, QS_ADD_HEAD);
    shadow = (shadow + 1) & 0xffff;
    added++;
    inFlight++;
    rec += QS_ADD_HDR_SIZE + nsegs * SEG_SIZE;
  }
  store<u16>(qb, <u16>shadow, Q_NEXT_AVAIL);
  store<u16>(qb, <u16>added, Q_NUM_ADDED);
  store<u16>(qb, <u16>freeHead, Q_FREE_HEAD);
  store<u16>(qb, <u16>numFree, Q_NUM_FREE);
  store<u32>(qb, inFlight, Q_IN_FLIGHT);
  count(CNT_VQ_CHAINS_ADDED, k);
  count(CNT_VQ_DESCS_ADDED, descs);
  return k;
}
