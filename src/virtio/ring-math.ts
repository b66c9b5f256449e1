// Plain-TS reference of the split-ring arithmetic in assembly/virtq/common.ts (same algorithm),
// checked against the Linux uapi inlines by test/vring-native.test.ts.

function checkIndex(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${name} must be a u16 ring index, got ${v}`);
}

/** uapi vring_need_event(): after moving a producer index from `oldIdx` to `newIdx`, should the
 *  other side be notified, given it asked to be told once index `event` is passed? True iff
 *  `event` lies in [oldIdx, newIdx) modulo 2^16. */
export function needEvent(event: number, newIdx: number, oldIdx: number): boolean {
  checkIndex("event", event);
  checkIndex("newIdx", newIdx);
  checkIndex("oldIdx", oldIdx);
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
}

/** uapi vring_size(): bytes of a legacy contiguous split ring of `num` entries whose used ring
 *  starts at the next multiple of `align` (a power of two) after the avail ring. */
export function vringSize(num: number, align: number): number {
  if (!Number.isInteger(num) || num < 1 || num > 32768) throw new RangeError(`num must be an integer in [1, 32768], got ${num}`);
  if (!Number.isInteger(align) || align < 1 || align > 2 ** 31 || (align & (align - 1)) !== 0) {
    throw new RangeError(`align must be a power of two in [1, 2^31], got ${align}`);
  }
  const availEnd = 16 * num + 2 * (3 + num); // descriptors, then flags, idx, ring[num], used_event
  return Math.ceil(availEnd / align) * align + 2 * 3 + 8 * num; // flags, idx, avail_event, ring[num]
}
