// Split virtqueue, device side: completing chains (used ring), the used-buffer notification
// decision and available-buffer notification enable/disable.
import {
  Q_FLAGS, Q_SIZE, Q_ERROR, Q_DRIVER, Q_DEVICE, Q_NEXT_AVAIL, Q_NEXT_USED, Q_NUM_ADDED, Q_IN_FLIGHT,
  Q_AUX, Q_SIGNALLED, Q_SIGNALLED_VALID, QF_READY, QF_EVENT_IDX, QF_IN_ORDER, QF_BROKEN, QF_DRIVER_OK,
  QS_STATUS, QS_NOTIFY_ON, QS_AUX_ENTRY, QSA_DEV_WRITABLE, QSA_DEV_OUTSTANDING, QS_USED_REC_SIZE,
  QS_USED_ID, QS_USED_LEN, CHAIN_HDR_SIZE, CHAIN_ID, CHAIN_NSEGS, CHAIN_WRITABLE, SEG_SIZE,
  VQ_OK, VQ_E3_RING_OUTSIDE_RAM, VQ_E4_NOT_READY, VQ_E21_BAD_USED_ID, VQ_E22_USED_LEN_TOO_BIG,
  VRING_AVAIL_F_NO_INTERRUPT, VRING_USED_F_NO_NOTIFY, PAGE_SHIFT, PAGE_MASK,
  CNT_VQ_USED_PUSHED, CNT_VQ_USED_BYTES, CNT_VQ_IRQ_SENT, CNT_VQ_IRQ_SUPPRESSED,
} from "../layout";
import { count } from "../counters";
import { needEvent, qBlock, ringAddr } from "./common";
import { broke, refuse } from "./split-check";
import {
  PF_DONE, PU_PAGE, pushFast, puK, puP, puNextUsed, puInFlight, puDone, puBytes, puUGfn, puUBase,
} from "./split-fast";

/** Shared entry check: returns false (status set) when the queue may not be used now. */
function usable(qb: usize): bool {
  const flags = load<u32>(qb, Q_FLAGS);
  if (flags & QF_BROKEN) {
    store<u32>(qb, load<u32>(qb, Q_ERROR), QS_STATUS);
    return false;
  }
  if ((flags & (QF_READY | QF_DRIVER_OK)) != (QF_READY | QF_DRIVER_OK)) {
    refuse(qb, VQ_E4_NOT_READY);
    return false;
  }
  store<u32>(qb, VQ_OK, QS_STATUS);
  return true;
}

/** Completes the one record at puP with every check (E21, E22, IN_ORDER batches, elements
 *  straddling a page). Returns false when the push stops here (refused, or the ring broke). */
function slowRecord(qb: usize, size: u32, used: u32, aux: usize, fifo: usize, nextAvail: u32, chains: bool): bool {
  const mask = size - 1;
  const p = puP;
  let id: u32;
  let len: u32;
  let step: usize;
  if (chains) {
    id = <u32>load<u16>(p, CHAIN_ID);
    len = load<u32>(p, CHAIN_WRITABLE);
    step = <usize>(CHAIN_HDR_SIZE + <u32>load<u16>(p, CHAIN_NSEGS) * SEG_SIZE);
  } else {
    id = load<u32>(p, QS_USED_ID);
    len = load<u32>(p, QS_USED_LEN);
    step = QS_USED_REC_SIZE;
  }
  if (id >= size) { refuse(qb, VQ_E21_BAD_USED_ID); return false; }
  const e = aux + id * QS_AUX_ENTRY;
  const outstanding = load<u32>(e, QSA_DEV_OUTSTANDING);
  if (outstanding == 0) { refuse(qb, VQ_E21_BAD_USED_ID); return false; }
  const inFlight = puInFlight;
  const oldest = (nextAvail - inFlight) & 0xffff;
  let batch: u32 = 1;
  if (fifo != 0) {
    let j: u32 = 0;
    while (j < inFlight && <u32>load<u16>(fifo + (((oldest + j) & mask) << 1)) != id) j++;
    if (j == inFlight) { refuse(qb, VQ_E21_BAD_USED_ID); return false; }
    batch = j + 1;
  }
  if (len > load<u32>(e, QSA_DEV_WRITABLE)) { refuse(qb, VQ_E22_USED_LEN_TOO_BIG); return false; }
  // The id and len words are written separately: an 8-byte element may straddle a page.
  const elem = used + 4 + ((puNextUsed & mask) << 3);
  for (let w: u32 = 0; w < 8; w += 4) {
    const at = elem + w;
    if ((at >> PAGE_SHIFT) != puUGfn) {
      puUBase = ringAddr(qb, <u64>(at & ~PAGE_MASK), true);
      if (puUBase == 0) { puUGfn = 0xffff_ffff; broke(qb, VQ_E3_RING_OUTSIDE_RAM); return false; }
      puUGfn = at >> PAGE_SHIFT;
    }
    store<u32>(puUBase + (at & PAGE_MASK), w == 0 ? id : len);
  }
  let bytes = <u64>len;
  for (let j: u32 = 0; j + 1 < batch; j++) {
    const s = aux + <usize>load<u16>(fifo + (((oldest + j) & mask) << 1)) * QS_AUX_ENTRY;
    store<u32>(s, load<u32>(s, QSA_DEV_OUTSTANDING) - 1, QSA_DEV_OUTSTANDING);
    bytes += load<u32>(s, QSA_DEV_WRITABLE);
  }
  store<u32>(e, outstanding - 1, QSA_DEV_OUTSTANDING);
  puBytes += bytes;
  puNextUsed = (puNextUsed + batch) & 0xffff;
  puInFlight = inFlight - batch;
  puDone += batch;
  puP = p + step;
  puK++;
  return true;
}

/** Completes chains and publishes used.idx once. `chains` false: `n` used records {id, len}
 *  at `inp`; true: `n` CHAIN records as written by pop, each completed with its
 *  CHAIN_WRITABLE field as the used length (lower it first to report fewer bytes).
 *  With IN_ORDER an id completes every older outstanding chain too: one used entry for the
 *  batch, the skipped chains counted as fully written. Returns the number of records taken;
 *  a refused record (E21 unknown id, E22 len above the chain's writable bytes) stops there.
 *  Ordinary records go through pushFast() (split-fast.ts), the rest through slowRecord(). */
export function splitPush(q: u32, inp: usize, n: u32, chains: bool): u32 {
  const qb = qBlock(q);
  if (!usable(qb)) return 0;
  const flags = load<u32>(qb, Q_FLAGS);
  const size = load<u32>(qb, Q_SIZE);
  const used = <u32>load<u64>(qb, Q_DEVICE); // below 2^32: checked by enable
  const aux = <usize>load<u32>(qb, Q_AUX);
  const fifo: usize = (flags & QF_IN_ORDER) != 0 ? aux + size * QS_AUX_ENTRY : 0;
  const nextAvail = <u32>load<u16>(qb, Q_NEXT_AVAIL);
  const start = <u32>load<u16>(qb, Q_NEXT_USED);
  puK = 0;
  puP = inp;
  puNextUsed = start;
  puInFlight = load<u32>(qb, Q_IN_FLIGHT);
  puDone = 0;
  puBytes = 0;
  // Filled after a write translation, so a page that write populated is the cached one.
  puUGfn = 0xffff_ffff;
  while (puK < n) {
    const why = pushFast(size, used, aux, fifo, nextAvail, n, chains);
    if (why == PF_DONE) break;
    if (why == PU_PAGE) {
      const page = (used + 4 + ((puNextUsed & (size - 1)) << 3)) & ~PAGE_MASK;
      puUBase = ringAddr(qb, <u64>page, true);
      if (puUBase == 0) { puUGfn = 0xffff_ffff; broke(qb, VQ_E3_RING_OUTSIDE_RAM); break; }
      puUGfn = page >> PAGE_SHIFT;
    } else if (!slowRecord(qb, size, used, aux, fifo, nextAvail, chains)) break;
  }
  const k = puK;
  const done = puDone;
  const nextUsed = puNextUsed;
  if (done == 0) return k;
  if ((load<u32>(qb, Q_FLAGS) & QF_BROKEN) != 0) return k; // nothing is published on a broken ring
  const idxa = ringAddr(qb, <u64>(used + 2), true);
  if (idxa == 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return k; }
  store<u16>(idxa, <u16>nextUsed);
  store<u16>(qb, <u16>nextUsed, Q_NEXT_USED);
  store<u32>(qb, puInFlight, Q_IN_FLIGHT);
  store<u16>(qb, <u16>((<u32>load<u16>(qb, Q_NUM_ADDED) + done) & 0xffff), Q_NUM_ADDED);
  // As QEMU's flush: if used.idx moved so far that the last signalled index is ambiguous,
  // the next decision notifies unconditionally.
  const sig = <u32>load<u16>(qb, Q_SIGNALLED);
  if (<i32><i16>(nextUsed - sig) < <i32>((nextUsed - start) & 0xffff)) store<u8>(qb, 0, Q_SIGNALLED_VALID);
  count(CNT_VQ_USED_PUSHED, done);
  count(CNT_VQ_USED_BYTES, puBytes);
  return k;
}

/** Used-buffer notification decision after a push (full barrier implied). Returns 1 to notify. */
export function splitNeedIrq(q: u32): u32 {
  const qb = qBlock(q);
  if (!usable(qb)) return 0;
  const flags = load<u32>(qb, Q_FLAGS);
  let notify: bool;
  if ((flags & QF_EVENT_IDX) == 0) {
    const a = ringAddr(qb, load<u64>(qb, Q_DRIVER), false);
    if (a == 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
    notify = (<u32>load<u16>(a) & VRING_AVAIL_F_NO_INTERRUPT) == 0;
  } else {
    // QEMU's signalled_used: the first decision after a reset (or an ambiguous jump) notifies.
    const newIdx = <u32>load<u16>(qb, Q_NEXT_USED);
    const old = <u32>load<u16>(qb, Q_SIGNALLED);
    const valid = load<u8>(qb, Q_SIGNALLED_VALID) != 0;
    store<u16>(qb, <u16>newIdx, Q_SIGNALLED);
    store<u8>(qb, 1, Q_SIGNALLED_VALID);
    if (!valid) notify = true;
    else {
      const a = ringAddr(qb, load<u64>(qb, Q_DRIVER) + 4 + (<u64>load<u32>(qb, Q_SIZE) << 1), false);
      if (a == 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
      notify = needEvent(<u32>load<u16>(a), newIdx, old);
    }
  }
  store<u16>(qb, 0, Q_NUM_ADDED);
  count(notify ? CNT_VQ_IRQ_SENT : CNT_VQ_IRQ_SUPPRESSED);
  return notify ? 1 : 0;
}

/** Enables or disables available-buffer notifications (kicks). Enabling writes avail_event =
 *  next_avail (EVENT_IDX) or clears NO_NOTIFY, then re-reads avail.idx: returns 1 when work
 *  arrived meanwhile (the caller keeps polling). Disabling sets NO_NOTIFY, or with EVENT_IDX
 *  stops refreshing avail_event on pops (its stale value suppresses kicks). */
export function splitDevNotify(q: u32, enable: bool): u32 {
  const qb = qBlock(q);
  if (!usable(qb)) return 0;
  const flags = load<u32>(qb, Q_FLAGS);
  const used = load<u64>(qb, Q_DEVICE);
  const nextAvail = <u32>load<u16>(qb, Q_NEXT_AVAIL);
  store<u32>(qb, enable ? 1 : 0, QS_NOTIFY_ON);
  if (flags & QF_EVENT_IDX) {
    if (enable) {
      const a = ringAddr(qb, used + 4 + (<u64>load<u32>(qb, Q_SIZE) << 3), true);
      if (a == 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
      store<u16>(a, <u16>nextAvail);
    }
  } else {
    const a = ringAddr(qb, used, true);
    if (a == 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
    store<u16>(a, <u16>(enable ? 0 : VRING_USED_F_NO_NOTIFY));
  }
  if (!enable) return 0;
  const ia = ringAddr(qb, load<u64>(qb, Q_DRIVER) + 2, false);
  if (ia == 0) { broke(qb, VQ_E3_RING_OUTSIDE_RAM); return 0; }
  return <u32>load<u16>(ia) != nextAvail ? 1 : 0;
}
