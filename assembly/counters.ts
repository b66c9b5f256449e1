// The one counters block. Kernels only count; src/cost turns counts into time.
import {
  COUNTERS_BASE, COUNTERS_SLOTS, COPY_BUCKET_MAX_0, COPY_BUCKET_MAX_1, COPY_BUCKET_MAX_2, COPY_BUCKET_MAX_3,
  COPY_BUCKET_MAX_4, COPY_BUCKET_MAX_5,
} from "./layout";

@inline
export function count(id: u32, n: u64 = 1): void {
  const p = COUNTERS_BASE + (id << 3);
  store<u64>(p, load<u64>(p) + n);
}

/** The size bucket of a copy of `len` bytes (see COPY_BUCKET_MAX_* in layout.ts). */
@inline
export function copyBucket(len: u64): u32 {
  if (len <= COPY_BUCKET_MAX_0) return 0;
  if (len <= COPY_BUCKET_MAX_1) return 1;
  if (len <= COPY_BUCKET_MAX_2) return 2;
  if (len <= COPY_BUCKET_MAX_3) return 3;
  if (len <= COPY_BUCKET_MAX_4) return 4;
  if (len <= COPY_BUCKET_MAX_5) return 5;
  return 6;
}

/** One copy of `len` bytes in the size histogram starting at opsBase / bytesBase. */
@inline
export function countCopy(opsBase: u32, bytesBase: u32, len: u64): void {
  if (len == 0) return;
  const k = copyBucket(len);
  count(opsBase + k);
  count(bytesBase + k, len);
}

export function countersReset(): void {
  memory.fill(COUNTERS_BASE, 0, COUNTERS_SLOTS << 3);
}
