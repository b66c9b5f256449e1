// Split virtqueue, driver side after the add: publishing with the kick decision, reclaiming
// used entries (checking what the device wrote), and used-buffer notification control.
import {
  Q_FLAGS, Q_SIZE, Q_DRIVER, Q_DEVICE, Q_NEXT_AVAIL, Q_NEXT_USED, Q_NUM_ADDED, Q_IN_FLIGHT, Q_AUX,
  Q_FREE_HEAD, Q_NUM_FREE, QF_EVENT_IDX, QF_IN_ORDER, QS_AUX_ENTRY, QSA_DRV_NEXT,
  QSA_DRV_NDESCS, QSA_DRV_WRITABLE, QS_USED_REC_SIZE, QS_USED_ID, QS_USED_LEN, VQ_E3_RING_OUTSIDE_RAM,
  VQ_E21_BAD_USED_ID, VRING_AVAIL_F_NO_INTERRUPT, VRING_USED_F_NO_NOTIFY,
  CNT_VQ_CHAINS_RECLAIMED, CNT_VQ_NOTIFY_SENT, CNT_VQ_NOTIFY_SUPPRESSED,
} from "../layout";
import { count } from "../counters";
import { needEvent, qBlock, ringAddr } from "./common";
import { broke } from "./split-check";
import { get16, put16, usable } from "./split-driver";

/** Publishes avail.idx and decides whether to kick (full barrier implied). "old" is the index
 *  at the previous decision, as Linux's avail_idx_shadow - num_added. Returns 1 to notify. */
export function splitDrvKick(q: u32): u32 {
  const qb = qBlock(q);
  if (!usable(qb)) return 0;
  const flags = load<u32>(qb, Q_FLAGS);
  const shadow = <u32>load<u16>(qb, Q_NEXT_AVAIL);
  const old = (shadow - <u32>load<u16>(qb, Q_NUM_ADDED)) & 0xffff;
  if (!put16(qb, load<u64>(qb, Q_DRIVER) + 2, shadow)) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
  store<u16>(qb, 0, Q_NUM_ADDED);
  const used = load<u64>(qb, Q_DEVICE);
  let notify: bool;
  if (flags & QF_EVENT_IDX) {
    const ev = get16(qb, used + 4 + (<u64>load<u32>(qb, Q_SIZE) << 3));
    if (ev < 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
    notify = needEvent(<u32>ev, shadow, old);
  } else {
    const f = get16(qb, used);
    if (f < 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
    notify = (<u32>f & VRING_USED_F_NO_NOTIFY) == 0;
  }
  count(notify ? CNT_VQ_NOTIFY_SENT : CNT_VQ_NOTIFY_SUPPRESSED);
  return notify ? 1 : 0;
}

/** Reads up to `max` used records {id, len} into `out` (with IN_ORDER, `max` should be at least
 *  the queue size so a whole batch fits). A used id that is out of range, not an outstanding
 *  head, or (IN_ORDER) implies more chains than used.idx advanced breaks the queue (E21). */
export function splitDrvReclaim(q: u32, out: usize, max: u32): u32 {
  const qb = qBlock(q);
  if (!usable(qb)) return 0;
  const flags = load<u32>(qb, Q_FLAGS);
  const size = load<u32>(qb, Q_SIZE);
  const mask = size - 1;
  const used = load<u64>(qb, Q_DEVICE);
  const aux = <usize>load<u32>(qb, Q_AUX);
  const fifo = aux + size * QS_AUX_ENTRY;
  const inOrder = (flags & QF_IN_ORDER) != 0;
  const shadow = <u32>load<u16>(qb, Q_NEXT_AVAIL);
  const ui = get16(qb, used + 2);
  if (ui < 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
  const usedIdx = <u32>ui;
  let lastUsed = <u32>load<u16>(qb, Q_NEXT_USED);
  let inFlight = load<u32>(qb, Q_IN_FLIGHT);
  let freeHead = <u32>load<u16>(qb, Q_FREE_HEAD);
  let numFree = <u32>load<u16>(qb, Q_NUM_FREE);
  let k: u32 = 0;
  let chains: u32 = 0;
  while (k < max && lastUsed != usedIdx) {
    const elem = used + 4 + (<u64>(lastUsed & mask) << 3);
    const ida = ringAddr(qb, elem, false);
    if (ida == 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); break; }
    const id = load<u32>(ida);
    const lena = ringAddr(qb, elem + 4, false);
    if (lena == 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); break; }
    const len = load<u32>(lena);
    if (id >= size || load<u16>(aux + id * QS_AUX_ENTRY, QSA_DRV_NDESCS) == 0) { broke(qb, VQ_E21_BAD_USED_ID); break; }
    let batch: u32 = 1;
    const oldest = (shadow - inFlight) & 0xffff;
    if (inOrder) {
      let j: u32 = 0;
      while (j < inFlight && <u32>load<u16>(fifo + (((oldest + j) & mask) << 1)) != id) j++;
      if (j == inFlight || j + 1 > ((usedIdx - lastUsed) & 0xffff)) { broke(qb, VQ_E21_BAD_USED_ID); break; }
      batch = j + 1;
      if (k + batch > max) break;
    }
    for (let j: u32 = 0; j < batch; j++) {
      const h = batch == 1 ? id : <u32>load<u16>(fifo + (((oldest + j) & mask) << 1));
      const e = aux + h * QS_AUX_ENTRY;
      const r = out + k * QS_USED_REC_SIZE;
      store<u32>(r, h, QS_USED_ID);
      store<u32>(r, j + 1 == batch ? len : load<u32>(e, QSA_DRV_WRITABLE), QS_USED_LEN);
      const nd = <u32>load<u16>(e, QSA_DRV_NDESCS);
      store<u16>(e, 0, QSA_DRV_NDESCS);
      if (!inOrder) {
        let last = h;
        for (let s: u32 = 1; s < nd; s++) last = <u32>load<u16>(aux + last * QS_AUX_ENTRY, QSA_DRV_NEXT);
        store<u16>(aux + last * QS_AUX_ENTRY, <u16>freeHead, QSA_DRV_NEXT);
        freeHead = h;
      }
      numFree += nd;
      k++;
    }
    lastUsed = (lastUsed + batch) & 0xffff;
    inFlight -= batch;
    chains += batch;
  }
  store<u16>(qb, <u16>lastUsed, Q_NEXT_USED);
  store<u32>(qb, inFlight, Q_IN_FLIGHT);
  store<u16>(qb, <u16>freeHead, Q_FREE_HEAD);
  store<u16>(qb, <u16>numFree, Q_NUM_FREE);
  count(CNT_VQ_CHAINS_RECLAIMED, chains);
  return k;
}

/** Enables (re-arms) or disables used-buffer notifications. Enabling writes used_event =
 *  last used idx (EVENT_IDX) or clears NO_INTERRUPT, then re-reads used.idx: returns 1 when
 *  entries arrived meanwhile. Disabling sets NO_INTERRUPT, or with EVENT_IDX writes
 *  used_event = 0 as Linux does. */
export function splitDrvEnableCb(q: u32, enable: bool): u32 {
  const qb = qBlock(q);
  if (!usable(qb)) return 0;
  const flags = load<u32>(qb, Q_FLAGS);
  const avail = load<u64>(qb, Q_DRIVER);
  const lastUsed = <u32>load<u16>(qb, Q_NEXT_USED);
  let ok: bool;
  if (flags & QF_EVENT_IDX) ok = put16(qb, avail + 4 + (<u64>load<u32>(qb, Q_SIZE) << 1), enable ? lastUsed : 0);
  else ok = put16(qb, avail, enable ? 0 : VRING_AVAIL_F_NO_INTERRUPT);
  if (!ok) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
  if (!enable) return 0;
  const ui = get16(qb, load<u64>(qb, Q_DEVICE) + 2);
  if (ui < 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
  return <u32>ui != lastUsed ? 1 : 0;
}
