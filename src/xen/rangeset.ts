// Xen's rangeset (xen/common/rangeset.c) as IOREQ servers use it: sorted, disjoint, inclusive
// u64 ranges; adding a range merges it with touching neighbours; a limit on how many separate
// ranges may exist (MAX_NR_IO_RANGES), past which a new range is -ENOMEM, as alloc_range fails.
import { ENOMEM } from "./errno.ts";

export class Rangeset {
  readonly limit: number;
  /** Sorted by start; no two overlap or touch. */
  private readonly r: [bigint, bigint][] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get count(): number {
    return this.r.length;
  }

  ranges(): readonly (readonly [bigint, bigint])[] {
    return this.r;
  }

  /** Index of the last range starting at or before `s`, or -1. */
  private find(s: bigint): number {
    let lo = 0;
    let hi = this.r.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.r[mid]![0] <= s) {
        at = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return at;
  }

  overlaps(s: bigint, e: bigint): boolean {
    const i = this.find(e);
    return i >= 0 && this.r[i]![1] >= s;
  }

  containsRange(s: bigint, e: bigint): boolean {
    const i = this.find(s);
    return i >= 0 && this.r[i]![1] >= e;
  }

  /** rangeset_add_range(): 0, or -ENOMEM when a new separate range would pass the limit. */
  add(s: bigint, e: bigint): number {
    // Every range that overlaps or touches [s, e] is absorbed into one.
    let first = this.r.length;
    let last = -1;
    for (let i = 0; i < this.r.length; i++) {
      const [rs, re] = this.r[i]!;
      if (re + 1n >= s && rs <= e + 1n) {
        if (first > i) first = i;
        last = i;
      }
    }
    if (last < 0) {
      if (this.r.length >= this.limit) return -ENOMEM;
      const at = this.find(s) + 1;
      this.r.splice(at, 0, [s, e]);
      return 0;
    }
    const ns = s < this.r[first]![0] ? s : this.r[first]![0];
    const ne = e > this.r[last]![1] ? e : this.r[last]![1];
    this.r.splice(first, last - first + 1, [ns, ne]);
    return 0;
  }

  /** rangeset_remove_range(): 0, or -ENOMEM when splitting a range would pass the limit. */
  remove(s: bigint, e: bigint): number {
    const out: [bigint, bigint][] = [];
    for (const [rs, re] of this.r) {
      if (re < s || rs > e) {
        out.push([rs, re]);
        continue;
      }
      if (rs < s) out.push([rs, s - 1n]);
      if (re > e) out.push([e + 1n, re]);
    }
    if (out.length > this.limit) return -ENOMEM;
    this.r.splice(0, this.r.length, ...out);
    return 0;
  }
}
