// The copy-size buckets of assembly/counters.ts (copyBucket, countCopy) for the host: the plain-TS
// references count copies as the kernels do, and src/cost prices each bucket.
import * as L from "./layout.ts";

/** Upper limit of each bucket but the last (which has none). */
export const COPY_BUCKET_MAX: readonly number[] = [
  L.COPY_BUCKET_MAX_0, L.COPY_BUCKET_MAX_1, L.COPY_BUCKET_MAX_2, L.COPY_BUCKET_MAX_3, L.COPY_BUCKET_MAX_4, L.COPY_BUCKET_MAX_5,
];

/** The bucket of a copy of `len` bytes. */
export function copyBucket(len: number): number {
  const k = COPY_BUCKET_MAX.findIndex((max) => len <= max);
  return k < 0 ? COPY_BUCKET_MAX.length : k;
}

/** One copy of `len` bytes in the histogram at opsBase / bytesBase of `c` (no-op for 0 bytes). */
export function countCopy(c: { [id: number]: number }, opsBase: number, bytesBase: number, len: number): void {
  if (len === 0) return;
  const k = copyBucket(len);
  c[opsBase + k]! += 1;
  c[bytesBase + k]! += len;
}
