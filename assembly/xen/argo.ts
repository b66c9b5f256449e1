// Argo ring insert: the copy half of Xen's ringbuf_insert(). The host model has already done
// every check that needs hypervisor state (XSM, ring lookup, sizes, free space against the
// sanitised rx_ptr); this kernel writes the 16-byte message header at tx, gathers the sender's
// iovs from its guest memory (rights-checked as the sender) into the ring's frames, splitting at
// the ring end and at every page boundary, and returns the new, slot-aligned tx. Nothing is
// written unless every source range and every ring frame the message touches is accessible,
// so a refused copy leaves the ring as it was (Xen would leave bytes past tx_ptr, which the
// receiver never looks at).
//
// The ring is named by its mfn table: one u32 mfn per ring page, in a hypervisor-owned frame
// area (Xen's ring_info->mfns). Ring offsets below count from the start of the 64-byte header.
import {
  ARGO_IOV_IOV_HND, ARGO_IOV_IOV_LEN, ARGO_IOV_SIZE, XEN_ARGO_MAXIOV, XEN_ARGO_MAX_RING_SIZE, ARGO_MIN_RING_LEN,
  ARGO_RING_MESSAGE_HEADER_SIZE, ARGO_RING_MESSAGE_HEADER_LEN, ARGO_RING_MESSAGE_HEADER_SOURCE_APORT, ARGO_RING_MESSAGE_HEADER_SOURCE_DOMAIN_ID, ARGO_RING_MESSAGE_HEADER_SOURCE_PAD,
  ARGO_RING_MESSAGE_HEADER_MESSAGE_TYPE, XEN_ARGO_MSG_SLOT_SIZE, ARGO_RING_SIZE, PAGE_MASK, PAGE_SHIFT, PAGE_SIZE,
  MST_BAD_ARG, MST_BAD_MFN, MST_OK, CNT_ARGO_MESSAGES, CNT_ARGO_BYTES_SENT, CNT_ARGO_RING_BYTES,
  CNT_COPIES, CNT_COPY_BYTES,
  CNT_CPU_COPIES_BASE, CNT_CPU_COPY_BYTES_BASE, CNT_HV_COPIES_BASE, CNT_HV_COPY_BYTES_BASE,
} from "../layout";
import { count, countCopy } from "../counters";
import { checkRange, translate } from "../machine/access";
import { frameAddr, frameLive, frameOwner } from "../machine/frames";

@inline function slotUp(v: u32): u32 {
  return (v + XEN_ARGO_MSG_SLOT_SIZE - 1) & ~(XEN_ARGO_MSG_SLOT_SIZE - 1);
}

@inline function ringMfn(table: usize, off: u32): u32 {
  return load<u32>(table + ((<usize>(off >> PAGE_SHIFT)) << 2));
}

/** Linear address of ring byte `off` (header-relative). */
@inline function ringByte(table: usize, off: u32): usize {
  return frameAddr(ringMfn(table, off)) + (off & PAGE_MASK);
}

/** Every ring page of [off, off+n) is a live frame of the ring's owner. */
function ringSpanOk(table: usize, owner: u32, off: u32, n: u32): bool {
  if (n == 0) return true;
  const last = (off + n - 1) >> PAGE_SHIFT;
  for (let p = off >> PAGE_SHIFT; p <= last; p++) {
    const mfn = load<u32>(table + (<usize>p << 2));
    if (!frameLive(mfn) || frameOwner(mfn) != owner) return false;
  }
  return true;
}

/** Copies `n` bytes of the sender's memory at `gpa` into the ring at `at`; already checked. */
function copyIn(srcDom: u32, gpa: u64, table: usize, at: u32, n: u32): void {
  let done: u32 = 0;
  while (done < n) {
    const s = gpa + done;
    const t = at + done;
    const so = <u32>s & PAGE_MASK;
    const to = t & PAGE_MASK;
    let k = PAGE_SIZE - (so > to ? so : to);
    if (k > n - done) k = n - done;
    const src = translate(srcDom, <u32>(s >> PAGE_SHIFT), false);
    memory.copy(ringByte(table, t), src + so, k);
    done += k;
  }
}

/** Writes one message into the ring. `iovs` holds `niov` xen_argo_iov_t entries. Returns the
 *  new tx (>= 0) or a negative machine status (source refused, ring frame gone, bad args). */
export function ringInsert(
  table: usize, nmfns: u32, owner: u32, ringLen: u32, tx: u32,
  srcDom: u32, srcAport: u32, msgType: u32, iovs: usize, niov: u32,
): i32 {
  if (niov > XEN_ARGO_MAXIOV || ringLen < ARGO_MIN_RING_LEN || ringLen > XEN_ARGO_MAX_RING_SIZE) return MST_BAD_ARG;
  if ((ringLen & (XEN_ARGO_MSG_SLOT_SIZE - 1)) != 0 || tx >= ringLen || (tx & (XEN_ARGO_MSG_SLOT_SIZE - 1)) != 0) return MST_BAD_ARG;
  if ((<u64>nmfns << PAGE_SHIFT) < <u64>ringLen + ARGO_RING_SIZE) return MST_BAD_ARG;

  // Total payload and source rights, before any byte moves.
  let total: u64 = 0;
  for (let i: u32 = 0; i < niov; i++) {
    const e = iovs + i * ARGO_IOV_SIZE;
    const len = load<u32>(e, ARGO_IOV_IOV_LEN);
    if (len == 0) continue; // Xen skips empty iovs without looking at the handle
    total += len;
    const st = checkRange(srcDom, load<u64>(e, ARGO_IOV_IOV_HND), len, false);
    if (st != MST_OK) return st;
  }
  // The host guaranteed free space; refuse anything that could not fit even in an empty ring.
  if (total >= <u64>ringLen || slotUp(<u32>total) + ARGO_RING_MESSAGE_HEADER_SIZE >= ringLen) return MST_BAD_ARG;
  const msgBytes = ARGO_RING_MESSAGE_HEADER_SIZE + <u32>total;

  // Ring frames the message touches: from tx to the ring end, then from the start.
  const first = ringLen - tx;
  const head = msgBytes < first ? msgBytes : first;
  if (!ringSpanOk(table, owner, ARGO_RING_SIZE + tx, head)) return MST_BAD_MFN;
  if (!ringSpanOk(table, owner, ARGO_RING_SIZE, msgBytes - head)) return MST_BAD_MFN;

  // Header: tx is slot-aligned and the ring starts 64 bytes into a page, so it never splits.
  const h = ringByte(table, ARGO_RING_SIZE + tx);
  store<u32>(h, msgBytes, ARGO_RING_MESSAGE_HEADER_LEN);
  store<u32>(h, srcAport, ARGO_RING_MESSAGE_HEADER_SOURCE_APORT);
  store<u16>(h, <u16>srcDom, ARGO_RING_MESSAGE_HEADER_SOURCE_DOMAIN_ID);
  store<u16>(h, 0, ARGO_RING_MESSAGE_HEADER_SOURCE_PAD);
  store<u32>(h, msgType, ARGO_RING_MESSAGE_HEADER_MESSAGE_TYPE);
  tx += ARGO_RING_MESSAGE_HEADER_SIZE;
  if (tx == ringLen) tx = 0;

  for (let i: u32 = 0; i < niov; i++) {
    const e = iovs + i * ARGO_IOV_SIZE;
    let len = load<u32>(e, ARGO_IOV_IOV_LEN);
    if (len == 0) continue;
    let gpa = load<u64>(e, ARGO_IOV_IOV_HND);
    const tail = ringLen - tx;
    if (len > tail) {
      copyIn(srcDom, gpa, table, ARGO_RING_SIZE + tx, tail);
      tx = 0;
      gpa += tail;
      len -= tail;
    }
    copyIn(srcDom, gpa, table, ARGO_RING_SIZE + tx, len);
    tx += len;
    if (tx == ringLen) tx = 0;
  }
  tx = slotUp(tx);
  if (tx >= ringLen) tx -= ringLen;

  count(CNT_ARGO_MESSAGES);
  count(CNT_ARGO_BYTES_SENT, total);
  count(CNT_ARGO_RING_BYTES, msgBytes);
  if (total != 0) {
    count(CNT_COPIES);
    count(CNT_COPY_BYTES, total);
    countCopy(CNT_HV_COPIES_BASE, CNT_HV_COPY_BYTES_BASE, total);
  }
  return <i32>tx;
}
