// Host boundary of the ring arithmetic shared by the split and packed kernels, so tests can
// compare it with the uapi inlines (test/vring-native.test.ts) and the TS reference.
import { IO_BASE, IO_SIZE } from "../layout";
import { needEvent, vringSize } from "./common";

export function vring_need_event(event: u32, newIdx: u32, oldIdx: u32): u32 {
  return needEvent(event, newIdx, oldIdx) ? 1 : 0;
}

export function vring_size(num: u32, align: u32): u32 {
  return vringSize(num, align);
}

/** Evaluates `n` (event, new, old) triples of u16 at `src` (6 bytes each), writing one byte
 *  (0/1) per triple at `dst`. Both areas must lie in the IO window; returns how many were 1,
 *  or u32.MAX_VALUE if an area is outside the window. */
export function vring_need_event_batch(src: u32, n: u32, dst: u32): u32 {
  const end = <u64>IO_BASE + IO_SIZE;
  if (src < IO_BASE || <u64>src + <u64>n * 6 > end || dst < IO_BASE || <u64>dst + <u64>n > end) return u32.MAX_VALUE;
  let hits: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const p = src + i * 6;
    const r: u32 = needEvent(load<u16>(p), load<u16>(p, 2), load<u16>(p, 4)) ? 1 : 0;
    store<u8>(dst + i, r);
    hits += r;
  }
  return hits;
}
