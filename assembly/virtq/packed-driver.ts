// Packed virtqueue, driver side (the guest's virtio_ring, Linux style): add buffers with the
// head flags written last, decide kicks, reclaim used descriptors in a batch, re-arm.
// Buffer ids are < Q and come from a free list; a used id the driver does not know breaks the
// queue (E21), as Linux marks the ring broken.
import {
  Q_FLAGS, Q_SIZE, Q_DESC, Q_DRIVER, Q_DEVICE, Q_AUX, Q_NEXT_AVAIL, Q_NEXT_USED, Q_AVAIL_WRAP,
  Q_USED_WRAP, Q_NUM_ADDED, Q_IN_FLIGHT, Q_FREE_HEAD, Q_NUM_FREE, Q_ERROR, QF_EVENT_IDX, QF_INDIRECT,
  QF_IN_ORDER, VQ_OK, VQ_ENOSPC, VQ_E3_RING_OUTSIDE_RAM, VQ_E17_BUFFER_OUTSIDE_RAM, VQ_E21_BAD_USED_ID,
  SEG_SIZE, SEG_ADDR, SEG_LEN, SEG_FLAGS, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT,
  VRING_PACKED_DESC_F_AVAIL, VRING_PACKED_DESC_F_USED, VRING_PACKED_EVENT_FLAG_ENABLE,
  VRING_PACKED_EVENT_FLAG_DISABLE, VRING_PACKED_EVENT_FLAG_DESC, PK_DRV_ENTRY_SIZE, PK_DRV_SLOTS,
  PK_DRV_NEXT_FREE, PK_DRV_WRITABLE, PK_USED_REC_SIZE, PK_USED_REC_ID, PK_USED_REC_LEN, PAGE_MASK,
  PAGE_SIZE, CNT_VQ_CHAINS_ADDED, CNT_VQ_DESCS_ADDED, CNT_VQ_CHAINS_RECLAIMED, CNT_VQ_NOTIFY_SENT,
  CNT_VQ_NOTIFY_SUPPRESSED,
} from "../layout";
import { count } from "../counters";
import { qBlock, fail, ringAddr } from "./common";
import { D_ADDR, D_LEN, D_ID, D_FLAGS, DESC_SIZE, isUsed, ringSetup, driverLive, wantsNotify } from "./packed";

@inline function entry(aux: usize, id: u32): usize {
  return aux + id * PK_DRV_ENTRY_SIZE;
}

/** Where the id whose first descriptor is at `slot` is kept (after the Q id entries). */
@inline function slotIdAt(aux: usize, size: u32, slot: u32): usize {
  return aux + size * PK_DRV_ENTRY_SIZE + (slot << 1);
}

/** Flags that make a descriptor available on lap `wrap`: AVAIL = wrap, USED = !wrap. */
@inline function availBits(wrap: u32): u32 {
  return wrap != 0 ? VRING_PACKED_DESC_F_AVAIL : VRING_PACKED_DESC_F_USED;
}

/** Sets up the driver's ring: validates it (E1..E3), zeroes the descriptor ring and the
 *  driver event structure (ENABLE), starts both wrap counters at 1 and chains every id into
 *  the free list. The device event structure belongs to the device and is left alone. */
export function drvInit(q: u32, size: u32, desc: u64, driverArea: u64, deviceArea: u64): u32 {
  const qb = qBlock(q);
  const err = ringSetup(qb, size, desc, driverArea, deviceArea, false);
  if (err != VQ_OK) return err;
  let done: u32 = 0;
  const bytes = size * DESC_SIZE;
  while (done < bytes) {
    const a = desc + done;
    let n = PAGE_SIZE - (<u32>a & PAGE_MASK);
    if (n > bytes - done) n = bytes - done;
    const p = ringAddr(qb, a, true);
    if (p == 0) return fail(qb, VQ_E3_RING_OUTSIDE_RAM); // machine memory exhausted
    memory.fill(p, 0, n);
    done += n;
  }
  const ev = ringAddr(qb, driverArea, true);
  if (ev == 0) return fail(qb, VQ_E3_RING_OUTSIDE_RAM);
  store<u32>(ev, 0);
  const aux = <usize>load<u32>(qb, Q_AUX);
  for (let i: u32 = 0; i < size; i++) {
    const e = entry(aux, i);
    store<u16>(e, 0, PK_DRV_SLOTS);
    store<u16>(e, <u16>(i + 1), PK_DRV_NEXT_FREE);
    store<u32>(e, 0, PK_DRV_WRITABLE);
  }
  memory.fill(slotIdAt(aux, size, 0), 0, size << 1);
  store<u16>(qb, 0, Q_FREE_HEAD);
  store<u16>(qb, <u16>size, Q_NUM_FREE);
  store<u16>(qb, 0, Q_NEXT_AVAIL);
  store<u8>(qb, 1, Q_AVAIL_WRAP);
  store<u16>(qb, 0, Q_NEXT_USED);
  store<u8>(qb, 1, Q_USED_WRAP);
  store<u16>(qb, 0, Q_NUM_ADDED);
  store<u32>(qb, 0, Q_IN_FLIGHT);
  return VQ_OK;
}

/** Writes one indirect table entry through the ring domain; an entry may straddle a page. */
function writeEntry(qb: usize, gpa: u64, addr: u64, len: u32, flags: u32): bool {
  if ((<u32>gpa & PAGE_MASK) <= PAGE_MASK - 15) {
    const p = ringAddr(qb, gpa, true);
    if (p == 0) return false;
    store<u64>(p, addr, D_ADDR);
    store<u32>(p, len, D_LEN);
    store<u16>(p, 0, D_ID);
    store<u16>(p, <u16>flags, D_FLAGS);
    return true;
  }
  const hi: u64 = <u64>len | (<u64>flags << 48);
  for (let i: u32 = 0; i < 16; i++) {
    const p = ringAddr(qb, gpa + i, true);
    if (p == 0) return false;
    store<u8>(p, <u8>(i < 8 ? addr >> (i * 8) : hi >> ((i - 8) * 8)));
  }
  return true;
}

/** Makes one buffer available: `nsegs` SEG records at `segs` (readable ones first). With
 *  `useIndirect` and QF_INDIRECT it writes a table of nsegs entries at `table` and one
 *  INDIRECT descriptor; otherwise a NEXT chain of nsegs descriptors. The first descriptor's
 *  flags are written last. Returns the buffer id, or minus VQ_ENOSPC (no room, or a list that
 *  can never fit), minus VQ_E17 (the table is not writable; nothing changed), or minus the
 *  queue's error code when it is broken. */
export function drvAdd(q: u32, segs: usize, nsegs: u32, useIndirect: bool, table: u64): i32 {
  const qb = qBlock(q);
  if (!driverLive(qb)) return -<i32>load<u32>(qb, Q_ERROR);
  const qf = load<u32>(qb, Q_FLAGS);
  const size = load<u32>(qb, Q_SIZE);
  const indirect = useIndirect && (qf & QF_INDIRECT) != 0;
  const need: u32 = indirect ? 1 : nsegs;
  if (nsegs == 0 || nsegs > size || (<u32>load<u16>(qb, Q_NUM_FREE)) < need) return -<i32>VQ_ENOSPC;
  const aux = <usize>load<u32>(qb, Q_AUX);
  const desc = load<u64>(qb, Q_DESC);
  const head = <u32>load<u16>(qb, Q_NEXT_AVAIL);
  const wrap = <u32>load<u8>(qb, Q_AVAIL_WRAP);
  const id = <u32>load<u16>(qb, Q_FREE_HEAD);
  let writable: u64 = 0;
  let headP: usize = 0;
  let headF: u32 = 0;
  if (indirect) {
    const tbytes = nsegs << 4;
    const last = table + <u64>(tbytes - 1);
    if (last < table || (last >> 32) != 0) return -<i32>VQ_E17_BUFFER_OUTSIDE_RAM;
    for (let k: u32 = 0; k < nsegs; k++) {
      const s = segs + k * SEG_SIZE;
      const w = load<u16>(s, SEG_FLAGS) & VRING_DESC_F_WRITE;
      if (w != 0) writable += load<u32>(s, SEG_LEN);
      if (!writeEntry(qb, table + (<u64>k << 4), load<u64>(s, SEG_ADDR), load<u32>(s, SEG_LEN), w)) {
        return -<i32>VQ_E17_BUFFER_OUTSIDE_RAM;
      }
    }
    headP = ringAddr(qb, desc + (<u64>head << 4), true);
    if (headP == 0) return -<i32>fail(qb, VQ_E3_RING_OUTSIDE_RAM);
    store<u64>(headP, table, D_ADDR);
    store<u32>(headP, tbytes, D_LEN);
    store<u16>(headP, <u16>id, D_ID);
    headF = VRING_DESC_F_INDIRECT | availBits(wrap);
  } else {
    let j = head;
    let wj = wrap;
    for (let k: u32 = 0; k < nsegs; k++) {
      const s = segs + k * SEG_SIZE;
      const p = ringAddr(qb, desc + (<u64>j << 4), true);
      if (p == 0) return -<i32>fail(qb, VQ_E3_RING_OUTSIDE_RAM);
      const len = load<u32>(s, SEG_LEN);
      const w = load<u16>(s, SEG_FLAGS) & VRING_DESC_F_WRITE;
      if (w != 0) writable += len;
      store<u64>(p, load<u64>(s, SEG_ADDR), D_ADDR);
      store<u32>(p, len, D_LEN);
      store<u16>(p, <u16>id, D_ID); // Linux writes the id into every descriptor of the list
      const fl = (k + 1 < nsegs ? VRING_DESC_F_NEXT : 0) | w | availBits(wj);
      if (k == 0) { headP = p; headF = fl; }
      else store<u16>(p, <u16>fl, D_FLAGS);
      if (++j == size) { j = 0; wj ^= 1; }
    }
  }
  store<u16>(headP, <u16>headF, D_FLAGS); // publishes the buffer
  const e = entry(aux, id);
  store<u16>(qb, load<u16>(e, PK_DRV_NEXT_FREE), Q_FREE_HEAD);
  store<u16>(e, <u16>need, PK_DRV_SLOTS);
  store<u32>(e, writable > 0xffffffff ? 0xffffffff : <u32>writable, PK_DRV_WRITABLE);
  store<u16>(slotIdAt(aux, size, head), <u16>id);
  store<u16>(qb, <u16>(<u32>load<u16>(qb, Q_NUM_FREE) - need), Q_NUM_FREE);
  let next = head + need;
  let nw = wrap;
  if (next >= size) { next -= size; nw ^= 1; }
  store<u16>(qb, <u16>next, Q_NEXT_AVAIL);
  store<u8>(qb, <u8>nw, Q_AVAIL_WRAP);
  const added = <u32>load<u16>(qb, Q_NUM_ADDED) + need;
  store<u16>(qb, <u16>(added > 0xffff ? 0xffff : added), Q_NUM_ADDED);
  store<u32>(qb, load<u32>(qb, Q_IN_FLIGHT) + 1, Q_IN_FLIGHT);
  count(CNT_VQ_CHAINS_ADDED);
  count(CNT_VQ_DESCS_ADDED, indirect ? 1 + nsegs : nsegs);
  return <i32>id;
}

/** Kick decision against the device's event suppression structure (virtio.md 2.4); resets the
 *  slots-added window. Nothing added since the last decision: no kick, nothing counted. */
export function drvKickPrepare(q: u32): bool {
  const qb = qBlock(q);
  if (!driverLive(qb)) return false;
  const added = <u32>load<u16>(qb, Q_NUM_ADDED);
  if (added == 0) return false;
  const p = ringAddr(qb, load<u64>(qb, Q_DEVICE), false);
  if (p == 0) { fail(qb, VQ_E3_RING_OUTSIDE_RAM); return false; }
  const yes = wantsNotify(load<u32>(qb, Q_FLAGS), load<u32>(qb, Q_SIZE), load<u32>(p),
    load<u16>(qb, Q_NEXT_AVAIL), load<u8>(qb, Q_AVAIL_WRAP), added);
  store<u16>(qb, 0, Q_NUM_ADDED);
  count(yes ? CNT_VQ_NOTIFY_SENT : CNT_VQ_NOTIFY_SUPPRESSED);
  return yes;
}

/** Reclaims used descriptors: writes up to `max` used records (id, len) at `out` and returns
 *  how many. In-order, one used descriptor completes every buffer up to its id; the skipped
 *  ones report their writable size (fully used). `max` should be at least Q so that an
 *  in-order batch always fits. */
export function drvGetUsed(q: u32, out: usize, max: u32): i32 {
  const qb = qBlock(q);
  if (!driverLive(qb)) return 0;
  const inOrder = (load<u32>(qb, Q_FLAGS) & QF_IN_ORDER) != 0;
  const size = load<u32>(qb, Q_SIZE);
  const desc = load<u64>(qb, Q_DESC);
  const aux = <usize>load<u32>(qb, Q_AUX);
  let u = <u32>load<u16>(qb, Q_NEXT_USED);
  let uw = <u32>load<u8>(qb, Q_USED_WRAP);
  let freeHead = <u32>load<u16>(qb, Q_FREE_HEAD);
  let numFree = <u32>load<u16>(qb, Q_NUM_FREE);
  let inFlight = load<u32>(qb, Q_IN_FLIGHT);
  let n: u32 = 0;
  let err: u32 = 0;
  while (n < max) {
    const p = ringAddr(qb, desc + (<u64>u << 4), false);
    if (p == 0) { err = VQ_E3_RING_OUTSIDE_RAM; break; }
    if (!isUsed(load<u16>(p, D_FLAGS), uw)) break;
    const id = <u32>load<u16>(p, D_ID);
    const len = load<u32>(p, D_LEN);
    let k: u32 = 1;
    if (inOrder) {
      // Count the buffers, in ring order from the cursor, up to and including `id`.
      let cur = u;
      k = 0;
      let found = false;
      while (k < inFlight) {
        const hid = <u32>load<u16>(slotIdAt(aux, size, cur));
        k++;
        if (hid == id) { found = true; break; }
        cur += <u32>load<u16>(entry(aux, hid), PK_DRV_SLOTS);
        if (cur >= size) cur -= size;
      }
      if (!found) { err = VQ_E21_BAD_USED_ID; break; }
      if (n + k > max) break;
    } else if (id >= size || load<u16>(entry(aux, id), PK_DRV_SLOTS) == 0) {
      err = VQ_E21_BAD_USED_ID;
      break;
    }
    for (let i: u32 = 0; i < k; i++) {
      const hid = inOrder ? <u32>load<u16>(slotIdAt(aux, size, u)) : id;
      const e = entry(aux, hid);
      const s = <u32>load<u16>(e, PK_DRV_SLOTS);
      const r = out + n * PK_USED_REC_SIZE;
      store<u32>(r, hid, PK_USED_REC_ID);
      store<u32>(r, hid == id ? len : load<u32>(e, PK_DRV_WRITABLE), PK_USED_REC_LEN);
      store<u16>(e, 0, PK_DRV_SLOTS);
      store<u16>(e, <u16>freeHead, PK_DRV_NEXT_FREE);
      freeHead = hid;
      numFree += s;
      inFlight--;
      u += s;
      if (u >= size) { u -= size; uw ^= 1; }
      n++;
    }
  }
  store<u16>(qb, <u16>u, Q_NEXT_USED);
  store<u8>(qb, <u8>uw, Q_USED_WRAP);
  store<u16>(qb, <u16>freeHead, Q_FREE_HEAD);
  store<u16>(qb, <u16>numFree, Q_NUM_FREE);
  store<u32>(qb, inFlight, Q_IN_FLIGHT);
  if (n != 0) count(CNT_VQ_CHAINS_RECLAIMED, n);
  if (err != 0) fail(qb, err);
  return <i32>n;
}

/** Re-arms used-buffer notifications (DESC at the used cursor with EVENT_IDX, else ENABLE):
 *  off_wrap first, then flags, then re-check. True when a used descriptor is already there. */
export function drvEnableCb(q: u32): bool {
  const qb = qBlock(q);
  if (!driverLive(qb)) return false;
  const p = ringAddr(qb, load<u64>(qb, Q_DRIVER), true);
  if (p == 0) { fail(qb, VQ_E3_RING_OUTSIDE_RAM); return false; }
  const u = <u32>load<u16>(qb, Q_NEXT_USED);
  const uw = <u32>load<u8>(qb, Q_USED_WRAP);
  if ((load<u32>(qb, Q_FLAGS) & QF_EVENT_IDX) != 0) {
    store<u16>(p, <u16>(u | (uw << 15)));
    store<u16>(p, <u16>VRING_PACKED_EVENT_FLAG_DESC, 2);
  } else {
    store<u16>(p, <u16>VRING_PACKED_EVENT_FLAG_ENABLE, 2);
  }
  const d = ringAddr(qb, load<u64>(qb, Q_DESC) + (<u64>u << 4), false);
  if (d == 0) { fail(qb, VQ_E3_RING_OUTSIDE_RAM); return false; }
  return isUsed(load<u16>(d, D_FLAGS), uw);
}

export function drvDisableCb(q: u32): void {
  const qb = qBlock(q);
  if (!driverLive(qb)) return;
  const p = ringAddr(qb, load<u64>(qb, Q_DRIVER), true);
  if (p == 0) { fail(qb, VQ_E3_RING_OUTSIDE_RAM); return; }
  store<u16>(p, <u16>VRING_PACKED_EVENT_FLAG_DISABLE, 2);
}
