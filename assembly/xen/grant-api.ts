// Host boundary of the grant-table kernels.
import { IO_BASE, GCOPY_MAX_RECS } from "../layout";
import { grantCopyBatch } from "./grant-copy";

/** Performs `n` GCOPY_* records placed at IO_BASE; returns how many copies were done, or
 *  u32 max when `n` does not fit the IO window. */
export function gnttab_copy_batch(n: u32): u32 {
  if (n > GCOPY_MAX_RECS) return 0xffffffff;
  return grantCopyBatch(IO_BASE, n);
}
